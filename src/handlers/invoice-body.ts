import type { KsefEnvironmentName } from '../config.js';
import { badRequest, type ErrorDetail } from '../http/errors.js';
import type { InvoiceFacts } from '../ksef-proxy/index.js';
import { validateFa3 } from '../local/fa3/index.js';

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

/** Why an invoice may not be sent: not valid FA(3), or a seller other than the KSeF context (KSeF would refuse it). */
export type SendCheck =
  | { ok: true; facts: InvoiceFacts }
  | { ok: false; reason: 'invalid'; details: ErrorDetail[] }
  | { ok: false; reason: 'seller'; sellerNip: string; details: ErrorDetail[] };

/** The checks every invoice passes before it is stored for KSeF; `field` names it in the details. */
export async function checkForSending(xml: Buffer, environment: KsefEnvironmentName, contextNip: string, field: string): Promise<SendCheck> {
  const validation = await validateFa3(xml, { environment });
  if (!validation.valid || !validation.invoice || !validation.summary) {
    return { ok: false, reason: 'invalid', details: validation.errors.map((e) => ({ path: `${field}${e.path}`, message: e.message })) };
  }
  if (validation.summary.sellerNip !== contextNip) {
    return { ok: false, reason: 'seller', sellerNip: validation.summary.sellerNip, details: [{ path: `${field}/Faktura/Podmiot1/DaneIdentyfikacyjne/NIP`, message: `must be ${contextNip}` }] };
  }
  return { ok: true, facts: { ...validation.summary, sellerName: validation.invoice.seller.name } };
}
