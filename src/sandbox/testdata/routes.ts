import { Router } from 'express';
import { CONTEXT_VALUE } from '../auth/identifiers.js';
import { certificateOwner } from '../certificates/routes.js';
import { AuthorizedCall, open, protectedBy } from '../http/endpoint.js';
import { KsefError, ksef } from '../http/errors.js';
import { PUBLISHED_RATE_LIMITS } from '../limits/rate-limiter.js';
import { SessionKind, SessionLimits } from '../limits/session-limits.js';
import { AuthorizedIdentifier, CONTEXT_TYPES, ContextIdentifier, contextKey, SUBJECT_IDENTIFIER_TYPES, subjectKey, TEST_SUBJECT_TYPES } from '../model.js';
import { RATE_LIMIT_GROUPS, RateLimitTable } from '../options.js';
import { sameIdentifier } from '../permissions/effective.js';
import { addGrants, GrantDraft } from '../permissions/operations.js';
import { PERSON_PERMISSIONS, readIdentifier } from '../permissions/requests.js';
import { SandboxState } from '../state.js';
import { NIP, PESEL } from '../util/ids.js';
import { parseApiDateTime } from '../util/time.js';
import { BodyReader } from '../util/validate.js';

/**
 * KSeF TEST's `/testdata/*` (dane-testowe-scenariusze.md): entities with roles, persons bound to a NIP,
 * ZAW-FA-like grants, attachment consent, blocked contexts, and the context's session, certificate and rate
 * limits. Success is 200 with an empty body; effects are immediate. Enum values are taken in any letter case
 * (the docs' examples write `nip`). Routes without a bearer are rate-limited per IP (60/s).
 */

const alreadyExists = (detail: string) => new KsefError(30001, 'Podmiot lub uprawnienie już istnieje.', [detail]);

const readNip = (r: BodyReader, key: string, required = true) => r.string(key, { required, pattern: NIP });

function readCreatedDate(r: BodyReader): Date | undefined {
  return r.dateTime('createdDate');
}

function readContext(r: BodyReader): ContextIdentifier | undefined {
  const o = r.object('contextIdentifier', { required: true });
  const type = o?.enumOf('type', CONTEXT_TYPES, { required: true, caseInsensitive: true });
  const value = o?.string('value', { required: true });
  if (type && value !== undefined && !CONTEXT_VALUE[type].test(value)) o?.fail('value', `is not a valid ${type}`);
  return type && value !== undefined ? { type, value } : undefined;
}

function readSessionLimits(r: BodyReader, key: SessionKind): SessionLimits | undefined {
  const o = r.object(key, { required: true });
  if (!o) return undefined;
  const size = o.int('maxInvoiceSizeInMB', { required: true, min: 0, max: 5 });
  const withAttachment = o.int('maxInvoiceWithAttachmentSizeInMB', { required: true, min: 0, max: 10 });
  const invoices = o.int('maxInvoices', { required: true, min: 0, max: 100_000 });
  return { maxInvoiceSizeInMB: size!, maxInvoiceWithAttachmentSizeInMB: withAttachment!, maxInvoices: invoices! };
}

function readRateLimits(r: BodyReader): RateLimitTable {
  const o = r.object('rateLimits', { required: true });
  const table: RateLimitTable = {};
  for (const group of RATE_LIMIT_GROUPS.filter((g) => g !== 'auth')) {
    const g = o?.object(group, { required: true });
    if (!g) continue;
    table[group] = {
      perSecond: g.int('perSecond', { required: true, min: 1 }),
      perMinute: g.int('perMinute', { required: true, min: 1 }),
      perHour: g.int('perHour', { required: true, min: 1 }),
    };
  }
  return table;
}

export function testdataRoutes(state: SandboxState): Router {
  const router = Router();
  const anonymous = (handler: (call: { req: AuthorizedCall['req']; res: AuthorizedCall['res']; now: Date }) => void) =>
    open(state, { group: 'auth' }, (call) => {
      handler(call);
      if (!call.res.headersSent) call.res.status(200).end();
    });
  const bearer = (handler: (call: AuthorizedCall) => void) =>
    protectedBy(state, 'access', { group: 'other' }, (call) => {
      handler(call);
      call.res.status(200).end();
    });

  router.post(
    '/testdata/subject',
    anonymous(({ req, now }) => {
      const r = BodyReader.of(req.body);
      const nip = readNip(r, 'subjectNip');
      const type = r.enumOf('subjectType', TEST_SUBJECT_TYPES, { required: true, caseInsensitive: true });
      const description = r.string('description', { required: true, min: 5, max: 256 });
      const subunits = (r.objects('subunits') ?? []).map((s) => ({ nip: readNip(s, 'subjectNip')!, description: s.string('description', { required: true, min: 5, max: 256 })! }));
      const createdDate = readCreatedDate(r);
      r.done();
      if (state.testSubjects.has(nip!)) throw alreadyExists(`Podmiot ${nip} już istnieje.`);
      state.testSubjects.set(nip!, { nip: nip!, type: type!, description: description!, createdDate: createdDate ?? now, subunits });
    }),
  );

  router.post(
    '/testdata/subject/remove',
    anonymous(({ req }) => {
      const r = BodyReader.of(req.body);
      const nip = readNip(r, 'subjectNip');
      r.done();
      if (!state.testSubjects.delete(nip!)) throw ksef.validation([`subjectNip: podmiot ${nip} nie istnieje.`]);
    }),
  );

  router.post(
    '/testdata/person',
    anonymous(({ req, now }) => {
      const r = BodyReader.of(req.body);
      const nip = readNip(r, 'nip');
      const pesel = r.string('pesel', { required: true, pattern: PESEL });
      const isBailiff = r.bool('isBailiff', { required: true });
      const description = r.string('description', { required: true, min: 5, max: 256 });
      const isDeceased = r.bool('isDeceased') ?? false;
      const createdDate = readCreatedDate(r);
      r.done();
      if (state.testPersons.has(nip!)) throw alreadyExists(`Osoba dla NIP ${nip} już istnieje.`);
      state.testPersons.set(nip!, { nip: nip!, pesel: pesel!, isBailiff: isBailiff!, isDeceased, description: description!, createdDate: createdDate ?? now });
    }),
  );

  router.post(
    '/testdata/person/remove',
    anonymous(({ req }) => {
      const r = BodyReader.of(req.body);
      const nip = readNip(r, 'nip');
      r.done();
      const person = state.testPersons.get(nip!);
      if (!person) throw ksef.validation([`nip: osoba dla NIP ${nip} nie istnieje.`]);
      state.testPersons.delete(nip!);
      const pesel: AuthorizedIdentifier = { type: 'Pesel', value: person.pesel };
      for (const [id, g] of state.grants) if (sameIdentifier(g.authorized, pesel)) state.grants.delete(id);
    }),
  );

  const pairOf = (r: BodyReader) => {
    const context = readIdentifier(r, 'contextIdentifier', ['Nip'] as const, { required: true, caseInsensitive: true });
    const authorized = readIdentifier(r, 'authorizedIdentifier', SUBJECT_IDENTIFIER_TYPES, { required: true, caseInsensitive: true });
    return { context: context && { type: 'Nip' as const, value: context.value! }, authorized: authorized as AuthorizedIdentifier | undefined };
  };

  router.post(
    '/testdata/permissions',
    anonymous(({ req }) => {
      const r = BodyReader.of(req.body);
      const { context, authorized } = pairOf(r);
      const permissions = (r.objects('permissions', { required: true, min: 1 }) ?? []).map((p) => ({
        type: p.enumOf('permissionType', PERSON_PERMISSIONS, { required: true, caseInsensitive: true }),
        description: p.string('description', { required: true, min: 5, max: 256 }),
      }));
      r.done();
      const drafts = permissions.map((p): GrantDraft => ({
        kind: 'testdata',
        context: context!,
        authorized: authorized!,
        scope: p.type!,
        canDelegate: false,
        author: { type: 'System' },
        description: p.description!,
      }));
      addGrants(state, drafts);
    }),
  );

  router.post(
    '/testdata/permissions/revoke',
    anonymous(({ req }) => {
      const r = BodyReader.of(req.body);
      const { context, authorized } = pairOf(r);
      r.done();
      for (const [id, g] of state.grants) {
        if ((g.kind === 'testdata' || g.kind === 'person') && contextKey(g.context) === contextKey(context!) && sameIdentifier(g.authorized, authorized!)) {
          state.grants.delete(id);
        }
      }
    }),
  );

  const attachmentSwitch = (enabled: boolean) =>
    anonymous(({ req }) => {
      const r = BodyReader.of(req.body);
      const nip = readNip(r, 'nip');
      const end = enabled ? undefined : r.string('expectedEndDate', { pattern: /^\d{4}-\d{2}-\d{2}$/ });
      const endDate = end === undefined ? undefined : parseApiDateTime(`${end}T00:00:00`);
      if (end !== undefined && !endDate) r.fail('expectedEndDate', 'must be a date');
      r.done();
      if (enabled) state.attachmentConsents.set(nip!, {});
      else if (endDate && state.attachmentConsents.has(nip!)) state.attachmentConsents.set(nip!, { revokedDate: endDate });
      else state.attachmentConsents.delete(nip!);
    });
  router.post('/testdata/attachment', attachmentSwitch(true));
  router.post('/testdata/attachment/revoke', attachmentSwitch(false));

  const blockSwitch = (blocked: boolean) =>
    open(state, { group: 'other' }, ({ req, res }) => {
      const r = BodyReader.of(req.body);
      const context = readContext(r);
      r.done();
      if (blocked) state.blockedContexts.add(contextKey(context!));
      else state.blockedContexts.delete(contextKey(context!));
      res.status(200).end();
    });
  router.post('/testdata/context/block', blockSwitch(true));
  router.post('/testdata/context/unblock', blockSwitch(false));

  router.post(
    '/testdata/limits/context/session',
    bearer(({ req, caller }) => {
      const r = BodyReader.of(req.body);
      const onlineSession = readSessionLimits(r, 'onlineSession');
      const batchSession = readSessionLimits(r, 'batchSession');
      r.done();
      state.contextSessionLimits.set(caller.contextKey, { onlineSession: onlineSession!, batchSession: batchSession! });
    }),
  );
  router.delete(
    '/testdata/limits/context/session',
    bearer(({ caller }) => {
      state.contextSessionLimits.delete(caller.contextKey);
    }),
  );

  router.post(
    '/testdata/limits/subject/certificate',
    bearer((call) => {
      const owner = certificateOwner(state, call.caller);
      const r = BodyReader.of(call.req.body ?? {});
      const type = r.enumOf('subjectIdentifierType', SUBJECT_IDENTIFIER_TYPES, { caseInsensitive: true });
      if (type !== undefined && type !== owner.type) r.fail('subjectIdentifierType', `the authenticated subject is identified by ${owner.type}`);
      const maxEnrollments = r.object('enrollment')?.int('maxEnrollments', { min: 0 });
      const maxCertificates = r.object('certificate')?.int('maxCertificates', { min: 0 });
      r.done();
      const key = subjectKey(owner);
      state.subjectCertificateLimits.set(key, { ...state.subjectCertificateLimits.get(key), ...(maxEnrollments !== undefined ? { maxEnrollments } : {}), ...(maxCertificates !== undefined ? { maxCertificates } : {}) });
    }),
  );
  router.delete(
    '/testdata/limits/subject/certificate',
    bearer((call) => {
      state.subjectCertificateLimits.delete(subjectKey(certificateOwner(state, call.caller)));
    }),
  );

  router.post(
    '/testdata/rate-limits',
    bearer(({ req, caller }) => {
      const r = BodyReader.of(req.body);
      const table = readRateLimits(r);
      r.done();
      state.rateLimiter.setContextTable(caller.contextKey, table);
    }),
  );
  router.delete(
    '/testdata/rate-limits',
    bearer(({ caller }) => state.rateLimiter.setContextTable(caller.contextKey, undefined)),
  );
  router.post(
    '/testdata/rate-limits/production',
    bearer(({ caller }) => {
      const { auth: _, ...production } = PUBLISHED_RATE_LIMITS;
      state.rateLimiter.setContextTable(caller.contextKey, production);
    }),
  );

  return router;
}
