import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import basicAuth from 'express-basic-auth';
import { hashPassword, verifyPassword } from '../accounts/passwords.js';
import { type LoginThrottle, LoginThrottledError } from '../accounts/login-throttle.js';
import { apiRoles, type Principal, type Users } from '../accounts/users.js';
import { ApiError } from './errors.js';

type LoginRow = Awaited<ReturnType<Users['findForLogin']>>;
type Caller = { resolve: (row: LoginRow) => void; reject: (err: unknown) => void };

/**
 * Basic auth checks a password on every request, and scrypt is slow by design. Successful checks are
 * remembered for a short time, keyed by an HMAC of the credentials (never the password itself). The
 * user row is still read for every request (by a read that starts after the request arrived, which
 * concurrent requests of one user may share) and the remembered entry only counts while the stored
 * hash is unchanged, so a changed password or a deleted user is refused at once, in every process.
 */
export class CredentialVerifier {
  private readonly remembered = new Map<string, { passwordHash: string; expiresAt: number }>();
  /** Reads of a user row by email: the callers waiting for the next read, and whether one is under way. */
  private readonly reads = new Map<string, { waiting: Caller[]; running: boolean }>();
  private readonly key = crypto.randomBytes(32);
  /** Compared against when the user does not exist. */
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly users: Users,
    private readonly throttle: LoginThrottle,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /**
   * A credential verified recently passes without hashing and without the throttle: a flood of wrong
   * passwords never delays a caller already signed in. Anything else is checked against the failed-login
   * limits first (LoginThrottledError, before any hashing), then hashed under the hashing bound.
   */
  async verify(email: string, password: string, clientAddress: string): Promise<Principal | null> {
    const user = await this.findForLogin(email);
    const key = user && crypto.createHmac('sha256', this.key).update(`${user.userId}\u0000${password}`).digest('base64');
    const entry = key ? this.remembered.get(key) : undefined;
    const now = Date.now();
    if (!(user && key && entry && entry.expiresAt > now && entry.passwordHash === user.passwordHash)) {
      if (key) this.remembered.delete(key);
      await this.throttle.check(email, clientAddress);
      // A wrong email costs as much as a wrong password.
      this.dummyHash ??= hashPassword(crypto.randomBytes(16).toString('hex'));
      const hash = user?.passwordHash ?? (await this.dummyHash);
      const valid = await this.throttle.hash(() => verifyPassword(password, hash));
      if (!user || !key || !valid) {
        await this.throttle.failed(email, clientAddress);
        return null;
      }
      await this.throttle.succeeded(email, clientAddress);
      if (this.remembered.size >= this.maxEntries) this.evictExpired(now);
      this.remembered.set(key, { passwordHash: user.passwordHash, expiresAt: now + this.ttlMs });
    }
    return {
      userId: user.userId,
      email: user.email,
      role: user.role,
      companyId: user.companyId,
      companyNip: user.companyNip,
      companyName: user.companyName,
    };
  }

  /**
   * The user row, read by a query that starts after this call: concurrent requests of one user share such
   * a read (one starting at the end of this turn of the event loop, or the next one when a read is under way).
   */
  private findForLogin(email: string): Promise<LoginRow> {
    return new Promise((resolve, reject) => {
      let read = this.reads.get(email);
      if (!read) this.reads.set(email, (read = { waiting: [], running: false }));
      read.waiting.push({ resolve, reject });
      if (!read.running && read.waiting.length === 1) setImmediate(() => this.read(email, read));
    });
  }

  private read(email: string, read: { waiting: Caller[]; running: boolean }): void {
    const callers = read.waiting;
    read.waiting = [];
    read.running = true;
    this.users
      .findForLogin(email)
      .then(
        (row) => callers.forEach((c) => c.resolve(row)),
        (err: unknown) => callers.forEach((c) => c.reject(err)),
      )
      .finally(() => {
        read.running = false;
        if (read.waiting.length > 0) setImmediate(() => this.read(email, read));
        else this.reads.delete(email);
      });
  }

  private evictExpired(now: number) {
    for (const [k, v] of this.remembered) if (v.expiresAt <= now) this.remembered.delete(k);
    if (this.remembered.size >= this.maxEntries) this.remembered.clear();
  }
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

function throttled(err: LoginThrottledError): ApiError {
  const headers = { 'Retry-After': String(err.retryAfterSeconds) };
  if (err.reason === 'busy') return new ApiError(503, 'auth_busy', 'Too many sign-ins are being checked right now; try again in a moment.', undefined, { headers });
  const whom = { backoff: 'this email from your address', email: 'this email', address: 'your address' }[err.reason];
  return new ApiError(429, 'too_many_failed_logins', `Too many failed sign-ins for ${whom}; try again in ${err.retryAfterSeconds} s.`, undefined, { headers });
}

const unauthorizedBody = {
  error: { code: 'unauthorized', message: 'Send HTTP Basic credentials (email and password) of an API user.' },
};

/** express-basic-auth with an async authorizer against the users table, then the role check (403). */
export function requireApiUser(verifier: CredentialVerifier): RequestHandler {
  return (req, res, next) => {
    const middleware = basicAuth({
      authorizeAsync: true,
      challenge: true,
      realm: 'Fast KSeF',
      unauthorizedResponse: () => unauthorizedBody,
      authorizer: (email: string, password: string, done: (err: unknown, approved: boolean) => void) => {
        verifier.verify(email, password, req.ip ?? req.socket.remoteAddress ?? 'unknown').then(
          (principal) => {
            if (principal) req.principal = principal;
            done(null, principal !== null);
          },
          (err) => next(err instanceof LoginThrottledError ? throttled(err) : err),
        );
      },
    });
    middleware(req, res, (err?: unknown) => {
      if (err) return next(err);
      const role = req.principal?.role;
      if (!role || !(apiRoles as readonly string[]).includes(role)) {
        return next(new ApiError(403, 'forbidden', `The role "${role}" has no access to the API; an admin or technical user is needed.`));
      }
      next();
    });
  };
}
