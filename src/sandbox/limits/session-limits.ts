import { ContextIdentifier, contextKey } from '../model.js';
import { SandboxState } from '../state.js';

/**
 * The limits of one session (`GET /limits/context`, PROTOCOL.md §11): 1 MB per invoice, 3 MB with an
 * attachment, 10 000 invoices (1 MB = 10^6 B); `POST /testdata/limits/context/session` overrides them for
 * a context and the session checks follow the override.
 */

export interface SessionLimits {
  maxInvoiceSizeInMB: number;
  maxInvoiceWithAttachmentSizeInMB: number;
  maxInvoices: number;
}

export type SessionKind = 'onlineSession' | 'batchSession';

const DEFAULT_SESSION_LIMITS: SessionLimits = { maxInvoiceSizeInMB: 1, maxInvoiceWithAttachmentSizeInMB: 3, maxInvoices: 10_000 };

export const MB = 1_000_000;

export function sessionLimits(state: SandboxState, context: ContextIdentifier, kind: SessionKind): SessionLimits {
  return state.contextSessionLimits.get(contextKey(context))?.[kind] ?? DEFAULT_SESSION_LIMITS;
}
