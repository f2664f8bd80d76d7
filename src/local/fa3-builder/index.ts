/**
 * The FA(3) builder: an invoice as JSON (`InvoiceDraft`, the contract's schema) → FA(3) XML, all seven kinds.
 * The draft is checked (checks.ts), its values computed (compute.ts, totals.ts), the XML written
 * (document.ts, sections/), and the bytes passed through the project's own validator as the final gate.
 * The draft is expected to have passed the contract (types, patterns, enums, lengths), as the HTTP layer does.
 */
import { summarize, validateFa3, warsawToday } from '../fa3/index.js';
import { checkDraft } from './checks.js';
import { compute } from './compute.js';
import { faktura } from './document.js';
import { BuilderDefect, DraftError } from './errors.js';
import { amountText } from './money.js';
import type { BuildOptions, BuiltFa3, BuiltInvoiceSummary, InvoiceDraft } from './types.js';
import { serialize } from './xml-writer.js';

export { BuilderDefect, DraftError } from './errors.js';
export type { DraftIssue } from './errors.js';
export type { BuildOptions, BuiltFa3, InvoiceDraft } from './types.js';

/** F2: KSeF's limit for an invoice without attachments. */
const MAX_BYTES = 1_000_000;

/** `xsd:dateTime` in UTC to the second, as `DataWytworzeniaFa` is usually written. */
const timestamp = (t: Date) => t.toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function buildFa3(draft: InvoiceDraft, options: BuildOptions = {}): Promise<BuiltFa3> {
  const environment = options.environment ?? 'prod';
  const today = options.today ?? warsawToday();
  checkDraft(draft, { environment, today });
  const computed = compute(draft);
  const issueDate = draft.issueDate ?? today;
  const createdAt = timestamp(draft.createdAt !== undefined ? new Date(draft.createdAt) : (options.now ?? new Date()));
  const xml = serialize(faktura(draft, computed, issueDate, createdAt));
  if (xml.length > MAX_BYTES) {
    throw new DraftError([{ path: draft.lines ? 'lines' : 'order.lines', message: `the invoice would be ${xml.length} bytes; KSeF accepts at most ${MAX_BYTES}` }]);
  }
  const gate = await validateFa3(xml, { environment, today, mode: 'issue' });
  if (!gate.valid || !gate.invoice) throw new BuilderDefect(gate.errors);
  const facts = summarize(gate.invoice);
  const summary: BuiltInvoiceSummary = {
    invoiceNumber: facts.invoiceNumber,
    type: facts.type,
    issueDate: facts.issueDate,
    sellerNip: facts.sellerNip,
    buyerNip: facts.buyerNip,
    currency: facts.currency,
    netAmount: facts.net,
    vatAmount: facts.vat,
    grossAmount: facts.gross,
    taxes: computed.header.map((h) => ({
      netField: h.bucket.netField,
      netAmount: amountText(h.net),
      vatAmount: h.vat ? amountText(h.vat) : null,
      vatAmountPln: h.vatPln ? amountText(h.vatPln) : null,
    })),
  };
  return { xml, invoice: gate.invoice, summary, warnings: gate.warnings };
}
