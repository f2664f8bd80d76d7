import { Router } from 'express';
import { AuthorizedCall, continuationHeader, open, protectedBy, query } from '../http/endpoint.js';
import { gone, ksef } from '../http/errors.js';
import { signJwt } from '../jwt.js';
import { KeyStore } from '../keys.js';
import {
  AuthOperation,
  Challenge,
  CONTEXT_TYPES,
  ContextIdentifier,
  contextKey,
  JwtKind,
  OPEN_MODE_PERMISSIONS,
  StatusInfo,
  TokenPermission,
} from '../model.js';
import { SandboxState } from '../state.js';
import { compareKeys } from '../util/continuation.js';
import { rsaOaepDecrypt } from '../util/crypto.js';
import { INTERNAL_ID, NIP } from '../util/ids.js';
import { parseAllowedIps } from '../util/ip.js';
import { ksefDateTime } from '../util/time.js';
import { BodyReader } from '../util/validate.js';
import { findRegisteredToken, parseTokenShape, tokenStatus } from './ksef-tokens.js';

/** Authentication with a KSeF token (PROTOCOL.md §2). */

const CHALLENGE_LIFETIME_MS = 10 * 60_000;
const AUTHENTICATION_TOKEN_TTL_S = 2700;
const OPERATION_RETENTION_MS = 7 * 24 * 3_600_000;
const ISSUER = 'ksef-api-ti';

const IP4 = /^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$/;
const IP4_RANGE = new RegExp(`^${IP4.source.slice(1, -1)}-${IP4.source.slice(1, -1)}$`);
const IP4_MASK = new RegExp(`^${IP4.source.slice(1, -1)}/(0|[1-9]|[12][0-9]|3[0-2])$`);

const CONTEXT_VALUE: Record<ContextIdentifier['type'], RegExp> = {
  Nip: NIP,
  InternalId: INTERNAL_ID,
  NipVatUe: /^[1-9]((\d[1-9])|([1-9]\d))\d{7}-[A-Z]{2}[0-9A-Z+*]{2,13}$/,
  PeppolId: /^P[A-Z]{2}[0-9]{6}$/,
};

const METHOD_INFO = { category: 'Token', code: 'token.ksef', displayName: 'Token KSeF' };

const failed = (code: number, description: string, detail: string): StatusInfo => ({ code, description, details: [detail] });
const badToken = (detail: string) => failed(450, 'Uwierzytelnianie zakończone niepowodzeniem z powodu błędnego tokenu', detail);
const noPermissions = () => failed(415, 'Uwierzytelnianie zakończone niepowodzeniem', 'Brak przypisanych uprawnień');

interface Verdict {
  outcome: StatusInfo;
  tokenReference: string;
  permissions: readonly TokenPermission[];
}

/** Decides the outcome of an auth operation; reported as the op status once authDelayMs has passed. */
function judgeToken(state: SandboxState, keys: KeyStore, encrypted: Buffer, challenge: Challenge, context: ContextIdentifier, now: Date): Verdict {
  const denied = (outcome: StatusInfo, tokenReference = ''): Verdict => ({ outcome, tokenReference, permissions: [] });
  let plaintext: string;
  try {
    plaintext = rsaOaepDecrypt(keys.forUsage('KsefTokenEncryption').privateKey, encrypted).toString('utf8');
  } catch {
    return denied(badToken('Nieprawidłowy token'));
  }
  const cut = plaintext.lastIndexOf('|');
  const token = plaintext.slice(0, Math.max(cut, 0));
  const timestamp = plaintext.slice(cut + 1);
  if (cut <= 0) return denied(badToken('Nieprawidłowy token'));
  if (!/^\d+$/.test(timestamp) || Number(timestamp) !== challenge.timestamp.getTime()) return denied(badToken('Nieprawidłowy czas tokena'));

  const registered = findRegisteredToken(state, token);
  if (registered) {
    if (registered.token !== token) return denied(badToken('Nieprawidłowy token'));
    const status = tokenStatus(registered, now);
    if (status === 'Revoked') return denied(badToken('Token unieważniony'), registered.referenceNumber);
    if (status !== 'Active') return denied(badToken('Token nieaktywny'), registered.referenceNumber);
    if (contextKey(registered.context) !== contextKey(context)) return denied(noPermissions(), registered.referenceNumber);
    registered.lastUseDate = now;
    return { outcome: SUCCESS, tokenReference: registered.referenceNumber, permissions: registered.permissions };
  }
  const shape = state.options.tokenMode === 'open' ? parseTokenShape(token) : undefined;
  if (!shape) return denied(badToken('Nieprawidłowy token'));
  if (contextKey(shape.context) !== contextKey(context)) return denied(noPermissions(), shape.reference);
  return { outcome: SUCCESS, tokenReference: shape.reference, permissions: OPEN_MODE_PERMISSIONS };
}

const SUCCESS: StatusInfo = { code: 200, description: 'Uwierzytelnianie zakończone sukcesem' };

export function operationStatus(op: AuthOperation, now: Date): StatusInfo {
  if (now.getTime() < op.readyAt) return { code: 100, description: 'Uwierzytelnianie w toku' };
  if (op.revoked && op.outcome.code === 200) {
    return failed(425, 'Uwierzytelnienie unieważnione', 'Uwierzytelnienie i powiązane refresh tokeny zostały unieważnione przez użytkownika');
  }
  return op.outcome;
}

export async function issueJwt(state: SandboxState, kind: JwtKind, op: AuthOperation, ttlSeconds: number, now: Date): Promise<{ token: string; validUntil: string; expiresAt: Date }> {
  const jti = state.random(16).toString('hex');
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  const common = { exp: Math.floor(expiresAt.getTime() / 1000), iat: Math.floor(now.getTime() / 1000), iss: ISSUER, aud: ISSUER, jti };
  const claims =
    kind === 'authentication'
      ? { 'token-type': 'OperationToken', 'operation-reference-number': op.referenceNumber, ...common }
      : {
          'token-type': 'ContextToken',
          'context-identifier-type': op.context.type,
          'context-identifier-value': op.context.value,
          'authentication-method': 'Token',
          'subject-details': JSON.stringify({ SubjectIdentifier: { Type: 'Token', Value: op.tokenReference } }),
          ...common,
        };
  state.jwts.set(jti, { jti, kind, authReference: op.referenceNumber, expiresAt: expiresAt.getTime() });
  return { token: await signJwt(state.jwtSecret, claims), validUntil: ksefDateTime(expiresAt), expiresAt };
}

function operationJson(op: AuthOperation, now: Date) {
  return {
    startDate: ksefDateTime(op.startDate),
    authenticationMethod: 'Token',
    authenticationMethodInfo: METHOD_INFO,
    status: operationStatus(op, now),
    isTokenRedeemed: op.redeemed,
    ...(op.lastTokenRefreshDate ? { lastTokenRefreshDate: ksefDateTime(op.lastTokenRefreshDate) } : {}),
    ...(op.refreshTokenValidUntil ? { refreshTokenValidUntil: ksefDateTime(op.refreshTokenValidUntil) } : {}),
  };
}

function assertKsefTokenNotRevoked(state: SandboxState, op: AuthOperation, now: Date) {
  const token = state.ksefTokens.get(op.tokenReference);
  if (token && tokenStatus(token, now) === 'Revoked') throw ksef.noAuthorization('Token KSeF został unieważniony.');
}

/** The operation a path refers to, as its own authenticationToken sees it. */
function ownOperation({ req, caller, now }: AuthorizedCall): AuthOperation {
  const ref = String(req.params.referenceNumber);
  if (caller.op.referenceNumber !== ref) throw ksef.authNotFound(ref);
  if (now.getTime() - caller.op.startDate.getTime() > OPERATION_RETENTION_MS) throw gone();
  return caller.op;
}

export function authRoutes(state: SandboxState): Router {
  const router = Router();

  router.post(
    '/auth/challenge',
    open(state, { group: 'auth' }, ({ res, now, ip }) => {
      const challenge = state.newReference('CR', now);
      state.challenges.set(challenge, { value: challenge, timestamp: now, clientIp: ip, used: false });
      res.json({ challenge, timestamp: ksefDateTime(now), timestampMs: now.getTime(), clientIp: ip });
    }),
  );

  router.post(
    '/auth/ksef-token',
    open(state, { group: 'auth' }, async ({ req, res, now }) => {
      const keys = await state.keysReady;
      const r = BodyReader.of(req.body);
      const challengeValue = r.string('challenge', { required: true, length: 36 });
      const ctx = r.object('contextIdentifier', { required: true });
      const type = ctx?.enumOf('type', CONTEXT_TYPES, { required: true });
      const value = ctx?.string('value', { required: true });
      if (type && value !== undefined && !CONTEXT_VALUE[type].test(value)) ctx?.fail('value', `is not a valid ${type} identifier`);
      const encrypted = r.base64('encryptedToken', { required: true });
      const publicKeyId = r.string('publicKeyId', { length: 44 });
      const policy = r.object('authorizationPolicy');
      const ips = policy?.object('allowedIps');
      const addresses = ips?.stringArray('ip4Addresses', { max: 10, pattern: IP4 });
      const ranges = ips?.stringArray('ip4Ranges', { max: 10, pattern: IP4_RANGE });
      const masks = ips?.stringArray('ip4Masks', { max: 10, pattern: IP4_MASK });
      r.done();

      if (publicKeyId !== undefined && !keys.find(publicKeyId, 'KsefTokenEncryption')) throw ksef.unknownKey(publicKeyId);
      const challenge = state.challenges.get(challengeValue!);
      if (!challenge || challenge.used || now.getTime() - challenge.timestamp.getTime() > CHALLENGE_LIFETIME_MS) {
        throw ksef.badChallenge(
          !challenge ? 'Nieznane wyzwanie.' : challenge.used ? 'Wyzwanie zostało już wykorzystane.' : 'Wyzwanie wygasło.',
        );
      }
      challenge.used = true;

      const context: ContextIdentifier = { type: type!, value: value! };
      const verdict = judgeToken(state, keys, encrypted!, challenge, context, now);
      const op: AuthOperation = {
        referenceNumber: state.newReference('AU', now),
        startDate: now,
        context,
        tokenReference: verdict.tokenReference,
        outcome: verdict.outcome,
        readyAt: now.getTime() + state.options.authDelayMs,
        permissions: new Set(verdict.permissions),
        allowedIps: ips ? parseAllowedIps(addresses, ranges, masks) : undefined,
        redeemed: false,
        revoked: false,
      };
      state.authOperations.set(op.referenceNumber, op);
      const authToken = await issueJwt(state, 'authentication', op, AUTHENTICATION_TOKEN_TTL_S, now);
      res.status(202).json({
        referenceNumber: op.referenceNumber,
        authenticationToken: { token: authToken.token, validUntil: authToken.validUntil },
      });
    }),
  );

  router.get(
    '/auth/sessions',
    protectedBy(state, 'access', { group: 'other' }, ({ req, res, caller, now }) => {
      const pageSize = query.int(req, 'pageSize', { min: 10, max: 100, fallback: 10 });
      const after = state.cursors.decode('auth-sessions', continuationHeader(req));
      const key = (op: AuthOperation) => [-op.startDate.getTime(), op.referenceNumber];
      const active = [...state.authOperations.values()]
        .filter(
          (op) =>
            contextKey(op.context) === caller.contextKey &&
            op.redeemed &&
            !op.revoked &&
            (op.refreshTokenValidUntil?.getTime() ?? 0) > now.getTime(),
        )
        .sort((a, b) => compareKeys(key(a), key(b)))
        .filter((op) => !after || compareKeys(key(op), after) > 0);
      const page = active.slice(0, pageSize);
      res.json({
        continuationToken: active.length > pageSize ? state.cursors.encode('auth-sessions', key(page[page.length - 1])) : null,
        items: page.map((op) => ({
          referenceNumber: op.referenceNumber,
          isCurrent: op === caller.op,
          ...operationJson(op, now),
        })),
      });
    }),
  );

  router.delete(
    '/auth/sessions/current',
    protectedBy(state, 'access', { group: 'other' }, ({ res, caller }) => {
      caller.op.revoked = true;
      res.status(204).end();
    }),
  );

  router.delete(
    '/auth/sessions/:referenceNumber',
    protectedBy(state, 'access', { group: 'other' }, ({ req, res, caller }) => {
      const ref = String(req.params.referenceNumber);
      const op = state.authOperations.get(ref);
      if (!op || contextKey(op.context) !== caller.contextKey) throw ksef.authNotFound(ref);
      op.revoked = true;
      res.status(204).end();
    }),
  );

  router.post(
    '/auth/token/redeem',
    protectedBy(state, 'authentication', { group: 'auth' }, async ({ res, caller, now }) => {
      const op = caller.op;
      const status = operationStatus(op, now);
      if (status.code !== 200) throw ksef.noAuthorization(`Status uwierzytelniania (${status.code}) nie pozwala na pobranie tokenów.`);
      if (op.redeemed) throw ksef.noAuthorization(`Tokeny dla operacji uwierzytelniania ${op.referenceNumber} zostały już pobrane.`);
      assertKsefTokenNotRevoked(state, op, now);
      op.redeemed = true;
      const access = await issueJwt(state, 'access', op, state.options.accessTokenTtlSeconds, now);
      const refresh = await issueJwt(state, 'refresh', op, state.options.refreshTokenTtlSeconds, now);
      op.refreshTokenValidUntil = refresh.expiresAt;
      res.json({
        accessToken: { token: access.token, validUntil: access.validUntil },
        refreshToken: { token: refresh.token, validUntil: refresh.validUntil },
      });
    }),
  );

  router.post(
    '/auth/token/refresh',
    protectedBy(state, 'refresh', { group: 'auth' }, async ({ res, caller, now }) => {
      const op = caller.op;
      assertKsefTokenNotRevoked(state, op, now);
      // An access token never outlives the refresh token it came from.
      const ttl = Math.min(state.options.accessTokenTtlSeconds, Math.floor((caller.jwt.expiresAt - now.getTime()) / 1000));
      const access = await issueJwt(state, 'access', op, Math.max(ttl, 1), now);
      op.lastTokenRefreshDate = now;
      res.json({ accessToken: { token: access.token, validUntil: access.validUntil } });
    }),
  );

  router.get(
    '/auth/:referenceNumber',
    protectedBy(state, 'authentication', { group: 'auth' }, (call) => {
      call.res.json(operationJson(ownOperation(call), call.now));
    }),
  );

  return router;
}
