import type { KsefEnvironmentName } from '../config.js';
import { badRequest, type ErrorDetail } from '../http/errors.js';
import type { InvoiceFacts } from '../ksef-proxy/index.js';
import { validateFa3 } from '../local/fa3/index.js';
import { type BuiltFa3, DraftError, type InvoiceDraft, buildFa3 } from '../local/fa3-builder/index.js';

/**
 * The invoice bytes of `body.invoiceXml`. The contract's `format: byte` has already refused anything
 * that is not Base64, but the empty string is valid Base64 of nothing: refuse it here, naming the field.
 */
export function invoiceBytes(invoiceXml: string, field = 'body.invoiceXml'): Buffer {
  if (invoiceXml === '') {
    throw badRequest(`${field} is empty: send the FA(3) invoice XML, Base64-encoded.`, [{ path: field, message: 'must not be empty' }]);
  }
  return Buffer.from(invoiceXml, 'base64');
}

/** A draft's problems as error details under `field` (`body.invoice` → `body.invoice.lines[2].unitNetPrice`). */
export const draftDetails = (e: DraftError, field: string): ErrorDetail[] => e.issues.map((i) => ({ path: `${field}.${i.path}`, message: i.message }));

/** The draft as FA(3); a draft the builder refuses is a 400 naming its fields under `field`. */
export async function buildDraft(draft: InvoiceDraft, field: string, environment?: KsefEnvironmentName): Promise<BuiltFa3> {
  try {
    return await buildFa3(draft, { environment });
  } catch (e) {
    if (!(e instanceof DraftError)) throw e;
    const details = draftDetails(e, field);
    throw badRequest(`The invoice cannot be built: ${details.slice(0, 3).map((d) => `${d.path} ${d.message}`).join('; ')}.`, details);
  }
}

/** What a send names its invoice by: the XML, or the invoice as JSON for the builder; exactly one of the two. */
export type InvoiceInput = { xml: Buffer; field: string } | { draft: InvoiceDraft; field: string };

/** `at` is the object holding the two fields (`body`, `body.invoices[3]`). */
export function invoiceInput(item: { invoiceXml?: string; invoice?: InvoiceDraft }, at: string): InvoiceInput {
  if (item.invoiceXml !== undefined && item.invoice !== undefined) {
    throw badRequest(`Send the invoice once: ${at}.invoiceXml (the XML) or ${at}.invoice (as JSON), not both.`, [
      { path: `${at}.invoice`, message: `must not be sent together with ${at}.invoiceXml` },
    ]);
  }
  if (item.invoice !== undefined) return { draft: item.invoice, field: `${at}.invoice` };
  if (item.invoiceXml === undefined) {
    throw badRequest(`${at}.invoiceXml is required: the FA(3) XML Base64-encoded, or the invoice as JSON in ${at}.invoice.`, [
      { path: `${at}.invoiceXml`, message: 'is required' },
    ]);
  }
  return { xml: invoiceBytes(item.invoiceXml, `${at}.invoiceXml`), field: `${at}.invoiceXml` };
}

/** Why an invoice may not be sent: not valid FA(3), or a seller other than the KSeF context (KSeF would refuse it). */
export type SendCheck =
  | { ok: true; facts: InvoiceFacts }
  | { ok: false; reason: 'invalid'; details: ErrorDetail[] }
  | { ok: false; reason: 'seller'; sellerNip: string; details: ErrorDetail[] };

/**
 * The checks every invoice passes before it is stored for KSeF; `field` names it in the details (an XML path
 * follows it), `sellerField` the seller's NIP (for a built invoice: the draft's field).
 */
export async function checkForSending(
  xml: Buffer,
  environment: KsefEnvironmentName,
  contextNip: string,
  field: string,
  sellerField = `${field}/Faktura/Podmiot1/DaneIdentyfikacyjne/NIP`,
): Promise<SendCheck> {
  const validation = await validateFa3(xml, { environment });
  if (!validation.valid || !validation.invoice || !validation.summary) {
    return { ok: false, reason: 'invalid', details: validation.errors.map((e) => ({ path: `${field}${e.path}`, message: e.message })) };
  }
  if (validation.summary.sellerNip !== contextNip) {
    return { ok: false, reason: 'seller', sellerNip: validation.summary.sellerNip, details: [{ path: sellerField, message: `must be ${contextNip}` }] };
  }
  return { ok: true, facts: { ...validation.summary, sellerName: validation.invoice.seller.name } };
}

/** The seller's NIP field of an input, for `checkForSending`. */
export const sellerField = (input: InvoiceInput): string | undefined => ('draft' in input ? `${input.field}.seller.nip` : undefined);
