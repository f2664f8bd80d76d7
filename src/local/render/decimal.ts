/**
 * Exact decimal arithmetic for amounts: a value is an integer number of units at a given scale
 * (scale 2 = grosze). FA(3) amounts are decimal strings, may be negative, and must never go
 * through binary floats (0.1 + 0.2 style drift would print a wrong grosz).
 */
export interface Decimal {
  units: bigint;
  scale: number;
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

export function parseDecimal(raw: string | undefined): Decimal | undefined {
  const m = raw === undefined ? null : DECIMAL.exec(raw.trim());
  if (!m) return undefined;
  const frac = m[3] ?? '';
  const units = BigInt(m[2] + frac);
  return { units: m[1] === '-' ? -units : units, scale: frac.length };
}

function rescale(d: Decimal, scale: number): bigint {
  return d.units * 10n ** BigInt(scale - d.scale);
}

/** Sum of decimal strings; absent values count as zero. Result keeps the largest scale, at least 2. */
export function addDecimals(...values: (string | undefined)[]): string {
  const parsed = values.map(parseDecimal).filter((d): d is Decimal => d !== undefined);
  const scale = Math.max(2, ...parsed.map((d) => d.scale));
  const total = parsed.reduce((sum, d) => sum + rescale(d, scale), 0n);
  return decimalToString({ units: total, scale });
}

export function decimalToString(d: Decimal): string {
  const negative = d.units < 0n;
  const digits = (negative ? -d.units : d.units).toString().padStart(d.scale + 1, '0');
  const int = digits.slice(0, digits.length - d.scale);
  const frac = digits.slice(digits.length - d.scale);
  return `${negative ? '-' : ''}${int}${d.scale > 0 ? `.${frac}` : ''}`;
}

/** Sign of a decimal string: -1, 0 or 1; undefined when it is not a number. */
export function signOf(raw: string | undefined): -1 | 0 | 1 | undefined {
  const d = parseDecimal(raw);
  if (!d) return undefined;
  return d.units === 0n ? 0 : d.units < 0n ? -1 : 1;
}
