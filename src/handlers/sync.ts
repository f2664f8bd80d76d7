import type { OperationHandlers } from '../../generated/operations';
import type { HandlerContext } from '../http/app';
import { planned } from './planned';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'listInvoices' | 'runSync' | 'getSyncStatus' | 'getInvoiceLinks'>;

const sync = 'incremental sync and invoice relations';

export const syncHandlers: Handlers = {
  listInvoices: planned('The invoice register', sync),
  runSync: planned('The incremental sync from KSeF', sync),
  getSyncStatus: planned('The sync state', sync),
  getInvoiceLinks: planned('Advance and correction links', sync),
};
