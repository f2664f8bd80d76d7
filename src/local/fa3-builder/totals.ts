/**
 * Totals per rate and per header group (FA3.md §1.4, §6 T1-T3). The tax of a rate is computed once from the
 * sum of its line values (the group method), then rounded: that is what T2 (Σ lines = P_13_x) and T3
 * (P_14_x = P_13_x × rate, within a grosz per line) check, and what a person adding up the invoice gets.
 */
import { TAX_BUCKETS, type TaxBucketInfo } from '../fa3/index.js';
import { Dec, HUNDRED, ZERO, sum, toGrosze } from './money.js';
import { RATE_ORDER, bucketOf, percentOf, taxInGross } from './rates.js';
import type { DraftTaxRate } from './types.js';

export type Pricing = 'net' | 'gross';

/** Net and tax at one rate (tax zero for untaxed rates); in corrections a difference. */
export interface RateAmounts {
  net: Dec;
  vat: Dec;
}

export type RateTotals = Map<DraftTaxRate, RateAmounts>;

/** Net and tax of the sum of the line values at one rate, the tax rounded once. */
export function taxOfSum(value: Dec, rate: DraftTaxRate, pricing: Pricing): RateAmounts {
  const percent = percentOf(rate);
  if (!percent) return { net: value, vat: ZERO };
  if (pricing === 'net') return { net: value, vat: toGrosze(value.times(percent).dividedBy(HUNDRED)) };
  const vat = toGrosze(taxInGross(value, percent));
  return { net: value.minus(vat), vat };
}

export interface ValuedLine {
  rate: DraftTaxRate;
  /** The rounded line value: net (`P_11`) or gross (`P_11A`) as `pricing` says. */
  value: Dec;
  /** A correction's row before the correction (`StanPrzed`). */
  before: boolean;
}

/**
 * Per rate: the rows after minus the rows before. Each state is taxed on its own sum, so a correction's tax
 * difference is exactly what brings the corrected invoice's tax to the tax of the new sum.
 */
export function lineTotals(lines: ValuedLine[], pricing: Pricing): RateTotals {
  const states = new Map<DraftTaxRate, { after: Dec; before: Dec }>();
  for (const l of lines) {
    const s = states.get(l.rate) ?? { after: ZERO, before: ZERO };
    if (l.before) s.before = s.before.plus(l.value);
    else s.after = s.after.plus(l.value);
    states.set(l.rate, s);
  }
  const out: RateTotals = new Map();
  for (const rate of RATE_ORDER) {
    const s = states.get(rate);
    if (!s) continue;
    const after = taxOfSum(s.after, rate, pricing);
    const before = taxOfSum(s.before, rate, pricing);
    out.set(rate, { net: after.net.minus(before.net), vat: after.vat.minus(before.vat) });
  }
  return out;
}

export const grossOf = (totals: RateTotals): Map<DraftTaxRate, Dec> =>
  new Map([...totals].map(([rate, t]) => [rate, t.net.plus(t.vat)]));

/**
 * A gross payment split over rates in proportion to `weights` (gross values per rate), each share rounded and
 * the last rate (in schema order) taking the remainder, so the shares add up to the payment exactly. The tax of
 * a share is share × rate / (100 + rate) (art. 106f ust. 1 pkt 4), its net the rest.
 */
export function splitPayment(payment: Dec, weights: Map<DraftTaxRate, Dec>): RateTotals {
  const rates = RATE_ORDER.filter((r) => weights.has(r) && !weights.get(r)!.isZero());
  const total = sum(rates.map((r) => weights.get(r)!));
  const out: RateTotals = new Map();
  let allocated = ZERO;
  rates.forEach((rate, i) => {
    const share = i === rates.length - 1 ? payment.minus(allocated) : toGrosze(payment.times(weights.get(rate)!).dividedBy(total));
    allocated = allocated.plus(share);
    const percent = percentOf(rate);
    const vat = percent ? toGrosze(taxInGross(share, percent)) : ZERO;
    out.set(rate, { net: share.minus(vat), vat });
  });
  return out;
}

export function combine(a: RateTotals, b: RateTotals, sign: 1 | -1): RateTotals {
  const out: RateTotals = new Map();
  for (const rate of RATE_ORDER) {
    const x = a.get(rate);
    const y = b.get(rate);
    if (!x && !y) continue;
    const yNet = y ? (sign === 1 ? y.net : y.net.negated()) : ZERO;
    const yVat = y ? (sign === 1 ? y.vat : y.vat.negated()) : ZERO;
    out.set(rate, { net: (x?.net ?? ZERO).plus(yNet), vat: (x?.vat ?? ZERO).plus(yVat) });
  }
  return out;
}

/** One header group: `P_13_x`, `P_14_x` (taxed groups) and `P_14_xW` (the tax in PLN, foreign currency). */
export interface HeaderTotal {
  bucket: TaxBucketInfo;
  net: Dec;
  vat?: Dec;
  vatPln?: Dec;
}

export function headerTotals(rates: RateTotals, exchangeRate: Dec | undefined): HeaderTotal[] {
  const out: HeaderTotal[] = [];
  for (const bucket of TAX_BUCKETS) {
    const members = [...rates].filter(([rate]) => bucketOf(rate) === bucket).map(([, t]) => t);
    if (members.length === 0) continue;
    const vat = bucket.vatField ? sum(members.map((t) => t.vat)) : undefined;
    out.push({
      bucket,
      net: sum(members.map((t) => t.net)),
      vat,
      vatPln: vat && exchangeRate && bucket.vatPlnField ? toGrosze(vat.times(exchangeRate)) : undefined,
    });
  }
  return out;
}

/** `P_15` = Σ `P_13_x` + Σ `P_14_x` (T1); the PLN conversions are not part of it. */
export const totalDueOf = (header: HeaderTotal[]): Dec => sum(header.map((h) => h.net.plus(h.vat ?? ZERO)));
