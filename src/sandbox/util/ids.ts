/**
 * KSeF numbers (PROTOCOL.md §6) and reference numbers (§7). Both end in a CRC-8 (poly 0x07, init 0,
 * no reflection, no final XOR) over the ASCII of everything before the last hyphen.
 */

const CRC8_TABLE = (() => {
  const table = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let b = 0; b < 8; b++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
    table[i] = c;
  }
  return table;
})();

export function crc8(text: string): number {
  let c = 0;
  for (let i = 0; i < text.length; i++) c = CRC8_TABLE[(c ^ text.charCodeAt(i)) & 0xff];
  return c;
}

export const crc8Hex = (text: string) => crc8(text).toString(16).toUpperCase().padStart(2, '0');

/** Type codes seen in KSeF reference numbers. */
export type ReferenceType = 'CR' | 'AU' | 'SO' | 'SB' | 'EE' | 'EU' | 'EH' | 'EC' | 'EG';

export const REFERENCE_NUMBER = /^\d{8}-[0-9A-Z]{2}-[0-9A-F]{10}-[0-9A-F]{10}-[0-9A-F]{2}$/;

/** The API's KsefNumber pattern (accepts KSeF 1.0's 36-char numbers too). */
export const KSEF_NUMBER =
  /^([1-9](\d[1-9]|[1-9]\d)\d{7})-(20[2-9][0-9]|2[1-9]\d{2}|[3-9]\d{3})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])-([0-9A-F]{6})-?([0-9A-F]{6})-([0-9A-F]{2})$/;

export const NIP = /^[1-9]((\d[1-9])|([1-9]\d))\d{7}$/;
export const INTERNAL_ID = /^[1-9]((\d[1-9])|([1-9]\d))\d{7}-\d{5}$/;
/** open-api.json's Pesel: the month field carries the century (+20, +40, +60, +80). */
export const PESEL = /^\d{2}(?:0[1-9]|1[0-2]|2[1-9]|3[0-2]|4[1-9]|5[0-2]|6[1-9]|7[0-2]|8[1-9]|9[0-2])\d{7}$/;
/** A certificate fingerprint: SHA-256, 64 hex digits (compared case-insensitively). */
export const FINGERPRINT = /^[0-9A-Fa-f]{64}$/;

/**
 * The check digit of an InternalId (uprawnienia.md): the 5th digit of the suffix is the sum of the 14
 * preceding digits weighted 1, 3, 1, 3… modulo 10.
 */
export function internalIdChecksumValid(internalId: string): boolean {
  const digits = internalId.replace('-', '');
  const sum = [...digits.slice(0, 14)].reduce((acc, d, i) => acc + Number(d) * (i % 2 ? 3 : 1), 0);
  return sum % 10 === Number(digits[14]);
}

/** A random (version 4) UUID from 16 bytes: the form of KSeF's permission ids. */
export function uuidFrom(random16: Buffer): string {
  const b = Buffer.from(random16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** KSeF certificate serial numbers: 8 bytes in upper-case hex (e.g. `01F20A5D352AE590`, PROTOCOL.md §10). */
export const CERTIFICATE_SERIAL = /^[0-9A-F]{16}$/;

/**
 * A certificate serial from 8 random bytes. The first byte is kept in 0x01..0x7F: a positive INTEGER of
 * exactly 8 bytes, so the X.509 serial reads back as the same 16 digits (no sign byte, no lost leading zero).
 */
export function certificateSerial(random8: Buffer): string {
  const bytes = Buffer.from(random8);
  bytes[0] = (bytes[0] % 0x7f) + 1;
  return bytes.toString('hex').toUpperCase();
}

/** `YYYYMMDD-TT-XXXXXXXXXX-XXXXXXXXXX-CC` from 10 random bytes. */
export function referenceNumber(type: ReferenceType, compactDay: string, random10: Buffer): string {
  const hex = random10.toString('hex').toUpperCase();
  const body = `${compactDay}-${type}-${hex.slice(0, 10)}-${hex.slice(10, 20)}`;
  return `${body}-${crc8Hex(body)}`;
}

/** `NIP-YYYYMMDD-XXXXXXXXXXXX-CC` from 6 random bytes. */
export function ksefNumber(sellerNip: string, compactDay: string, random6: Buffer): string {
  const body = `${sellerNip}-${compactDay}-${random6.toString('hex').toUpperCase()}`;
  return `${body}-${crc8Hex(body)}`;
}

export function hasValidChecksum(number: string): boolean {
  const cut = number.lastIndexOf('-');
  return cut > 0 && crc8Hex(number.slice(0, cut)) === number.slice(cut + 1);
}
