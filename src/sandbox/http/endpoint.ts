import type { Request, RequestHandler, Response } from 'express';
import { verifyJwt } from '../jwt.js';
import { AuthOperation, ContextIdentifier, contextKey, IssuedJwt, JwtKind, Permission } from '../model.js';
import { RateLimitGroup } from '../options.js';
import { SandboxState } from '../state.js';
import { clientIp, ipAllowed } from '../util/ip.js';
import { forbidden, ksef, unauthorized } from './errors.js';
import { sendTooManyRequests } from './respond.js';

export interface Caller {
  op: AuthOperation;
  jwt: IssuedJwt;
  context: ContextIdentifier;
  contextKey: string;
  permissions: ReadonlySet<Permission>;
}

export interface Call {
  req: Request;
  res: Response;
  state: SandboxState;
  now: Date;
  ip: string;
}

export interface AuthorizedCall extends Call {
  caller: Caller;
}

const KIND_LABEL: Record<JwtKind, string> = {
  authentication: 'authenticationToken',
  access: 'accessToken',
  refresh: 'refreshToken',
};

/** Bearer strings already verified, so that each request does not recompute the HMAC. */
const verified = new WeakMap<SandboxState, Map<string, string>>();

async function jtiOf(state: SandboxState, token: string): Promise<string | undefined> {
  let cache = verified.get(state);
  if (!cache) verified.set(state, (cache = new Map()));
  const known = cache.get(token);
  if (known) return known;
  const jti = (await verifyJwt(state.jwtSecret, token))?.jti;
  if (typeof jti !== 'string') return undefined;
  if (cache.size >= 10_000) cache.clear();
  cache.set(token, jti);
  return jti;
}

async function authenticate(state: SandboxState, req: Request, kind: JwtKind, now: Date, ip: string): Promise<Caller> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
  if (!match) throw unauthorized('Brak tokenu uwierzytelniającego (nagłówek Authorization: Bearer).');
  const jti = await jtiOf(state, match[1]);
  const issued = jti === undefined ? undefined : state.jwts.get(jti);
  const op = issued && state.authOperations.get(issued.authReference);
  if (!issued || !op) throw unauthorized('Nieprawidłowy token.');
  if (issued.kind !== kind) throw unauthorized(`Nieprawidłowy rodzaj tokenu: ta operacja wymaga ${KIND_LABEL[kind]}.`);
  if (issued.expiresAt <= now.getTime()) throw unauthorized('Token wygasł.');
  if (kind === 'refresh' && op.revoked) throw unauthorized('Sesja uwierzytelnienia została unieważniona.');
  if (kind === 'access' && op.allowedIps && !ipAllowed(ip, op.allowedIps)) {
    throw forbidden('ip-not-allowed', 'Adres IP nie jest dozwolony przez politykę autoryzacji.', { clientIp: ip });
  }
  return { op, jwt: issued, context: op.context, contextKey: contextKey(op.context), permissions: issued.permissions ?? op.permissions };
}

export function requireAnyPermission(caller: Caller, anyOf: readonly Permission[]): void {
  if (anyOf.some((p) => caller.permissions.has(p))) return;
  throw forbidden('missing-permissions', 'Brak wymaganych uprawnień do wykonania operacji w bieżącym kontekście.', {
    requiredAnyOfPermissions: [...anyOf],
    presentPermissions: [...caller.permissions],
  });
}

interface Spec {
  group: RateLimitGroup;
  permissions?: readonly Permission[];
}

function limit(state: SandboxState, call: Call, group: RateLimitGroup, subject: string, context?: string): boolean {
  const rejection = state.rateLimiter.admit(group, subject, call.now.getTime(), context);
  if (!rejection) return true;
  sendTooManyRequests(state, call.req, call.res, rejection.retryAfterSeconds, rejection.message);
  return false;
}

/** An endpoint without a bearer, rate-limited per client IP. */
export function open(state: SandboxState, spec: Spec, handler: (call: Call) => unknown): RequestHandler {
  return async (req, res) => {
    const call: Call = { req, res, state, now: state.now(), ip: clientIp(req) };
    if (!limit(state, call, spec.group, call.ip)) return;
    await handler(call);
  };
}

/**
 * An endpoint behind a bearer of the given kind: 401 for a missing/invalid/expired/wrong-kind token,
 * rate-limited per (context, client IP), 403 without one of the permissions.
 */
export function protectedBy(
  state: SandboxState,
  kind: JwtKind,
  spec: Spec,
  handler: (call: AuthorizedCall) => unknown,
): RequestHandler {
  return async (req, res) => {
    const now = state.now();
    const ip = clientIp(req);
    const caller = await authenticate(state, req, kind, now, ip);
    const call: AuthorizedCall = { req, res, state, now, ip, caller };
    const subject = kind === 'access' ? `${caller.contextKey}|${ip}` : ip;
    if (!limit(state, call, spec.group, subject, kind === 'access' ? caller.contextKey : undefined)) return;
    if (spec.permissions) requireAnyPermission(caller, spec.permissions);
    await handler(call);
  };
}

/** Query parameters (KSeF answers 21405 naming the parameter). */
export const query = {
  int(req: Request, name: string, rules: { min: number; max: number; fallback: number }): number {
    const raw = req.query[name];
    if (raw === undefined) return rules.fallback;
    const text = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (typeof text !== 'string' || !/^-?\d+$/.test(text)) throw ksef.validation([`${name}: must be an integer`]);
    const value = Number(text);
    if (value < rules.min || value > rules.max) throw ksef.validation([`${name}: must be between ${rules.min} and ${rules.max}`]);
    return value;
  },
  string(req: Request, name: string): string | undefined {
    const raw = req.query[name];
    if (raw === undefined) return undefined;
    const text = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (typeof text !== 'string') throw ksef.validation([`${name}: must be a single value`]);
    return text;
  },
  list(req: Request, name: string): string[] {
    const raw = req.query[name];
    if (raw === undefined) return [];
    const items = Array.isArray(raw) ? raw : [raw];
    if (items.some((i) => typeof i !== 'string')) throw ksef.validation([`${name}: invalid value`]);
    return (items as string[]).flatMap((i) => i.split(',')).filter(Boolean);
  },
};

export const continuationHeader = (req: Request) => req.get('x-continuation-token');
