import { ContextIdentifier, contextNip, InvoiceFacts, InvoiceRecord, InvoiceStatus, InvoicingMode } from '../model.js';
import { MB, SessionLimits } from '../limits/session-limits.js';
import { SandboxState } from '../state.js';
import { sha256Base64 } from '../util/crypto.js';
import { warsawDay } from '../util/time.js';
import { readFa3 } from './fa3.js';

/**
 * What happens to one invoice file after it was received (online or from a batch package): file checks,
 * XML checks, permissions, then acceptance with a KSeF number or a failure status with details.
 *
 * Size limits (the session's, PROTOCOL.md §11: 1 000 000 B, 3 000 000 B with Zalacznik) are reported as
 * status 430 "Błąd weryfikacji pliku faktury" — KSeF documents the limit but not the status code for breaking it.
 */

export const INVOICE_STATUS = {
  received: (): InvoiceStatus => ({ code: 100, description: 'Faktura przyjęta do dalszego przetwarzania' }),
  processing: (): InvoiceStatus => ({ code: 150, description: 'Trwa przetwarzanie' }),
  success: (): InvoiceStatus => ({ code: 200, description: 'Sukces' }),
  sessionFailed: (): InvoiceStatus => ({ code: 405, description: 'Przetwarzanie anulowane z powodu błędu sesji' }),
  noPermission: (details: string[]): InvoiceStatus => ({ code: 410, description: 'Nieprawidłowy zakres uprawnień', details }),
  attachmentNotAllowed: (): InvoiceStatus => ({
    code: 415,
    description: 'Brak możliwości wysyłania faktury z załącznikiem',
    details: ['Wysyłka faktur z załącznikiem nie jest włączona dla tego podmiotu lub tego rodzaju sesji.'],
  }),
  fileInvalid: (details: string[]): InvoiceStatus => ({ code: 430, description: 'Błąd weryfikacji pliku faktury', details }),
  decryptionFailed: (): InvoiceStatus => ({ code: 435, description: 'Błąd odszyfrowania pliku', details: ['Plik niepoprawnie zaszyfrowany'] }),
  semanticsInvalid: (details: string[]): InvoiceStatus => ({ code: 450, description: 'Błąd weryfikacji semantyki dokumentu faktury', details }),
  unknownError: (): InvoiceStatus => ({ code: 500, description: 'Nieznany błąd (500)' }),
};

export type Examination = { ok: true; facts: InvoiceFacts } | { ok: false; status: InvoiceStatus; invoiceNumber?: string };

export interface ExaminationContext {
  issuer: ContextIdentifier;
  /** Batch sessions of NIPs with attachments enabled, and online technical corrections. */
  attachmentsAllowed: boolean;
  limits: SessionLimits;
}

/** Every check short of the duplicate test (which must run atomically with acceptance). */
export async function examineInvoice(
  state: SandboxState,
  inv: InvoiceRecord,
  content: Buffer,
  ctx: ExaminationContext,
): Promise<Examination> {
  if (content.length !== inv.invoiceSize) {
    return { ok: false, status: INVOICE_STATUS.fileInvalid([`Rozmiar pliku (${content.length} B) nie zgadza się z invoiceSize (${inv.invoiceSize} B).`]) };
  }
  if (sha256Base64(content) !== inv.invoiceHash) {
    return { ok: false, status: INVOICE_STATUS.fileInvalid(['Skrót treści nie zgadza się z invoiceHash.']) };
  }
  const maxBytes = ctx.limits.maxInvoiceSizeInMB * MB;
  const maxWithAttachmentBytes = ctx.limits.maxInvoiceWithAttachmentSizeInMB * MB;
  if (content.length > Math.max(maxBytes, maxWithAttachmentBytes)) {
    return { ok: false, status: INVOICE_STATUS.fileInvalid([`Przekroczono dopuszczalny rozmiar faktury z załącznikiem (${maxWithAttachmentBytes} B).`]) };
  }
  // One document per turn of the event loop: a batch of thousands must not hold up the sandbox's HTTP.
  await new Promise((resolve) => setImmediate(resolve));
  const reading = readFa3(content, { schema: true });
  if (!reading.ok) return { ok: false, status: INVOICE_STATUS.semanticsInvalid(reading.details), invoiceNumber: reading.invoiceNumber };
  const facts = reading.facts;
  const limit = facts.hasAttachment ? maxWithAttachmentBytes : maxBytes;
  if (content.length > limit) {
    const what = facts.hasAttachment ? 'faktury z załącznikiem' : 'faktury';
    return { ok: false, status: INVOICE_STATUS.fileInvalid([`Przekroczono dopuszczalny rozmiar ${what} (${limit} B).`]), invoiceNumber: facts.invoiceNumber };
  }
  if (reading.schemaProblems.length) return { ok: false, status: INVOICE_STATUS.semanticsInvalid(reading.schemaProblems), invoiceNumber: facts.invoiceNumber };
  if (facts.hasAttachment && !ctx.attachmentsAllowed) {
    return { ok: false, status: INVOICE_STATUS.attachmentNotAllowed(), invoiceNumber: facts.invoiceNumber };
  }
  if (contextNip(ctx.issuer) !== facts.sellerNip) {
    return {
      ok: false,
      status: INVOICE_STATUS.noPermission([
        `Brak uprawnienia fakturowego: kontekst ${ctx.issuer.type} ${ctx.issuer.value} nie może wystawiać faktur sprzedawcy ${facts.sellerNip}.`,
      ]),
      invoiceNumber: facts.invoiceNumber,
    };
  }
  if (state.options.rejectFutureIssueDate && facts.issueDate > warsawDay(inv.invoicingDate)) {
    return {
      ok: false,
      status: INVOICE_STATUS.semanticsInvalid([
        `Data wystawienia faktury (P_1 ${facts.issueDate}) jest późniejsza niż data jej przyjęcia (${warsawDay(inv.invoicingDate)}).`,
      ]),
      invoiceNumber: facts.invoiceNumber,
    };
  }
  return { ok: true, facts };
}

export const businessKey = (facts: InvoiceFacts) => `${facts.sellerNip}\n${facts.kind}\n${facts.invoiceNumber}`;

/** §9: offline on request, or automatically when P_1 is an earlier (Warsaw) day than the invoicing date. */
export function effectiveInvoicingMode(offlineMode: boolean, issueDate: string, invoicingDate: Date): InvoicingMode {
  return offlineMode || issueDate < warsawDay(invoicingDate) ? 'Offline' : 'Online';
}

/** Adds an accepted invoice to the repository (numbering, duplicate index, retrieval). */
export function store(state: SandboxState, inv: InvoiceRecord, facts: InvoiceFacts, acquisitionDate: Date, permanentStorageDate: Date): void {
  inv.facts = facts;
  inv.invoiceNumber = facts.invoiceNumber;
  inv.ksefNumber = state.newKsefNumber(facts.sellerNip, inv.invoicingDate);
  inv.acquisitionDate = acquisitionDate;
  inv.permanentStorageDate = permanentStorageDate;
  inv.invoicingMode = effectiveInvoicingMode(inv.offlineMode, facts.issueDate, inv.invoicingDate);
  inv.status = INVOICE_STATUS.success();
  state.invoicesByKsefNumber.set(inv.ksefNumber, inv);
  state.invoicesByBusinessKey.set(businessKey(facts), inv);
}

/**
 * Final verdict on an examined invoice, synchronously, so that of two equal invoices exactly one wins:
 * the duplicate test (same seller NIP, RodzajFaktury and P_2 already accepted) and acceptance.
 */
export function decide(state: SandboxState, inv: InvoiceRecord, exam: Examination, now: Date): void {
  if (!exam.ok) {
    inv.status = exam.status;
    inv.invoiceNumber ??= exam.invoiceNumber;
    inv.content = undefined;
    return;
  }
  const original = state.invoicesByBusinessKey.get(businessKey(exam.facts));
  if (original) {
    const sessionRef = original.session?.referenceNumber ?? null;
    inv.invoiceNumber = exam.facts.invoiceNumber;
    inv.content = undefined;
    inv.status = {
      code: 440,
      description: 'Duplikat faktury',
      details: [
        `Duplikat faktury. Faktura o numerze KSeF: ${original.ksefNumber} została już prawidłowo przesłana do systemu${sessionRef ? ` w sesji: ${sessionRef}` : ''}`,
      ],
      extensions: { originalSessionReferenceNumber: sessionRef, originalKsefNumber: original.ksefNumber ?? null },
    };
    return;
  }
  store(state, inv, exam.facts, now, new Date(now.getTime() + state.options.permanentStorageDelayMs));
}

export function indexByHash(state: SandboxState, inv: InvoiceRecord): void {
  const list = state.invoicesByHash.get(inv.invoiceHash);
  if (list) list.push(inv);
  else state.invoicesByHash.set(inv.invoiceHash, [inv]);
}
