import { badRequest } from '../http/errors';

/**
 * The invoice bytes of `body.invoiceXml`. The contract's `format: byte` has already refused anything
 * that is not Base64, but the empty string is valid Base64 of nothing: refuse it here, naming the field.
 */
export function invoiceBytes(invoiceXml: string): Buffer {
  if (invoiceXml === '') {
    throw badRequest('body.invoiceXml is empty: send the FA(3) invoice XML, Base64-encoded.', [{ path: 'body.invoiceXml', message: 'must not be empty' }]);
  }
  return Buffer.from(invoiceXml, 'base64');
}
