/**
 * KSeF number: `NNNNNNNNNN-YYYYMMDD-TTTTTTTTTTTT-CC` (35 characters, PROTOCOL.md §6).
 *
 * NIP of the seller, the day KSeF accepted the invoice, 12 upper-case hex digits (technical part)
 * and a CRC-8 checksum of the first 32 characters (hyphens included). The API and the FA(3) schema
 * also admit the 36-character KSeF 1.0 form (`…-XXXXXX-XXXXXX-CC`), whose checksum we cannot check.
 */

/**
 * The FA(3) schema's `TNumerKSeF` (35-character form and 36-character KSeF 1.0 form). The first segment is
 * the seller's NIP; the schema also admits `M` + 9 digits and 3 letters + 7 digits there.
 */
export const KSEF_NUMBER_PATTERN =
  /^([1-9](?:\d[1-9]|[1-9]\d)\d{7}|M\d{9}|[A-Z]{3}\d{7})-((?:20[2-9]\d|2[1-9]\d{2}|[3-9]\d{3})(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))-([0-9A-F]{6})(-?)([0-9A-F]{6})-([0-9A-F]{2})$/;

/** CRC-8/SMBUS (poly 0x07, init 0x00, no reflection, no final XOR) of ASCII text, as 2 upper-case hex digits. */
export function ksefChecksum(first32: string): string {
  let crc = 0;
  for (let i = 0; i < first32.length; i++) {
    const code = first32.charCodeAt(i);
    if (code > 0x7f) throw new RangeError('a KSeF number is ASCII only');
    crc ^= code;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc.toString(16).toUpperCase().padStart(2, '0');
}

export interface KsefNumberParts {
  /** Seller NIP (or one of the schema's other 10-character identifiers). */
  nip: string;
  /** The day KSeF accepted the invoice, `YYYY-MM-DD`. */
  date: string;
  /** The 12 hex digits (without the inner hyphen of the 1.0 form). */
  technical: string;
  checksum: string;
  /** 36-character KSeF 1.0 form: its checksum is not verifiable. */
  legacy: boolean;
}

export type KsefNumberCheck = { valid: true; parts: KsefNumberParts } | { valid: false; reason: string };

/** Checks the shape, the calendar date and (for the 35-character form) the CRC-8. */
export function checkKsefNumber(value: string): KsefNumberCheck {
  const m = KSEF_NUMBER_PATTERN.exec(value);
  if (!m) {
    return { valid: false, reason: 'not a KSeF number (expected NIP-YYYYMMDD-XXXXXXXXXXXX-CC, upper-case hex)' };
  }
  const [, nip, ymd, tech1, innerHyphen, tech2, checksum] = m;
  const date = `${ymd.slice(0, 4)}-${ymd.slice(4, 6)}-${ymd.slice(6, 8)}`;
  if (!isCalendarDate(date)) return { valid: false, reason: `the date segment ${ymd} is not a calendar date` };
  const legacy = innerHyphen === '-';
  if (!legacy) {
    const expected = ksefChecksum(value.slice(0, 32));
    if (expected !== checksum) {
      return { valid: false, reason: `checksum ${checksum} does not match the number (CRC-8 gives ${expected})` };
    }
  }
  return { valid: true, parts: { nip, date, technical: tech1 + tech2, checksum, legacy } };
}

export const isValidKsefNumber = (value: string): boolean => checkKsefNumber(value).valid;

/** Builds a 35-character KSeF number with its checksum (used by the sandbox and by tests). */
export function formatKsefNumber(p: { nip: string; date: string; technical: string }): string {
  const ymd = p.date.replace(/-/g, '');
  if (!/^\d{10}$/.test(p.nip)) throw new RangeError('nip must be 10 digits');
  if (!/^\d{8}$/.test(ymd) || !isCalendarDate(`${ymd.slice(0, 4)}-${ymd.slice(4, 6)}-${ymd.slice(6, 8)}`)) {
    throw new RangeError('date must be YYYY-MM-DD or YYYYMMDD');
  }
  if (!/^[0-9A-F]{12}$/.test(p.technical)) throw new RangeError('technical must be 12 upper-case hex digits');
  const first32 = `${p.nip}-${ymd}-${p.technical}`;
  return `${first32}-${ksefChecksum(first32)}`;
}

function isCalendarDate(iso: string): boolean {
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso;
}
