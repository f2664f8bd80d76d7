import type { OperationHandlers } from '../../generated/operations.js';
import type { HandlerContext } from '../http/app.js';
import { badRequest, notFound } from '../http/errors.js';
import type { BulkInvoice, BulkRejection } from '../ksef-proxy/index.js';
import { DraftError, buildFa3 } from '../local/fa3-builder/index.js';
import { caller } from './caller.js';
import { checkForSending, draftDetails, invoiceInput, sellerField } from './invoice-body.js';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'sendInvoiceBatch' | 'getInvoiceBatch'>;

/** Validation (and building) is mostly synchronous work: the event loop gets a turn after this many invoices. */
const YIELD_EVERY = 100;

export const batchHandlers: Handlers = {
  async sendInvoiceBatch({ params, body }, ctx) {
    const principal = caller(ctx);
    const { environment } = params;
    const { ksef } = ctx.services;
    // Malformed input refuses the whole request before anything is stored (both or neither of invoiceXml and
    // invoice, an empty invoiceXml); invalid invoices, and drafts the builder refuses, are rejected one by one.
    const inputs = body.invoices.map((item, index) => invoiceInput(item, `body.invoices[${index}]`));
    const contextNip = await ksef.contextNip(principal.companyId, principal.companyNip, environment);
    const accepted: BulkInvoice[] = [];
    const rejected: BulkRejection[] = [];
    for (const [index, input] of inputs.entries()) {
      if (index > 0 && index % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
      let xml: Buffer;
      if ('xml' in input) xml = input.xml;
      else {
        try {
          xml = (await buildFa3(input.draft, { environment })).xml;
        } catch (e) {
          if (!(e instanceof DraftError)) throw e;
          rejected.push({ index, errors: draftDetails(e, input.field) });
          continue;
        }
      }
      const check = await checkForSending(xml, environment, contextNip, input.field, sellerField(input));
      if (check.ok) accepted.push({ index, xml, facts: check.facts });
      else rejected.push({ index, errors: check.details });
    }
    if (accepted.length === 0) {
      throw badRequest(`None of the ${inputs.length} invoices is valid; nothing was stored or sent.`, rejected.flatMap((r) => r.errors).slice(0, 100));
    }
    const result = await ksef.submitBulk(principal.companyId, environment, inputs.length, accepted, rejected);
    return { status: 202, body: { ...result, status: 'processing' as const } };
  },

  async getInvoiceBatch({ params, query }, ctx) {
    const principal = caller(ctx);
    const { environment, batchId } = params;
    const progress = await ctx.services.ksef.bulkProgress(principal.companyId, environment, batchId, query.page ?? 1, query.pageSize ?? 100);
    if (!progress) throw notFound(`No bulk batch ${batchId} in ${environment}.`);
    return { status: 200, body: progress };
  },
};
