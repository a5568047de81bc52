// Decode the QR code in a PNG file (argv[2]) with zxing-wasm (the web app's own reader); prints its text.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { prepareZXingModule, readBarcodes } from "zxing-wasm/reader";

const require = createRequire(import.meta.url);
const wasm = readFileSync(require.resolve("zxing-wasm/reader/zxing_reader.wasm"));
prepareZXingModule({ overrides: { wasmBinary: wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) } });
const results = await readBarcodes(new Uint8Array(readFileSync(process.argv[2])), { formats: ["QRCode"], tryHarder: true });
if (!results.length || !results[0].isValid) {
  console.error("no QR code");
  process.exit(1);
}
console.log(results[0].text);
