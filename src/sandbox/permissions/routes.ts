import { Router } from 'express';
import { AuthorizedCall, protectedBy, query, requireAnyPermission } from '../http/endpoint.js';
import { gone, ksef } from '../http/errors.js';
import { AUTHORIZATION_SCOPES, AuthorizedIdentifier, ContextIdentifier, contextKey, contextNip, Permission, PermissionGrant } from '../model.js';
import { SandboxState } from '../state.js';
import { REFERENCE_NUMBER } from '../util/ids.js';
import { BodyReader } from '../util/validate.js';
import { attachmentsAllowed } from '../limits/attachments.js';
import { actingSubject, GrantDraft, Refusal, submitGrant, submitRevocation } from './operations.js';
import {
  authorizationGrants,
  entityGrants,
  entityRoles,
  euEntityGrants,
  GrantFilters,
  paged,
  personalGrants,
  personGrants,
  subordinateRoles,
  subunitGrants,
} from './queries.js';
import { checkInternalId, INVOICE_PERMISSIONS, PERSON_PERMISSIONS, readDescription, readEntityName, readIdentifier, readSubjectDetails } from './requests.js';

/**
 * `/permissions/*` (uprawnienia.md): grants and revocations as asynchronous operations, their status, the
 * queries, and the attachment consent status. Each route requires the any-of permissions of its
 * `x-required-permissions` (403 missing-permissions otherwise) and falls in rate group `other`.
 */

const PERSON_DETAILS = ['PersonByIdentifier', 'PersonByFingerprintWithIdentifier', 'PersonByFingerprintWithoutIdentifier'] as const;
const EU_DETAILS = ['PersonByFingerprintWithIdentifier', 'PersonByFingerprintWithoutIdentifier', 'EntityByFingerprint'] as const;
const EU_ADMINISTRATOR_PERMISSIONS: readonly Permission[] = ['VatUeManage', 'InvoiceWrite', 'InvoiceRead', 'Introspection'];
const OPERATION_RETENTION_MS = 30 * 24 * 3_600_000;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The role gating EnforcementOperations: an EnforcementAuthority (test subject) or a court bailiff (test person). */
function hasEnforcementRole(state: SandboxState, context: ContextIdentifier): boolean {
  const nip = contextNip(context);
  return nip !== undefined && (state.testSubjects.get(nip)?.type === 'EnforcementAuthority' || state.testPersons.get(nip)?.isBailiff === true);
}

const refuse = (code: NonNullable<Refusal>['code'], detail: string): Refusal => ({ code, detail });

const pageOf = (call: AuthorizedCall) => ({
  pageOffset: query.int(call.req, 'pageOffset', { min: 0, max: 1_000_000, fallback: 0 }),
  pageSize: query.int(call.req, 'pageSize', { min: 10, max: 100, fallback: 10 }),
});

/** The filters of the personal query, and with `byAuthor` those of the persons query (which knows no VatUeManage). */
const grantFilters = (r: BodyReader, byAuthor: boolean): GrantFilters => ({
  author: byAuthor ? readIdentifier(r, 'authorIdentifier', ['Nip', 'Pesel', 'Fingerprint', 'System'] as const) : undefined,
  authorized: byAuthor ? (readIdentifier(r, 'authorizedIdentifier', ['Nip', 'Pesel', 'Fingerprint'] as const) as AuthorizedIdentifier | undefined) : undefined,
  context: readIdentifier(r, 'contextIdentifier', ['Nip', 'InternalId'] as const) as ContextIdentifier | undefined,
  target: readIdentifier(r, 'targetIdentifier', ['Nip', 'AllPartners', 'InternalId'] as const),
  scopes: r.enumArray('permissionTypes', byAuthor ? PERSON_PERMISSIONS : ([...PERSON_PERMISSIONS, 'VatUeManage'] as const)),
  state: r.enumOf('permissionState', ['Active', 'Inactive'] as const),
});

export function permissionRoutes(state: SandboxState): Router {
  const router = Router();
  const authorized = (permissions: readonly Permission[] | undefined, handler: (call: AuthorizedCall) => unknown) =>
    protectedBy(state, 'access', { group: 'other', permissions }, handler);
  const accepted = (call: AuthorizedCall, drafts: GrantDraft[], rule: () => Refusal = () => undefined) =>
    call.res.status(202).json({ referenceNumber: submitGrant(state, call.caller.context, call.now, drafts, rule) });
  const common = (call: AuthorizedCall) => ({
    grantor: call.caller.context,
    author: actingSubject(state, call.caller.op),
    canDelegate: false,
  });

  router.post(
    '/permissions/persons/grants',
    authorized(['CredentialsManage'], (call) => {
      const r = BodyReader.of(call.req.body);
      const subject = readIdentifier(r, 'subjectIdentifier', ['Nip', 'Pesel', 'Fingerprint'] as const, { required: true });
      const permissions = r.enumArray('permissions', PERSON_PERMISSIONS, { required: true, min: 1, unique: true });
      const description = readDescription(r);
      const { person } = readSubjectDetails(r, PERSON_DETAILS, subject);
      r.done();
      const drafts = permissions!.map((scope): GrantDraft => ({
        ...common(call),
        kind: 'person',
        context: call.caller.context,
        authorized: subject as AuthorizedIdentifier,
        scope,
        description: description!,
        person,
      }));
      accepted(call, drafts, () =>
        permissions!.includes('EnforcementOperations') && !hasEnforcementRole(state, call.caller.context)
          ? refuse(430, 'Uprawnienie EnforcementOperations wymaga roli EnforcementAuthority lub CourtBailiff kontekstu.')
          : undefined,
      );
    }),
  );

  router.post(
    '/permissions/entities/grants',
    authorized(['CredentialsManage'], (call) => {
      const r = BodyReader.of(call.req.body);
      const subject = readIdentifier(r, 'subjectIdentifier', ['Nip'] as const, { required: true });
      const items = r.objects('permissions', { required: true, min: 1 });
      const permissions = (items ?? []).map((p) => ({ type: p.enumOf('type', INVOICE_PERMISSIONS, { required: true }), canDelegate: p.bool('canDelegate') ?? false }));
      if (new Set(permissions.map((p) => p.type)).size !== permissions.length) r.fail('permissions', 'must not repeat values');
      const description = readDescription(r);
      const entity = readEntityName(r);
      r.done();
      const drafts = permissions.map((p): GrantDraft => ({
        ...common(call),
        kind: 'entity',
        context: call.caller.context,
        authorized: subject as AuthorizedIdentifier,
        scope: p.type!,
        canDelegate: p.canDelegate,
        description: description!,
        entity,
      }));
      accepted(call, drafts, () =>
        subject!.value === contextNip(call.caller.context) ? refuse(440, 'Podmiot kontekstu nie może nadać uprawnień samemu sobie.') : undefined,
      );
    }),
  );

  router.post(
    '/permissions/authorizations/grants',
    authorized(['CredentialsManage'], (call) => {
      const r = BodyReader.of(call.req.body);
      const subject = readIdentifier(r, 'subjectIdentifier', ['Nip', 'PeppolId'] as const, { required: true });
      const permission = r.enumOf('permission', AUTHORIZATION_SCOPES, { required: true });
      const description = readDescription(r);
      const entity = readEntityName(r);
      r.done();
      const draft: GrantDraft = {
        ...common(call),
        kind: 'authorization',
        context: call.caller.context,
        authorized: subject as AuthorizedIdentifier,
        scope: permission!,
        description: description!,
        entity,
      };
      accepted(call, [draft], () =>
        subject!.value === contextNip(call.caller.context) ? refuse(440, 'Podmiot kontekstu nie może upoważnić samego siebie.') : undefined,
      );
    }),
  );

  router.post(
    '/permissions/indirect/grants',
    authorized(['CredentialsManage'], (call) => {
      const r = BodyReader.of(call.req.body);
      const subject = readIdentifier(r, 'subjectIdentifier', ['Nip', 'Pesel', 'Fingerprint'] as const, { required: true });
      const target = readIdentifier(r, 'targetIdentifier', ['Nip', 'AllPartners', 'InternalId'] as const);
      checkInternalId(r, 'targetIdentifier', target);
      const permissions = r.enumArray('permissions', INVOICE_PERMISSIONS, { required: true, min: 1, unique: true });
      const description = readDescription(r);
      const { person } = readSubjectDetails(r, PERSON_DETAILS, subject);
      r.done();
      const intermediary = call.caller.context;
      const drafts = permissions!.map((scope): GrantDraft => ({
        ...common(call),
        kind: 'indirect',
        context: intermediary,
        authorized: subject as AuthorizedIdentifier,
        scope,
        target: target ?? { type: 'AllPartners' },
        description: description!,
        person,
      }));
      accepted(call, drafts, () => {
        if (intermediary.type !== 'Nip') return refuse(450, 'Uprawnienia pośrednie nadaje pośrednik w kontekście swojego NIP.');
        if (!target || target.type === 'AllPartners') return undefined;
        const client: ContextIdentifier = { type: target.type, value: target.value! };
        const missing = permissions!.filter(
          (scope) =>
            ![...state.grants.values()].some(
              (g) => g.kind === 'entity' && g.canDelegate && g.scope === scope && g.authorized.value === intermediary.value && contextKey(g.context) === contextKey(client),
            ),
        );
        return missing.length ? refuse(440, `Brak delegowalnych uprawnień ${missing.join(', ')} nadanych przez ${target.value} dla ${intermediary.value}.`) : undefined;
      });
    }),
  );

  router.post(
    '/permissions/subunits/grants',
    authorized(['SubunitManage'], (call) => {
      const r = BodyReader.of(call.req.body);
      const subject = readIdentifier(r, 'subjectIdentifier', ['Nip', 'Pesel', 'Fingerprint'] as const, { required: true });
      const subunit = readIdentifier(r, 'contextIdentifier', ['InternalId', 'Nip'] as const, { required: true });
      checkInternalId(r, 'contextIdentifier', subunit);
      const description = readDescription(r);
      const subunitName = r.string('subunitName', { min: 5, max: 256 });
      if (subunit?.type === 'InternalId' && subunitName === undefined) r.fail('subunitName', 'is required for an InternalId subunit');
      const { person } = readSubjectDetails(r, PERSON_DETAILS, subject);
      r.done();
      const context: ContextIdentifier = { type: subunit!.type, value: subunit!.value! };
      const draft: GrantDraft = {
        ...common(call),
        kind: 'subunit',
        context,
        authorized: subject as AuthorizedIdentifier,
        scope: 'CredentialsManage',
        description: description!,
        person,
        subunitName,
      };
      accepted(call, [draft], () => {
        const nip = contextNip(call.caller.context);
        if (context.type === 'InternalId') {
          return contextNip(context) === nip ? undefined : refuse(410, `Identyfikator wewnętrzny ${context.value} nie należy do NIP ${nip}.`);
        }
        const parent = nip ? state.testSubjects.get(nip) : undefined;
        const member = parent && parent.type !== 'EnforcementAuthority' && parent.subunits.some((s) => s.nip === context.value);
        return member ? undefined : refuse(430, `${context.value} nie jest jednostką podrzędną ${nip} (wymagana rola LocalGovernmentUnit lub VatGroupUnit).`);
      });
    }),
  );

  router.post(
    '/permissions/eu-entities/administration/grants',
    authorized(['CredentialsManage'], (call) => {
      const r = BodyReader.of(call.req.body);
      const subject = readIdentifier(r, 'subjectIdentifier', ['Fingerprint'] as const, { required: true });
      const euContext = readIdentifier(r, 'contextIdentifier', ['NipVatUe'] as const, { required: true });
      const description = readDescription(r);
      const euEntityName = r.string('euEntityName', { required: true, min: 5, max: 256 });
      const details = readSubjectDetails(r, EU_DETAILS, subject);
      const euDetails = r.object('euEntityDetails', { required: true });
      const fullName = euDetails?.string('fullName', { required: true, max: 100 });
      const address = euDetails?.string('address', { required: true, max: 512 });
      r.done();
      const context: ContextIdentifier = { type: 'NipVatUe', value: euContext!.value! };
      const drafts = EU_ADMINISTRATOR_PERMISSIONS.map((scope): GrantDraft => ({
        ...common(call),
        kind: 'euAdministrator',
        context,
        authorized: subject as AuthorizedIdentifier,
        scope,
        description: description!,
        ...details,
        euEntityName,
        euEntityDetails: { fullName: fullName!, address: address! },
      }));
      accepted(call, drafts, () =>
        call.caller.context.type === 'Nip' && contextNip(context) === call.caller.context.value
          ? undefined
          : refuse(410, `Kontekst ${context.value} nie jest kontekstem złożonym NIP ${contextNip(call.caller.context)}.`),
      );
    }),
  );

  router.post(
    '/permissions/eu-entities/grants',
    authorized(['VatUeManage'], (call) => {
      const r = BodyReader.of(call.req.body);
      const subject = readIdentifier(r, 'subjectIdentifier', ['Fingerprint'] as const, { required: true });
      const permissions = r.enumArray('permissions', INVOICE_PERMISSIONS, { required: true, min: 1, unique: true });
      const description = readDescription(r);
      const details = readSubjectDetails(r, EU_DETAILS, subject);
      r.done();
      const administrator = [...state.grants.values()].find((g) => g.kind === 'euAdministrator' && contextKey(g.context) === call.caller.contextKey);
      const drafts = permissions!.map((scope): GrantDraft => ({
        ...common(call),
        kind: 'euRepresentative',
        context: call.caller.context,
        authorized: subject as AuthorizedIdentifier,
        scope,
        description: description!,
        ...details,
        euEntityName: administrator?.euEntityName,
        euEntityDetails: administrator?.euEntityDetails,
      }));
      accepted(call, drafts);
    }),
  );

  /** A grant the caller's context may revoke: one it made, or a System grant (ZAW-FA) in it. */
  const revocable = (call: AuthorizedCall, authorizations: boolean): PermissionGrant => {
    const id = String(call.req.params.permissionId);
    if (!UUID.test(id)) throw ksef.validation(['permissionId: must be a 36-character UUID']);
    const grant = state.grants.get(id);
    const ours =
      grant &&
      (grant.kind === 'authorization') === authorizations &&
      ((grant.grantor && contextKey(grant.grantor) === call.caller.contextKey) || (grant.kind === 'testdata' && contextKey(grant.context) === call.caller.contextKey));
    if (!ours) throw ksef.validation([`permissionId: uprawnienie ${id} nie zostało znalezione w bieżącym kontekście.`]);
    return grant;
  };

  router.delete(
    '/permissions/common/grants/:permissionId',
    authorized(['CredentialsManage', 'VatUeManage', 'SubunitManage'], (call) => {
      const grant = revocable(call, false);
      requireAnyPermission(call.caller, grant.kind === 'euRepresentative' ? ['VatUeManage'] : grant.kind === 'subunit' ? ['SubunitManage'] : ['CredentialsManage']);
      call.res.status(202).json({ referenceNumber: submitRevocation(state, call.caller.context, call.now, grant.id) });
    }),
  );

  router.delete(
    '/permissions/authorizations/grants/:permissionId',
    authorized(['CredentialsManage'], (call) => {
      const grant = revocable(call, true);
      call.res.status(202).json({ referenceNumber: submitRevocation(state, call.caller.context, call.now, grant.id) });
    }),
  );

  router.get(
    '/permissions/operations/:referenceNumber',
    authorized(undefined, ({ req, res, caller, now }) => {
      const ref = String(req.params.referenceNumber);
      if (!REFERENCE_NUMBER.test(ref)) throw ksef.validation(['referenceNumber: must be a 36-character reference number']);
      const op = state.permissionOperations.get(ref);
      if (!op || contextKey(op.context) !== caller.contextKey) throw ksef.validation([`referenceNumber: operacja ${ref} nie została znaleziona.`]);
      if (now.getTime() - op.created.getTime() > OPERATION_RETENTION_MS) throw gone();
      res.json({ status: op.status });
    }),
  );

  router.get(
    '/permissions/attachments/status',
    authorized(['CredentialsManage', 'CredentialsRead'], ({ res, caller, now }) => {
      const nip = contextNip(caller.context);
      res.json(nip ? attachmentsAllowed(state, nip, now) : { isAttachmentAllowed: false, revokedDate: null });
    }),
  );

  router.post(
    '/permissions/query/personal/grants',
    authorized(undefined, (call) => {
      const page = pageOf(call);
      const r = BodyReader.of(call.req.body ?? {});
      const filters = grantFilters(r, false);
      r.done();
      const { items, hasMore } = paged(personalGrants(state, actingSubject(state, call.caller.op), filters), page);
      call.res.json({ permissions: items.map((i) => i.item), hasMore });
    }),
  );

  router.post(
    '/permissions/query/persons/grants',
    authorized(['CredentialsManage', 'CredentialsRead', 'SubunitManage'], (call) => {
      const page = pageOf(call);
      const r = BodyReader.of(call.req.body);
      const queryType = r.enumOf('queryType', ['PermissionsInCurrentContext', 'PermissionsGrantedInCurrentContext'] as const, { required: true });
      const filters = grantFilters(r, true);
      r.done();
      const { items, hasMore } = paged(personGrants(state, call.caller.context, queryType!, filters), page);
      call.res.json({ permissions: items.map((i) => i.item), hasMore });
    }),
  );

  router.post(
    '/permissions/query/subunits/grants',
    authorized(['CredentialsManage', 'CredentialsRead', 'SubunitManage'], (call) => {
      const page = pageOf(call);
      const r = BodyReader.of(call.req.body ?? {});
      const subunit = readIdentifier(r, 'subunitIdentifier', ['InternalId', 'Nip'] as const) as ContextIdentifier | undefined;
      r.done();
      const { items, hasMore } = paged(subunitGrants(state, call.caller.context, subunit), page);
      call.res.json({ permissions: items.map((i) => i.item), hasMore });
    }),
  );

  router.post(
    '/permissions/query/entities/grants',
    authorized(['CredentialsManage', 'CredentialsRead'], (call) => {
      const page = pageOf(call);
      const r = BodyReader.of(call.req.body ?? {});
      const grantor = readIdentifier(r, 'contextIdentifier', ['Nip', 'InternalId'] as const) as ContextIdentifier | undefined;
      r.done();
      const { items, hasMore } = paged(entityGrants(state, call.caller.context, grantor), page);
      call.res.json({ permissions: items.map((i) => i.item), hasMore });
    }),
  );

  router.get(
    '/permissions/query/entities/roles',
    authorized(['CredentialsManage', 'CredentialsRead'], (call) => {
      const { items, hasMore } = paged(entityRoles(state, call.caller.context), pageOf(call));
      call.res.json({ roles: items.map((i) => i.item), hasMore });
    }),
  );

  router.post(
    '/permissions/query/subordinate-entities/roles',
    authorized(['CredentialsManage', 'CredentialsRead', 'SubunitManage'], (call) => {
      const page = pageOf(call);
      const r = BodyReader.of(call.req.body ?? {});
      const subordinate = readIdentifier(r, 'subordinateEntityIdentifier', ['Nip'] as const);
      r.done();
      const { items, hasMore } = paged(subordinateRoles(state, call.caller.context, subordinate?.value), page);
      call.res.json({ roles: items.map((i) => i.item), hasMore });
    }),
  );

  router.post(
    '/permissions/query/authorizations/grants',
    authorized(['CredentialsManage', 'CredentialsRead', 'PefInvoiceWrite'], (call) => {
      const page = pageOf(call);
      const r = BodyReader.of(call.req.body);
      const queryType = r.enumOf('queryType', ['Granted', 'Received'] as const, { required: true });
      const authorizing = readIdentifier(r, 'authorizingIdentifier', ['Nip'] as const);
      const authorizedId = readIdentifier(r, 'authorizedIdentifier', ['Nip', 'PeppolId'] as const) as AuthorizedIdentifier | undefined;
      const scopes = r.enumArray('permissionTypes', AUTHORIZATION_SCOPES);
      r.done();
      const found = authorizationGrants(state, call.caller.context, { type: queryType!, authorizing: authorizing?.value, authorized: authorizedId, scopes });
      const { items, hasMore } = paged(found, page);
      call.res.json({ authorizationGrants: items.map((i) => i.item), hasMore });
    }),
  );

  router.post(
    '/permissions/query/eu-entities/grants',
    authorized(['CredentialsManage', 'CredentialsRead', 'VatUeManage'], (call) => {
      const page = pageOf(call);
      const r = BodyReader.of(call.req.body ?? {});
      const vatUe = r.string('vatUeIdentifier', { pattern: /^[A-Z]{2}[0-9A-Z+*]{2,13}$/ });
      const fingerprint = r.string('authorizedFingerprintIdentifier', { max: 64 });
      const scopes = r.enumArray('permissionTypes', ['VatUeManage', 'InvoiceWrite', 'InvoiceRead', 'Introspection'] as const);
      r.done();
      const { items, hasMore } = paged(euEntityGrants(state, call.caller.context, { vatUe, fingerprint, scopes }), page);
      call.res.json({ permissions: items.map((i) => i.item), hasMore });
    }),
  );

  return router;
}
