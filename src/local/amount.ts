/**
 * FA(3) amounts, quantities, rates and shares as exact decimals (decimal.js, never binary floats, where
 * 0.1 + 0.2 would print a wrong grosz). What decimal.js leaves to us is decided here once, for the business
 * rules and the renderer alike: which strings are numbers and how they round.
 */
import { Decimal } from 'decimal.js';

/**
 * Rounds half away from zero (the commercial rounding of Polish VAT). The precision is far above any sum or
 * product of XSD-bounded values (at most 22 digits each), so + − × stay exact.
 */
export const ExactDecimal = Decimal.clone({ precision: 1000, rounding: Decimal.ROUND_HALF_UP });

/** The xsd:decimal lexical form; decimal.js alone would also take `1e3`, `0x10`, `Infinity` and `NaN`. */
export const XSD_DECIMAL = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;

/** An xsd:decimal (surrounding whitespace allowed); undefined when the text is not one. */
export function parseAmount(text: string | undefined): Decimal | undefined {
  const trimmed = text?.trim();
  return trimmed !== undefined && XSD_DECIMAL.test(trimmed) ? new ExactDecimal(trimmed) : undefined;
}

/** Like parseAmount but throws: for values the structure layer has already checked, where a non-decimal is a bug. */
export function amount(text: string): Decimal {
  const d = parseAmount(text);
  if (!d) throw new RangeError(`not a decimal: ${JSON.stringify(text)}`);
  return d;
}

/**
 * Plain notation with exactly `places` fraction digits, rounded half away from zero. Rounding first keeps a
 * value that rounds to zero unsigned (`toFixed` alone prints -0.001 as `-0.00`).
 */
export function toPlain(d: Decimal, places: number): string {
  return d.toDecimalPlaces(places, Decimal.ROUND_HALF_UP).toFixed(places);
}
