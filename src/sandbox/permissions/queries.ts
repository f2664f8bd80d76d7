import { AuthorizedIdentifier, ContextIdentifier, contextKey, contextNip, PermissionGrant, SubjectIdentifier, TargetIdentifier } from '../model.js';
import { SandboxState } from '../state.js';
import { ksefDateTime } from '../util/time.js';
import { isOwner, sameIdentifier } from './effective.js';

/**
 * The `/permissions/query/*` answers: which grants each query shows (uprawnienia.md, PERMISSIONS.md §2.2),
 * their filters, their JSON, and paging (startDate newest first, then id; `pageOffset` is a page index).
 */

export interface Page {
  pageOffset: number;
  pageSize: number;
}

export function paged<T extends { startDate: Date; id?: string }>(items: T[], page: Page): { items: T[]; hasMore: boolean } {
  const sorted = [...items].sort((a, b) => b.startDate.getTime() - a.startDate.getTime() || (a.id ?? '').localeCompare(b.id ?? ''));
  const start = page.pageOffset * page.pageSize;
  return { items: sorted.slice(start, start + page.pageSize), hasMore: sorted.length > start + page.pageSize };
}

const sameContext = (a: ContextIdentifier | undefined, b: ContextIdentifier) => a !== undefined && contextKey(a) === contextKey(b);

/** The identifier as the queries show it (Nip/InternalId contexts only; others have no slot there). */
const contextJson = (c: ContextIdentifier | undefined) => (c && (c.type === 'Nip' || c.type === 'InternalId') ? { type: c.type, value: c.value } : null);
const targetJson = (t: TargetIdentifier | undefined) => (t ? { type: t.type, value: t.value ?? null } : null);
const authorJson = (g: PermissionGrant) => ({ type: g.author.type, value: g.author.value ?? null });
const personJson = (g: PermissionGrant) => g.person ?? null;
const entityJson = (g: PermissionGrant) => g.entity ?? null;

export interface GrantFilters {
  context?: ContextIdentifier;
  target?: TargetIdentifier;
  author?: { type: string; value?: string };
  authorized?: AuthorizedIdentifier;
  scopes?: readonly string[];
  /** Every grant the sandbox keeps is Active; asking for Inactive ones finds none. */
  state?: 'Active' | 'Inactive';
}

export function matches(g: PermissionGrant, f: GrantFilters): boolean {
  if (f.state === 'Inactive') return false;
  if (f.context && !sameContext(g.context, f.context)) return false;
  if (f.target && (g.target?.type !== f.target.type || (f.target.value !== undefined && g.target?.value !== f.target.value))) return false;
  if (f.author && (g.author.type !== f.author.type || (f.author.value !== undefined && g.author.value !== f.author.value))) return false;
  if (f.authorized && !sameIdentifier(g.authorized, f.authorized)) return false;
  if (f.scopes?.length && !f.scopes.includes(g.scope)) return false;
  return true;
}

const grants = (state: SandboxState) => [...state.grants.values()];

/** POST /permissions/query/personal/grants: what the subject itself holds, anywhere. */
export function personalGrants(state: SandboxState, subject: SubjectIdentifier, filters: GrantFilters) {
  return grants(state)
    .filter((g) => g.kind !== 'authorization')
    .filter((g) =>
      g.kind === 'entity' ? g.authorized.type === 'Nip' && isOwner(state, subject, { type: 'Nip', value: g.authorized.value }) : sameIdentifier(g.authorized, subject),
    )
    .filter((g) => matches(g, filters))
    .map((g) => ({
      item: {
        id: g.id,
        contextIdentifier: contextJson(g.context),
        authorizedIdentifier: sameIdentifier(g.authorized, subject) ? null : { type: g.authorized.type, value: g.authorized.value },
        targetIdentifier: targetJson(g.target),
        permissionScope: g.scope,
        description: g.description,
        subjectPersonDetails: personJson(g),
        subjectEntityDetails: entityJson(g),
        permissionState: 'Active',
        startDate: ksefDateTime(g.startDate),
        canDelegate: g.canDelegate,
      },
      startDate: g.startDate,
      id: g.id,
    }));
}

const PERSON_KINDS = new Set(['person', 'testdata', 'subunit', 'indirect']);

/** POST /permissions/query/persons/grants. */
export function personGrants(state: SandboxState, context: ContextIdentifier, queryType: 'PermissionsInCurrentContext' | 'PermissionsGrantedInCurrentContext', filters: GrantFilters) {
  return grants(state)
    .filter((g) => PERSON_KINDS.has(g.kind))
    .filter((g) =>
      queryType === 'PermissionsGrantedInCurrentContext'
        ? g.kind !== 'testdata' && sameContext(g.grantor, context)
        : g.kind === 'indirect'
          ? sameContext(g.grantor, context) || g.target?.type === 'AllPartners' || (g.target?.type === context.type && g.target.value === context.value)
          : sameContext(g.context, context),
    )
    .filter((g) => matches(g, filters))
    .map((g) => ({
      item: {
        id: g.id,
        authorizedIdentifier: { type: g.authorized.type, value: g.authorized.value },
        contextIdentifier: contextJson(g.context),
        targetIdentifier: targetJson(g.target),
        authorIdentifier: authorJson(g),
        permissionScope: g.scope,
        description: g.description,
        subjectPersonDetails: personJson(g),
        subjectEntityDetails: entityJson(g),
        permissionState: 'Active',
        startDate: ksefDateTime(g.startDate),
        canDelegate: g.canDelegate,
      },
      startDate: g.startDate,
      id: g.id,
    }));
}

/** POST /permissions/query/subunits/grants: the subunit administrators this context appointed. */
export function subunitGrants(state: SandboxState, context: ContextIdentifier, subunit: ContextIdentifier | undefined) {
  return grants(state)
    .filter((g) => g.kind === 'subunit' && sameContext(g.grantor, context) && (!subunit || sameContext(g.context, subunit)))
    .map((g) => ({
      item: {
        id: g.id,
        authorizedIdentifier: { type: g.authorized.type, value: g.authorized.value },
        subunitIdentifier: { type: g.context.type, value: g.context.value },
        authorIdentifier: authorJson(g),
        permissionScope: 'CredentialsManage',
        description: g.description,
        subjectPersonDetails: personJson(g),
        subunitName: g.subunitName ?? null,
        startDate: ksefDateTime(g.startDate),
      },
      startDate: g.startDate,
      id: g.id,
    }));
}

/** POST /permissions/query/entities/grants: invoice permissions other contexts gave this context's NIP. */
export function entityGrants(state: SandboxState, context: ContextIdentifier, grantor: ContextIdentifier | undefined) {
  const nip = contextNip(context);
  return grants(state)
    .filter((g) => g.kind === 'entity' && g.authorized.value === nip && (!grantor || sameContext(g.context, grantor)))
    .map((g) => ({
      item: {
        id: g.id,
        contextIdentifier: { type: g.context.type, value: g.context.value },
        permissionScope: g.scope,
        description: g.description,
        startDate: ksefDateTime(g.startDate),
        canDelegate: g.canDelegate,
      },
      startDate: g.startDate,
      id: g.id,
    }));
}

/** POST /permissions/query/authorizations/grants. */
export function authorizationGrants(
  state: SandboxState,
  context: ContextIdentifier,
  query: { type: 'Granted' | 'Received'; authorizing?: string; authorized?: AuthorizedIdentifier; scopes?: readonly string[] },
) {
  const own: AuthorizedIdentifier = context.type === 'PeppolId' ? { type: 'PeppolId', value: context.value } : { type: 'Nip', value: contextNip(context) ?? '' };
  return grants(state)
    .filter((g) => g.kind === 'authorization')
    .filter((g) =>
      query.type === 'Granted'
        ? sameContext(g.context, context) && (!query.authorized || sameIdentifier(g.authorized, query.authorized))
        : sameIdentifier(g.authorized, own) && (!query.authorizing || g.context.value === query.authorizing),
    )
    .filter((g) => !query.scopes?.length || query.scopes.includes(g.scope))
    .map((g) => ({
      item: {
        id: g.id,
        authorIdentifier: g.author.type === 'System' ? null : { type: g.author.type, value: g.author.value },
        authorizedEntityIdentifier: { type: g.authorized.type, value: g.authorized.value },
        authorizingEntityIdentifier: { type: 'Nip', value: g.context.value },
        authorizationScope: g.scope,
        description: g.description,
        subjectEntityDetails: g.entity ? { subjectDetailsType: 'EntityByIdentifier', fullName: g.entity.fullName } : null,
        startDate: ksefDateTime(g.startDate),
      },
      startDate: g.startDate,
      id: g.id,
    }));
}

/**
 * POST /permissions/query/eu-entities/grants: a NIP context sees the EU administrators it appointed; a
 * `NipVatUe` context all its administrators and representatives.
 */
export function euEntityGrants(
  state: SandboxState,
  context: ContextIdentifier,
  query: { vatUe?: string; fingerprint?: string; scopes?: readonly string[] },
) {
  return grants(state)
    .filter((g) => g.kind === 'euAdministrator' || g.kind === 'euRepresentative')
    .filter((g) => (context.type === 'NipVatUe' ? sameContext(g.context, context) : g.kind === 'euAdministrator' && sameContext(g.grantor, context)))
    .filter((g) => !query.vatUe || g.context.value.slice(g.context.value.indexOf('-') + 1) === query.vatUe)
    .filter((g) => !query.fingerprint || g.authorized.value.includes(query.fingerprint.toUpperCase()))
    .filter((g) => !query.scopes?.length || query.scopes.includes(g.scope))
    .map((g) => ({
      item: {
        id: g.id,
        authorIdentifier: authorJson(g),
        vatUeIdentifier: g.context.value.slice(g.context.value.indexOf('-') + 1),
        euEntityName: g.euEntityName ?? '',
        authorizedFingerprintIdentifier: g.authorized.value,
        permissionScope: g.scope,
        description: g.description,
        subjectPersonDetails: personJson(g),
        subjectEntityDetails: entityJson(g),
        euEntityDetails: g.euEntityDetails ?? null,
        startDate: ksefDateTime(g.startDate),
      },
      startDate: g.startDate,
      id: g.id,
    }));
}

const SUBJECT_ROLE = { EnforcementAuthority: 'EnforcementAuthority', VatGroup: 'VatGroupUnit', JST: 'LocalGovernmentUnit' } as const;
const SUBUNIT_ROLE = { VatGroup: 'VatGroupSubUnit', JST: 'LocalGovernmentSubUnit' } as const;

/** GET /permissions/query/entities/roles: the roles test data gave the context's NIP. */
export function entityRoles(state: SandboxState, context: ContextIdentifier) {
  const nip = contextNip(context);
  const roles: Array<{ item: Record<string, unknown>; startDate: Date }> = [];
  const own = nip ? state.testSubjects.get(nip) : undefined;
  if (own) roles.push({ item: { parentEntityIdentifier: null, role: SUBJECT_ROLE[own.type], description: own.description, startDate: ksefDateTime(own.createdDate) }, startDate: own.createdDate });
  for (const parent of state.testSubjects.values()) {
    if (parent.type === 'EnforcementAuthority') continue;
    const member = parent.subunits.find((s) => s.nip === nip);
    if (member) {
      roles.push({
        item: { parentEntityIdentifier: { type: 'Nip', value: parent.nip }, role: SUBUNIT_ROLE[parent.type], description: member.description, startDate: ksefDateTime(parent.createdDate) },
        startDate: parent.createdDate,
      });
    }
  }
  const bailiff = nip ? state.testPersons.get(nip) : undefined;
  if (bailiff?.isBailiff) {
    roles.push({ item: { parentEntityIdentifier: null, role: 'CourtBailiff', description: bailiff.description, startDate: ksefDateTime(bailiff.createdDate) }, startDate: bailiff.createdDate });
  }
  return roles;
}

/** POST /permissions/query/subordinate-entities/roles: the members of the context's VAT group or local government unit. */
export function subordinateRoles(state: SandboxState, context: ContextIdentifier, subordinate: string | undefined) {
  const nip = contextNip(context);
  const parent = nip ? state.testSubjects.get(nip) : undefined;
  if (!parent || parent.type === 'EnforcementAuthority') return [];
  const role = SUBUNIT_ROLE[parent.type];
  return parent.subunits
    .filter((s) => !subordinate || s.nip === subordinate)
    .map((s) => ({
      item: { subordinateEntityIdentifier: { type: 'Nip', value: s.nip }, role, description: s.description, startDate: ksefDateTime(parent.createdDate) },
      startDate: parent.createdDate,
    }));
}
