import type { OperationHandlers } from '../../generated/operations.js';
import type { HandlerContext } from '../http/app.js';
import { adminHandlers } from './admin.js';
import { batchHandlers } from './batch.js';
import { invoiceHandlers } from './invoices.js';
import { ksefHandlers } from './ksef.js';
import { localHandlers } from './local.js';
import { offlineHandlers } from './offline.js';
import { syncHandlers } from './sync.js';
import { systemHandlers } from './system.js';
import { webhookHandlers } from './webhooks.js';

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
  ...webhookHandlers,
};
