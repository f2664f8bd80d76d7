import { ContextIdentifier, contextNip, Permission, SubjectIdentifier, TestPerson } from '../model.js';
import { SandboxState } from '../state.js';

/**
 * What a signed-in subject may do in a context (uprawnienia.md). The Owner of a NIP — the NIP itself, or a
 * PESEL bound to it (`POST /testdata/person`) — holds every permission there except VatUeManage, and
 * EnforcementOperations only where KSeF gives it: a context with the role EnforcementAuthority, or a person
 * registered as a bailiff. The sandbox's choice where KSeF is silent: the Owner of a NIP is also Owner in
 * the NIP's InternalId contexts (`NIP-xxxxx`).
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

/** Everything `subject` may do in `context` (empty: it may not sign in there, status 415). */
export function permissionsInContext(state: SandboxState, subject: SubjectIdentifier, context: ContextIdentifier): Set<Permission> {
  return isOwner(state, subject, context) ? ownerPermissions(state, subject, context) : new Set();
}

/** A deceased person's credentials end every sign-in with status 470. */
export function isDeceased(state: SandboxState, subject: SubjectIdentifier): boolean {
  if (subject.type !== 'Pesel') return false;
  for (const person of state.testPersons.values()) if (person.pesel === subject.value && person.isDeceased) return true;
  return false;
}
