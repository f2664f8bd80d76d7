/**
 * KSeF verification QR codes (FA3.md §4, PROTOCOL.md §10): KOD I (invoice) and KOD II (issuer certificate,
 * offline invoices), as links and as PNG/SVG images with the caption under the code.
 */
import { KeyObject, createHash, createPrivateKey, sign, constants } from 'node:crypto';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { GLYPH_HEIGHT, GLYPH_SPACING, GLYPH_WIDTH, glyph, textWidth } from './font.js';

export type KsefEnvironment = 'test' | 'demo' | 'prod';

export const qrHosts: Record<KsefEnvironment, string> = {
  test: 'qr-test.ksef.mf.gov.pl',
  demo: 'qr-demo.ksef.mf.gov.pl',
  prod: 'qr.ksef.mf.gov.pl',
};

export type KodIIContextType = 'Nip' | 'InternalId' | 'NipVatUe' | 'PeppolId';

/** Captions the documentation prescribes besides the KSeF number itself. */
export const CAPTION_OFFLINE = 'OFFLINE';
export const CAPTION_CERTIFICATE = 'CERTYFIKAT';

/** Modules of blank margin around the symbol (ISO/IEC 18004 quiet zone). */
const QUIET_ZONE = 4;

/** SHA-256 of the exact invoice bytes, Base64URL without padding (43 characters). */
export function invoiceHashBase64Url(xml: Buffer): string {
  return createHash('sha256').update(xml).digest('base64url');
}

function hostOf(environment: KsefEnvironment): string {
  const host = qrHosts[environment];
  if (!host) throw new RangeError(`environment must be one of ${Object.keys(qrHosts).join(', ')}`);
  return host;
}

function requireNip(nip: string, field: string): void {
  if (!/^\d{10}$/.test(nip)) throw new RangeError(`${field} must be a 10-digit NIP`);
}

/** `YYYY-MM-DD` → `DD-MM-YYYY`, refusing anything that is not a calendar date. */
function dayMonthYear(issueDate: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(issueDate);
  const d = m && new Date(`${issueDate}T00:00:00Z`);
  if (!m || !d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== issueDate) {
    throw new RangeError('issueDate must be a date YYYY-MM-DD');
  }
  return `${m[3]}-${m[2]}-${m[1]}`;
}

/** KOD I: `https://{host}/invoice/{sellerNip}/{DD-MM-YYYY}/{hash}`. */
export function kodILink(p: { environment: KsefEnvironment; sellerNip: string; issueDate: string; xml: Buffer }): string {
  requireNip(p.sellerNip, 'sellerNip');
  return `https://${hostOf(p.environment)}/invoice/${p.sellerNip}/${dayMonthYear(p.issueDate)}/${invoiceHashBase64Url(p.xml)}`;
}

function signingKey(privateKeyPem: string): KeyObject {
  const key = createPrivateKey(privateKeyPem);
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    if ((details.modulusLength ?? 0) < 2048) throw new RangeError('an RSA key for KOD II must have at least 2048 bits');
  } else if (key.asymmetricKeyType !== 'ec' || details.namedCurve !== 'prime256v1') {
    throw new RangeError('KOD II needs the Offline certificate key: RSA (≥ 2048 bits) or ECDSA P-256');
  }
  return key;
}

/**
 * KOD II: `https://{host}/certificate/{contextType}/{contextValue}/{sellerNip}/{serial}/{hash}/{signature}`.
 * The signature covers the link without `https://` and without the trailing `/signature`: RSASSA-PSS
 * (SHA-256, MGF1-SHA-256, 32-byte salt) or ECDSA P-256/SHA-256 as IEEE P1363 r‖s; Base64URL, no padding.
 */
export function kodIILink(p: {
  environment: KsefEnvironment;
  contextType: KodIIContextType;
  contextValue: string;
  sellerNip: string;
  certificateSerial: string;
  xml: Buffer;
  privateKeyPem: string;
}): string {
  if (!['Nip', 'InternalId', 'NipVatUe', 'PeppolId'].includes(p.contextType)) {
    throw new RangeError('contextType must be Nip, InternalId, NipVatUe or PeppolId');
  }
  if (!/^[A-Za-z0-9._*+-]+$/.test(p.contextValue)) throw new RangeError('contextValue is not a valid context identifier');
  requireNip(p.sellerNip, 'sellerNip');
  if (!/^[0-9A-Fa-f]+$/.test(p.certificateSerial)) throw new RangeError('certificateSerial must be hexadecimal');
  const key = signingKey(p.privateKeyPem);
  const unsigned =
    `${hostOf(p.environment)}/certificate/${p.contextType}/${p.contextValue}/${p.sellerNip}/` +
    `${p.certificateSerial.toUpperCase()}/${invoiceHashBase64Url(p.xml)}`;
  const data = Buffer.from(unsigned, 'utf8');
  const signature =
    key.asymmetricKeyType === 'ec'
      ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })
      : sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  return `https://${unsigned}/${signature.toString('base64url')}`;
}

/** The symbol as a square of booleans (dark = true), error correction M as the official tools use. */
function modules(link: string): { size: number; dark: (row: number, col: number) => boolean } {
  const m = QRCode.create(link, { errorCorrectionLevel: 'M' }).modules;
  return { size: m.size, dark: (row, col) => m.data[row * m.size + col] === 1 };
}

/**
 * PNG: the code (ECC M, 4-module quiet zone) with the caption in a built-in 5×7 font centred under it.
 * `modulePixels` sets the scale (default 10 px per module).
 */
export async function qrPng(link: string, caption: string, options: { modulePixels?: number } = {}): Promise<Buffer> {
  const scale = options.modulePixels ?? 10;
  if (!Number.isInteger(scale) || scale < 1 || scale > 40) throw new RangeError('modulePixels must be an integer 1–40');
  const code = modules(link);
  const codePx = (code.size + 2 * QUIET_ZONE) * scale;
  const margin = 2 * scale;
  const fontUnits = textWidth(caption);
  // The largest integer font scale (up to 4) whose text fits under the code; never below 1.
  const fontScale = fontUnits === 0 ? 1 : Math.max(1, Math.min(4, Math.floor((codePx - 2 * margin) / fontUnits)));
  const width = Math.max(codePx, fontUnits * fontScale + 2 * margin);
  const height = codePx + (caption ? GLYPH_HEIGHT * fontScale + margin : 0);

  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
  const pixels = Buffer.alloc(width * height, 0xff);
  const fill = (x: number, y: number, w: number, h: number) => {
    for (let row = y; row < y + h; row++) pixels.fill(0x00, row * width + x, row * width + x + w);
  };
  const codeX = Math.floor((width - codePx) / 2) + QUIET_ZONE * scale;
  for (let row = 0; row < code.size; row++) {
    for (let col = 0; col < code.size; col++) {
      if (code.dark(row, col)) fill(codeX + col * scale, (row + QUIET_ZONE) * scale, scale, scale);
    }
  }
  let x = Math.floor((width - fontUnits * fontScale) / 2);
  for (const ch of caption) {
    glyph(ch).forEach((bits, gy) => {
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        if (bits[gx] === '#') fill(x + gx * fontScale, codePx + gy * fontScale, fontScale, fontScale);
      }
    });
    x += (GLYPH_WIDTH + GLYPH_SPACING) * fontScale;
  }
  png.data = pixels;
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

const escapeXml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/** SVG: the code as one path (ECC M, 4-module quiet zone) and the caption as centred monospace text. */
export async function qrSvg(link: string, caption: string): Promise<string> {
  const code = modules(link);
  const side = code.size + 2 * QUIET_ZONE;
  let path = '';
  for (let row = 0; row < code.size; row++) {
    for (let col = 0; col < code.size; ) {
      if (!code.dark(row, col)) {
        col++;
        continue;
      }
      const start = col;
      while (col < code.size && code.dark(row, col)) col++;
      path += `M${start + QUIET_ZONE} ${row + QUIET_ZONE}h${col - start}v1h-${col - start}z`;
    }
  }
  // Monospace glyphs are about 0.6 em wide: the largest size up to 3 modules that fits the width.
  const chars = [...caption].length;
  const fontSize = chars === 0 ? 0 : Math.min(3, (side - 2) / (0.6 * chars));
  const height = side + (chars === 0 ? 0 : fontSize * 1.5);
  const size = (n: number) => Number(n.toFixed(3));
  const text =
    chars === 0
      ? ''
      : `<text x="${size(side / 2)}" y="${size(side + fontSize)}" font-family="DejaVu Sans Mono, Consolas, monospace" ` +
        `font-size="${size(fontSize)}" text-anchor="middle" fill="#000">${escapeXml(caption)}</text>`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${size(height)}" ` +
    `width="${side * 5}" height="${size(height * 5)}">` +
    `<rect width="100%" height="100%" fill="#fff"/>` +
    `<path d="${path}" fill="#000" shape-rendering="crispEdges"/>${text}</svg>`
  );
}
