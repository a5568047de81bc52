import { useEffect, useRef, useState } from "react";

const SCAN_INTERVAL_MS = 150;
const START_TIMEOUT_MS = 15_000;
/** A code that stays in view is reported once; it is reported again after leaving the view this long. */
const SAME_CODE_GAP_MS = 3_000;

type ScanState = "starting" | "scanning";

/** Reads QR codes from the device camera with ZXing; calls `onCode` once per code shown.
 *
 * The frame loop is ours (draw the current frame on a canvas, decode it, repeat) rather than
 * ZXing's continuous scan, which stops for good, silently, on the first unexpected decoder
 * error: here a frame that cannot be read is skipped and the next one tried. */
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
        const [{ BrowserQRCodeReader }, media] = await withTimeout(
          Promise.all([
            import("@zxing/browser"),
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
        const reader = new BrowserQRCodeReader();
        const context = canvas.getContext("2d", { willReadFrequently: true });
        if (!context) throw new Error("This browser cannot read camera images.");
        setState("scanning");
        let frames = 0;
        let last = "";
        let lastSeen = 0;
        const tick = () => {
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
              text = reader.decodeFromCanvas(canvas).getText();
            } catch {
              // no readable code in this frame: try the next one
            }
            if (text) {
              const now = Date.now();
              const repeat = text === last && now - lastSeen < SAME_CODE_GAP_MS;
              last = text;
              lastSeen = now;
              if (!repeat) onCodeRef.current(text);
            }
          }
          timer = window.setTimeout(tick, SCAN_INTERVAL_MS);
        };
        tick();
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
