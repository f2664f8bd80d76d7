import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database, KsefEnvironment } from '../db/schema.js';

/** What a subscription can receive (spec: WebhookEventType). */
export const WEBHOOK_EVENT_TYPES = ['invoice.sent', 'invoice.failed', 'invoice.received', 'offline.deadline', 'sync.completed', 'batch.completed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** One event to record, built in JS. */
export interface NewWebhookEvent {
  companyId: string;
  environment: KsefEnvironment;
  type: WebhookEventType;
  /** The same key for two announcements of one change: the second is not recorded (see recordEventRows). */
  dedupeKey: string;
  data: Record<string, unknown>;
}

/** A timestamptz as the ISO 8601 UTC string event bodies carry (null stays null). */
export const isoTimestamp = (column: RawBuilder<unknown>) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * Records events inside the caller's transaction (`trx`: the one that makes the change they announce), so
 * an event exists exactly when its change committed. `rows` is a query answering `company_id, environment,
 * type, dedupe_key, data` (jsonb). An event is recorded only for a company with a subscription that wants
 * its type (nothing is written otherwise), once per company and `dedupe_key`, together with one delivery
 * per such subscription; a subscription created later does not receive it. Answers how many were recorded.
 */
export async function recordEventRows(trx: Kysely<Database>, rows: RawBuilder<unknown>): Promise<number> {
  // The subscriptions are locked (key share) so that one deleted meanwhile is skipped, not a failed insert.
  const result = await sql<{ n: number }>`
    with candidate (company_id, environment, type, dedupe_key, data) as (${rows}),
    subscriber as (
      select s.id, s.company_id, s.events from webhook_subscriptions as s
      where s.company_id in (select company_id from candidate)
      for key share
    ), recorded as (
      insert into webhook_events (company_id, environment, type, dedupe_key, data)
      select c.company_id, c.environment, c.type, c.dedupe_key, c.data from candidate as c
      where exists (select from subscriber as s where s.company_id = c.company_id and c.type = any(s.events))
      on conflict (company_id, dedupe_key) do nothing
      returning id, company_id, type
    ), fanned as (
      insert into webhook_deliveries (event_id, subscription_id)
      select e.id, s.id from recorded as e
      join subscriber as s on s.company_id = e.company_id and e.type = any(s.events)
    )
    select count(*)::int as n from recorded`.execute(trx);
  return result.rows[0]?.n ?? 0;
}

/** recordEventRows for events built in JS. */
export async function recordEvents(trx: Kysely<Database>, events: NewWebhookEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const values = events.map(
    (e) => sql`(${e.companyId}::uuid, ${e.environment}::text, ${e.type}::text, ${e.dedupeKey}::text, ${JSON.stringify(e.data)}::jsonb)`,
  );
  return recordEventRows(trx, sql`values ${sql.join(values)}`);
}
