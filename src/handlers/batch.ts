import type { OperationHandlers } from '../../generated/operations.js';
import type { HandlerContext } from '../http/app.js';
import { badRequest, notFound } from '../http/errors.js';
import type { BulkInvoice, BulkRejection } from '../ksef-proxy/index.js';
import { caller } from './caller.js';
import { checkForSending, invoiceBytes } from './invoice-body.js';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'sendInvoiceBatch' | 'getInvoiceBatch'>;

/** Validation is synchronous work: the event loop gets a turn after this many invoices. */
const YIELD_EVERY = 100;

export const batchHandlers: Handlers = {
  async sendInvoiceBatch({ params, body }, ctx) {
    const principal = caller(ctx);
    const { environment } = params;
    const { ksef } = ctx.services;
    const field = (i: number) => `body.invoices[${i}].invoiceXml`;
    // Malformed input refuses the whole request before anything is stored (invoiceBytes throws on an empty
    // field); invalid invoices are rejected one by one.
    const files = body.invoices.map((item, index) => invoiceBytes(item.invoiceXml, field(index)));
    const contextNip = await ksef.contextNip(principal.companyId, principal.companyNip, environment);
    const accepted: BulkInvoice[] = [];
    const rejected: BulkRejection[] = [];
    for (const [index, xml] of files.entries()) {
      if (index > 0 && index % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
      const check = await checkForSending(xml, environment, contextNip, field(index));
      if (check.ok) accepted.push({ index, xml, facts: check.facts });
      else rejected.push({ index, errors: check.details });
    }
    if (accepted.length === 0) {
      throw badRequest(`None of the ${files.length} invoices is valid; nothing was stored or sent.`, rejected.flatMap((r) => r.errors).slice(0, 100));
    }
    const result = await ksef.submitBulk(principal.companyId, environment, files.length, accepted, rejected);
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
