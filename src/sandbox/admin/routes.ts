import { X509Certificate } from 'node:crypto';
import express, { NextFunction, Request, Response, Router } from 'express';
import { registerToken } from '../auth/ksef-tokens.js';
import { issueWithNewKey } from '../certificates/issuing.js';
import { SeedError, SeedItem, seedInvoices } from '../invoices/seed.js';
import { validateRateLimitTable } from '../limits/rate-limiter.js';
import {
  CERTIFICATE_NAME,
  ContextType,
  KSEF_CERTIFICATE_TYPES,
  KsefCertificateType,
  OPEN_MODE_PERMISSIONS,
  TOKEN_PERMISSIONS,
  TokenPermission,
} from '../model.js';
import { expireSessions } from '../sessions/lifecycle.js';
import { SandboxState } from '../state.js';
import { INTERNAL_ID, NIP } from '../util/ids.js';
import { ksefDateTime, parseApiDateTime } from '../util/time.js';
import { OutageMode } from './faults.js';

/**
 * The sandbox's own admin API under /sandbox/* (not KSeF; mounted only with faultsEnabled). Answers are
 * plain JSON; bad input is 400 `{ "error": "…" }`. See src/sandbox/README.md.
 */

class AdminError extends Error {}

type Body = Record<string, unknown>;

const bodyOf = (req: Request): Body => {
  if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) return {};
  return req.body as Body;
};

const nonNegativeInt = (body: Body, name: string, required = true): number | undefined => {
  const v = body[name];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new AdminError(`${name} must be a non-negative integer`);
  return v;
};

export function adminRoutes(state: SandboxState): Router {
  const router = Router();
  router.use(express.json({ limit: '500mb' }));

  router.get('/state', (_req, res) => {
    res.json(state.summary());
  });

  router.post('/faults/outage', (req, res) => {
    const body = bodyOf(req);
    const mode = body.mode as OutageMode;
    if (mode !== 'refuse' && mode !== '503') throw new AdminError("mode must be 'refuse' or '503'");
    state.faults.setOutage(mode, nonNegativeInt(body, 'durationMs', false));
    res.json(state.faults.snapshot());
  });

  router.delete('/faults/outage', (_req, res) => {
    state.faults.clearOutage();
    res.json(state.faults.snapshot());
  });

  router.post('/faults/latency', (req, res) => {
    state.faults.latencyMs = nonNegativeInt(bodyOf(req), 'ms')!;
    res.json(state.faults.snapshot());
  });

  router.post('/faults/too-many-requests', (req, res) => {
    const body = bodyOf(req);
    const count = nonNegativeInt(body, 'count')!;
    const retryAfterSeconds = nonNegativeInt(body, 'retryAfterSeconds', false) ?? 1;
    state.faults.forceTooManyRequests(count, retryAfterSeconds);
    res.json(state.faults.snapshot());
  });

  router.post('/faults/fail-nth', (req, res) => {
    const body = bodyOf(req);
    const method = typeof body.method === 'string' ? body.method : '*';
    if (typeof body.pathPattern !== 'string' || !body.pathPattern) throw new AdminError('pathPattern is required');
    const n = nonNegativeInt(body, 'n')!;
    if (n < 1) throw new AdminError('n must be at least 1');
    const status = nonNegativeInt(body, 'status', false) ?? 500;
    if (status < 400 || status > 599) throw new AdminError('status must be 4xx or 5xx');
    try {
      state.faults.addFailNth(method, body.pathPattern, n, status);
    } catch (err) {
      throw new AdminError(`pathPattern: ${(err as Error).message}`);
    }
    res.json(state.faults.snapshot());
  });

  router.post('/faults/answer-delay', (req, res) => {
    const body = bodyOf(req);
    const method = typeof body.method === 'string' ? body.method : '*';
    if (typeof body.pathPattern !== 'string' || !body.pathPattern) throw new AdminError('pathPattern is required');
    const ms = nonNegativeInt(body, 'ms')!;
    try {
      state.faults.setAnswerDelay(method, body.pathPattern, ms);
    } catch (err) {
      throw new AdminError(`pathPattern: ${(err as Error).message}`);
    }
    res.json(state.faults.snapshot());
  });

  router.delete('/faults', (_req, res) => {
    state.faults.clear();
    res.json(state.faults.snapshot());
  });

  router.post('/expire', (req, res) => {
    const what = bodyOf(req).what;
    const now = state.now();
    if (what === 'sessions') {
      res.json({ expired: expireSessions(state, now) });
      return;
    }
    if (what === 'tokens') {
      let expired = 0;
      for (const jwt of state.jwts.values()) {
        if (jwt.expiresAt > now.getTime()) {
          jwt.expiresAt = now.getTime();
          expired++;
        }
      }
      for (const op of state.authOperations.values()) {
        if (op.refreshTokenValidUntil && op.refreshTokenValidUntil.getTime() > now.getTime()) op.refreshTokenValidUntil = now;
      }
      res.json({ expired });
      return;
    }
    throw new AdminError("what must be 'sessions' or 'tokens'");
  });

  router.post('/reset', (req, res) => {
    state.faults.clear();
    state.rateLimiter.reset();
    if (bodyOf(req).data === true) state.clearData();
    res.json(state.summary());
  });

  router.post('/tokens', (req, res) => {
    const body = bodyOf(req);
    const ctx = body.contextIdentifier as { type?: unknown; value?: unknown } | undefined;
    const type = ctx?.type as ContextType;
    const value = ctx?.value;
    if (type !== 'Nip' && type !== 'InternalId') throw new AdminError(`contextIdentifier.type must be Nip or InternalId (KSeF tokens exist only there; got ${String(type)})`);
    if (typeof value !== 'string' || !(type === 'Nip' ? NIP : INTERNAL_ID).test(value)) throw new AdminError(`contextIdentifier.value is not a valid ${type}`);
    const permissions = (body.permissions ?? OPEN_MODE_PERMISSIONS) as TokenPermission[];
    if (!Array.isArray(permissions) || permissions.some((p) => !TOKEN_PERMISSIONS.includes(p))) {
      throw new AdminError(`permissions must be a subset of ${TOKEN_PERMISSIONS.join(', ')}`);
    }
    if (body.token !== undefined && (typeof body.token !== 'string' || body.token.length < 10 || body.token.length > 160)) {
      throw new AdminError('token must be a string of 10..160 characters');
    }
    const status = body.status ?? 'Active';
    if (status !== 'Active' && status !== 'Pending' && status !== 'Revoked') throw new AdminError("status must be 'Active', 'Pending' or 'Revoked'");
    let record;
    try {
      record = registerToken(state, {
        context: { type, value },
        permissions: [...new Set(permissions)],
        description: typeof body.description === 'string' ? body.description : 'Token zarejestrowany w sandboxie',
        token: body.token as string | undefined,
        activeFrom: status === 'Pending' ? new Date(8.64e15) : undefined,
      });
    } catch (err) {
      throw new AdminError((err as Error).message);
    }
    record.revoked = status === 'Revoked';
    res.status(201).json({ referenceNumber: record.referenceNumber, token: record.token, status, context: record.context, permissions: record.permissions });
  });

  router.put('/rate-limits', (req, res) => {
    const body = bodyOf(req);
    if (body.mode === 'off' || body.mode === 'published') state.rateLimiter.configure(body.mode);
    else if (body.mode === 'custom') {
      try {
        state.rateLimiter.configure(validateRateLimitTable(body.table));
      } catch (err) {
        throw new AdminError((err as Error).message);
      }
    } else throw new AdminError("mode must be 'off', 'published' or 'custom' (with table)");
    res.json({ mode: state.rateLimiter.mode, table: state.rateLimiter.table() });
  });

  router.post('/invoices', (req, res) => {
    const items = bodyOf(req).invoices;
    if (!Array.isArray(items) || items.length === 0) throw new AdminError('invoices must be a non-empty array');
    let stored;
    try {
      stored = seedInvoices(state, items as SeedItem[]);
    } catch (err) {
      if (err instanceof SeedError) throw new AdminError(err.message);
      throw err;
    }
    res.status(201).json({
      invoices: stored.map((inv) => ({
        ksefNumber: inv.ksefNumber,
        invoiceNumber: inv.invoiceNumber,
        invoiceHash: inv.invoiceHash,
        sellerNip: inv.facts!.sellerNip,
        buyerNip: inv.facts!.buyer.identifier.value ?? null,
        invoicingDate: ksefDateTime(inv.invoicingDate),
        permanentStorageDate: ksefDateTime(inv.permanentStorageDate!),
      })),
    });
  });

  router.post('/certificates', async (req, res) => {
    const body = bodyOf(req);
    const nip = body.nip;
    if (typeof nip !== 'string' || !NIP.test(nip)) throw new AdminError('nip must be a valid NIP');
    const keyType = body.keyType ?? 'EC';
    if (keyType !== 'RSA' && keyType !== 'EC') throw new AdminError("keyType must be 'RSA' or 'EC'");
    const type = (body.certificateType ?? 'Offline') as KsefCertificateType;
    if (!KSEF_CERTIFICATE_TYPES.includes(type)) throw new AdminError("certificateType must be 'Offline' or 'Authentication'");
    const name = body.certificateName ?? `Certyfikat ${type} z sandboxa`;
    if (typeof name !== 'string' || !CERTIFICATE_NAME.test(name)) {
      throw new AdminError('certificateName must be 5..100 letters, digits, spaces, _ or -');
    }
    let validFrom: Date | undefined;
    if (body.validFrom !== undefined) {
      validFrom = typeof body.validFrom === 'string' ? parseApiDateTime(body.validFrom) : undefined;
      if (!validFrom) throw new AdminError('validFrom must be a date-time');
    }
    const keys = await state.keysReady;
    const { certificate, privateKey } = await issueWithNewKey(state, keys.authority, { nip, keyType, type, name, validFrom });
    res.status(201).json({
      serialNumber: certificate.serialNumber,
      validFrom: ksefDateTime(certificate.validFrom),
      validTo: ksefDateTime(certificate.validTo),
      certificatePem: new X509Certificate(certificate.der).toString(),
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    });
  });

  router.use((_req, res) => {
    res.status(404).json({ error: 'unknown sandbox admin endpoint' });
  });

  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (err instanceof AdminError) {
      res.status(400).json({ error: err.message });
      return;
    }
    const type = (err as { type?: string })?.type;
    if (type === 'entity.parse.failed' || type === 'entity.too.large') {
      res.status(400).json({ error: `invalid request body (${type})` });
      return;
    }
    next(err);
  });

  return router;
}
