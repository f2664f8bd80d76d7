/**
 * Business rules beyond the XSD (FA3.md §6), run on a structurally valid invoice.
 *
 * Each rule has a severity for mode 'issue' (our own invoice, before sending); in mode 'ingest' (invoices
 * KSeF already accepted) every finding is a warning. N1 (NIP checksum) is an error on prod only, as in KSeF.
 * Not implemented here because they need state outside one document: I1 (uniqueness), K3 (corrected
 * invoice must already have a KSeF number), the second half of K4 (advances known to be in KSeF), F3
 * (attachments only in batch sessions).
 */
import { isNipChecksumValid } from '../nip.js';
import { checkKsefNumber } from '../ksef-number.js';
import { Dec, ZERO, abs, add, cmp, dec, format, mul, round, sub, sum } from './decimal.js';
import { ValidationIssue } from './issues.js';
import { Fa3Invoice, InvoiceLine, TAX_BUCKETS, TaxBucketInfo } from './model.js';

export type ValidationMode = 'issue' | 'ingest';
export type Environment = 'test' | 'demo' | 'prod';

/** What the reader learnt about the bytes (F1, F2). */
export interface DocumentFacts {
  size: number;
  bom: boolean;
  declaredEncoding?: string;
  xmlVersion?: string;
  processingInstructions: { target: string; line: number }[];
  discouragedCharacter?: { codePoint: number; line: number };
}

export interface RuleOptions {
  mode: ValidationMode;
  environment: Environment;
  /** YYYY-MM-DD in Europe/Warsaw. */
  today: string;
}

type Severity = 'error' | 'warning';

export interface Findings {
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
}

class Collector implements Findings {
  readonly errors: ValidationIssue[] = [];
  readonly warnings: ValidationIssue[] = [];

  constructor(private readonly options: RuleOptions) {}

  /** `severity` is the one for mode 'issue'; ingest downgrades everything to a warning. */
  add(severity: Severity, code: string, path: string, message: string, line?: number): void {
    const issue: ValidationIssue = { path, message, code, ...(line !== undefined ? { line } : {}) };
    (severity === 'error' && this.options.mode === 'issue' ? this.errors : this.warnings).push(issue);
  }
}

const FA = '/Faktura/Fa';
/** Path step of the i-th of `count` same-named siblings (indexed only when there are several). */
const step = (name: string, i: number, count: number) => (count > 1 ? `${name}[${i + 1}]` : name);
const money = (d: Dec) => format(d, Math.max(2, d.scale));
const CORRECTIONS = new Set(['KOR', 'KOR_ZAL', 'KOR_ROZ']);
const CENT: Dec = { units: 1n, scale: 2 };

/** F1, F2: properties of the bytes. */
export function documentRules(facts: DocumentFacts, hasAttachment: boolean, options: RuleOptions): Findings {
  const out = new Collector(options);
  if (facts.bom) out.add('error', 'F1', '/', 'The document starts with a byte order mark; KSeF requires UTF-8 without BOM', 1);
  if (facts.declaredEncoding !== undefined && facts.declaredEncoding.toUpperCase() !== 'UTF-8') {
    out.add(
      'error',
      'F1',
      '/',
      `The XML declaration names encoding ${facts.declaredEncoding}; only UTF-8 is allowed`,
      1,
    );
  }
  if (facts.xmlVersion !== undefined && facts.xmlVersion !== '1.0') {
    out.add('error', 'F1', '/', `XML version ${facts.xmlVersion} is not allowed; use 1.0`, 1);
  }
  for (const pi of facts.processingInstructions) {
    out.add('error', 'F1', '/', `Processing instruction <?${pi.target} …?> is not allowed`, pi.line);
  }
  if (facts.discouragedCharacter) {
    const { codePoint, line } = facts.discouragedCharacter;
    const cp = codePoint.toString(16).toUpperCase().padStart(4, '0');
    out.add('error', 'F1', '/', `Character U+${cp} (line ${line}) is a discouraged code point KSeF rejects`, line);
  }
  const limit = hasAttachment ? 3_000_000 : 1_000_000;
  if (facts.size > limit) {
    out.add(
      'error',
      'F2',
      '/',
      `The document has ${facts.size} bytes; the limit is ${limit}` + (hasAttachment ? ' with an attachment' : ''),
    );
  }
  return out;
}

/** Rules on the invoice content. */
export function invoiceRules(inv: Fa3Invoice, options: RuleOptions): Findings {
  const out = new Collector(options);
  dates(inv, options, out);
  nips(inv, options, out);
  totals(inv, out);
  lineTotals(inv, out);
  vatRates(inv, out);
  settlement(inv, out);
  currency(inv, out);
  kinds(inv, out);
  parties(inv, out);
  annotations(inv, out);
  lineNumbers(inv, out);
  return out;
}

function dates(inv: Fa3Invoice, options: RuleOptions, out: Collector): void {
  if (inv.issueDate > options.today) {
    out.add(
      'error',
      'D1',
      `${FA}/P_1`,
      `Issue date P_1 ${inv.issueDate} is after today (${options.today}, Europe/Warsaw); KSeF refuses future-dated invoices`,
    );
  } else if (inv.issueDate < options.today && options.mode === 'issue') {
    out.add(
      'warning',
      'D2',
      `${FA}/P_1`,
      `Issue date P_1 ${inv.issueDate} is before today (${options.today}); KSeF will record an invoice sent today as issued offline`,
    );
  }
  inv.correctedInvoices.forEach((c, i) => {
    if (c.issueDate > inv.issueDate) {
      out.add(
        'warning',
        'D3',
        `${FA}/${step('DaneFaKorygowanej', i, inv.correctedInvoices.length)}/DataWystFaKorygowanej`,
        `The corrected invoice's date ${c.issueDate} is after this correction's issue date ${inv.issueDate}`,
      );
    }
  });
}

function nips(inv: Fa3Invoice, options: RuleOptions, out: Collector): void {
  const severity: Severity = options.environment === 'prod' ? 'error' : 'warning';
  const check = (nip: string | undefined, path: string, who: string) => {
    if (nip !== undefined && !isNipChecksumValid(nip)) {
      out.add(
        severity,
        'N1',
        path,
        `${who} NIP ${nip} has an invalid checksum` +
          (options.environment === 'prod' ? '' : ` (KSeF ${options.environment} accepts it; production does not)`),
      );
    }
  };
  check(inv.seller.nip, '/Faktura/Podmiot1/DaneIdentyfikacyjne/NIP', 'Seller');
  check(inv.buyer.nip, '/Faktura/Podmiot2/DaneIdentyfikacyjne/NIP', 'Buyer');
  inv.thirdParties.forEach((p, i) => {
    const base = `/Faktura/${step('Podmiot3', i, inv.thirdParties.length)}/DaneIdentyfikacyjne`;
    check(p.nip, `${base}/NIP`, 'Third party');
    check(p.internalId?.slice(0, 10), `${base}/IDWew`, 'Third party internal id');
  });
  if (inv.authorizedParty) {
    check(inv.authorizedParty.nip, '/Faktura/PodmiotUpowazniony/DaneIdentyfikacyjne/NIP', 'Authorised party');
  }
}

function headerAmount(inv: Fa3Invoice, field: string): Dec | undefined {
  for (const t of inv.totals) {
    const info = bucketInfo(t.bucket);
    if (info.netField === field) return dec(t.net);
    if (info.vatField === field) return t.vat !== undefined ? dec(t.vat) : undefined;
    if (info.vatPlnField === field) return t.vatPln !== undefined ? dec(t.vatPln) : undefined;
  }
  return undefined;
}

const bucketInfo = (id: string): TaxBucketInfo => TAX_BUCKETS.find((b) => b.id === id)!;

/** T1: P_15 = Σ P_13_* + Σ P_14_1..5 (W fields are PLN conversions, not part of the total). */
function totals(inv: Fa3Invoice, out: Collector): void {
  const expected = sum(inv.totals.flatMap((t) => [dec(t.net), ...(t.vat !== undefined ? [dec(t.vat)] : [])]));
  const p15 = dec(inv.totalDue);
  if (cmp(expected, p15) !== 0) {
    out.add(
      'error',
      'T1',
      `${FA}/P_15`,
      `P_15 (${inv.totalDue}) does not equal the sum of the net amounts P_13_* and taxes P_14_* (${money(expected)})`,
    );
  }
}

function bucketOfLine(l: InvoiceLine): TaxBucketInfo | undefined {
  if (l.ossRate !== undefined) return bucketInfo('oss');
  return l.rate === undefined ? undefined : TAX_BUCKETS.find((b) => b.rates.includes(l.rate!));
}

/** T2: line values per rate bucket add up to the header (VAT, UPR, KOR as differences: after − before). */
function lineTotals(inv: Fa3Invoice, out: Collector): void {
  if (!['VAT', 'UPR', 'KOR'].includes(inv.kind) || inv.annotations.margin) return;
  // A line with a value but no rate (or the reverse) cannot be attributed: the comparison would mislead.
  if (inv.lines.some((l) => (bucketOfLine(l) === undefined) !== ((l.netValue ?? l.grossValue) === undefined))) return;
  const perBucket = new Map<TaxBucketInfo, { net: Dec; gross: Dec; netLines: number; grossLines: number }>();
  for (const l of inv.lines) {
    const b = bucketOfLine(l);
    const value = l.netValue ?? l.grossValue;
    if (!b || value === undefined) continue;
    const acc = perBucket.get(b) ?? { net: ZERO, gross: ZERO, netLines: 0, grossLines: 0 };
    const signed = l.before ? sub(ZERO, dec(value)) : dec(value);
    if (l.netValue !== undefined) {
      acc.net = add(acc.net, signed);
      acc.netLines++;
    } else {
      acc.gross = add(acc.gross, signed);
      acc.grossLines++;
    }
    perBucket.set(b, acc);
  }
  if (perBucket.size === 0) return;
  for (const b of TAX_BUCKETS) {
    const acc = perBucket.get(b) ?? { net: ZERO, gross: ZERO, netLines: 0, grossLines: 0 };
    const headerNet = headerAmount(inv, b.netField) ?? ZERO;
    if (acc.netLines > 0 && acc.grossLines > 0) continue;
    const rates = b.rates.length ? b.rates.join('/') + '%' : b.id === 'oss' ? 'OSS' : b.id;
    if (acc.grossLines > 0) {
      const headerGross = add(headerNet, (b.vatField ? headerAmount(inv, b.vatField) : undefined) ?? ZERO);
      const tolerance = mul(CENT, { units: BigInt(acc.grossLines), scale: 0 });
      if (cmp(abs(sub(headerGross, acc.gross)), tolerance) > 0) {
        out.add(
          'warning',
          'T2',
          `${FA}/${b.netField}`,
          `${b.netField} + ${b.vatField ?? '0'} (${money(headerGross)}) differs from the lines' gross values at ${rates} (${money(acc.gross)})`,
        );
      }
    } else if (cmp(headerNet, acc.net) !== 0) {
      out.add(
        'warning',
        'T2',
        `${FA}/${b.netField}`,
        `${b.netField} (${money(headerNet)}) differs from the sum of the lines' net values at ${rates} (${money(acc.net)})`,
      );
    }
  }
}

/** T3: P_14_x ≈ P_13_x × rate, within 0.01 per line of the bucket. */
function vatRates(inv: Fa3Invoice, out: Collector): void {
  for (const b of TAX_BUCKETS.slice(0, 4)) {
    const net = headerAmount(inv, b.netField);
    const vat = b.vatField ? headerAmount(inv, b.vatField) : undefined;
    if (net === undefined || vat === undefined) continue;
    const lines = inv.lines.filter((l) => l.rate !== undefined && b.rates.includes(l.rate));
    const used = [...new Set(lines.map((l) => l.rate!))];
    if (used.length > 1) continue;
    const candidates = used.length === 1 ? used : b.rates;
    const tolerance = mul(CENT, { units: BigInt(Math.max(1, lines.length)), scale: 0 });
    const expected = candidates.map((r) => round(mul(net, { units: BigInt(r), scale: 2 }), 2));
    if (!expected.some((e) => cmp(abs(sub(e, vat)), tolerance) <= 0)) {
      out.add(
        'warning',
        'T3',
        `${FA}/${b.vatField}`,
        `${b.vatField} (${money(vat)}) is not ${candidates.join('% or ')}% of ${b.netField} (${expected.map(money).join(' or ')})`,
      );
    }
  }
}

/** T4 (settlement sums), T5 (partial payments of a ROZ). */
function settlement(inv: Fa3Invoice, out: Collector): void {
  const s = inv.settlement;
  if (s) {
    const base = `${FA}/Rozliczenie`;
    const charges = sum(s.charges.map((c) => dec(c.amount)));
    const deductions = sum(s.deductions.map((c) => dec(c.amount)));
    if (s.chargesTotal !== undefined && cmp(dec(s.chargesTotal), charges) !== 0) {
      out.add(
        'warning',
        'T4',
        `${base}/SumaObciazen`,
        `SumaObciazen (${s.chargesTotal}) is not the sum of Obciazenia (${money(charges)})`,
      );
    }
    if (s.deductionsTotal !== undefined && cmp(dec(s.deductionsTotal), deductions) !== 0) {
      out.add(
        'warning',
        'T4',
        `${base}/SumaOdliczen`,
        `SumaOdliczen (${s.deductionsTotal}) is not the sum of Odliczenia (${money(deductions)})`,
      );
    }
    if (s.toPay !== undefined) {
      const expected = sub(
        add(dec(inv.totalDue), s.chargesTotal !== undefined ? dec(s.chargesTotal) : charges),
        s.deductionsTotal !== undefined ? dec(s.deductionsTotal) : deductions,
      );
      if (cmp(dec(s.toPay), expected) !== 0) {
        out.add(
          'warning',
          'T4',
          `${base}/DoZaplaty`,
          `DoZaplaty (${s.toPay}) is not P_15 + SumaObciazen − SumaOdliczen (${money(expected)})`,
        );
      }
    }
  }
  if (inv.kind === 'ROZ' && inv.partialPayments.length > 0) {
    const paid = sum(inv.partialPayments.map((p) => dec(p.amount)));
    if (cmp(paid, dec(inv.totalDue)) > 0) {
      out.add(
        'warning',
        'T5',
        `${FA}/ZaliczkaCzesciowa`,
        `The partial payments P_15Z (${money(paid)}) exceed the amount due P_15 (${inv.totalDue})`,
      );
    }
  }
}

/** C1–C3: foreign-currency invoices carry PLN tax amounts and an exchange rate; PLN invoices carry no W fields. */
function currency(inv: Fa3Invoice, out: Collector): void {
  const foreign = inv.currency !== 'PLN';
  for (const t of inv.totals) {
    const b = bucketInfo(t.bucket);
    if (!b.vatPlnField) continue;
    if (foreign && t.vat !== undefined && t.vatPln === undefined) {
      out.add(
        'error',
        'C1',
        `${FA}/${b.vatPlnField}`,
        `${b.vatPlnField} (tax in PLN) is required on an invoice in ${inv.currency}`,
      );
    }
    if (!foreign && t.vatPln !== undefined) {
      out.add('warning', 'C2', `${FA}/${b.vatPlnField}`, `${b.vatPlnField} must not be given on an invoice in PLN`);
    }
  }
  const hasRate =
    inv.advanceExchangeRate !== undefined ||
    inv.partialPayments.some((p) => p.exchangeRate !== undefined) ||
    inv.lines.some((l) => l.exchangeRate !== undefined);
  if (foreign && !hasRate) {
    out.add(
      'warning',
      'C3',
      `${FA}/KodWaluty`,
      `The invoice is in ${inv.currency} but gives no exchange rate (KursWalutyZ on advances, KursWaluty on lines)`,
    );
  }
}

/** K1, K2, K4–K7: what each kind must reference. */
function kinds(inv: Fa3Invoice, out: Collector): void {
  const isCorrection = CORRECTIONS.has(inv.kind);
  if (isCorrection && inv.correctedInvoices.length === 0) {
    out.add(
      'error',
      'K1',
      `${FA}/DaneFaKorygowanej`,
      `A ${inv.kind} invoice must identify the corrected invoice (DaneFaKorygowanej: its date, number and KSeF number)`,
    );
  }
  if (!isCorrection && inv.correctedInvoices.length > 0) {
    out.add(
      'error',
      'K1',
      `${FA}/DaneFaKorygowanej`,
      `DaneFaKorygowanej is only allowed on corrections, not on ${inv.kind}`,
    );
  }
  const ksef = (value: string | undefined, path: string) => {
    if (value === undefined) return;
    const check = checkKsefNumber(value);
    if (!check.valid) out.add('error', 'K2', path, `KSeF number ${value}: ${check.reason}`);
  };
  inv.correctedInvoices.forEach((c, i) =>
    ksef(c.ksefNumber, `${FA}/${step('DaneFaKorygowanej', i, inv.correctedInvoices.length)}/NrKSeFFaKorygowanej`),
  );
  inv.advances.forEach((a, i) =>
    ksef(a.ksefNumber, `${FA}/${step('FakturaZaliczkowa', i, inv.advances.length)}/NrKSeFFaZaliczkowej`),
  );

  if (inv.kind === 'ROZ' && inv.advances.length === 0) {
    out.add(
      'error',
      'K4',
      `${FA}/FakturaZaliczkowa`,
      'A ROZ (settlement) invoice must list the advance invoices it settles (FakturaZaliczkowa)',
    );
  }

  if (inv.kind === 'ZAL') {
    if (!inv.order) {
      out.add(
        'error',
        'K5',
        `${FA}/Zamowienie`,
        'A ZAL (advance) invoice must describe the order or contract (Zamowienie)',
      );
    } else {
      const lines = inv.order.lines.filter((l) => !l.before && (l.netValue !== undefined || l.vatValue !== undefined));
      if (lines.length > 0) {
        const gross = sum(lines.map((l) => add(dec(l.netValue ?? '0'), dec(l.vatValue ?? '0'))));
        const tolerance = mul(CENT, { units: BigInt(lines.length), scale: 0 });
        if (cmp(abs(sub(gross, dec(inv.order.value))), tolerance) > 0) {
          out.add(
            'warning',
            'K5',
            `${FA}/Zamowienie/WartoscZamowienia`,
            `WartoscZamowienia (${inv.order.value}) differs from the order lines' net + VAT (${money(gross)})`,
          );
        }
      }
    }
  }

  const collective = inv.correctedPeriod !== undefined;
  if (inv.lines.length === 0 && !['ZAL', 'KOR_ZAL'].includes(inv.kind) && !collective) {
    out.add('error', 'K6', `${FA}/FaWiersz`, `A ${inv.kind} invoice must have lines (FaWiersz)`);
  }
  if (!collective) {
    inv.lines.forEach((l, i) => {
      if (l.name === undefined) {
        out.add(
          'error',
          'K6',
          `${FA}/${step('FaWiersz', i, inv.lines.length)}/P_7`,
          `Line ${l.lineNo} has no name of the goods or service (P_7)`,
        );
      }
    });
  }

  if ((inv.kind === 'KOR_ZAL' || inv.kind === 'KOR_ROZ') && inv.totalDueBeforeCorrection === undefined) {
    out.add(
      'warning',
      'K7',
      `${FA}/P_15ZK`,
      `A ${inv.kind} invoice should state the amount before the correction (P_15ZK)`,
    );
  }
}

/** P1–P3: parties that JST/GV and Podmiot2K refer to. */
function parties(inv: Fa3Invoice, out: Collector): void {
  const role = (r: string | undefined) => (r === undefined ? NaN : Number(r));
  if (inv.buyer.jst && !inv.thirdParties.some((p) => role(p.role) === 8 && (p.nip !== undefined || p.internalId !== undefined))) {
    out.add(
      'error',
      'P1',
      '/Faktura/Podmiot2/JST',
      'JST = 1 requires a Podmiot3 with role 8 (the subordinate local-government unit) identified by NIP or IDWew',
    );
  }
  if (inv.buyer.gv && !inv.thirdParties.some((p) => role(p.role) === 10)) {
    out.add('error', 'P1', '/Faktura/Podmiot2/GV', 'GV = 1 requires a Podmiot3 with role 10 (the VAT group member)');
  }
  const shares = inv.thirdParties.filter((p) => role(p.role) === 4 && p.share !== undefined).map((p) => dec(p.share!));
  if (shares.length > 0 && cmp(sum(shares), { units: 100n, scale: 0 }) > 0) {
    out.add(
      'warning',
      'P2',
      '/Faktura/Podmiot3',
      `The additional buyers' shares (Udzial) add up to ${format(sum(shares))}%, more than 100%`,
    );
  }
  const ids = new Set([inv.buyer.buyerId, ...inv.thirdParties.map((p) => p.buyerId)].filter((x) => x !== undefined));
  inv.correctedBuyers.forEach((b, i) => {
    if (b.buyerId !== undefined && !ids.has(b.buyerId)) {
      out.add(
        'warning',
        'P3',
        `${FA}/${step('Podmiot2K', i, inv.correctedBuyers.length)}/IDNabywcy`,
        `IDNabywcy ${b.buyerId} matches no IDNabywcy in Podmiot2 or Podmiot3`,
      );
    }
  });
}

/** A1–A3: annotations the lines imply. */
function annotations(inv: Fa3Invoice, out: Collector): void {
  const rates = [...inv.lines.map((l) => l.rate), ...(inv.order?.lines.map((l) => l.rate) ?? [])].filter(
    (r): r is string => r !== undefined,
  );
  const exemptHeader = inv.totals.find((t) => t.bucket === 'exempt');
  const exempt = rates.includes('zw') || (exemptHeader !== undefined && cmp(dec(exemptHeader.net), ZERO) !== 0);
  const base = `${FA}/Adnotacje`;
  if (exempt && !inv.annotations.exemption) {
    out.add(
      'error',
      'A1',
      `${base}/Zwolnienie`,
      "Exempt supplies ('zw') require P_19 = 1 with the legal basis (P_19A, P_19B or P_19C)",
    );
  }
  if (!exempt && inv.annotations.exemption && rates.length > 0 && exemptHeader === undefined) {
    out.add('error', 'A1', `${base}/Zwolnienie`, "P_19 = 1 (exemption) but no line is taxed 'zw'; use P_19N = 1");
  }
  if (rates.some((r) => r === 'oo' || r === 'np II') && !inv.annotations.reverseCharge) {
    out.add(
      'warning',
      'A2',
      `${base}/P_18`,
      "Lines taxed 'oo' or 'np II' call for the reverse-charge annotation P_18 = 1",
    );
  }
  const annex15 = inv.lines.some((l) => l.annex15) || (inv.order?.lines.some((l) => l.annex15) ?? false);
  if (annex15 && !inv.annotations.splitPayment) {
    const rate = inv.currency === 'PLN' ? '1' : (inv.advanceExchangeRate ?? inv.lines.find((l) => l.exchangeRate)?.exchangeRate);
    const pln = rate === undefined ? undefined : mul(dec(inv.totalDue), dec(rate));
    if (pln && cmp(pln, { units: 15000n, scale: 0 }) > 0) {
      out.add(
        'warning',
        'A3',
        `${base}/P_18A`,
        `Total over 15 000 PLN with goods of Annex 15 (P_12_Zal_15): split payment P_18A = 1 is mandatory`,
      );
    }
  }
}

/** M1: line numbers 1..n in order; references to line numbers point at real lines. */
function lineNumbers(inv: Fa3Invoice, out: Collector): void {
  const consecutive = (numbers: string[], element: string, field: string) => {
    const i = numbers.findIndex((n, k) => Number(n) !== k + 1);
    if (i !== -1) {
      out.add(
        'warning',
        'M1',
        `${FA}/${element === 'ZamowienieWiersz' ? 'Zamowienie/' : ''}${step(element, i, numbers.length)}/${field}`,
        `${field} ${numbers[i]} breaks the sequence 1, 2, 3, … (expected ${i + 1})`,
      );
    }
  };
  consecutive(inv.lines.map((l) => l.lineNo), 'FaWiersz', 'NrWierszaFa');
  if (inv.order) consecutive(inv.order.lines.map((l) => l.lineNo), 'ZamowienieWiersz', 'NrWierszaZam');

  const known = new Set(inv.lines.map((l) => Number(l.lineNo)));
  const vehicles = inv.annotations.newTransport?.vehicles ?? [];
  vehicles.forEach((v, i) => {
    if (!known.has(Number(v.lineNo))) {
      out.add(
        'warning',
        'M1',
        `${FA}/Adnotacje/NoweSrodkiTransportu/${step('NowySrodekTransportu', i, vehicles.length)}/P_NrWierszaNST`,
        `P_NrWierszaNST ${v.lineNo} points at no invoice line`,
      );
    }
  });
  inv.additionalDescriptions.forEach((d, i) => {
    if (d.lineNo !== undefined && !known.has(Number(d.lineNo))) {
      out.add(
        'warning',
        'M1',
        `${FA}/${step('DodatkowyOpis', i, inv.additionalDescriptions.length)}/NrWiersza`,
        `DodatkowyOpis NrWiersza ${d.lineNo} points at no invoice line`,
      );
    }
  });
}
