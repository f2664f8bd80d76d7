import { type Kysely, type Selectable, sql } from 'kysely';
import type { KsefConfig, KsefEnvironmentName } from '../config';
import type { Database, SyncedInvoicesTable } from '../db/schema';
import type { Logger } from '../logger';
import type { SessionInvoice } from './api';
import type { KsefClient } from './client';
import { aesEncrypt, sha256Base64 } from './crypto';
import { KsefDuplicateInvoiceError, KsefError, KsefInvoiceRejectedError, KsefRejectedError } from './errors';
import type { OnlineSessions } from './sessions';

export type OutboxRow = Selectable<SyncedInvoicesTable>;

/** Session states in which KSeF takes no more invoices: 21173 no such session, 21180 closed or expired. */
const SESSION_GONE = [21173, 21180];

/**
 * Delivery of invoices we issue (rows of `synced_invoices`): `queued` → sent into the online session →
 * `pending` → KSeF's number → `sent` (or `error` with KSeF's reason). A row is claimed before it is worked
 * on (`FOR UPDATE SKIP LOCKED`, then a lease in `next_attempt_at`), so one process at a time sends it; a
 * process that dies mid-send loses its lease and another one finishes the job. Sending the same bytes twice
 * cannot create two invoices: KSeF answers 440 with the original number, which is recorded as the result.
 */
export class Outbox {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  /** More background work run on every pass (the offline queue's status checks and batch recovery). */
  extraWork?: () => Promise<number>;
  /** True while queued invoices of this company and environment must not be sent (outage simulation). */
  hold?: (companyId: string, environment: KsefEnvironmentName) => Promise<boolean>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly client: KsefClient,
    private readonly sessions: OnlineSessions,
    private readonly config: KsefConfig,
    private readonly logger: Logger,
  ) {}

  /** Due rows in `status`, locked and leased to this process; `id` narrows it to one invoice. */
  async claim(status: 'queued' | 'pending', options: { id?: string; limit: number }): Promise<OutboxRow[]> {
    return this.db.transaction().execute(async (trx) => {
      const now = new Date();
      let query = trx
        .selectFrom('synced_invoices')
        .selectAll()
        .where('status', '=', status)
        .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', now)]));
      if (options.id) query = query.where('id', '=', options.id);
      const rows = await query.orderBy('created_at').limit(options.limit).forUpdate().skipLocked().execute();
      if (rows.length > 0) {
        await trx
          .updateTable('synced_invoices')
          .set({ next_attempt_at: new Date(now.getTime() + this.config.outboxLeaseMs), attempts: sql`attempts + 1`, updated_at: now })
          .where('id', 'in', rows.map((r) => r.id))
          .execute();
      }
      return rows;
    });
  }

  /**
   * Encrypts and sends a claimed `queued` row into the company's online session; the row becomes `pending`.
   * `pollAfterMs`: when the worker may first ask KSeF about it (a waiting request asks on its own before).
   */
  async transmit(row: OutboxRow, pollAfterMs = 200): Promise<OutboxRow> {
    const environment = row.environment;
    try {
      for (let attempt = 1; ; attempt++) {
        const session = await this.sessions.reserve(row.company_id, environment);
        const encrypted = aesEncrypt(session.key, row.xml);
        try {
          const { referenceNumber } = await this.client.call(row.company_id, environment, (api, bearer) =>
            api.sendInvoice(row.company_id, bearer, session.referenceNumber, {
              invoiceHash: row.invoice_hash,
              invoiceSize: row.xml.length,
              encryptedInvoiceHash: sha256Base64(encrypted),
              encryptedInvoiceSize: encrypted.length,
              encryptedInvoiceContent: encrypted.toString('base64'),
              offlineMode: false,
            }),
          );
          return await this.update(row.id, {
            status: 'pending',
            session_reference_number: session.referenceNumber,
            invoice_reference_number: referenceNumber,
            next_attempt_at: new Date(Date.now() + pollAfterMs),
            error_code: null,
            error_message: null,
          });
        } catch (err) {
          if (attempt === 1 && err instanceof KsefRejectedError && SESSION_GONE.some((c) => err.has(c))) {
            await this.sessions.retire(session.id);
            continue;
          }
          throw err;
        }
      }
    } catch (err) {
      if (err instanceof KsefRejectedError && err.httpStatus === 400) {
        const entry = err.entries[0];
        await this.update(row.id, { status: 'error', error_code: entry?.code ?? 400, error_message: err.message, next_attempt_at: null });
      } else {
        // Transient (KSeF unreachable, slow, 5xx, 429, auth): stays queued, retried later with backoff.
        const delay = Math.min(5 * 60_000, 1_000 * 2 ** Math.min(row.attempts, 8));
        await this.update(row.id, { next_attempt_at: new Date(Date.now() + delay), error_message: (err as Error).message });
      }
      throw err;
    }
  }

  /**
   * Asks KSeF about a `pending` row once: it becomes `sent`, `error`, or stays `pending` (polled again
   * later; `recordWaiting: false` when the caller polls on its own and the row need not be touched).
   */
  async checkStatus(row: OutboxRow, { recordWaiting = true } = {}): Promise<OutboxRow> {
    const item = await this.client.call(row.company_id, row.environment, (api, bearer) =>
      api.invoiceStatus(row.company_id, bearer, row.session_reference_number!, row.invoice_reference_number!),
    );
    const code = item.status.code;
    if (code < 200) {
      if (!recordWaiting) return row;
      const delay = Math.min(60_000, 250 * 2 ** Math.min(row.attempts, 8));
      return this.update(row.id, { next_attempt_at: new Date(Date.now() + delay) });
    }
    if (code === 200) return this.markSent(row, item.ksefNumber!, row.session_reference_number!, item);
    if (code === 440) {
      const original = item.status.extensions?.originalKsefNumber;
      if (original) {
        const holder = await this.db
          .selectFrom('synced_invoices')
          .select('id')
          .where('company_id', '=', row.company_id)
          .where('environment', '=', row.environment)
          .where('ksef_number', '=', original)
          .where('id', '!=', row.id)
          .executeTakeFirst();
        // No other row of ours holds it: this very file reached KSeF before (a crash, a retry) - it is sent.
        if (!holder) return this.markSent(row, original, item.status.extensions?.originalSessionReferenceNumber ?? row.session_reference_number!, null);
      }
    }
    return this.update(row.id, {
      status: 'error',
      error_code: code,
      error_message: [item.status.description, ...(item.status.details ?? [])].join(': '),
      next_attempt_at: null,
    });
  }

  /** The outcome of a finished row as an error to throw, if it failed. */
  failure(row: OutboxRow): KsefError | null {
    if (row.status !== 'error') return null;
    const entry = { code: row.error_code ?? 0, description: row.error_message ?? 'rejected' };
    const original = row.error_code === 440 ? /(\d{10}-\d{8}-[0-9A-F]{12}-[0-9A-F]{2})/.exec(row.error_message ?? '')?.[1] : undefined;
    return original ? new KsefDuplicateInvoiceError(row.environment, original, entry) : new KsefInvoiceRejectedError(row.environment, entry);
  }

  /** One pass of the background worker: send what is queued, ask about what is pending, close idle sessions. */
  async tick(): Promise<number> {
    const queued = await this.claim('queued', { limit: 20 });
    await Promise.all(
      queued.map(async (row) => {
        // An outage simulation is on: nothing goes online; the row waits (checked again shortly).
        if (this.hold && (await this.hold(row.company_id, row.environment))) return void (await this.update(row.id, { next_attempt_at: new Date(Date.now() + 2_000) }));
        await this.transmit(row).catch((err) => this.logFailure('send', row, err));
      }),
    );
    const pending = await this.claim('pending', { limit: 50 });
    await Promise.all(pending.map((row) => this.checkStatus(row).catch((err) => this.logFailure('status check', row, err))));
    const extra = this.extraWork ? await this.extraWork().catch((err) => (this.logger.warn('offline queue pass failed', { error: (err as Error).message }), 0)) : 0;
    await this.sessions.closeIdle(this.config.sessionIdleMs).catch((err) => this.logger.warn('closing idle sessions failed', { error: (err as Error).message }));
    return queued.length + pending.length + extra;
  }

  start(): void {
    if (this.config.outboxIntervalMs === 0 || !this.stopped) return;
    this.stopped = false;
    const loop = async () => {
      let worked = 0;
      try {
        worked = await this.tick();
      } catch (err) {
        this.logger.warn('outbox pass failed', { error: (err as Error).message });
      }
      if (!this.stopped) this.timer = setTimeout(() => (this.running = loop()), worked > 0 ? 50 : this.config.outboxIntervalMs);
    };
    this.timer = setTimeout(() => (this.running = loop()), 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async markSent(row: OutboxRow, ksefNumber: string, sessionReference: string, item: SessionInvoice | null): Promise<OutboxRow> {
    return this.update(row.id, {
      status: 'sent',
      ksef_number: ksefNumber,
      session_reference_number: sessionReference,
      acquisition_date: item?.acquisitionDate ? new Date(item.acquisitionDate) : null,
      permanent_storage_date: item?.permanentStorageDate ? new Date(item.permanentStorageDate) : null,
      invoicing_mode: item?.invoicingMode ?? null,
      error_code: null,
      error_message: null,
      next_attempt_at: null,
    });
  }

  private async update(id: string, values: Partial<Record<keyof SyncedInvoicesTable, unknown>>): Promise<OutboxRow> {
    return this.db
      .updateTable('synced_invoices')
      .set({ ...(values as object), updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  private logFailure(what: string, row: OutboxRow, err: unknown) {
    this.logger.warn(`outbox ${what} failed`, { environment: row.environment, invoiceId: row.id, error: (err as Error).message });
  }
}

