import { AuthorizedIdentifier, ContextIdentifier, contextKey, contextNip, Permission, PermissionGrant, SubjectIdentifier, TestPerson } from '../model.js';
import { SandboxState } from '../state.js';

/**
 * What a signed-in subject may do in a context (uprawnienia.md). The Owner of a NIP — the NIP itself, or a
 * PESEL bound to it (`POST /testdata/person`) — holds every permission there except VatUeManage, and
 * EnforcementOperations only where KSeF gives it: a context with the role EnforcementAuthority, or a person
 * registered as a bailiff. The sandbox's choice where KSeF is silent: the Owner of a NIP is also Owner in
 * the NIP's InternalId contexts (`NIP-xxxxx`). Anyone else holds what was granted to it in the context:
 * directly (persons, `/testdata/permissions`, subunit and EU administrators, EU representatives), to the
 * entity it acts for (an entity grant to a NIP serves that NIP's Owner), or indirectly by an intermediary —
 * then only as far as the context's own delegable grant to that intermediary reaches.
 */

const OWNER_PERMISSIONS: readonly Permission[] = [
  'InvoiceRead',
  'InvoiceWrite',
  'CredentialsRead',
  'CredentialsManage',
  'SubunitManage',
  'Introspection',
];

/** The test person bound to the NIP, when `subject` is that person's PESEL. */
function boundPerson(state: SandboxState, subject: SubjectIdentifier, nip: string): TestPerson | undefined {
  const person = state.testPersons.get(nip);
  return subject.type === 'Pesel' && person?.pesel === subject.value ? person : undefined;
}

export function isOwner(state: SandboxState, subject: SubjectIdentifier, context: ContextIdentifier): boolean {
  if (context.type !== 'Nip' && context.type !== 'InternalId') return false;
  const nip = contextNip(context)!;
  return (subject.type === 'Nip' && subject.value === nip) || boundPerson(state, subject, nip) !== undefined;
}

/** The Owner's permissions in its context. */
export function ownerPermissions(state: SandboxState, subject: SubjectIdentifier, context: ContextIdentifier): Set<Permission> {
  const nip = contextNip(context)!;
  const enforcement = state.testSubjects.get(nip)?.type === 'EnforcementAuthority' || boundPerson(state, subject, nip)?.isBailiff === true;
  return new Set<Permission>([...OWNER_PERMISSIONS, ...(enforcement ? (['EnforcementOperations'] as const) : [])]);
}

/** Fingerprints compare case-insensitively (PERMISSIONS.md §4.3). */
export function sameIdentifier(a: AuthorizedIdentifier, b: AuthorizedIdentifier): boolean {
  if (a.type !== b.type) return false;
  return a.type === 'Fingerprint' ? a.value.toUpperCase() === b.value.toUpperCase() : a.value === b.value;
}

/** Whether an indirect grant's target covers the context. */
function targets(grant: PermissionGrant, context: ContextIdentifier): boolean {
  const target = grant.target;
  if (!target || target.type === 'AllPartners') return true;
  return target.type === context.type && target.value === context.value;
}

/** The intermediary's delegable grant from the context that an indirect grant rests on. */
function delegated(state: SandboxState, grant: PermissionGrant, context: ContextIdentifier): boolean {
  const intermediary = grant.grantor && contextNip(grant.grantor);
  for (const g of state.grants.values()) {
    if (
      g.kind === 'entity' &&
      g.canDelegate &&
      g.scope === grant.scope &&
      g.authorized.value === intermediary &&
      contextKey(g.context) === contextKey(context)
    ) {
      return true;
    }
  }
  return false;
}

/** Everything `subject` may do in `context` (empty: it may not sign in there, status 415). */
export function permissionsInContext(state: SandboxState, subject: SubjectIdentifier, context: ContextIdentifier): Set<Permission> {
  const permissions = isOwner(state, subject, context) ? ownerPermissions(state, subject, context) : new Set<Permission>();
  const key = contextKey(context);
  for (const grant of state.grants.values()) {
    if (grant.kind === 'authorization') continue;
    const scope = grant.scope as Permission;
    if (grant.kind === 'indirect') {
      if (sameIdentifier(grant.authorized, subject) && targets(grant, context) && delegated(state, grant, context)) permissions.add(scope);
    } else if (contextKey(grant.context) === key) {
      const holds =
        grant.kind === 'entity'
          ? grant.authorized.type === 'Nip' && isOwner(state, subject, { type: 'Nip', value: grant.authorized.value })
          : sameIdentifier(grant.authorized, subject);
      if (holds) permissions.add(scope);
    }
  }
  return permissions;
}

/** A deceased person's credentials end every sign-in with status 470. */
export function isDeceased(state: SandboxState, subject: SubjectIdentifier): boolean {
  if (subject.type !== 'Pesel') return false;
  for (const person of state.testPersons.values()) if (person.pesel === subject.value && person.isDeceased) return true;
  return false;
}
