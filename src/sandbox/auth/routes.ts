import express, { Router } from 'express';
import { AuthorizedCall, continuationHeader, open, protectedBy, query } from '../http/endpoint.js';
import { gone, KsefError, ksef } from '../http/errors.js';
import { signJwt } from '../jwt.js';
import { KeyStore } from '../keys.js';
import {
  Authentication,
  AuthOperation,
  Challenge,
  CONTEXT_TYPES,
  ContextIdentifier,
  contextKey,
  JwtKind,
  OPEN_MODE_PERMISSIONS,
  Permission,
  SignatureMethod,
  StatusInfo,
  SubjectIdentifier,
} from '../model.js';
import { isDeceased, permissionsInContext } from '../permissions/effective.js';
import { SandboxState } from '../state.js';
import { compareKeys } from '../util/continuation.js';
import { rsaOaepDecrypt, sha256Base64 } from '../util/crypto.js';
import { parseAllowedIps } from '../util/ip.js';
import { ksefDateTime } from '../util/time.js';
import { BodyReader } from '../util/validate.js';
import { readAuthTokenRequest, RequestedSubject } from './auth-token-request.js';
import { CONTEXT_VALUE, IP4, IP4_MASK, IP4_RANGE } from './identifiers.js';
import { findRegisteredToken, parseTokenShape, registerToken, tokenStatus } from './ksef-tokens.js';
import { certificateFault, identifySigner, Signer } from './signer.js';
import { verifyXadesSignature } from './xades-verify.js';

/** Authentication with a KSeF token or a XAdES signature (PROTOCOL.md §2, PERMISSIONS.md §4). */

const CHALLENGE_LIFETIME_MS = 10 * 60_000;
const AUTHENTICATION_TOKEN_TTL_S = 2700;
const OPERATION_RETENTION_MS = 7 * 24 * 3_600_000;
const ISSUER = 'ksef-api-ti';
/** A signed AuthTokenRequest is a few kilobytes; this leaves room for certificate chains. */
const MAX_SIGNED_REQUEST_BYTES = 1_000_000;

const METHOD_INFO: Record<'Token' | SignatureMethod, { category: string; code: string; displayName: string }> = {
  Token: { category: 'Token', code: 'token.ksef', displayName: 'Token KSeF' },
  QualifiedSeal: { category: 'XadesSignature', code: 'xades.qualified-seal', displayName: 'Pieczęć kwalifikowana' },
  QualifiedSignature: { category: 'XadesSignature', code: 'xades.qualified-signature', displayName: 'Podpis kwalifikowany' },
  InternalCertificate: { category: 'XadesSignature', code: 'xades.ksef-certificate', displayName: 'Certyfikat KSeF' },
};

const methodOf = (a: Authentication) => (a.kind === 'token' ? 'Token' : a.method);

const failed = (code: number, description: string, detail: string): StatusInfo => ({ code, description, details: [detail] });
const badToken = (detail: string) => failed(450, 'Uwierzytelnianie zakończone niepowodzeniem z powodu błędnego tokenu', detail);
const noPermissions = () => failed(415, 'Uwierzytelnianie zakończone niepowodzeniem', 'Brak przypisanych uprawnień');
const certificateError = (detail: string) => failed(460, 'Uwierzytelnianie zakończone niepowodzeniem z powodu błędu certyfikatu', detail);
const deceased = () => failed(470, 'Uwierzytelnianie zakończone niepowodzeniem', 'Próba wykorzystania metod autoryzacyjnych osoby zmarłej');
const blocked = () =>
  failed(480, 'Uwierzytelnienie zablokowane', 'Podejrzenie incydentu bezpieczeństwa. Skontaktuj się z Ministerstwem Finansów przez formularz zgłoszeniowy.');

const SUCCESS: StatusInfo = { code: 200, description: 'Uwierzytelnianie zakończone sukcesem' };

interface Verdict {
  outcome: StatusInfo;
  tokenReference: string;
  permissions: readonly Permission[];
}

/** Decides the outcome of a token operation; reported as the op status once authDelayMs has passed. */
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
    if (state.blockedContexts.has(contextKey(context))) return denied(blocked(), registered.referenceNumber);
    registered.lastUseDate = now;
    return { outcome: SUCCESS, tokenReference: registered.referenceNumber, permissions: registered.permissions };
  }
  const shape = state.options.tokenMode === 'open' ? parseTokenShape(token) : undefined;
  if (!shape) return denied(badToken('Nieprawidłowy token'));
  if (contextKey(shape.context) !== contextKey(context)) return denied(noPermissions(), shape.reference);
  if (state.blockedContexts.has(contextKey(context))) return denied(blocked(), shape.reference);
  // From its first use on it is a token of the context like any other: listed, readable, revocable.
  const record = registerToken(state, { context: shape.context, permissions: [...OPEN_MODE_PERMISSIONS], description: 'Token przyjęty w trybie otwartym', token });
  record.lastUseDate = now;
  return { outcome: SUCCESS, tokenReference: shape.reference, permissions: OPEN_MODE_PERMISSIONS };
}

/**
 * The subject a signature authenticates as (sync checks: 21115 for a certificate naming no usable NIP or
 * PESEL, 21117 for a context the subject type cannot enter).
 */
function signingSubject(signer: Signer, requested: RequestedSubject, context: ContextIdentifier): SubjectIdentifier {
  const wrongContext = (detail: string) => new KsefError(21117, 'Nieprawidłowy identyfikator podmiotu dla wskazanego typu kontekstu.', [detail]);
  if (context.type === 'PeppolId') throw wrongContext('Sandbox nie obsługuje uwierzytelnienia dostawcy usług Peppol (kontekst PeppolId).');
  if (requested === 'certificateFingerprint') return { type: 'Fingerprint', value: signer.fingerprint };
  if (context.type === 'NipVatUe') throw wrongContext('W kontekście NipVatUe podmiot identyfikuje odcisk certyfikatu (certificateFingerprint).');
  if (!signer.identifier) throw new KsefError(21115, 'Nieprawidłowy certyfikat.', [signer.subjectProblem!]);
  return signer.identifier;
}

/** The outcome of a signature operation, in KSeF's order (PERMISSIONS.md §4.5). */
function judgeSignature(state: SandboxState, signer: Signer, subject: SubjectIdentifier, context: ContextIdentifier, now: Date, verifyChain: boolean) {
  const fault = certificateFault(signer, now, verifyChain);
  if (fault) return { outcome: certificateError(fault), permissions: new Set<Permission>() };
  if (state.blockedContexts.has(contextKey(context))) return { outcome: blocked(), permissions: new Set<Permission>() };
  if (isDeceased(state, subject)) return { outcome: deceased(), permissions: new Set<Permission>() };
  const permissions = permissionsInContext(state, subject, context);
  return { outcome: permissions.size ? SUCCESS : noPermissions(), permissions };
}

export function operationStatus(op: AuthOperation, now: Date): StatusInfo {
  if (now.getTime() < op.readyAt) return { code: 100, description: 'Uwierzytelnianie w toku' };
  if (op.revoked && op.outcome.code === 200) {
    return failed(425, 'Uwierzytelnienie unieważnione', 'Uwierzytelnienie i powiązane refresh tokeny zostały unieważnione przez użytkownika');
  }
  return op.outcome;
}

/** A token operation keeps its token's permissions; a signature's are worked out anew (grants change). */
function currentPermissions(state: SandboxState, op: AuthOperation): ReadonlySet<Permission> {
  return op.authentication.kind === 'token' ? op.permissions : permissionsInContext(state, op.authentication.subject, op.context);
}

export async function issueJwt(state: SandboxState, kind: JwtKind, op: AuthOperation, ttlSeconds: number, now: Date): Promise<{ token: string; validUntil: string; expiresAt: Date }> {
  const jti = state.random(16).toString('hex');
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  const common = { exp: Math.floor(expiresAt.getTime() / 1000), iat: Math.floor(now.getTime() / 1000), iss: ISSUER, aud: ISSUER, jti };
  const auth = op.authentication;
  const subject = auth.kind === 'token' ? { Type: 'Token', Value: auth.tokenReference } : { Type: auth.subject.type, Value: auth.subject.value };
  const claims =
    kind === 'authentication'
      ? { 'token-type': 'OperationToken', 'operation-reference-number': op.referenceNumber, ...common }
      : {
          'token-type': 'ContextToken',
          'context-identifier-type': op.context.type,
          'context-identifier-value': op.context.value,
          'authentication-method': methodOf(auth),
          'subject-details': JSON.stringify({ SubjectIdentifier: subject }),
          ...common,
        };
  const permissions = kind === 'access' ? currentPermissions(state, op) : undefined;
  state.jwts.set(jti, { jti, kind, authReference: op.referenceNumber, expiresAt: expiresAt.getTime(), permissions });
  return { token: await signJwt(state.jwtSecret, claims), validUntil: ksefDateTime(expiresAt), expiresAt };
}

function operationJson(op: AuthOperation, now: Date) {
  return {
    startDate: ksefDateTime(op.startDate),
    authenticationMethod: methodOf(op.authentication),
    authenticationMethodInfo: METHOD_INFO[methodOf(op.authentication)],
    status: operationStatus(op, now),
    isTokenRedeemed: op.redeemed,
    ...(op.lastTokenRefreshDate ? { lastTokenRefreshDate: ksefDateTime(op.lastTokenRefreshDate) } : {}),
    ...(op.refreshTokenValidUntil ? { refreshTokenValidUntil: ksefDateTime(op.refreshTokenValidUntil) } : {}),
  };
}

function assertKsefTokenNotRevoked(state: SandboxState, op: AuthOperation, now: Date) {
  if (op.authentication.kind !== 'token') return;
  const token = state.ksefTokens.get(op.authentication.tokenReference);
  if (token && tokenStatus(token, now) === 'Revoked') throw ksef.noAuthorization('Token KSeF został unieważniony.');
}

/** The operation a path refers to, as its own authenticationToken sees it. */
function ownOperation({ req, caller, now }: AuthorizedCall): AuthOperation {
  const ref = String(req.params.referenceNumber);
  if (caller.op.referenceNumber !== ref) throw ksef.authNotFound(ref);
  if (now.getTime() - caller.op.startDate.getTime() > OPERATION_RETENTION_MS) throw gone();
  return caller.op;
}

/** A challenge that is known, unused and at most 10 minutes old (else 21111). */
function freshChallenge(state: SandboxState, value: string, now: Date): Challenge {
  const challenge = state.challenges.get(value);
  if (!challenge || challenge.used || now.getTime() - challenge.timestamp.getTime() > CHALLENGE_LIFETIME_MS) {
    throw ksef.badChallenge(!challenge ? 'Nieznane wyzwanie.' : challenge.used ? 'Wyzwanie zostało już wykorzystane.' : 'Wyzwanie wygasło.');
  }
  return challenge;
}

interface Start {
  context: ContextIdentifier;
  authentication: Authentication;
  outcome: StatusInfo;
  permissions: Iterable<Permission>;
  allowedIps?: AuthOperation['allowedIps'];
}

/** Registers the operation and answers 202 with its authenticationToken (both methods alike). */
async function startOperation(state: SandboxState, res: express.Response, now: Date, start: Start): Promise<void> {
  const op: AuthOperation = {
    referenceNumber: state.newReference('AU', now),
    startDate: now,
    context: start.context,
    authentication: start.authentication,
    outcome: start.outcome,
    readyAt: now.getTime() + state.options.authDelayMs,
    permissions: new Set(start.permissions),
    allowedIps: start.allowedIps,
    redeemed: false,
    revoked: false,
  };
  state.authOperations.set(op.referenceNumber, op);
  const authToken = await issueJwt(state, 'authentication', op, AUTHENTICATION_TOKEN_TTL_S, now);
  res.status(202).json({
    referenceNumber: op.referenceNumber,
    authenticationToken: { token: authToken.token, validUntil: authToken.validUntil },
  });
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
      const challenge = freshChallenge(state, challengeValue!, now);
      challenge.used = true;

      const context: ContextIdentifier = { type: type!, value: value! };
      const verdict = judgeToken(state, keys, encrypted!, challenge, context, now);
      await startOperation(state, res, now, {
        context,
        authentication: { kind: 'token', tokenReference: verdict.tokenReference },
        outcome: verdict.outcome,
        permissions: verdict.permissions,
        allowedIps: ips ? parseAllowedIps(addresses, ranges, masks) : undefined,
      });
    }),
  );

  router.post(
    '/auth/xades-signature',
    express.raw({ type: ['application/xml', 'text/xml', 'application/*+xml'], limit: MAX_SIGNED_REQUEST_BYTES }),
    open(state, { group: 'auth' }, async ({ req, res, now }) => {
      const keys = await state.keysReady;
      const verifyChain = query.string(req, 'verifyCertificateChain');
      if (verifyChain !== undefined && verifyChain !== 'true' && verifyChain !== 'false') throw ksef.validation(['verifyCertificateChain: must be true or false']);
      const request = readAuthTokenRequest(req.body);
      const challenge = freshChallenge(state, request.challenge, now);
      const signature = verifyXadesSignature(request);
      const signer = identifySigner(state, keys.authority, signature.der, signature.certificate);
      const subject = signingSubject(signer, request.subjectIdentifierType, request.context);
      challenge.used = true;

      const verdict = judgeSignature(state, signer, subject, request.context, now, verifyChain === 'true');
      const ips = request.allowedIps;
      await startOperation(state, res, now, {
        context: request.context,
        authentication: {
          kind: 'signature',
          method: signer.method,
          subject,
          certificateSubject: signer.subjectName,
          documentHash: sha256Base64(request.bytes),
        },
        outcome: verdict.outcome,
        permissions: verdict.permissions,
        allowedIps: ips ? parseAllowedIps(ips.addresses, ips.ranges, ips.masks) : undefined,
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
