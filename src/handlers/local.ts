import type { OperationHandlers } from '../../generated/operations';
import type { HandlerContext } from '../http/app';
import { planned } from './planned';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'validateInvoice' | 'renderInvoice'>;

const localLogic = 'local FA(3) validation, PDF and QR rendering';

export const localHandlers: Handlers = {
  validateInvoice: planned('Local FA(3) validation', localLogic),
  renderInvoice: planned('Local rendering (PDF, HTML, QR)', localLogic),
};
