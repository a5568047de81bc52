import type { QRCodeRenderersOptions } from "qrcode";

/** How pass codes are drawn as QR codes: medium error correction and the standard quiet zone
 * of four modules (scanners need it). lib/qr.test.ts checks the scanner reads codes drawn so. */
export const PASS_QR: QRCodeRenderersOptions & { errorCorrectionLevel: "M" } = { errorCorrectionLevel: "M", margin: 4 };
