import { type Kysely, sql } from 'kysely';
import type { KsefConfig, KsefEnvironmentName } from '../../config.js';
import type { Database } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import { KsefRejectedError } from '../errors.js';
import type { SessionInvoice } from '../transport/api.js';
import { PUBLISHED_LIMITS } from '../transport/limiter.js';
import { type BatchLane, type BatchSessions, ZIP_ENTRY_OVERHEAD } from './batch-session.js';
import { announceInvoiceOutcomes } from '../events.js';
import { isOwnDuplicate } from './own-duplicate.js';
import { WorkerLoop } from '../../worker-loop.js';

/** Rows per result update statement. */
const SETTLE_CHUNK = 1_000;
/** A session's results are asked for at most this often. */
const POLL_EVERY_MS = 1_000;
/** "A few minutes": a backlog larger than what the published online limits clear in this time goes by batch. */
const BACKLOG_WINDOW_MS = 5 * 60_000;

/**
 * The default `OUTBOX_BATCH_THRESHOLD`: what KSeF's published invoiceSend limits let through online in
 * BACKLOG_WINDOW_MS from a standing start (10/s, 30/min, 180/h → 150). Without published limits (a
 * sandbox that has none) online sending is not the bottleneck, and the backlog is never diverted.
 */
export function backlogThreshold(config: KsefConfig): number {
  if (config.outboxBatchThreshold !== undefined) return config.outboxBatchThreshold;
  if (config.rateLimits !== 'published') return 0;
  const [perSecond, perMinute, perHour] = PUBLISHED_LIMITS.invoiceSend;
  return Math.min(perSecond * (BACKLOG_WINDOW_MS / 1_000), perMinute * (BACKLOG_WINDOW_MS / 60_000), perHour);
}

/** What a row becomes when its batch session's results are in. */
interface Settlement {
  id: string;
  status: 'sent' | 'error';
  ksef_number: string | null;
  session_reference_number: string;
  invoice_reference_number: string | null;
  acquisition_date: Date | null;
  permanent_storage_date: Date | null;
  invoicing_mode: string | null;
  error_code: number | null;
  error_message: string | null;
}

const describe = (s: { description: string; details?: string[] | null }) => [s.description, ...(s.details ?? [])].join(': ');

/**
 * The outbox of the batch lane: invoices we issue, delivered through KSeF batch sessions - sent in bulk
 * (BulkBatches), or an online backlog moved here by `divert`. Rows wait `queued` (transport `batch`);
 * the worker claims up to one session's worth (a lease in `next_attempt_at`, `FOR UPDATE SKIP LOCKED`),
 * BatchSessions sends them (rows `pending` with the session reference from the moment KSeF opens it),
 * and the session's invoice list settles them (`sent` with the KSeF number, or `error`).
 */
export class BatchOutbox {
  private readonly lastPolled = new Map<string, number>();
  private lastDivert = 0;
  private readonly threshold: number;
  /** True while invoices of this company and environment must not be sent (outage simulation). */
  hold?: (companyId: string, environment: KsefEnvironmentName) => Promise<boolean>;

  private readonly loop: WorkerLoop;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly batches: BatchSessions,
    private readonly config: KsefConfig,
    private readonly logger: Logger,
  ) {
    this.threshold = backlogThreshold(config);
    this.loop = new WorkerLoop(() => this.work(), config.outboxIntervalMs, (err) => logger.warn({ error: err.message }, 'bulk pass failed'));
  }

  /**
   * Moves a backlog to the batch lane: when more invoices of a company wait than the online limits clear
   * in a few minutes (`OUTBOX_BATCH_THRESHOLD`; counted in both lanes, so that the tail of a backlog already
   * moved follows it), its queued online rows that provably never reached KSeF (`online_unsent`) go by
   * batch session. A row that may have been handed to KSeF stays online,
   * where KSeF's duplicate check makes a retry safe; in a batch it could become a second invoice attempt.
   */
  async divert(): Promise<void> {
    if (this.threshold === 0 || Date.now() - this.lastDivert < 1_000) return;
    this.lastDivert = Date.now();
    const moved = await sql<{ company_id: string; environment: string; n: number }>`
      with backlog as (
        select company_id, environment from synced_invoices
        where status = 'queued'
        group by company_id, environment having count(*) > ${this.threshold}
      ), moved as (
        update synced_invoices as s set transport = 'batch', next_attempt_at = null, updated_at = now()
        from backlog as b
        where s.company_id = b.company_id and s.environment = b.environment and s.status = 'queued' and s.transport = 'online' and s.online_unsent
        returning s.company_id, s.environment
      )
      select company_id, environment, count(*)::int as n from moved group by company_id, environment`.execute(this.db);
    for (const m of moved.rows) {
      this.logger.info({ environment: m.environment, invoices: Number(m.n), threshold: this.threshold }, 'an online backlog goes by batch session');
    }
  }

  /** One pass: finish stale sessions, send one session per company and environment with rows waiting, settle finished sessions. */
  async work(): Promise<number> {
    await this.batches.recoverStale(this.lane(), new Date(Date.now() - this.config.outboxLeaseMs));
    const now = new Date();
    const due = await this.db
      .selectFrom('synced_invoices')
      .select(['company_id', 'environment'])
      .distinct()
      .where('status', '=', 'queued')
      .where('transport', '=', 'batch')
      .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', now)]))
      .execute();
    let worked = 0;
    for (const d of due) {
      if (this.hold && (await this.hold(d.company_id, d.environment))) continue;
      worked += await this.sendOne(d.company_id, d.environment).catch((err) => {
        this.logger.warn({ environment: d.environment, error: (err as Error).message }, 'sending a bulk batch failed');
        return 0;
      });
    }
    const sessions = await this.db
      .selectFrom('synced_invoices')
      .select(['company_id', 'environment', 'session_reference_number'])
      .distinct()
      .where('status', '=', 'pending')
      .where('transport', '=', 'batch')
      .where('session_reference_number', 'is not', null)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('ksef_sessions')
              .select(sql`1`.as('one'))
              .whereRef('ksef_sessions.reference_number', '=', 'synced_invoices.session_reference_number')
              .where('ksef_sessions.status', '=', 'uploading'),
          ),
        ),
      )
      .execute();
    for (const s of sessions) {
      const ref = s.session_reference_number!;
      if (Date.now() - (this.lastPolled.get(ref) ?? 0) < POLL_EVERY_MS) continue;
      this.lastPolled.set(ref, Date.now());
      worked += await this.poll(s.company_id, s.environment, ref).catch((err) => {
        this.logger.warn({ environment: s.environment, referenceNumber: ref, error: (err as Error).message }, 'bulk batch status check failed');
        return 0;
      });
    }
    return worked;
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Claims up to one session's worth of waiting rows (oldest first) and sends them; answers how many. */
  private async sendOne(companyId: string, environment: KsefEnvironmentName): Promise<number> {
    // Before anything is claimed: KSeF unreachable leaves the rows as they are.
    const certificate = await this.batches.prepare(companyId, environment);
    const limits = this.config.offlineBatch;
    const lease = new Date(Date.now() + this.config.outboxLeaseMs);
    const ids = await this.db.transaction().execute(async (trx) => {
      const now = new Date();
      const waiting = await trx
        .selectFrom('synced_invoices')
        .select(['id', sql<number>`octet_length(xml)`.as('size')])
        .where('company_id', '=', companyId)
        .where('environment', '=', environment)
        .where('status', '=', 'queued')
        .where('transport', '=', 'batch')
        .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', now)]))
        .orderBy('created_at')
        .orderBy('id')
        .limit(limits.maxInvoices)
        .forUpdate()
        .skipLocked()
        .execute();
      const picked: string[] = [];
      let bytes = 0;
      for (const row of waiting) {
        const size = Number(row.size) + ZIP_ENTRY_OVERHEAD;
        if (picked.length > 0 && bytes + size > limits.maxBytes) break;
        picked.push(row.id);
        bytes += size;
      }
      if (picked.length > 0) {
        await trx
          .updateTable('synced_invoices')
          .set({ next_attempt_at: lease, attempts: sql`attempts + 1`, updated_at: now })
          .where('id', 'in', picked)
          .execute();
      }
      return picked;
    });
    if (ids.length === 0) return 0;
    const files = await this.db.selectFrom('synced_invoices').select(['id', 'xml']).where('id', 'in', ids).orderBy('created_at').orderBy('id').execute();
    await this.batches.send(companyId, environment, this.lane(lease), certificate, files, limits.partBytes);
    return files.length;
  }

  /** Settles the rows of a finished session from its invoice list; answers how many rows it settled. */
  private async poll(companyId: string, environment: KsefEnvironmentName, referenceNumber: string): Promise<number> {
    const { status, invoices } = await this.batches.results(companyId, environment, referenceNumber);
    const code = status.status.code;
    if (code < 200) return 0;
    if (code === 440) {
      // Cancelled without processing anything: the invoices wait for the next session.
      await this.db.transaction().execute((trx) => this.lane().untag(trx, referenceNumber));
      return 0;
    }
    const rows = await this.db
      .selectFrom('synced_invoices')
      .select(['id', 'invoice_hash'])
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .where('session_reference_number', '=', referenceNumber)
      .where('status', '=', 'pending')
      .where('transport', '=', 'batch')
      .execute();
    const byHash = new Map<string, SessionInvoice>();
    // Of two entries for one file (it cannot be in our archive twice, but be safe) the accepted one counts.
    for (const i of invoices) if (!byHash.has(i.invoiceHash) || i.status.code === 200) byHash.set(i.invoiceHash, i);
    const settlements: Settlement[] = [];
    for (const row of rows) {
      const item = byHash.get(row.invoice_hash);
      const base = { id: row.id, session_reference_number: referenceNumber, invoice_reference_number: item?.referenceNumber ?? null };
      const none = { ksef_number: null, acquisition_date: null, permanent_storage_date: null, invoicing_mode: null };
      if (item && item.status.code === 200 && item.ksefNumber) {
        settlements.push({
          ...base,
          status: 'sent',
          ksef_number: item.ksefNumber,
          acquisition_date: item.acquisitionDate ? new Date(item.acquisitionDate) : null,
          permanent_storage_date: item.permanentStorageDate ? new Date(item.permanentStorageDate) : null,
          invoicing_mode: item.invoicingMode ?? null,
          error_code: null,
          error_message: null,
        });
      } else if (item && (await isOwnDuplicate(this.db, companyId, environment, row.id, item))) {
        // This very file reached KSeF before (as the outbox treats KSeF's 440): it is sent, under the original number.
        const original = item.status.extensions!.originalKsefNumber!;
        const session = item.status.extensions?.originalSessionReferenceNumber ?? referenceNumber;
        settlements.push({ ...base, ...none, status: 'sent', ksef_number: original, session_reference_number: session, error_code: null, error_message: null });
      } else if (item && item.status.code >= 400) {
        settlements.push({ ...base, ...none, status: 'error', error_code: item.status.code, error_message: describe(item.status) });
      } else if (!item && code >= 400) {
        settlements.push({ ...base, ...none, status: 'error', error_code: code, error_message: describe(status.status) });
      } else if (!item) {
        settlements.push({ ...base, ...none, status: 'error', error_code: null, error_message: `KSeF's session ${referenceNumber} finished without this invoice.` });
      }
    }
    for (let i = 0; i < settlements.length; i += SETTLE_CHUNK) await this.settle(settlements.slice(i, i + SETTLE_CHUNK));
    if (settlements.length === rows.length) this.lastPolled.delete(referenceNumber);
    return settlements.length;
  }

  /** One statement for many rows' results (only rows still `pending`: another process may have settled them). */
  private async settle(settlements: Settlement[]): Promise<void> {
    const values = settlements.map(
      (s) =>
        sql`(${s.id}::uuid, ${s.status}::text, ${s.ksef_number}::varchar, ${s.session_reference_number}::varchar, ${s.invoice_reference_number}::varchar,
          ${s.acquisition_date}::timestamptz, ${s.permanent_storage_date}::timestamptz, ${s.invoicing_mode}::text, ${s.error_code}::integer, ${s.error_message}::text)`,
    );
    await this.db.transaction().execute(async (trx) => {
      const settled = await sql<{ id: string }>`update synced_invoices as t set status = v.status, ksef_number = v.ksef_number, session_reference_number = v.session_reference_number,
          invoice_reference_number = v.invoice_reference_number, acquisition_date = v.acquisition_date, permanent_storage_date = v.permanent_storage_date,
          invoicing_mode = v.invoicing_mode, error_code = v.error_code, error_message = v.error_message, next_attempt_at = null, updated_at = now()
        from (values ${sql.join(values)}) as v(id, status, ksef_number, session_reference_number, invoice_reference_number, acquisition_date,
          permanent_storage_date, invoicing_mode, error_code, error_message)
        where t.id = v.id and t.status = 'pending'
        returning t.id`.execute(trx);
      await announceInvoiceOutcomes(trx, settled.rows.map((r) => r.id));
    });
  }

  /**
   * The batch lane of `synced_invoices`. `lease`: the claim being sent; a row whose lease ran out and was
   * claimed again meanwhile (another lease) is not this claim's any more.
   */
  private lane(lease?: Date): BatchLane {
    return {
      name: 'bulk',
      offlineMode: false,
      tag: async (trx, ids, referenceNumber) => {
        const tagged = await trx
          .updateTable('synced_invoices')
          .set({ status: 'pending', session_reference_number: referenceNumber, invoice_reference_number: null, next_attempt_at: null, error_code: null, error_message: null, updated_at: new Date() })
          .where('id', 'in', ids)
          .where('status', '=', 'queued')
          .where('transport', '=', 'batch')
          .where('next_attempt_at', '=', lease!)
          .returning('id')
          .execute();
        return tagged.length === ids.length;
      },
      untag: async (trx, referenceNumber) => {
        await trx
          .updateTable('synced_invoices')
          .set({ status: 'queued', session_reference_number: null, next_attempt_at: null, updated_at: new Date() })
          .where('session_reference_number', '=', referenceNumber)
          .where('status', '=', 'pending')
          .where('transport', '=', 'batch')
          .execute();
      },
      release: async (ids, cause) => {
        const mine = (db: Kysely<Database>) => db.updateTable('synced_invoices').where('id', 'in', ids).where('status', '=', 'queued').where('next_attempt_at', '=', lease!);
        if (cause instanceof KsefRejectedError && cause.httpStatus === 400) {
          // KSeF refused the session itself (not a passing failure): trying again would be refused again.
          const code = cause.entries[0]?.code ?? 400;
          await this.db.transaction().execute(async (trx) => {
            const failed = await mine(trx)
              .set({ status: 'error', error_code: code, error_message: cause.message, next_attempt_at: null, updated_at: new Date() })
              .returning('id')
              .execute();
            await announceInvoiceOutcomes(trx, failed.map((r) => r.id));
          });
          return;
        }
        // Tried again after a pause that grows with the attempts (at most a minute).
        await mine(this.db).set({ next_attempt_at: sql`now() + least(60, power(2, least(attempts, 6))) * interval '1 second'`, updated_at: new Date() }).execute();
      },
    };
  }
}
