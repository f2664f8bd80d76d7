import type { OperationHandlers } from '../../generated/operations';
import type { HandlerContext } from '../http/app';
import { planned } from './planned';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'sendInvoice' | 'getInvoiceDocument' | 'getSessionStatus' | 'getInvoiceUpo'>;

const onlineSending = 'online sending through ksef-proxy';

export const invoiceHandlers: Handlers = {
  sendInvoice: planned('Sending invoices to KSeF', onlineSending),
  getInvoiceDocument: planned('Downloading invoices from KSeF', onlineSending),
  getSessionStatus: planned('KSeF session status', onlineSending),
  getInvoiceUpo: planned('UPO download', onlineSending),
};
