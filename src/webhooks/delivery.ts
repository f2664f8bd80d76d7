import type { LookupFunction } from 'node:net';
import got from 'got';
import { type Kysely, sql } from 'kysely';
import type { WebhookConfig } from '../config.js';
import type { Database, KsefEnvironment } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { WorkerLoop } from '../worker-loop.js';
import { guardedLookup, literalRefusal } from './addresses.js';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signatureHeader } from './signing.js';
import type { SecretSealer } from './subscriptions.js';

/** The longest pause between two attempts (the backoff's cap, and the most of a `Retry-After` we wait). */
const MAX_PAUSE_MS = 3_600_000;
/** Events (with their deliveries and attempts) are kept this long, then deleted. */
const RETENTION_MS = 30 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
/** Stored per attempt: enough to say what went wrong. */
const MAX_ERROR_LENGTH = 500;

interface Claimed {
  id: string;
  subscription_id: string;
  attempts: number;
  event_id: string;
  type: string;
  environment: KsefEnvironment;
  data: unknown;
  created_at: Date;
  url: string;
  secret_enc: Buffer;
  /** The replaced secret while it still signs (a rotation's overlap), else null. */
  previous_secret_enc: Buffer | null;
}

interface Outcome {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** The receiver's `Retry-After` (429, 503), in milliseconds. */
  retryAfterMs?: number;
}

/**
 * The delivery worker: due deliveries are claimed (`FOR UPDATE SKIP LOCKED`, then a lease in
 * `next_attempt_at` longer than an attempt can take), so of several processes on one database one makes
 * each attempt; one that dies mid-attempt loses its lease and the attempt is made again after it. At most
 * `concurrency` attempts per process at once, at most half of them for one subscription (a receiver that
 * hangs holds up its own deliveries, not the others'); a finished attempt frees its slot for the next one.
 * Each attempt is signed afresh and bounded by `timeoutMs`. A failure (no 2xx in time) is tried again after
 * an exponential, jittered pause (or the receiver's `Retry-After` on 429/503) until `retryForMs` after the
 * event; then the delivery is given up. Nothing here waits on a send.
 */
export class WebhookDelivery {
  private readonly loop: WorkerLoop;
  private readonly leaseMs: number;
  /** Attempts under way in this process, and how many of them each subscription has. */
  private readonly running = new Set<Promise<void>>();
  private readonly perSubscription = new Map<string, number>();
  private readonly perSubscriptionCap: number;
  private prunedAt = 0;
  private readonly lookup: LookupFunction;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sealer: SecretSealer,
    private readonly config: WebhookConfig,
    private readonly logger: Logger,
    private readonly userAgent: string,
  ) {
    this.leaseMs = config.timeoutMs * 6;
    this.lookup = guardedLookup(config.privateAddresses);
    this.perSubscriptionCap = Math.ceil(config.concurrency / 2);
    this.loop = new WorkerLoop(() => this.tick(), config.intervalMs, (err) => logger.warn({ error: err.message }, 'webhook delivery pass failed'));
  }

  start(): void {
    this.loop.start();
  }

  /** Waits (at most `timeoutMs`) for the attempts under way; an unfinished one is made again once its lease ends. */
  async stop(timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.loop.stop(timeoutMs);
    const left = Math.max(0, deadline - Date.now());
    const under = Promise.allSettled([...this.running]);
    await (Number.isFinite(left) ? Promise.race([under, new Promise((resolve) => setTimeout(resolve, left).unref())]) : under);
  }

  /**
   * One pass: fills the free slots with due deliveries and starts them (their end is not waited for).
   * Answers how many it started, or 1 while every slot is busy, so that the next pass comes soon.
   */
  async tick(): Promise<number> {
    let started = 0;
    while (this.running.size < this.config.concurrency) {
      const saturated = [...this.perSubscription].filter(([, n]) => n >= this.perSubscriptionCap).map(([id]) => id);
      const claimed = await this.claim(saturated);
      if (!claimed) break;
      this.begin(claimed);
      started++;
    }
    if (Date.now() - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = Date.now();
      await this.db.deleteFrom('webhook_events').where('created_at', '<', new Date(Date.now() - RETENTION_MS)).execute();
    }
    return this.running.size >= this.config.concurrency ? Math.max(started, 1) : started;
  }

  private begin(d: Claimed): void {
    const count = (n: number) => (n > 0 ? this.perSubscription.set(d.subscription_id, n) : this.perSubscription.delete(d.subscription_id));
    count((this.perSubscription.get(d.subscription_id) ?? 0) + 1);
    const attempt: Promise<void> = this.attempt(d)
      .catch((err) => this.logger.warn({ deliveryId: d.id, error: (err as Error).message }, 'recording a webhook attempt failed'))
      .finally(() => {
        this.running.delete(attempt);
        count((this.perSubscription.get(d.subscription_id) ?? 1) - 1);
      });
    this.running.add(attempt);
  }

  /** The next due delivery, locked and leased to this process, of a subscription not in `saturated`. */
  private async claim(saturated: string[]): Promise<Claimed | undefined> {
    const others = saturated.length > 0 ? sql`and subscription_id not in (${sql.join(saturated.map((id) => sql`${id}::uuid`))})` : sql``;
    const result = await sql<Claimed>`
      with due as (
        select id from webhook_deliveries
        where status = 'pending' and next_attempt_at <= now() ${others}
        order by next_attempt_at
        limit 1
        for update skip locked
      )
      update webhook_deliveries as d
      set attempts = d.attempts + 1, next_attempt_at = now() + ${this.leaseMs}::float8 * interval '1 millisecond', updated_at = now()
      from due, webhook_events as e, webhook_subscriptions as s
      where d.id = due.id and e.id = d.event_id and s.id = d.subscription_id
      returning d.id, d.subscription_id, d.attempts, e.id as event_id, e.type, e.environment, e.data, e.created_at, s.url, s.secret_enc,
        case when s.previous_secret_expires_at > now() then s.previous_secret_enc end as previous_secret_enc`.execute(this.db);
    return result.rows[0];
  }

  private async attempt(d: Claimed): Promise<void> {
    const body = JSON.stringify({ id: d.event_id, type: d.type, createdAt: d.created_at.toISOString(), environment: d.environment, data: d.data });
    const secrets = [d.secret_enc, ...(d.previous_secret_enc ? [d.previous_secret_enc] : [])].map((sealed) => this.sealer.openString(sealed));
    const outcome = await this.post(d.url, body, d.event_id, secrets);
    const succeeded = outcome.error === null;
    const pauseMs = succeeded ? 0 : this.pause(d.attempts, outcome.retryAfterMs);
    // Recorded even when the lease ran out and another process took the delivery over (then only the attempt is).
    const recorded = await sql<{ status: string }>`
      with attempt as (
        insert into webhook_attempts (delivery_id, attempt, status_code, duration_ms, error)
        values (${d.id}, ${d.attempts}, ${outcome.statusCode}, ${outcome.durationMs}, ${outcome.error})
      )
      update webhook_deliveries as d
      set status = case
            when ${succeeded}::boolean then 'delivered'
            when now() + ${pauseMs}::float8 * interval '1 millisecond'
              > (select e.created_at from webhook_events as e where e.id = d.event_id) + ${this.config.retryForMs}::float8 * interval '1 millisecond' then 'failed'
            else 'pending' end,
          next_attempt_at = now() + ${pauseMs}::float8 * interval '1 millisecond',
          updated_at = now()
      where d.id = ${d.id} and d.attempts = ${d.attempts} and d.status = 'pending'
      returning d.status`.execute(this.db);
    const status = recorded.rows[0]?.status;
    if (status === 'failed') this.logger.warn({ eventId: d.event_id, type: d.type, attempts: d.attempts, error: outcome.error }, 'webhook delivery given up');
    else if (!succeeded) this.logger.debug({ eventId: d.event_id, type: d.type, attempt: d.attempts, error: outcome.error }, 'webhook attempt failed');
  }

  /** One POST, signed now; never throws. Only a 2xx answer within the timeout is a delivery. */
  private async post(url: string, body: string, eventId: string, secrets: string[]): Promise<Outcome> {
    const started = performance.now();
    const took = () => Math.round(performance.now() - started);
    const refused = literalRefusal(new URL(url), this.config.privateAddresses);
    if (refused) return { statusCode: null, error: `not sent: ${refused}`, durationMs: 0 };
    try {
      const res = await got.post(url, {
        dnsLookup: this.lookup,
        body,
        headers: {
          'content-type': 'application/json',
          'user-agent': this.userAgent,
          [SIGNATURE_HEADER]: signatureHeader(secrets, body, new Date()),
          [EVENT_ID_HEADER]: eventId,
        },
        timeout: { request: this.config.timeoutMs },
        retry: { limit: 0 },
        throwHttpErrors: false,
        // A redirect is an answer that is not a delivery (and following it could lead anywhere).
        followRedirect: false,
      });
      const durationMs = took();
      if (res.statusCode >= 200 && res.statusCode < 300) return { statusCode: res.statusCode, error: null, durationMs };
      const retryAfterMs = res.statusCode === 429 || res.statusCode === 503 ? parseRetryAfter(res.headers['retry-after']) : undefined;
      return { statusCode: res.statusCode, error: `the receiver answered HTTP ${res.statusCode}`, durationMs, retryAfterMs };
    } catch (err) {
      const e = err as Error & { code?: string };
      const error = e.name === 'TimeoutError' ? `no answer within ${this.config.timeoutMs} ms` : `${e.code ? `${e.code}: ` : ''}${e.message}`;
      return { statusCode: null, error: error.slice(0, MAX_ERROR_LENGTH), durationMs: took() };
    }
  }

  /** After the `attempt`-th failure: base·2^(attempt-1), ±20 % jitter, at most an hour; a `Retry-After` instead when given. */
  private pause(attempt: number, retryAfterMs: number | undefined): number {
    const base = this.config.retryBaseMs;
    if (retryAfterMs !== undefined) return Math.min(MAX_PAUSE_MS, Math.max(base, retryAfterMs));
    const exponential = Math.min(MAX_PAUSE_MS, base * 2 ** Math.min(attempt - 1, 30));
    return Math.round(exponential * (0.8 + Math.random() * 0.4));
  }
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
