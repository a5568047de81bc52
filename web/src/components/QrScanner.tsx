import { useEffect, useRef, useState } from "react";
import type { IScannerControls } from "@zxing/browser";

/** Reads QR codes from the device camera (ZXing); calls `onCode` once per code seen. */
export function QrScanner({ onCode, onStop }: { onCode: (text: string) => void; onStop: () => void }) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<string | null>(null);
  const onCodeRef = useRef(onCode);
  onCodeRef.current = onCode;

  useEffect(() => {
    let controls: IScannerControls | null = null;
    let stopped = false;
    let last = "";
    let lastAt = 0;
    (async () => {
      try {
        if (!navigator.mediaDevices?.getUserMedia) {
          throw new Error("This browser cannot use the camera here (a secure https connection is needed).");
        }
        const { BrowserQRCodeReader } = await import("@zxing/browser");
        const reader = new BrowserQRCodeReader(undefined, { delayBetweenScanAttempts: 150 });
        const video = videoRef.current;
        if (!video || stopped) return;
        controls = await reader.decodeFromConstraints(
          { video: { facingMode: "environment" } },
          video,
          (result) => {
            if (!result) return;
            const text = result.getText();
            const now = Date.now();
            if (text === last && now - lastAt < 3000) return; // the same code stays in view
            last = text;
            lastAt = now;
            onCodeRef.current(text);
          },
        );
        if (stopped) controls.stop();
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      }
    })();
    return () => {
      stopped = true;
      controls?.stop();
    };
  }, []);

  return (
    <div className="scanner">
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
