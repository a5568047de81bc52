import type { QRCodeRenderersOptions } from "qrcode";
import type { ReaderOptions } from "zxing-wasm/reader";

/** How pass codes are drawn as QR codes: medium error correction and the standard quiet zone
 * of four modules (scanners need it). lib/qr.test.ts checks the scanner reads codes drawn so. */
export const PASS_QR: QRCodeRenderersOptions & { errorCorrectionLevel: "M" } = { errorCorrectionLevel: "M", margin: 4 };

/** How the verify page's camera scanner reads them (zxing-wasm). */
export const PASS_READ: ReaderOptions = { formats: ["QRCode"], tryHarder: true, maxNumberOfSymbols: 1 };
