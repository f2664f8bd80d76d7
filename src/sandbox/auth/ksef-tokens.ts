import { Router } from 'express';
import { Caller, continuationHeader, protectedBy, query, requireAnyPermission } from '../http/endpoint.js';
import { ksef } from '../http/errors.js';
import { ContextIdentifier, contextKey, KsefTokenRecord, subjectKey, TOKEN_PERMISSIONS, TokenPermission, TokenStatus } from '../model.js';
import { actingSubject } from '../permissions/operations.js';
import { SandboxState } from '../state.js';
import { compareKeys } from '../util/continuation.js';
import { INTERNAL_ID, NIP, REFERENCE_NUMBER } from '../util/ids.js';
import { ksefDateTime } from '../util/time.js';
import { BodyReader } from '../util/validate.js';

/**
 * KSeF tokens: `<reference>|nip-<NIP>|<secret>` or `<reference>|internalId-<NIP-5digits>|<secret>`
 * (PROTOCOL.md §2.2). Registered ones come from `POST /v2/tokens` or the admin API; in open mode any token
 * of this shape is also accepted for the context it names.
 */

export interface TokenShape {
  reference: string;
  context: ContextIdentifier;
}

export function parseTokenShape(token: string): TokenShape | undefined {
  const parts = token.split('|');
  if (parts.length !== 3) return undefined;
  const [reference, contextPart, secret] = parts;
  if (!REFERENCE_NUMBER.test(reference) || !/^[0-9a-fA-F]+$/.test(secret)) return undefined;
  if (contextPart.startsWith('nip-') && NIP.test(contextPart.slice(4))) {
    return { reference, context: { type: 'Nip', value: contextPart.slice(4) } };
  }
  if (contextPart.startsWith('internalId-') && INTERNAL_ID.test(contextPart.slice(11))) {
    return { reference, context: { type: 'InternalId', value: contextPart.slice(11) } };
  }
  return undefined;
}

export function tokenStatus(token: KsefTokenRecord, now: Date): TokenStatus {
  if (token.revoked) return 'Revoked';
  return now.getTime() < token.activeFrom.getTime() ? 'Pending' : 'Active';
}

export function findRegisteredToken(state: SandboxState, token: string): KsefTokenRecord | undefined {
  const byReference = state.ksefTokens.get(token.split('|')[0]);
  if (byReference) return byReference;
  for (const record of state.ksefTokens.values()) if (record.token === token) return record;
  return undefined;
}

const contextPart = (c: ContextIdentifier) => (c.type === 'Nip' ? `nip-${c.value}` : `internalId-${c.value}`);

export interface TokenRegistration {
  context: ContextIdentifier;
  permissions: TokenPermission[];
  description: string;
  /** Who made it; default the NIP of its context. */
  author?: KsefTokenRecord['author'];
  /** A token chosen by the caller (admin API); generated otherwise. */
  token?: string;
  activeFrom?: Date;
}

export function registerToken(state: SandboxState, registration: TokenRegistration): KsefTokenRecord {
  const now = state.now();
  const shape = registration.token ? parseTokenShape(registration.token) : undefined;
  const referenceNumber = shape?.reference ?? state.newReference('EC', now);
  if (state.ksefTokens.has(referenceNumber)) throw new Error(`token ${referenceNumber} is already registered`);
  const token = registration.token ?? `${referenceNumber}|${contextPart(registration.context)}|${state.random(32).toString('hex')}`;
  const record: KsefTokenRecord = {
    referenceNumber,
    token,
    context: registration.context,
    permissions: [...registration.permissions],
    description: registration.description,
    author: registration.author ?? { type: 'Nip', value: registration.context.value.split('-')[0] },
    dateCreated: now,
    activeFrom: registration.activeFrom ?? now,
    revoked: false,
  };
  state.ksefTokens.set(referenceNumber, record);
  return record;
}

export function tokenJson(token: KsefTokenRecord, now: Date) {
  return {
    referenceNumber: token.referenceNumber,
    authorIdentifier: token.author,
    contextIdentifier: token.context,
    description: token.description,
    requestedPermissions: token.permissions,
    dateCreated: ksefDateTime(token.dateCreated),
    ...(token.lastUseDate ? { lastUseDate: ksefDateTime(token.lastUseDate) } : {}),
    status: tokenStatus(token, now),
    statusDetails: [],
  };
}

const STATUSES: readonly TokenStatus[] = ['Pending', 'Active', 'Revoking', 'Revoked', 'Failed'];

/**
 * tokeny-ksef.md: CredentialsManage or CredentialsRead see every token of the context; otherwise a caller
 * signed in with a token sees only that token, and one signed in with a signature the tokens it made.
 */
function visible(state: SandboxState, caller: Caller, token: KsefTokenRecord): boolean {
  if (contextKey(token.context) !== caller.contextKey) return false;
  if (caller.permissions.has('CredentialsManage') || caller.permissions.has('CredentialsRead')) return true;
  return own(state, caller, token);
}

/** The token the caller signed in with, or one it made. */
function own(state: SandboxState, caller: Caller, token: KsefTokenRecord): boolean {
  const auth = caller.op.authentication;
  if (auth.kind === 'token') return auth.tokenReference === token.referenceNumber;
  return subjectKey(token.author) === subjectKey(actingSubject(state, caller.op));
}

function visibleToken(state: SandboxState, caller: Caller, ref: string): KsefTokenRecord {
  const token = state.ksefTokens.get(ref);
  if (!token || !visible(state, caller, token)) {
    throw ksef.validation([`referenceNumber: token o numerze referencyjnym ${ref} nie został znaleziony.`]);
  }
  return token;
}

export function ksefTokenRoutes(state: SandboxState): Router {
  const router = Router();

  router.post(
    '/tokens',
    protectedBy(state, 'access', { group: 'other' }, ({ req, res, caller, now }) => {
      const r = BodyReader.of(req.body);
      const permissions = r.enumArray('permissions', TOKEN_PERMISSIONS, { required: true });
      const description = r.string('description', { required: true, min: 5, max: 256 });
      r.done();
      if (caller.context.type !== 'Nip' && caller.context.type !== 'InternalId') throw ksef.tokenContextType(caller.context.type);
      const missing = permissions!.filter((p) => !caller.permissions.has(p));
      if (missing.length) throw ksef.tokenPermissions(missing);
      const token = registerToken(state, {
        context: caller.context,
        permissions: [...new Set(permissions)],
        description: description!,
        author: actingSubject(state, caller.op),
        activeFrom: new Date(now.getTime() + state.options.authDelayMs),
      });
      res.status(202).json({ referenceNumber: token.referenceNumber, token: token.token });
    }),
  );

  router.get(
    '/tokens',
    protectedBy(state, 'access', { group: 'other' }, ({ req, res, caller, now }) => {
      const pageSize = query.int(req, 'pageSize', { min: 10, max: 100, fallback: 10 });
      const statuses = query.list(req, 'status');
      if (statuses.some((s) => !STATUSES.includes(s as TokenStatus))) throw ksef.validation([`status: must be one of ${STATUSES.join(', ')}`]);
      const description = query.string(req, 'description');
      const author = query.string(req, 'authorIdentifier');
      const authorType = query.string(req, 'authorIdentifierType');
      if (description !== undefined && description.length < 3) throw ksef.validation(['description: must be at least 3 characters']);
      if (author !== undefined && author.length < 3) throw ksef.validation(['authorIdentifier: must be at least 3 characters']);
      if (authorType !== undefined && !['Nip', 'Pesel', 'Fingerprint'].includes(authorType)) {
        throw ksef.validation(['authorIdentifierType: must be one of Nip, Pesel, Fingerprint']);
      }
      const after = state.cursors.decode('tokens', continuationHeader(req));
      const key = (t: KsefTokenRecord) => [-t.dateCreated.getTime(), t.referenceNumber];
      const matching = [...state.ksefTokens.values()]
        .filter((t) => visible(state, caller, t))
        .filter((t) => !statuses.length || statuses.includes(tokenStatus(t, now)))
        .filter((t) => description === undefined || t.description.toLowerCase().includes(description.toLowerCase()))
        .filter((t) => author === undefined || t.author.value.includes(author))
        .filter((t) => authorType === undefined || t.author.type === authorType)
        .sort((a, b) => compareKeys(key(a), key(b)))
        .filter((t) => !after || compareKeys(key(t), after) > 0);
      const page = matching.slice(0, pageSize);
      const more = matching.length > pageSize;
      res.json({
        continuationToken: more ? state.cursors.encode('tokens', key(page[page.length - 1])) : null,
        tokens: page.map((t) => tokenJson(t, now)),
      });
    }),
  );

  router.get(
    '/tokens/:referenceNumber',
    protectedBy(state, 'access', { group: 'other' }, ({ req, res, caller, now }) => {
      res.json(tokenJson(visibleToken(state, caller, String(req.params.referenceNumber)), now));
    }),
  );

  router.delete(
    '/tokens/:referenceNumber',
    protectedBy(state, 'access', { group: 'other' }, ({ req, res, caller }) => {
      const token = visibleToken(state, caller, String(req.params.referenceNumber));
      // Without CredentialsManage a caller may revoke only its own token (the one it signed in with, or one it made).
      if (!own(state, caller, token)) requireAnyPermission(caller, ['CredentialsManage']);
      token.revoked = true;
      res.status(204).end();
    }),
  );

  return router;
}
