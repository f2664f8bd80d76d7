/** The FA(3) rates (`P_12`) and the header group (`P_13_x` / `P_14_x`) each falls into (FA3.md §1.4). */
import { TAX_BUCKETS, TAX_RATES, type TaxBucketInfo } from '../fa3/index.js';
import { Dec, HUNDRED } from './money.js';
import type { DraftTaxRate } from './types.js';

const PERCENT: Partial<Record<DraftTaxRate, Dec>> = {
  '23': new Dec(23),
  '22': new Dec(22),
  '8': new Dec(8),
  '7': new Dec(7),
  '5': new Dec(5),
  '4': new Dec(4),
  '3': new Dec(3),
};

/** The tax percentage of a rate; undefined for the untaxed ones (0 %, exempt, reverse charge, not taxed here). */
export const percentOf = (rate: DraftTaxRate): Dec | undefined => PERCENT[rate];

export function bucketOf(rate: DraftTaxRate): TaxBucketInfo {
  const bucket = TAX_BUCKETS.find((b) => b.rates.includes(rate));
  if (!bucket) throw new RangeError(`no FA(3) header group for rate ${rate}`);
  return bucket;
}

/** Rates in schema order, so totals and the allocation of remainders do not depend on the order of the lines. */
export const RATE_ORDER: readonly DraftTaxRate[] = TAX_RATES;

/** Rates the buyer accounts for (`P_18` "odwrotne obciążenie"). */
export const REVERSE_CHARGE_RATES: readonly DraftTaxRate[] = ['oo', 'np II'];

/** Tax contained in a gross value: gross × rate / (100 + rate), unrounded. */
export const taxInGross = (gross: Dec, percent: Dec): Dec => gross.times(percent).dividedBy(HUNDRED.plus(percent));
