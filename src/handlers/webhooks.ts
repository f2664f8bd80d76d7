import type { OperationHandlers } from '../../generated/operations.js';
import type { HandlerContext } from '../http/app.js';
import { badRequest, notFound } from '../http/errors.js';
import { InvalidWebhookUrlError } from '../webhooks/index.js';
import { requireAdmin } from './caller.js';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'listWebhooks' | 'createWebhook' | 'deleteWebhook' | 'listWebhookDeliveries'>;

export const webhookHandlers: Handlers = {
  async listWebhooks(_req, ctx) {
    const admin = requireAdmin(ctx);
    return { status: 200, body: { webhooks: await ctx.services.webhooks.subscriptions.list(admin.companyId) } };
  },

  async createWebhook({ body }, ctx) {
    const admin = requireAdmin(ctx);
    try {
      return { status: 201, body: await ctx.services.webhooks.subscriptions.create(admin.companyId, body) };
    } catch (err) {
      if (err instanceof InvalidWebhookUrlError) throw badRequest(`url ${err.message}.`, [{ path: 'body.url', message: err.message }]);
      throw err;
    }
  },

  async deleteWebhook({ params }, ctx) {
    const admin = requireAdmin(ctx);
    if (!(await ctx.services.webhooks.subscriptions.delete(admin.companyId, params.id))) throw notFound(`No webhook subscription ${params.id} in your company.`);
    return { status: 204, body: undefined };
  },

  async listWebhookDeliveries({ params, query }, ctx) {
    const admin = requireAdmin(ctx);
    const deliveries = await ctx.services.webhooks.subscriptions.attempts(admin.companyId, params.id, query.limit ?? 50);
    if (!deliveries) throw notFound(`No webhook subscription ${params.id} in your company.`);
    return { status: 200, body: { deliveries } };
  },
};
