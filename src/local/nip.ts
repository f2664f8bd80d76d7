/**
 * Polish tax identification number (NIP).
 *
 * The FA(3) schema only checks the shape (`etd:TNrNIP`); the checksum is a business rule (FA3.md §6, N1)
 * that KSeF enforces in production only.
 */

/** Shape required by `etd:TNrNIP`: 10 digits, no leading zero, digits 2–3 not `00`. */
export const NIP_PATTERN = /^[1-9](?:\d[1-9]|[1-9]\d)\d{7}$/;

const WEIGHTS = [6, 5, 7, 2, 3, 4, 5, 6, 7] as const;

/**
 * The check digit for the first nine digits, or null when no check digit exists
 * (the weighted sum mod 11 is 10, so no NIP starts with these nine digits).
 */
export function nipCheckDigit(firstNine: string): number | null {
  if (!/^\d{9}$/.test(firstNine)) throw new RangeError(`expected 9 digits, got ${JSON.stringify(firstNine)}`);
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += WEIGHTS[i] * (firstNine.charCodeAt(i) - 48);
  const r = sum % 11;
  return r === 10 ? null : r;
}

/** True when `nip` is exactly 10 ASCII digits with a matching check digit (the shape rules are not applied). */
export function isNipChecksumValid(nip: string): boolean {
  if (!/^\d{10}$/.test(nip)) return false;
  return nipCheckDigit(nip.slice(0, 9)) === nip.charCodeAt(9) - 48;
}

/** True when `nip` has the schema's shape and a valid checksum. */
export function isValidNip(nip: string): boolean {
  return NIP_PATTERN.test(nip) && isNipChecksumValid(nip);
}
