import type { OperationHandlers } from '../../generated/operations.js';
import type { HandlerContext } from '../http/app.js';
import { badRequest } from '../http/errors.js';
import { checkKsefNumber } from '../local/ksef-number.js';
import { RenderInputError } from '../local/render/index.js';
import { invoiceBytes } from './invoice-body.js';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'validateInvoice' | 'renderInvoice'>;

export const localHandlers: Handlers = {
  /** An invalid invoice is a 200 with `valid: false` and the problems; only a bad body is a 400. */
  async validateInvoice({ body }, { services }) {
    return { status: 200, body: await services.documents.validate(invoiceBytes(body.invoiceXml)) };
  },

  async renderInvoice({ body }, { services }) {
    const xml = invoiceBytes(body.invoiceXml);
    if (body.ksefNumber !== undefined) {
      // The pattern in the contract checks the shape; a mistyped digit would still pass it and be printed under the code.
      const check = checkKsefNumber(body.ksefNumber);
      if (!check.valid) throw badRequest(`body.ksefNumber is not a valid KSeF number: ${check.reason}.`, [{ path: 'body.ksefNumber', message: check.reason }]);
    }
    try {
      const doc = await services.documents.render({
        xml,
        docType: body.docType,
        environment: body.environment,
        ksefNumber: body.ksefNumber,
        lang: body.lang,
      });
      return { status: 200, body: { ...doc, content: doc.content.toString('base64') } };
    } catch (e) {
      // Not an FA(3) invoice (or no seller NIP / issue date for KOD I): the client's document, so a 400.
      if (e instanceof RenderInputError) throw badRequest(`The invoice cannot be rendered: ${e.message}.`, [{ path: 'body.invoiceXml', message: e.message }]);
      throw e;
    }
  },
};
