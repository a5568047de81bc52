import { useEffect, useState } from "react";
import QRCode from "qrcode";
import { PASS_QR } from "../lib/qr";

/** The QR code of `value`, as an SVG image (sharp on screen and on paper). */
export function QrCode({ value, label, size = 220 }: { value: string; label: string; size?: number }) {
  const [svg, setSvg] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    QRCode.toString(value, { ...PASS_QR, type: "svg" })
      .then((text) => live && setSvg(text))
      .catch(() => live && setSvg(null));
    return () => {
      live = false;
    };
  }, [value]);
  if (!svg) return <div className="qr qr-placeholder" style={{ width: size, height: size }} />;
  return (
    <img
      className="qr"
      src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`}
      width={size}
      height={size}
      alt={label}
    />
  );
}
