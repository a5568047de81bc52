import { useEffect, useRef, useState } from "react";
import { PASS_READ } from "../lib/qr";

const SCAN_INTERVAL_MS = 150;
const START_TIMEOUT_MS = 15_000;
/** A code that stays in view is reported once; it is reported again after leaving the view this long. */
const SAME_CODE_GAP_MS = 3_000;

type ScanState = "starting" | "scanning";

/** Reads QR codes from the device camera; calls `onCode` once per code shown.
 *
 * Decoding is zxing-cpp compiled to WebAssembly (the `zxing-wasm` package), loaded only when the
 * camera starts and served from our own origin (never a CDN). The frame loop is ours: draw the
 * current frame on a canvas, decode it, repeat; a frame that cannot be read is skipped. (The
 * JavaScript port of ZXing failed on about one perfectly printed pass code in ten.) */
export function QrScanner({ onCode, onStop }: { onCode: (text: string) => void; onStop: () => void }) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const boxRef = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [state, setState] = useState<ScanState>("starting");
  const onCodeRef = useRef(onCode);
  onCodeRef.current = onCode;

  useEffect(() => {
    let stopped = false;
    let stream: MediaStream | null = null;
    let timer: number | undefined;
    const canvas = document.createElement("canvas");
    const release = () => stream?.getTracks().forEach((track) => track.stop());

    (async () => {
      try {
        if (!navigator.mediaDevices?.getUserMedia) {
          throw new Error("This browser cannot use the camera here (a secure https connection is needed).");
        }
        const [readBarcodes, media] = await withTimeout(
          Promise.all([
            loadReader(),
            navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }),
          ]),
          "The camera did not answer.",
        );
        stream = media;
        const video = videoRef.current;
        if (stopped || !video) return release();
        video.srcObject = stream;
        await withTimeout(video.play(), "The camera did not start.");
        if (stopped) return;
        const context = canvas.getContext("2d", { willReadFrequently: true });
        if (!context) throw new Error("This browser cannot read camera images.");
        setState("scanning");
        let frames = 0;
        let last = "";
        let lastSeen = 0;
        const tick = async () => {
          if (stopped) return;
          const { videoWidth: width, videoHeight: height } = video;
          if (width > 0 && height > 0) {
            if (canvas.width !== width || canvas.height !== height) {
              canvas.width = width;
              canvas.height = height;
            }
            context.drawImage(video, 0, 0, width, height);
            frames += 1;
            boxRef.current?.setAttribute("data-frames", String(frames));
            let text: string | null = null;
            try {
              const [found] = await readBarcodes(context.getImageData(0, 0, width, height), PASS_READ);
              text = found?.isValid ? found.text : null;
            } catch {
              // an unreadable frame: try the next one
            }
            if (text) {
              const now = Date.now();
              const repeat = text === last && now - lastSeen < SAME_CODE_GAP_MS;
              last = text;
              lastSeen = now;
              if (!repeat) onCodeRef.current(text);
            }
          }
          if (!stopped) timer = window.setTimeout(tick, SCAN_INTERVAL_MS);
        };
        void tick();
      } catch (e) {
        release();
        if (!stopped) setError(e instanceof Error ? e.message : String(e));
      }
    })();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      release();
    };
  }, []);

  return (
    <div className="scanner" ref={boxRef} data-state={error ? "error" : state}>
      {error ? (
        <p className="notice notice-error" role="alert">
          Camera not available: {error} Paste the code instead.
        </p>
      ) : (
        <video ref={videoRef} className="scanner-video" muted playsInline aria-label="Camera view for scanning" />
      )}
      <button type="button" className="button-secondary" onClick={onStop}>
        Stop camera
      </button>
    </div>
  );
}

/** zxing-wasm's reader, with its .wasm file from our origin (Vite bundles it as an asset). */
async function loadReader() {
  const [{ prepareZXingModule, readBarcodes }, { default: wasmUrl }] = await Promise.all([
    import("zxing-wasm/reader"),
    import("zxing-wasm/reader/zxing_reader.wasm?url"),
  ]);
  await prepareZXingModule({
    overrides: { locateFile: (path: string, prefix: string) => (path.endsWith(".wasm") ? wasmUrl : prefix + path) },
    fireImmediately: true,
  });
  return readBarcodes;
}

function withTimeout<T>(promise: Promise<T>, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = window.setTimeout(() => reject(new Error(message)), START_TIMEOUT_MS);
    promise.then(
      (value) => {
        window.clearTimeout(timer);
        resolve(value);
      },
      (reason) => {
        window.clearTimeout(timer);
        reject(reason);
      },
    );
  });
}
