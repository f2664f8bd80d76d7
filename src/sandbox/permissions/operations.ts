import { AuthOperation, ContextIdentifier, contextKey, contextNip, PermissionGrant, PermissionOperation, StatusInfo, SubjectIdentifier } from '../model.js';
import { SandboxState } from '../state.js';
import { sameIdentifier } from './effective.js';

/**
 * Grants and revocations are asynchronous operations (`EG` reference numbers): 100 when accepted, then —
 * after `processingDelayMs` — 200, or one of the 4xx codes of open-api.json when a rule of uprawnienia.md
 * forbids it. A grant is effective only once its operation reached 200. Granting a permission the
 * identifier already holds the same way changes nothing and succeeds ("may fail or be ignored").
 */

const DESCRIPTIONS: Record<number, string> = {
  100: 'Operacja przyjęta do realizacji',
  200: 'Operacja zakończona sukcesem',
  400: 'Operacja zakończona niepowodzeniem',
  410: 'Podane identyfikatory są niezgodne lub pozostają w niewłaściwej relacji',
  420: 'Użyte poświadczenia nie mają uprawnień do wykonania tej operacji',
  430: 'Kontekst identyfikatora nie odpowiada wymaganej roli lub uprawnieniom',
  440: 'Operacja niedozwolona dla wskazanych powiązań identyfikatorów',
  450: 'Operacja niedozwolona dla wskazanego identyfikatora lub jego typu',
  500: 'Nieznany błąd',
};

export type OperationCode = 400 | 410 | 420 | 430 | 440 | 450;

export const operationStatus = (code: 100 | 200 | OperationCode | 500, detail?: string): StatusInfo => ({
  code,
  description: DESCRIPTIONS[code],
  ...(detail ? { details: [detail] } : {}),
});

/** Why a grant may not be made (settled as that status), or undefined. */
export type Refusal = { code: OperationCode; detail: string } | undefined;

/** Who acts: the signing subject, or for a KSeF token its author. */
export function actingSubject(state: SandboxState, op: AuthOperation): SubjectIdentifier {
  const auth = op.authentication;
  if (auth.kind === 'signature') return auth.subject;
  return state.ksefTokens.get(auth.tokenReference)?.author ?? { type: 'Nip', value: contextNip(op.context)! };
}

/** Registers an accepted operation and settles it in the background with `work`'s status. */
export function submitOperation(state: SandboxState, context: ContextIdentifier, now: Date, work: () => StatusInfo): string {
  const op: PermissionOperation = { referenceNumber: state.newReference('EG', now), context, created: now, status: operationStatus(100) };
  state.permissionOperations.set(op.referenceNumber, op);
  state.defer(state.options.processingDelayMs, () => {
    try {
      op.status = work();
    } catch (err) {
      console.error('[sandbox] permission operation failed', err);
      op.status = operationStatus(500);
    }
  });
  return op.referenceNumber;
}

export type GrantDraft = Omit<PermissionGrant, 'id' | 'startDate'>;

const sameGrant = (a: GrantDraft, b: PermissionGrant) =>
  a.kind === b.kind &&
  a.scope === b.scope &&
  contextKey(a.context) === contextKey(b.context) &&
  sameIdentifier(a.authorized, b.authorized) &&
  (a.target?.type ?? '') === (b.target?.type ?? '') &&
  (a.target?.value ?? '') === (b.target?.value ?? '') &&
  (a.grantor ? contextKey(a.grantor) : '') === (b.grantor ? contextKey(b.grantor) : '');

/** Adds the grants not already held, all with the same start date. */
export function addGrants(state: SandboxState, drafts: GrantDraft[]): PermissionGrant[] {
  const now = state.now();
  const added: PermissionGrant[] = [];
  for (const draft of drafts) {
    if ([...state.grants.values()].some((g) => sameGrant(draft, g))) continue;
    const grant: PermissionGrant = { ...draft, id: state.newPermissionId(), startDate: now };
    state.grants.set(grant.id, grant);
    added.push(grant);
  }
  return added;
}

/** A grant operation: the rule is checked when the operation is processed (grants made meanwhile count). */
export function submitGrant(state: SandboxState, context: ContextIdentifier, now: Date, drafts: GrantDraft[], rule: () => Refusal): string {
  return submitOperation(state, context, now, () => {
    const refusal = rule();
    if (refusal) return operationStatus(refusal.code, refusal.detail);
    addGrants(state, drafts);
    return operationStatus(200);
  });
}

export function submitRevocation(state: SandboxState, context: ContextIdentifier, now: Date, grantId: string): string {
  return submitOperation(state, context, now, () =>
    state.grants.delete(grantId) ? operationStatus(200) : operationStatus(400, `Uprawnienie ${grantId} zostało już odebrane.`),
  );
}
