/**
 * Decimal arithmetic for money (decimal.js, never binary floats). Precision 60 keeps every intermediate
 * product exact (a 16-digit quantity times a 22-digit price); rounding to the grosz is half away from zero,
 * the commercial rounding of Polish VAT (art. 106e ust. 11: from half a grosz up).
 */
import { Decimal } from 'decimal.js';

export const Dec = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_UP, toExpNeg: -100, toExpPos: 100 });
export type Dec = InstanceType<typeof Dec>;

export const ZERO = new Dec(0);
export const HUNDRED = new Dec(100);

export const dec = (text: string): Dec => new Dec(text);
export const toGrosze = (d: Dec): Dec => d.toDecimalPlaces(2, Dec.ROUND_HALF_UP);
export const sum = (values: Iterable<Dec>): Dec => {
  let total = ZERO;
  for (const v of values) total = total.plus(v);
  return total;
};

/** `TKwotowy`: exactly 2 decimals, no leading zeros, no '-0.00'. */
export const amountText = (d: Dec): string => toGrosze(d).toFixed(2);

/** A quantity, price or rate as given (no exponent, no leading zeros); at least `minDecimals` decimals. */
export const decimalText = (d: Dec, minDecimals = 0): string => d.toFixed(Math.max(minDecimals, d.decimalPlaces()));

/** Integer digits of a value: the XSD's amount types allow 16 (TKwotowy) or 14 (TKwotowy2). */
export const integerDigits = (d: Dec): number => d.abs().truncated().toFixed().length;
