import type { OperationHandlers } from '../../generated/operations';
import type { HandlerContext } from '../http/app';
import { adminHandlers } from './admin';
import { batchHandlers } from './batch';
import { invoiceHandlers } from './invoices';
import { ksefHandlers } from './ksef';
import { localHandlers } from './local';
import { offlineHandlers } from './offline';
import { syncHandlers } from './sync';
import { systemHandlers } from './system';

/** operationId → handler. The type makes a missing or mistyped handler a compile error. */
export const handlers: OperationHandlers<HandlerContext> = {
  ...systemHandlers,
  ...invoiceHandlers,
  ...batchHandlers,
  ...offlineHandlers,
  ...syncHandlers,
  ...localHandlers,
  ...ksefHandlers,
  ...adminHandlers,
};
