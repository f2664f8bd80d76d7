import type { Kysely } from 'kysely';
import type { KsefEnvironmentName } from '../config.js';
import type { Database, SubjectType } from '../db/schema.js';

/**
 * What an operator watches, over every company: the outbox backlog and when each subject type last synced.
 * Aggregates over indexed columns (`synced_invoices_outbox` is on status), cheap enough for every scrape.
 */

const ENVIRONMENTS: KsefEnvironmentName[] = ['test', 'demo', 'prod'];
/** The invoices of the outbox: waiting to be sent, handed to KSeF and not yet numbered, refused. */
export const OUTBOX_STATUSES = ['queued', 'pending', 'error'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

export interface OutboxFigure {
  environment: KsefEnvironmentName;
  status: OutboxStatus;
  invoices: number;
  /** When the oldest of them was stored; null when there are none. */
  oldestCreatedAt: Date | null;
}

/** Every environment × status, zeros included (a series that disappears cannot be alerted on). */
export async function outboxFigures(db: Kysely<Database>): Promise<OutboxFigure[]> {
  const rows = await db
    .selectFrom('synced_invoices')
    .select((eb) => ['environment', 'status', eb.fn.countAll<string | number>().as('invoices'), eb.fn.min('created_at').as('oldest')])
    .where('status', 'in', OUTBOX_STATUSES)
    .groupBy(['environment', 'status'])
    .execute();
  return ENVIRONMENTS.flatMap((environment) =>
    OUTBOX_STATUSES.map((status) => {
      const row = rows.find((r) => r.environment === environment && r.status === status);
      return { environment, status, invoices: Number(row?.invoices ?? 0), oldestCreatedAt: row?.oldest ? new Date(row.oldest) : null };
    }),
  );
}

export interface SyncFigure {
  environment: KsefEnvironmentName;
  subjectType: SubjectType;
  /** The least recent last success over the companies syncing this subject type. */
  lastSuccessAt: Date;
}

/** Subject types that synced successfully at least once, per environment. */
export async function syncFigures(db: Kysely<Database>): Promise<SyncFigure[]> {
  const rows = await db
    .selectFrom('invoice_sync_meta')
    .select((eb) => ['environment', 'subject_type', eb.fn.min('last_success_at').as('last_success_at')])
    .where('last_success_at', 'is not', null)
    .groupBy(['environment', 'subject_type'])
    .execute();
  return rows.map((r) => ({ environment: r.environment, subjectType: r.subject_type, lastSuccessAt: new Date(r.last_success_at!) }));
}

/** The environments some company keeps KSeF credentials for: the ones this installation uses. */
export async function environmentsInUse(db: Kysely<Database>): Promise<KsefEnvironmentName[]> {
  const rows = await db.selectFrom('ksef_credentials').select('environment').distinct().execute();
  return ENVIRONMENTS.filter((e) => rows.some((r) => r.environment === e));
}
