import type { OperationHandlers } from '../../generated/operations.js';
import type { HandlerContext } from '../http/app.js';
import { badRequest, notFound } from '../http/errors.js';
import { InvalidWebhookUrlError } from '../webhooks/index.js';
import { requireAdmin } from './caller.js';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'listWebhooks' | 'createWebhook' | 'updateWebhook' | 'rotateWebhookSecret' | 'deleteWebhook' | 'listWebhookDeliveries'>;

/** The replaced secret signs this long after a rotation unless the request says otherwise (spec: RotateWebhookSecretRequest). */
const PREVIOUS_SECRET_DEFAULT_SECONDS = 86_400;

const noSuchWebhook = (id: string) => notFound(`No webhook subscription ${id} in your company.`);

/** A URL the subscription cannot have is the client's mistake, named by its field. */
async function checkingUrl<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof InvalidWebhookUrlError) throw badRequest(`url ${err.message}.`, [{ path: 'body.url', message: err.message }]);
    throw err;
  }
}

export const webhookHandlers: Handlers = {
  async listWebhooks(_req, ctx) {
    const admin = requireAdmin(ctx);
    return { status: 200, body: { webhooks: await ctx.services.webhooks.subscriptions.list(admin.companyId) } };
  },

  async createWebhook({ body }, ctx) {
    const admin = requireAdmin(ctx);
    return { status: 201, body: await checkingUrl(() => ctx.services.webhooks.subscriptions.create(admin.companyId, body)) };
  },

  async updateWebhook({ params, body }, ctx) {
    const admin = requireAdmin(ctx);
    const updated = await checkingUrl(() => ctx.services.webhooks.subscriptions.update(admin.companyId, params.id, body));
    if (!updated) throw noSuchWebhook(params.id);
    return { status: 200, body: updated };
  },

  async rotateWebhookSecret({ params, body }, ctx) {
    const admin = requireAdmin(ctx);
    const validFor = body?.previousSecretValidForSeconds ?? PREVIOUS_SECRET_DEFAULT_SECONDS;
    const rotated = await ctx.services.webhooks.subscriptions.rotateSecret(admin.companyId, params.id, validFor);
    if (!rotated) throw noSuchWebhook(params.id);
    return { status: 200, body: rotated };
  },

  async deleteWebhook({ params }, ctx) {
    const admin = requireAdmin(ctx);
    if (!(await ctx.services.webhooks.subscriptions.delete(admin.companyId, params.id))) throw noSuchWebhook(params.id);
    return { status: 204, body: undefined };
  },

  async listWebhookDeliveries({ params, query }, ctx) {
    const admin = requireAdmin(ctx);
    const deliveries = await ctx.services.webhooks.subscriptions.attempts(admin.companyId, params.id, query.limit ?? 50);
    if (!deliveries) throw noSuchWebhook(params.id);
    return { status: 200, body: { deliveries } };
  },
};
