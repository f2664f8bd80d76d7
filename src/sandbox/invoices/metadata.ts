import { ksef } from '../http/errors.js';
import { contextKey, InvoiceRecord, InvoiceType } from '../model.js';
import { SandboxState } from '../state.js';
import { KSEF_NUMBER, NIP } from '../util/ids.js';
import { addMonths, ksefDateTime, parseApiDateTime, warsawDay } from '../util/time.js';
import { BodyReader } from '../util/validate.js';

/** Invoice metadata (PROTOCOL.md §8.2): filters shared by queries and exports, selection, and the JSON shape. */

export const SUBJECT_TYPES = ['Subject1', 'Subject2', 'Subject3', 'SubjectAuthorized'] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number];
export const DATE_TYPES = ['Issue', 'Invoicing', 'PermanentStorage'] as const;
export type DateType = (typeof DATE_TYPES)[number];
const INVOICE_TYPES: readonly InvoiceType[] = ['Vat', 'Zal', 'Kor', 'Roz', 'Upr', 'KorZal', 'KorRoz'];
const ALL_INVOICE_TYPES = [...INVOICE_TYPES, 'VatPef', 'VatPefSp', 'KorPef', 'VatRr', 'KorVatRr'] as const;

export interface InvoiceQuery {
  subjectType: SubjectType;
  dateType: DateType;
  from: Date;
  to?: Date;
  restrictToHwm: boolean;
  ksefNumber?: string;
  invoiceNumber?: string;
  amount?: { type: 'Brutto' | 'Netto' | 'Vat'; from?: number; to?: number };
  sellerNip?: string;
  buyerIdentifier?: { type: 'Nip' | 'VatUe' | 'Other' | 'None'; value?: string };
  currencyCodes?: string[];
  invoicingMode?: 'Online' | 'Offline';
  isSelfInvoicing?: boolean;
  formType?: 'FA' | 'PEF' | 'FA_RR';
  invoiceTypes?: string[];
  hasAttachment?: boolean;
}

export function readInvoiceQuery(r: BodyReader): InvoiceQuery | undefined {
  const subjectType = r.enumOf('subjectType', SUBJECT_TYPES, { required: true });
  const range = r.object('dateRange', { required: true });
  const dateType = range?.enumOf('dateType', DATE_TYPES, { required: true });
  const fromText = range?.string('from', { required: true });
  const toText = range?.string('to');
  const restrictToHwm = range?.bool('restrictToPermanentStorageHwmDate') ?? false;
  const from = fromText === undefined ? undefined : parseApiDateTime(fromText);
  const to = toText === undefined ? undefined : parseApiDateTime(toText);
  if (fromText !== undefined && !from) range?.fail('from', 'must be a date-time');
  if (toText !== undefined && !to) range?.fail('to', 'must be a date-time');
  if (from && to && to.getTime() < from.getTime()) range?.fail('to', 'must not be before from');
  if (from && to && to.getTime() > addMonths(from, 3).getTime()) range?.fail('to', 'the date range must not exceed 3 months');
  const amountReader = r.object('amount');
  const amount = amountReader
    ? {
        type: amountReader.enumOf('type', ['Brutto', 'Netto', 'Vat'] as const, { required: true })!,
        from: amountReader.number('from'),
        to: amountReader.number('to'),
      }
    : undefined;
  const buyerReader = r.object('buyerIdentifier');
  const buyerIdentifier = buyerReader
    ? {
        type: buyerReader.enumOf('type', ['Nip', 'VatUe', 'Other', 'None'] as const, { required: true })!,
        value: buyerReader.string('value', { max: 50 }),
      }
    : undefined;
  const query: Partial<InvoiceQuery> = {
    subjectType,
    dateType,
    from,
    to,
    restrictToHwm,
    ksefNumber: r.string('ksefNumber', { pattern: KSEF_NUMBER }),
    invoiceNumber: r.string('invoiceNumber', { max: 256 }),
    amount,
    sellerNip: r.string('sellerNip', { pattern: NIP }),
    buyerIdentifier,
    currencyCodes: r.stringArray('currencyCodes', { pattern: /^[A-Z]{3}$/ }),
    invoicingMode: r.enumOf('invoicingMode', ['Online', 'Offline'] as const),
    isSelfInvoicing: r.bool('isSelfInvoicing'),
    formType: r.enumOf('formType', ['FA', 'PEF', 'FA_RR'] as const),
    invoiceTypes: r.enumArray('invoiceTypes', ALL_INVOICE_TYPES),
    hasAttachment: r.bool('hasAttachment'),
  };
  return r.hasErrors ? undefined : (query as InvoiceQuery);
}

/** Data up to the high-water mark is final: every invoice stored later gets a later permanentStorageDate. */
export const permanentStorageHwm = (now: Date) => new Date(now.getTime() - 1);

export function isSubject(inv: InvoiceRecord, subjectType: SubjectType, ctxKey: string): boolean {
  const facts = inv.facts!;
  switch (subjectType) {
    case 'Subject1':
      return ctxKey === `Nip:${facts.sellerNip}` || (inv.issuerContext !== undefined && contextKey(inv.issuerContext) === ctxKey);
    case 'Subject2':
      return facts.buyer.identifier.type === 'Nip' && ctxKey === `Nip:${facts.buyer.identifier.value}`;
    case 'Subject3':
      return facts.thirdSubjects.some(
        (t) => (t.identifier.type === 'Nip' || t.identifier.type === 'InternalId') && ctxKey === `${t.identifier.type}:${t.identifier.value}`,
      );
    case 'SubjectAuthorized':
      return facts.authorizedSubject !== undefined && ctxKey === `Nip:${facts.authorizedSubject.nip}`;
  }
}

/** May this context read the invoice at all (download by KSeF number)? */
export const canRead = (inv: InvoiceRecord, ctxKey: string) => SUBJECT_TYPES.some((s) => isSubject(inv, s, ctxKey));

/** The date an invoice is sorted and filtered by; issue dates are whole Warsaw days. */
function dateOf(inv: InvoiceRecord, type: DateType): number {
  if (type === 'Invoicing') return inv.invoicingDate.getTime();
  if (type === 'PermanentStorage') return inv.permanentStorageDate!.getTime();
  return Date.parse(`${inv.facts!.issueDate}T00:00:00Z`);
}

export interface Selection {
  invoices: InvoiceRecord[];
  hwm?: Date;
}

/** Matching, permanently stored invoices sorted by the chosen date (then KSeF number). */
export function selectInvoices(state: SandboxState, ctxKey: string, q: InvoiceQuery, now: Date, descending: boolean): Selection {
  const hwm = q.dateType === 'PermanentStorage' ? permanentStorageHwm(now) : undefined;
  if (hwm && q.restrictToHwm && q.from.getTime() > hwm.getTime()) throw ksef.beyondHwm();
  let to = q.to ?? now;
  if (hwm && q.restrictToHwm && to.getTime() > hwm.getTime()) to = hwm;
  const [from, upTo] =
    q.dateType === 'Issue'
      ? [Date.parse(`${warsawDay(q.from)}T00:00:00Z`), Date.parse(`${warsawDay(to)}T00:00:00Z`)]
      : [q.from.getTime(), to.getTime()];
  const t = now.getTime();
  const invoiceNumber = q.invoiceNumber?.replace(/\s+/g, ' ').trim();
  const selected: InvoiceRecord[] = [];
  for (const inv of state.invoicesByKsefNumber.values()) {
    if (inv.permanentStorageDate!.getTime() > t) continue;
    const d = dateOf(inv, q.dateType);
    if (d < from || d > upTo) continue;
    const f = inv.facts!;
    if (!isSubject(inv, q.subjectType, ctxKey)) continue;
    if (q.ksefNumber && inv.ksefNumber !== q.ksefNumber) continue;
    if (invoiceNumber && f.invoiceNumber !== invoiceNumber) continue;
    if (q.sellerNip && f.sellerNip !== q.sellerNip) continue;
    if (q.buyerIdentifier) {
      if (f.buyer.identifier.type !== q.buyerIdentifier.type) continue;
      if (q.buyerIdentifier.value && f.buyer.identifier.value !== q.buyerIdentifier.value) continue;
    }
    if (q.amount) {
      const value = q.amount.type === 'Brutto' ? f.grossAmount : q.amount.type === 'Netto' ? f.netAmount : f.vatAmount;
      if ((q.amount.from !== undefined && value < q.amount.from) || (q.amount.to !== undefined && value > q.amount.to)) continue;
    }
    if (q.currencyCodes?.length && !q.currencyCodes.includes(f.currency)) continue;
    if (q.invoicingMode && inv.invoicingMode !== q.invoicingMode) continue;
    if (q.isSelfInvoicing !== undefined && f.isSelfInvoicing !== q.isSelfInvoicing) continue;
    if (q.formType && q.formType !== inv.formCode.value) continue;
    if (q.invoiceTypes?.length && !q.invoiceTypes.includes(f.invoiceType)) continue;
    if (q.hasAttachment !== undefined && f.hasAttachment !== q.hasAttachment) continue;
    selected.push(inv);
  }
  const sign = descending ? -1 : 1;
  selected.sort((a, b) => sign * (dateOf(a, q.dateType) - dateOf(b, q.dateType) || (a.ksefNumber! < b.ksefNumber! ? -1 : 1)));
  return { invoices: selected, hwm };
}

const named = <T extends object>(value: T, name?: string) => (name ? { ...value, name } : value);

export function metadataJson(inv: InvoiceRecord) {
  const f = inv.facts!;
  return {
    ksefNumber: inv.ksefNumber,
    invoiceNumber: f.invoiceNumber,
    issueDate: f.issueDate,
    invoicingDate: ksefDateTime(inv.invoicingDate),
    acquisitionDate: ksefDateTime(inv.acquisitionDate!),
    permanentStorageDate: ksefDateTime(inv.permanentStorageDate!),
    seller: named({ nip: f.sellerNip }, f.sellerName),
    buyer: named({ identifier: f.buyer.identifier }, f.buyer.name),
    netAmount: f.netAmount,
    grossAmount: f.grossAmount,
    vatAmount: f.vatAmount,
    currency: f.currency,
    invoicingMode: inv.invoicingMode,
    invoiceType: f.invoiceType,
    formCode: inv.formCode,
    isSelfInvoicing: f.isSelfInvoicing,
    hasAttachment: f.hasAttachment,
    invoiceHash: inv.invoiceHash,
    hashOfCorrectedInvoice: inv.hashOfCorrectedInvoice ?? null,
    thirdSubjects: f.thirdSubjects.map((t) => named({ identifier: t.identifier, role: t.role }, t.name)),
    ...(f.authorizedSubject ? { authorizedSubject: named({ nip: f.authorizedSubject.nip, role: f.authorizedSubject.role }, f.authorizedSubject.name) } : {}),
  };
}
