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
export type ReferenceType = 'CR' | 'AU' | 'SO' | 'SB' | 'EE' | 'EU' | 'EH' | 'EC';

export const REFERENCE_NUMBER = /^\d{8}-[0-9A-Z]{2}-[0-9A-F]{10}-[0-9A-F]{10}-[0-9A-F]{2}$/;

/** The API's KsefNumber pattern (accepts KSeF 1.0's 36-char numbers too). */
export const KSEF_NUMBER =
  /^([1-9](\d[1-9]|[1-9]\d)\d{7})-(20[2-9][0-9]|2[1-9]\d{2}|[3-9]\d{3})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])-([0-9A-F]{6})-?([0-9A-F]{6})-([0-9A-F]{2})$/;

export const NIP = /^[1-9]((\d[1-9])|([1-9]\d))\d{7}$/;
export const INTERNAL_ID = /^[1-9]((\d[1-9])|([1-9]\d))\d{7}-\d{5}$/;

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
