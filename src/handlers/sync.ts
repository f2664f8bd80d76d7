import type { OperationHandlers } from '../../generated/operations.js';
import type { HandlerContext } from '../http/app.js';
import { badRequest, notFound } from '../http/errors.js';
import { caller } from './caller.js';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'listInvoices' | 'runSync' | 'getSyncStatus' | 'putSyncSettings' | 'getInvoiceLinks'>;

export const syncHandlers: Handlers = {
  async listInvoices({ params, query }, ctx) {
    const principal = caller(ctx);
    if (query.dateFrom && query.dateTo && query.dateFrom > query.dateTo) {
      throw badRequest('dateFrom must not be after dateTo.', [{ path: 'query.dateFrom', message: 'must not be after dateTo' }]);
    }
    const page = await ctx.services.ksef.register(principal.companyId, params.environment, {
      direction: query.direction,
      type: query.type,
      status: query.status,
      dateFrom: query.dateFrom,
      dateTo: query.dateTo,
      page: query.page ?? 1,
      pageSize: query.pageSize ?? 50,
    });
    return { status: 200, body: page };
  },

  async runSync({ params }, ctx) {
    const principal = caller(ctx);
    const state = await ctx.services.ksef.sync.start(principal.companyId, principal.companyNip, params.environment, 'requested');
    return { status: 202, body: { environment: params.environment, ...state } };
  },

  async getSyncStatus({ params }, ctx) {
    const principal = caller(ctx);
    const state = await ctx.services.ksef.sync.status(principal.companyId, params.environment);
    return { status: 200, body: { environment: params.environment, ...state } };
  },

  async putSyncSettings({ params, body }, ctx) {
    const principal = caller(ctx);
    const settings = await ctx.services.ksef.sync.putSettings(principal.companyId, params.environment, body);
    return { status: 200, body: { environment: params.environment, ...settings } };
  },

  async getInvoiceLinks({ params }, ctx) {
    const principal = caller(ctx);
    const links = await ctx.services.ksef.links(principal.companyId, params.environment, params.ksefNumber);
    if (!links) throw notFound(`The register holds no invoice with KSeF number ${params.ksefNumber}; run POST /invoices/${params.environment}/sync first.`);
    return { status: 200, body: links };
  },
};
