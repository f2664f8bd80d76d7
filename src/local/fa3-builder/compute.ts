/**
 * Every value the builder writes, per kind (FA3.md §1.4, §2): line values, the order of an advance, the header
 * groups and `P_15`. Problems only the numbers reveal (an advance larger than the order, advances larger than
 * the settlement, amounts beyond FA(3)'s 16 digits) are the caller's and are refused here.
 */
import { Issues } from './errors.js';
import { Dec, ZERO, dec, integerDigits, sum, toGrosze } from './money.js';
import { REVERSE_CHARGE_RATES } from './rates.js';
import {
  type HeaderTotal,
  type Pricing,
  type RateTotals,
  combine,
  grossOf,
  headerTotals,
  lineTotals,
  splitPayment,
  taxOfSum,
  totalDueOf,
} from './totals.js';
import type { DraftLine, DraftOrderLine, DraftSettledAdvance, InvoiceDraft } from './types.js';

export interface ComputedLine {
  draft: DraftLine;
  quantity: Dec;
  /** `P_11` (net pricing) or `P_11A` (gross pricing). */
  value: Dec;
}

export interface ComputedOrderLine {
  draft: DraftOrderLine;
  quantity: Dec;
  /** `P_11NettoZ`. */
  net: Dec;
  /** `P_11VatZ`: the line's own tax, as the order shows it. */
  vat: Dec;
}

export interface Computed {
  pricing: Pricing;
  lines: ComputedLine[];
  /** `Zamowienie` (ZAL, KOR_ZAL): its lines and `WartoscZamowienia` (gross, after the correction on KOR_ZAL). */
  order?: { lines: ComputedOrderLine[]; value: Dec };
  header: HeaderTotal[];
  /** `P_15`. */
  totalDue: Dec;
  /** `P_15ZK` (KOR_ZAL, KOR_ROZ). */
  totalDueBefore?: Dec;
  /** `P_18`. */
  reverseCharge: boolean;
  /** `P_18A`. */
  splitPayment: boolean;
}

/** Art. 108a ust. 1a: split payment is mandatory above this gross amount in PLN (with goods of Annex 15). */
const SPLIT_PAYMENT_THRESHOLD = new Dec(15000);
const MAX_INTEGER_DIGITS = 16;

function invoiceLines(d: InvoiceDraft, issues: Issues): ComputedLine[] {
  return (d.lines ?? []).map((l, i) => {
    const quantity = dec(l.quantity ?? '1');
    const price = dec(l.unitNetPrice ?? l.unitGrossPrice!);
    const value = toGrosze(quantity.times(price).minus(l.discount !== undefined ? dec(l.discount) : ZERO));
    if (integerDigits(value) > MAX_INTEGER_DIGITS) issues.add(`lines[${i}]`, `the line's value ${value.toFixed(2)} has more than ${MAX_INTEGER_DIGITS} digits`);
    return { draft: l, quantity, value };
  });
}

function orderLines(d: InvoiceDraft, issues: Issues): ComputedOrderLine[] {
  return (d.order?.lines ?? []).map((l, i) => {
    const quantity = dec(l.quantity ?? '1');
    const net = toGrosze(quantity.times(dec(l.unitNetPrice)));
    if (integerDigits(net) > MAX_INTEGER_DIGITS) issues.add(`order.lines[${i}]`, `the line's value ${net.toFixed(2)} has more than ${MAX_INTEGER_DIGITS} digits`);
    const vat = taxOfSum(net, l.rate, 'net').vat;
    return { draft: l, quantity, net, vat };
  });
}

/** The order's net and tax per rate (the tax rounded once per rate, as an invoice's would be). */
const orderTotals = (lines: ComputedOrderLine[]): RateTotals =>
  lineTotals(lines.map((l) => ({ rate: l.draft.rate, value: l.net, before: false })), 'net');

const grossTotal = (totals: RateTotals): Dec => sum(grossOf(totals).values());

/** An advance's net and tax per rate: as its invoice shows them when given, else its amount split over `weights`. */
function advanceTotals(a: DraftSettledAdvance, weights: Map<DraftLine['rate'], Dec>): RateTotals {
  if (!a.taxes) return splitPayment(dec(a.amount), weights);
  return new Map(a.taxes.map((t) => [t.rate, { net: dec(t.netAmount), vat: dec(t.vatAmount) }]));
}

export function compute(d: InvoiceDraft): Computed {
  const issues = new Issues();
  const pricing: Pricing = d.lines?.[0]?.unitGrossPrice !== undefined ? 'gross' : 'net';
  const lines = invoiceLines(d, issues);
  const valued = lines.map((l) => ({ rate: l.draft.rate, value: l.value, before: l.draft.before === true }));
  const ordered = orderLines(d, issues);
  let rates: RateTotals;
  let order: Computed['order'];
  let totalDueBefore: Dec | undefined;

  switch (d.kind) {
    case 'VAT':
    case 'UPR':
    case 'KOR':
      rates = lineTotals(valued, pricing);
      break;
    case 'KOR_ROZ':
      // The advances a settlement deducted do not change: the correction is the difference of its lines.
      rates = lineTotals(valued, pricing);
      totalDueBefore = dec(d.correction!.totalDueBefore!);
      break;
    case 'ROZ': {
      const settled = lineTotals(valued, pricing);
      if (grossTotal(settled).lte(ZERO)) issues.add('lines', 'the lines have no value to settle');
      const weights = grossOf(settled);
      const deducted = (d.advances ?? []).reduce<RateTotals>((acc, a) => combine(acc, advanceTotals(a, weights), 1), new Map());
      rates = combine(settled, deducted, -1);
      const advances = sum((d.advances ?? []).map((a) => dec(a.amount)));
      if (advances.gt(grossTotal(settled))) {
        issues.add('advances', `the advances (${advances.toFixed(2)}) exceed the settlement's total (${grossTotal(settled).toFixed(2)})`);
      }
      break;
    }
    case 'ZAL': {
      const totals = orderTotals(ordered);
      order = { lines: ordered, value: grossTotal(totals) };
      const amount = dec(d.advance!.amount);
      if (order.value.lte(ZERO)) issues.add('order.lines', 'the order has no value');
      else if (amount.gt(order.value)) issues.add('advance.amount', `exceeds the order's value (${order.value.toFixed(2)})`);
      rates = splitPayment(amount, grossOf(totals));
      break;
    }
    case 'KOR_ZAL': {
      const after = ordered.filter((l) => !l.draft.before);
      const beforeRows = ordered.filter((l) => l.draft.before);
      // Without rows before, the order did not change: both amounts are split over the same lines.
      const afterTotals = orderTotals(after);
      const beforeTotals = beforeRows.length > 0 ? orderTotals(beforeRows) : afterTotals;
      order = { lines: ordered, value: grossTotal(afterTotals) };
      const amount = dec(d.advance!.amount);
      const amountBefore = dec(d.advance!.amountBefore!);
      if (after.length === 0 || order.value.lte(ZERO)) issues.add('order.lines', 'the order after the correction has no value');
      else if (amount.gt(order.value)) issues.add('advance.amount', `exceeds the order's value (${order.value.toFixed(2)})`);
      if (amountBefore.gt(grossTotal(beforeTotals))) issues.add('advance.amountBefore', `exceeds the order's value before the correction (${grossTotal(beforeTotals).toFixed(2)})`);
      rates = combine(splitPayment(amount, grossOf(afterTotals)), splitPayment(amountBefore, grossOf(beforeTotals)), -1);
      totalDueBefore = amountBefore;
      break;
    }
  }

  const exchangeRate = d.exchangeRate !== undefined ? dec(d.exchangeRate) : undefined;
  const header = headerTotals(rates, exchangeRate);
  const totalDue = totalDueOf(header);
  if ([totalDue, ...header.map((h) => h.net)].some((v) => integerDigits(v) > MAX_INTEGER_DIGITS)) {
    issues.add(d.lines ? 'lines' : 'order.lines', `the totals have more than ${MAX_INTEGER_DIGITS} digits`);
  }

  const allRates = [...lines.map((l) => l.draft.rate), ...ordered.map((l) => l.draft.rate)];
  const annex15 = [...lines, ...ordered].some((l) => l.draft.annex15 === true);
  const totalPln = totalDue.times(exchangeRate ?? 1);
  const splitRequired = annex15 && totalPln.gt(SPLIT_PAYMENT_THRESHOLD);
  if (splitRequired && d.splitPayment === false) {
    issues.add('splitPayment', `must be true: goods of Annex 15 in an invoice of ${toGrosze(totalPln).toFixed(2)} PLN (over 15 000) are paid by split payment`);
  }
  issues.throwIfAny();
  return {
    pricing,
    lines,
    order,
    header,
    totalDue,
    totalDueBefore,
    reverseCharge: d.reverseCharge ?? allRates.some((r) => REVERSE_CHARGE_RATES.includes(r)),
    splitPayment: d.splitPayment ?? splitRequired,
  };
}
