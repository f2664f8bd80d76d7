import { SandboxState } from '../state.js';
import { ksefDateTime } from '../util/time.js';

/**
 * Consent to invoices with attachments (`Zalacznik`), filed outside the API and simulated by
 * `POST /testdata/attachment[/revoke]`; `GET /permissions/attachments/status` reports it. A revocation
 * with `expectedEndDate` takes effect when that day begins (Warsaw time); without one, at once.
 */

export function attachmentsAllowed(state: SandboxState, nip: string, now: Date): { isAttachmentAllowed: boolean; revokedDate: string | null } {
  const consent = state.attachmentConsents.get(nip);
  const allowed = consent !== undefined && (consent.revokedDate === undefined || now.getTime() < consent.revokedDate.getTime());
  return { isAttachmentAllowed: allowed, revokedDate: consent?.revokedDate ? ksefDateTime(consent.revokedDate) : null };
}

export const mayAttach = (state: SandboxState, nip: string, now: Date) => attachmentsAllowed(state, nip, now).isAttachmentAllowed;
