import type { OperationHandlers } from '../../generated/operations.js';
import { EmailTakenError } from '../accounts/users.js';
import { ApiError, badRequest, conflict, notFound } from '../http/errors.js';
import type { HandlerContext } from '../http/app.js';
import { InvalidConfigValueError } from '../settings/company-settings.js';
import { requireAdmin } from './caller.js';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'getConfigValue' | 'putConfigValue' | 'listUsers' | 'createUser' | 'deleteUser'>;

export const adminHandlers: Handlers = {
  async getConfigValue({ params }, ctx) {
    const admin = requireAdmin(ctx);
    return { status: 200, body: { key: params.key, value: await ctx.services.settings.get(admin.companyId, params.key) } };
  },

  async putConfigValue({ params, body }, ctx) {
    const admin = requireAdmin(ctx);
    try {
      await ctx.services.settings.set(admin.companyId, params.key, body.value);
    } catch (err) {
      if (err instanceof InvalidConfigValueError) throw badRequest(`${params.key}: ${err.message}.`, [{ path: 'body.value', message: err.message }]);
      throw err;
    }
    return { status: 200, body: { key: params.key, value: body.value } };
  },

  async listUsers(_req, ctx) {
    const caller = requireAdmin(ctx);
    return { status: 200, body: { users: await ctx.services.users.list(caller.companyId) } };
  },

  async createUser({ body }, ctx) {
    const caller = requireAdmin(ctx);
    try {
      return { status: 201, body: await ctx.services.users.create(caller.companyId, body) };
    } catch (err) {
      if (err instanceof EmailTakenError) throw conflict(`${err.message}; choose another email.`);
      throw err;
    }
  },

  async deleteUser({ params }, ctx) {
    const caller = requireAdmin(ctx);
    if (params.id === caller.userId) throw new ApiError(409, 'conflict', 'You cannot delete your own account; ask another admin.');
    if (!(await ctx.services.users.delete(caller.companyId, params.id))) throw notFound(`No user ${params.id} in your company.`);
    return { status: 204, body: undefined };
  },
};
