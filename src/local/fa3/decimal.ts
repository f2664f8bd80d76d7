/**
 * Exact decimal arithmetic on BigInt (amounts are never floats): a value is `units / 10^scale`.
 * Only what the FA(3) rules need: parse, add, subtract, multiply, compare, round, format.
 */

export interface Dec {
  readonly units: bigint;
  readonly scale: number;
}

const DECIMAL_LEXICAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/** Parses an `xsd:decimal` lexical form (surrounding whitespace allowed); null when it is not one. */
export function parseDecimal(text: string): Dec | null {
  const m = DECIMAL_LEXICAL.exec(text.trim());
  if (!m) return null;
  const [, sign, intPart, fracPart = ''] = m;
  if (intPart === '' && fracPart === '') return null;
  const units = BigInt((intPart || '0') + fracPart);
  return { units: sign === '-' ? -units : units, scale: fracPart.length };
}

/** Like parseDecimal but throws; for values the structure layer has already checked. */
export function dec(text: string): Dec {
  const d = parseDecimal(text);
  if (!d) throw new RangeError(`not a decimal: ${JSON.stringify(text)}`);
  return d;
}

export const ZERO: Dec = { units: 0n, scale: 0 };

const pow10 = (n: number) => 10n ** BigInt(n);

function align(a: Dec, b: Dec): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * pow10(scale - a.scale), b.units * pow10(scale - b.scale), scale];
}

export function add(a: Dec, b: Dec): Dec {
  const [x, y, scale] = align(a, b);
  return { units: x + y, scale };
}

export function sub(a: Dec, b: Dec): Dec {
  const [x, y, scale] = align(a, b);
  return { units: x - y, scale };
}

export function mul(a: Dec, b: Dec): Dec {
  return { units: a.units * b.units, scale: a.scale + b.scale };
}

export const neg = (a: Dec): Dec => ({ units: -a.units, scale: a.scale });
export const abs = (a: Dec): Dec => (a.units < 0n ? neg(a) : a);

/** -1, 0 or 1. */
export function cmp(a: Dec, b: Dec): number {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export const isZero = (a: Dec) => a.units === 0n;

export function sum(values: Iterable<Dec>): Dec {
  let total = ZERO;
  for (const v of values) total = add(total, v);
  return total;
}

/** Rounds half away from zero (the commercial rounding of Polish VAT) to `scale` fraction digits. */
export function round(a: Dec, scale: number): Dec {
  if (a.scale <= scale) return { units: a.units * pow10(scale - a.scale), scale };
  const divisor = pow10(a.scale - scale);
  const magnitude = a.units < 0n ? -a.units : a.units;
  let q = magnitude / divisor;
  if ((magnitude % divisor) * 2n >= divisor) q += 1n;
  return { units: a.units < 0n ? -q : q, scale };
}

/** Plain decimal notation with exactly `scale` fraction digits (rounded half away from zero when needed). */
export function format(a: Dec, scale = a.scale): string {
  const r = round(a, scale);
  const negative = r.units < 0n;
  const digits = (negative ? -r.units : r.units).toString().padStart(scale + 1, '0');
  const body = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${body}` : body;
}
