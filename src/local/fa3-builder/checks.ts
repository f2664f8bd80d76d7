/**
 * What makes a draft impossible to turn into a valid invoice, beyond the shapes the contract checks (types,
 * patterns, enums, lengths): the sections each kind needs, identities given once, dates within FA(3)'s
 * bounds, and the business rules of FA3.md §6 that depend on the caller's choices (N1, D1, K1, K2, K4-K6, A1,
 * A2, P1). Everything is collected, so one 400 names every field.
 */
import { FA3_XSD_FILE, schemaEnumeration } from '../../xml/schemas.js';
import type { Environment } from '../fa3/index.js';
import { checkKsefNumber } from '../ksef-number.js';
import { isNipChecksumValid } from '../nip.js';
import { Issues } from './errors.js';
import { Dec, ZERO, dec, sum } from './money.js';
import { REVERSE_CHARGE_RATES } from './rates.js';
import { refusedText, stringsOf } from './text.js';
import type { DraftAddress, DraftTaxRate, InvoiceDraft, InvoiceKind } from './types.js';

export interface CheckContext {
  environment: Environment;
  /** YYYY-MM-DD, Europe/Warsaw. */
  today: string;
}

type Section = 'lines' | 'correction' | 'order' | 'advance' | 'advances';

/** FA3.md §2: the sections each kind is made of (K1, K4, K5, K6). */
const SECTIONS: Record<InvoiceKind, readonly Section[]> = {
  VAT: ['lines'],
  UPR: ['lines'],
  KOR: ['correction', 'lines'],
  ZAL: ['order', 'advance'],
  ROZ: ['lines', 'advances'],
  KOR_ZAL: ['correction', 'order', 'advance'],
  KOR_ROZ: ['correction', 'lines'],
};

const KINDS_WITH = (section: Section) =>
  (Object.keys(SECTIONS) as InvoiceKind[]).filter((k) => SECTIONS[k].includes(section)).join(', ');

/** FA(3) date types: TDataT (invoice dates), TData (payment dates), TDataU (orders, contracts). */
const DATE_MIN = { invoice: '2006-01-01', payment: '2016-07-01', document: '1990-01-01' } as const;
const DATE_MAX = '2050-01-01';

export function checkDraft(d: InvoiceDraft, ctx: CheckContext): void {
  const issues = new Issues();
  for (const [path, value] of stringsOf(d)) {
    const why = refusedText(value);
    if (why) issues.add(path, why);
  }
  sections(d, issues);
  dates(d, ctx, issues);
  currency(d, issues);
  parties(d, ctx, issues);
  lines(d, issues);
  annotations(d, issues);
  payment(d, issues);
  references(d, issues);
  advance(d, issues);
  issues.throwIfAny();
}

function present(d: InvoiceDraft, s: Section): boolean {
  const value = d[s];
  return Array.isArray(value) ? value.length > 0 : value !== undefined;
}

function sections(d: InvoiceDraft, issues: Issues): void {
  const needed = SECTIONS[d.kind];
  for (const s of ['lines', 'correction', 'order', 'advance', 'advances'] as const) {
    if (needed.includes(s) && !present(d, s)) issues.add(s, `is required on a ${d.kind} invoice`);
    if (!needed.includes(s) && d[s] !== undefined) issues.add(s, `is not used on a ${d.kind} invoice (only on ${KINDS_WITH(s)})`);
  }
}

function date(issues: Issues, path: string, value: string | undefined, min: string): void {
  if (value !== undefined && (value < min || value > DATE_MAX)) issues.add(path, `must be between ${min} and ${DATE_MAX} (FA(3))`);
}

function dates(d: InvoiceDraft, ctx: CheckContext, issues: Issues): void {
  date(issues, 'issueDate', d.issueDate, DATE_MIN.invoice);
  if (d.issueDate !== undefined && d.issueDate > ctx.today) {
    issues.add('issueDate', `${d.issueDate} is after today (${ctx.today}, Europe/Warsaw): KSeF refuses future-dated invoices`);
  }
  date(issues, 'saleDate', d.saleDate, DATE_MIN.invoice);
  if (d.saleDate !== undefined && (d.kind === 'ZAL' || d.kind === 'KOR_ZAL')) {
    issues.add('saleDate', `is not used on a ${d.kind} invoice: its date (P_6) is advance.paymentDate`);
  }
  if (d.salePeriod) {
    if (d.saleDate !== undefined) issues.add('salePeriod', 'give saleDate or salePeriod, not both');
    date(issues, 'salePeriod.from', d.salePeriod.from, DATE_MIN.invoice);
    date(issues, 'salePeriod.to', d.salePeriod.to, DATE_MIN.invoice);
    if (d.salePeriod.from > d.salePeriod.to) issues.add('salePeriod.to', 'must not be before salePeriod.from');
  }
  d.lines?.forEach((l, i) => date(issues, `lines[${i}].saleDate`, l.saleDate, DATE_MIN.invoice));
  d.correction?.invoices.forEach((c, i) => date(issues, `correction.invoices[${i}].issueDate`, c.issueDate, DATE_MIN.invoice));
  date(issues, 'advance.paymentDate', d.advance?.paymentDate, DATE_MIN.invoice);
  date(issues, 'payment.dueDate', d.payment?.dueDate, DATE_MIN.payment);
  date(issues, 'payment.paidDate', d.payment?.paidDate, DATE_MIN.payment);
  d.orders?.forEach((o, i) => date(issues, `orders[${i}].date`, o.date, DATE_MIN.document));
  d.contracts?.forEach((o, i) => date(issues, `contracts[${i}].date`, o.date, DATE_MIN.document));
  if (d.createdAt !== undefined) {
    const t = Date.parse(d.createdAt);
    if (!(t >= Date.parse('2025-09-01T00:00:00Z') && t <= Date.parse('2050-01-01T23:59:59Z'))) {
      issues.add('createdAt', 'must be between 2025-09-01T00:00:00Z and 2050-01-01T23:59:59Z (FA(3))');
    }
  }
}

function currency(d: InvoiceDraft, issues: Issues): void {
  const code = d.currency ?? 'PLN';
  if (!schemaEnumeration(FA3_XSD_FILE, 'TKodWaluty').includes(code)) issues.add('currency', `${code} is not a currency code FA(3) accepts (ISO 4217)`);
  if (code === 'PLN' && d.exchangeRate !== undefined) issues.add('exchangeRate', 'is only for an invoice in a foreign currency');
  if (code !== 'PLN' && d.exchangeRate === undefined) issues.add('exchangeRate', `is required for an invoice in ${code} (the PLN rate of the tax amounts)`);
  if (d.exchangeRate !== undefined && dec(d.exchangeRate).lte(ZERO)) issues.add('exchangeRate', 'must be greater than 0');
}

function address(issues: Issues, path: string, a: DraftAddress | undefined): void {
  if (a?.countryCode !== undefined && !schemaEnumeration('bazowe/KodyKrajow_v10-0E.xsd', 'TKodKraju').includes(a.countryCode)) {
    issues.add(`${path}.countryCode`, `${a.countryCode} is not a country code FA(3) accepts`);
  }
}

function parties(d: InvoiceDraft, ctx: CheckContext, issues: Issues): void {
  // N1: KSeF checks NIP checksums in production only; on test/demo the validator's warning says so.
  const nip = (path: string, value: string | undefined) => {
    if (value !== undefined && ctx.environment === 'prod' && !isNipChecksumValid(value)) {
      issues.add(path, `${value} has an invalid NIP checksum (KSeF production refuses it)`);
    }
  };
  nip('seller.nip', d.seller.nip);
  address(issues, 'seller.address', d.seller.address);

  const b = d.buyer;
  const buyerIds = (['nip', 'euVatNumber', 'foreignId'] as const).filter((k) => b[k] !== undefined);
  if (buyerIds.length > 1) issues.add(`buyer.${buyerIds[1]}`, `give one identification of the buyer, not ${buyerIds.join(' and ')}`);
  nip('buyer.nip', b.nip);
  if (b.name === undefined && d.kind !== 'UPR') issues.add('buyer.name', `is required on a ${d.kind} invoice (only a simplified invoice, UPR, may leave it out)`);
  address(issues, 'buyer.address', b.address);

  const third = d.thirdParties ?? [];
  third.forEach((p, i) => {
    const at = `thirdParties[${i}]`;
    const ids = (['nip', 'internalId', 'euVatNumber', 'foreignId'] as const).filter((k) => p[k] !== undefined);
    if (ids.length > 1) issues.add(`${at}.${ids[1]}`, `give one identification, not ${ids.join(' and ')}`);
    nip(`${at}.nip`, p.nip);
    nip(`${at}.internalId`, p.internalId?.slice(0, 10));
    if ((p.role === undefined) === (p.otherRole === undefined)) issues.add(`${at}.role`, 'give either role or otherRole');
    if (p.share !== undefined && dec(p.share).gt(100)) issues.add(`${at}.share`, 'must be at most 100 (percent)');
    address(issues, `${at}.address`, p.address);
  });
  // P1: the unit or member the invoice concerns must be named.
  if (b.jst && !third.some((p) => p.role === 8 && (p.nip !== undefined || p.internalId !== undefined))) {
    issues.add('buyer.jst', 'needs a third party with role 8 (the subordinate local-government unit) identified by nip or internalId');
  }
  if (b.gv && !third.some((p) => p.role === 10)) issues.add('buyer.gv', 'needs a third party with role 10 (the VAT-group member)');
}

function lines(d: InvoiceDraft, issues: Issues): void {
  const all = d.lines ?? [];
  const priceOf = (l: (typeof all)[number]) =>
    (l.unitNetPrice === undefined) === (l.unitGrossPrice === undefined) ? undefined : l.unitNetPrice !== undefined ? 'unitNetPrice' : 'unitGrossPrice';
  const first = all.findIndex((l) => priceOf(l) !== undefined);
  all.forEach((l, i) => {
    const at = `lines[${i}]`;
    const price = priceOf(l);
    if (price === undefined) issues.add(`${at}.unitNetPrice`, 'give either unitNetPrice or unitGrossPrice');
    else if (price !== priceOf(all[first])) {
      issues.add(`${at}.${price}`, `all lines of an invoice use the same kind of price: lines[${first}] has ${priceOf(all[first])}`);
    }
    if (l.before && d.kind !== 'KOR' && d.kind !== 'KOR_ROZ') issues.add(`${at}.before`, `only a correction's rows have a state before (not a ${d.kind} invoice)`);
  });
  (d.order?.lines ?? []).forEach((l, i) => {
    const at = `order.lines[${i}]`;
    if (l.before && d.kind !== 'KOR_ZAL') issues.add(`${at}.before`, 'only the order of a KOR_ZAL has lines as they were before');
    if (l.quantity !== undefined && dec(l.quantity).lte(ZERO)) issues.add(`${at}.quantity`, 'must be greater than 0');
    if (dec(l.unitNetPrice).lt(ZERO)) issues.add(`${at}.unitNetPrice`, 'must not be negative');
  });
  (d.notes ?? []).forEach((n, i) => {
    if (n.line !== undefined && n.line > all.length) issues.add(`notes[${i}].line`, `there is no line ${n.line} (the invoice has ${all.length})`);
  });
}

const ratesOf = (d: InvoiceDraft): DraftTaxRate[] => [...(d.lines ?? []), ...(d.order?.lines ?? [])].map((l) => l.rate);

function annotations(d: InvoiceDraft, issues: Issues): void {
  const rates = ratesOf(d);
  // A1: an exempt supply names its legal basis; an exemption without an exempt line would be a false statement.
  if (rates.includes('zw') && !d.exemption) issues.add('exemption', "is required: a line is exempt ('zw'); give the legal basis of the exemption");
  if (d.exemption && !rates.includes('zw')) issues.add('exemption', "no line is exempt ('zw')");
  // A2: the buyer accounts for the VAT of these lines; the invoice must say so.
  const reverse = rates.find((r) => REVERSE_CHARGE_RATES.includes(r));
  if (reverse && d.reverseCharge === false) issues.add('reverseCharge', `must be true: a line is at '${reverse}' (the buyer accounts for the VAT)`);
}

function payment(d: InvoiceDraft, issues: Issues): void {
  const p = d.payment;
  if (p?.method !== undefined && p.otherMethod !== undefined) issues.add('payment.otherMethod', 'give either method or otherMethod');
}

function ksefNumber(issues: Issues, path: string, value: string | undefined): void {
  if (value === undefined) return;
  const check = checkKsefNumber(value);
  if (!check.valid) issues.add(path, check.reason);
}

function references(d: InvoiceDraft, issues: Issues): void {
  d.correction?.invoices.forEach((c, i) => {
    const at = `correction.invoices[${i}]`;
    if ((c.ksefNumber !== undefined) === (c.outsideKsef === true)) {
      issues.add(`${at}.ksefNumber`, 'give the KSeF number of the corrected invoice, or outsideKsef: true when it was issued outside KSeF');
    }
    ksefNumber(issues, `${at}.ksefNumber`, c.ksefNumber);
  });
  if (d.correction) {
    if (d.kind === 'KOR_ROZ' && d.correction.totalDueBefore === undefined) {
      issues.add('correction.totalDueBefore', 'is required on a KOR_ROZ invoice (the amount left to pay before the correction, P_15ZK)');
    }
    if (d.kind !== 'KOR_ROZ' && d.correction.totalDueBefore !== undefined) {
      issues.add('correction.totalDueBefore', `is only for a KOR_ROZ invoice${d.kind === 'KOR_ZAL' ? ' (a KOR_ZAL gives advance.amountBefore)' : ''}`);
    }
  }
  const lineRates = new Set((d.lines ?? []).map((l) => l.rate));
  (d.advances ?? []).forEach((a, i) => {
    const at = `advances[${i}]`;
    if ((a.ksefNumber === undefined) === (a.number === undefined)) {
      issues.add(`${at}.ksefNumber`, 'give the KSeF number of the advance invoice, or its number when it was issued outside KSeF');
    }
    ksefNumber(issues, `${at}.ksefNumber`, a.ksefNumber);
    if (dec(a.amount).lte(ZERO)) issues.add(`${at}.amount`, 'must be greater than 0');
    if (a.taxes) {
      const seen = new Set<string>();
      a.taxes.forEach((t, k) => {
        if (seen.has(t.rate)) issues.add(`${at}.taxes[${k}].rate`, `rate ${t.rate} is listed twice`);
        seen.add(t.rate);
        if (!lineRates.has(t.rate)) issues.add(`${at}.taxes[${k}].rate`, `no line of the settlement is at ${t.rate}`);
      });
      const total: Dec = sum(a.taxes.map((t) => dec(t.netAmount).plus(dec(t.vatAmount))));
      if (!total.eq(dec(a.amount))) issues.add(`${at}.taxes`, `net + tax add up to ${total.toFixed(2)}, not the amount ${dec(a.amount).toFixed(2)}`);
    }
  });
}

function advance(d: InvoiceDraft, issues: Issues): void {
  const a = d.advance;
  if (!a) return;
  if (d.kind === 'ZAL') {
    if (a.amountBefore !== undefined) issues.add('advance.amountBefore', 'is only for a KOR_ZAL invoice');
    if (dec(a.amount).lte(ZERO)) issues.add('advance.amount', 'must be greater than 0');
  }
  if (d.kind === 'KOR_ZAL') {
    if (a.amountBefore === undefined) issues.add('advance.amountBefore', 'is required on a KOR_ZAL invoice (the advance before the correction, P_15ZK)');
    else if (dec(a.amountBefore).lte(ZERO)) issues.add('advance.amountBefore', 'must be greater than 0');
    if (dec(a.amount).lt(ZERO)) issues.add('advance.amount', 'must not be negative');
  }
}
