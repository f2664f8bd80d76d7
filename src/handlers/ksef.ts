import type { OperationHandlers } from '../../generated/operations';
import type { HandlerContext } from '../http/app';
import { notImplemented } from '../http/errors';
import { caller, requireAdmin } from './caller';
import { planned } from './planned';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'getConnection' | 'getOutageSimulation' | 'setOutageSimulation' | 'getCredentials' | 'putCredentials'>;

export const ksefHandlers: Handlers = {
  async getConnection({ params }, ctx) {
    const principal = caller(ctx);
    return { status: 200, body: await ctx.services.ksef.connection(principal.companyId, params.environment, principal.companyNip) };
  },

  getOutageSimulation: planned('Outage simulation', 'offline mode and outage simulation'),
  setOutageSimulation: planned('Outage simulation', 'offline mode and outage simulation'),

  async getCredentials({ params }, ctx) {
    const admin = requireAdmin(ctx);
    return { status: 200, body: await ctx.services.ksef.credentials.summary(admin.companyId, params.environment, admin.companyNip) };
  },

  async putCredentials({ params, body }, ctx) {
    const admin = requireAdmin(ctx);
    if (body.offlineCertificate) throw notImplemented('Storing the offline certificate', 'offline mode and outage simulation');
    const summary = await ctx.services.ksef.putCredentials(admin.companyId, admin.companyNip, params.environment, { ksefToken: body.ksefToken, contextNip: body.contextNip });
    return { status: 200, body: summary };
  },
};
