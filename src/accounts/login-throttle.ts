import { CompiledQuery, type Kysely } from 'kysely';
import pLimit from 'p-limit';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { Database } from '../db/schema.js';

/**
 * Failed sign-ins are throttled per client address and per email, in `login_throttle`, so every process
 * of one database counts together (rate-limiter-flexible's PostgreSQL store, run through our Kysely
 * connection: the same code on PGlite). A checked-and-refused caller costs one read, never a password hash.
 *
 * - one email from one address: the first `freeFailures` failures in a row cost nothing more; each further
 *   one doubles a back-off (2 s, 4 s, … up to `maxBackoffSeconds`) during which that pair is refused;
 *   a success clears it;
 * - one email from anywhere: `emailFailures` failures within `windowSeconds` lock it for `lockSeconds`;
 * - one address for any email: `addressFailures` failures within `windowSeconds` lock it for `lockSeconds`.
 *
 * Hashing itself is bounded: at most `concurrentHashes` at once (scrypt runs on libuv's small thread pool,
 * which file and zlib work share) and `queuedHashes` waiting; past that a caller is told to come back.
 */
export interface LoginThrottleLimits {
  freeFailures: number;
  maxBackoffSeconds: number;
  emailFailures: number;
  addressFailures: number;
  windowSeconds: number;
  lockSeconds: number;
  concurrentHashes: number;
  queuedHashes: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginThrottleLimits = {
  freeFailures: 3,
  maxBackoffSeconds: 60,
  emailFailures: 20,
  addressFailures: 50,
  windowSeconds: 900,
  lockSeconds: 900,
  concurrentHashes: 2,
  queuedHashes: 64,
};

/** Refused before any password was checked: too many failures (`reason` says which limit). */
export class LoginThrottledError extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    readonly reason: 'backoff' | 'email' | 'address' | 'busy',
  ) {
    super(`sign-in refused (${reason}); retry after ${retryAfterSeconds} s`);
  }
}

export const LOGIN_THROTTLE_TABLE = 'login_throttle';

export class LoginThrottle {
  private readonly consecutive: RateLimiterPostgres;
  private readonly backoff: RateLimiterPostgres;
  private readonly byEmail: RateLimiterPostgres;
  private readonly byAddress: RateLimiterPostgres;
  private readonly hashing: pLimit.Limit;

  constructor(
    db: Kysely<Database>,
    private readonly limits: LoginThrottleLimits = DEFAULT_LOGIN_LIMITS,
  ) {
    // The library speaks node-postgres' `query({text, values})`; Kysely runs it on either driver.
    const storeClient = {
      query: async (q: { text: string; values?: unknown[] }) => {
        const result = await db.executeQuery(CompiledQuery.raw(q.text, q.values ?? []));
        return { rows: result.rows, rowCount: result.rows.length || Number(result.numAffectedRows ?? 0) };
      },
    };
    const store = { storeClient, storeType: 'pool', tableName: LOGIN_THROTTLE_TABLE, tableCreated: true, clearExpiredByTimeout: true };
    const day = 86_400;
    this.consecutive = new RateLimiterPostgres({ ...store, keyPrefix: 'pair', points: Number.MAX_SAFE_INTEGER, duration: day });
    this.backoff = new RateLimiterPostgres({ ...store, keyPrefix: 'backoff', points: 1, duration: limits.maxBackoffSeconds });
    // The N-th failure is the one past N - 1 points: the library blocks for `blockDuration` from that one on.
    this.byEmail = new RateLimiterPostgres({ ...store, keyPrefix: 'email', points: limits.emailFailures - 1, duration: limits.windowSeconds, blockDuration: limits.lockSeconds });
    this.byAddress = new RateLimiterPostgres({ ...store, keyPrefix: 'address', points: limits.addressFailures - 1, duration: limits.windowSeconds, blockDuration: limits.lockSeconds });
    this.hashing = pLimit(limits.concurrentHashes);
  }

  /** Throws LoginThrottledError while any limit holds this email or address back. */
  async check(email: string, address: string): Promise<void> {
    const [backoff, byEmail, byAddress] = await Promise.all([
      this.backoff.get(pair(email, address)),
      this.byEmail.get(email.toLowerCase()),
      this.byAddress.get(address),
    ]);
    const held = (res: RateLimiterRes | null, points: number) => (res && res.consumedPoints > points ? seconds(res.msBeforeNext) : 0);
    const backoffFor = held(backoff, 1);
    if (backoffFor) throw new LoginThrottledError(backoffFor, 'backoff');
    const emailFor = held(byEmail, this.limits.emailFailures - 1);
    if (emailFor) throw new LoginThrottledError(emailFor, 'email');
    const addressFor = held(byAddress, this.limits.addressFailures - 1);
    if (addressFor) throw new LoginThrottledError(addressFor, 'address');
  }

  /** Verifies under the hashing bound; a full queue refuses at once instead of waiting. */
  hash<T>(verify: () => Promise<T>): Promise<T> {
    if (this.hashing.pendingCount >= this.limits.queuedHashes) return Promise.reject(new LoginThrottledError(1, 'busy'));
    return this.hashing(verify);
  }

  async failed(email: string, address: string): Promise<void> {
    const key = pair(email, address);
    const [streak] = await Promise.all([
      this.consecutive.penalty(key, 1),
      penaltyOrBlock(this.byEmail, email.toLowerCase()),
      penaltyOrBlock(this.byAddress, address),
    ]);
    const beyond = streak.consumedPoints - this.limits.freeFailures;
    if (beyond > 0) await this.backoff.block(key, Math.min(2 ** beyond, this.limits.maxBackoffSeconds));
  }

  async succeeded(email: string, address: string): Promise<void> {
    const key = pair(email, address);
    await Promise.all([this.consecutive.delete(key), this.backoff.delete(key)]);
  }
}

const pair = (email: string, address: string) => `${email.toLowerCase()}|${address}`;
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** `consume` rejects with the result once the points are gone (and blocks for `blockDuration`): both count. */
async function penaltyOrBlock(limiter: RateLimiterPostgres, key: string): Promise<void> {
  try {
    await limiter.consume(key, 1);
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
  }
}
