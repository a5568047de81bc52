// @vitest-environment node
/* The pass QR codes as the web app draws them (lib/qr.ts) are read by the decoder the verify
   page ships (zxing-wasm): many random pass codes, each drawn at a modest module size. The
   decoder this replaced (the JavaScript ZXing port) missed about one in ten of these. */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import QRCode from "qrcode";
import { describe, expect, it } from "vitest";
import { prepareZXingModule, readBarcodes } from "zxing-wasm/reader";
import { PASS_QR, PASS_READ } from "./qr";

const require = createRequire(import.meta.url);

function base64url(bytes: Buffer): string {
  return bytes.toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A code of the shape gateway/passes.py signs: base64url(JSON {b: booking id}) "." signature. */
function passCode(): string {
  return `${base64url(Buffer.from(JSON.stringify({ b: randomBytes(16).toString("hex") })))}.${base64url(randomBytes(32))}`;
}

/** The code drawn black on white, `scale` pixels a module, quiet zone included. */
function draw(text: string, scale: number) {
  const qr = QRCode.create(text, PASS_QR);
  const n = qr.modules.size;
  const margin = PASS_QR.margin ?? 4;
  const side = (n + 2 * margin) * scale;
  const data = new Uint8ClampedArray(side * side * 4).fill(255);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      if (!qr.modules.get(row, col)) continue;
      for (let y = 0; y < scale; y++) {
        for (let x = 0; x < scale; x++) {
          const at = (((margin + row) * scale + y) * side + (margin + col) * scale + x) * 4;
          data[at] = data[at + 1] = data[at + 2] = 0;
        }
      }
    }
  }
  return { data, width: side, height: side, colorSpace: "srgb" as const };
}

describe("pass QR codes", () => {
  it("are read back exactly by the verify page's decoder", async () => {
    const wasm = readFileSync(require.resolve("zxing-wasm/reader/zxing_reader.wasm"));
    await prepareZXingModule({ overrides: { wasmBinary: wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) }, fireImmediately: true });
    const misses: string[] = [];
    for (let i = 0; i < 150; i++) {
      const code = passCode();
      const [found] = await readBarcodes(draw(code, 3 + (i % 3)) as unknown as ImageData, PASS_READ);
      if (found?.text !== code) misses.push(code);
    }
    expect(misses).toEqual([]);
  }, 60_000);
});
