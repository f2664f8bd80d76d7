/**
 * Reading documents back the way a person or a scanner would: PDF text through poppler's pdftotext,
 * page 1 rasterised by pdftoppm, QR codes decoded from pixels by jsQR.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';

// jsqr's types declare an ES default export over CommonJS, so under NodeNext it sits on .default.
const jsQR = jsQRModule.default;

const run = promisify(execFile);

export async function withPdfFile<T>(pdf: Buffer, fn: (file: string, dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'pdf-read-'));
  try {
    const file = path.join(dir, 'doc.pdf');
    await fs.promises.writeFile(file, pdf);
    return await fn(file, dir);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/** The PDF's text, whitespace (no-break spaces included) collapsed to single spaces. */
export const pdfText = (pdf: Buffer): Promise<string> =>
  withPdfFile(pdf, async (file) => (await run('pdftotext', ['-enc', 'UTF-8', file, '-'])).stdout.replace(/[\s\u00a0]+/g, ' '));

/** pdfinfo's report (page size, page count, producer). */
export const pdfInfo = (pdf: Buffer): Promise<string> => withPdfFile(pdf, async (file) => (await run('pdfinfo', [file])).stdout);

/** The QR code in a PNG image, or null when none is found. */
export function decodePngQr(png: Buffer): string | null {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height)?.data ?? null;
}

/** Page 1 rasterised at 150 dpi and its QR code decoded (null when there is none). */
export const firstPageQr = (pdf: Buffer): Promise<string | null> =>
  withPdfFile(pdf, async (file, dir) => {
    await run('pdftoppm', ['-png', '-r', '150', '-f', '1', '-l', '1', '-singlefile', file, path.join(dir, 'page')]);
    return decodePngQr(await fs.promises.readFile(path.join(dir, 'page.png')));
  });
