import type { OperationHandlers } from '../../generated/operations.js';
import type { HandlerContext } from '../http/app.js';
import { badRequest } from '../http/errors.js';
import { KsefTokenContextError, OfflineCertificateError } from '../ksef-proxy/index.js';
import { caller, requireAdmin } from './caller.js';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'getConnection' | 'getOutageSimulation' | 'setOutageSimulation' | 'getCredentials' | 'putCredentials'>;

export const ksefHandlers: Handlers = {
  async getConnection({ params }, ctx) {
    const principal = caller(ctx);
    return { status: 200, body: await ctx.services.ksef.connection(principal.companyId, params.environment, principal.companyNip) };
  },

  async getOutageSimulation({ params }, ctx) {
    const principal = caller(ctx);
    return { status: 200, body: await ctx.services.ksef.simulation(principal.companyId, params.environment) };
  },

  async setOutageSimulation({ params, body }, ctx) {
    const admin = requireAdmin(ctx);
    return { status: 200, body: await ctx.services.ksef.setSimulation(admin.companyId, params.environment, body.active, body.offlineMode) };
  },

  async getCredentials({ params }, ctx) {
    const admin = requireAdmin(ctx);
    return { status: 200, body: await ctx.services.ksef.credentials.summary(admin.companyId, params.environment, admin.companyNip) };
  },

  async putCredentials({ params, body }, ctx) {
    const admin = requireAdmin(ctx);
    try {
      const summary = await ctx.services.ksef.putCredentials(admin.companyId, admin.companyNip, params.environment, {
        ksefToken: body.ksefToken,
        contextNip: body.contextNip,
        offlineCertificate: body.offlineCertificate,
      });
      return { status: 200, body: summary };
    } catch (err) {
      if (err instanceof KsefTokenContextError) throw badRequest(`body.${err.field}: ${err.message}. Nothing was stored.`, [{ path: `body.${err.field}`, message: err.message }]);
      if (!(err instanceof OfflineCertificateError)) throw err;
      const path = `body.offlineCertificate.${err.field}`;
      throw badRequest(`${path} ${err.message}. Nothing was stored.`, [{ path, message: err.message }]);
    }
  },
};
