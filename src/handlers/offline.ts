import type { OperationHandlers } from '../../generated/operations';
import type { HandlerContext } from '../http/app';
import { planned } from './planned';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'listOfflineInvoices' | 'getOfflineInvoiceDocument' | 'sendOfflineBatch' | 'resendOfflineInvoice'>;

const offlineMode = 'offline mode and outage simulation';

export const offlineHandlers: Handlers = {
  listOfflineInvoices: planned('The offline queue', offlineMode),
  getOfflineInvoiceDocument: planned('Offline invoice documents', offlineMode),
  sendOfflineBatch: planned('Sending the offline queue in a KSeF batch session', offlineMode),
  resendOfflineInvoice: planned('Technical corrections of offline invoices', offlineMode),
};
