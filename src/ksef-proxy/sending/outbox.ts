import { type Kysely, type Selectable, sql } from 'kysely';
import type { KsefConfig, KsefEnvironmentName } from '../../config.js';
import type { Database, SyncedInvoicesTable } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import type { SessionInvoice } from '../transport/api.js';
import { Batcher } from './batcher.js';
import type { KsefClient } from '../transport/client.js';
import { aesEncrypt, sha256Base64 } from '../transport/crypto.js';
import { KsefDuplicateInvoiceError, KsefError, KsefInvoiceRejectedError, KsefRejectedError } from '../errors.js';
import type { OnlineSession, OnlineSessions } from './sessions.js';
import { announceInvoiceOutcomes } from '../events.js';
import { isOwnDuplicate } from './own-duplicate.js';
import { WorkerLoop } from '../../worker-loop.js';

/** What the outbox reads and writes of a `synced_invoices` row (a full row, `selectAll`, is one too). */
export type OutboxRow = Pick<
  Selectable<SyncedInvoicesTable>,
  | 'id'
  | 'company_id'
  | 'environment'
  | 'status'
  | 'invoice_number'
  | 'invoice_hash'
  | 'xml'
  | 'attempts'
  | 'ksef_number'
  | 'session_reference_number'
  | 'invoice_reference_number'
  | 'attempt_session_reference'
  | 'acquisition_date'
  | 'permanent_storage_date'
  | 'invoicing_mode'
  | 'error_code'
  | 'error_message'
  | 'next_attempt_at'
  | 'updated_at'
>;

/** The columns the outbox changes on a row, with their SQL types (for a batched `update … from (values …)`). */
const UPDATABLE = {
  status: 'text',
  ksef_number: 'varchar',
  session_reference_number: 'varchar',
  invoice_reference_number: 'varchar',
  attempt_session_reference: 'varchar',
  acquisition_date: 'timestamptz',
  permanent_storage_date: 'timestamptz',
  invoicing_mode: 'text',
  error_code: 'integer',
  error_message: 'text',
  next_attempt_at: 'timestamptz',
  online_unsent: 'boolean',
  updated_at: 'timestamptz',
} as const;

type RowChange = Partial<Pick<OutboxRow, Exclude<keyof typeof UPDATABLE, 'updated_at' | 'online_unsent'>>> & { online_unsent?: boolean };

/** Session states in which KSeF takes no more invoices: 21173 no such session, 21180 closed or expired. */
const SESSION_GONE = [21173, 21180];
/** KSeF does not know the session at all (so it holds no invoice of ours). */
const SESSION_UNKNOWN = [21173];

/** A row KSeF accepted into `session` as `invoiceReference`: asked about from `pollAfterMs` on. */
const pendingChange = (session: string, invoiceReference: string, pollAfterMs: number): RowChange => ({
  status: 'pending',
  session_reference_number: session,
  invoice_reference_number: invoiceReference,
  attempt_session_reference: null,
  next_attempt_at: new Date(Date.now() + pollAfterMs),
  error_code: null,
  error_message: null,
});

/**
 * Delivery of invoices we issue (rows of `synced_invoices`): `queued` → sent into the online session →
 * `pending` → KSeF's number → `sent` (or `error` with KSeF's reason). A row is claimed before it is worked
 * on (`FOR UPDATE SKIP LOCKED`, then a lease in `next_attempt_at`), so one process at a time sends it; a
 * process that dies mid-send loses its lease and another one finishes the job. Sending the same bytes twice
 * cannot create two invoices: KSeF answers 440 with the original number, which is recorded as the result.
 */
export class Outbox {
  /** When the extra work last ran. */
  private extraWorkAt = 0;
  /** More background work, run once per interval (the offline queue, relations of the invoices we sent). */
  extraWork?: () => Promise<void>;
  /** Runs before each pass claims queued rows: a backlog too large for the online limits moves to batch sessions. */
  divert?: () => Promise<void>;
  /** True while queued invoices of this company and environment must not be sent (outage simulation). */
  hold?: (companyId: string, environment: KsefEnvironmentName) => Promise<boolean>;
  /** Rows this process holds a lease on right now: given back at shutdown, so another process need not wait it out. */
  private readonly leased = new Set<string>();
  private readonly loop: WorkerLoop;
  /** Row updates of concurrent sends, written together (see Batcher). */
  private readonly updates: Batcher<{ id: string; values: RowChange & { updated_at: Date } }, Date>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly client: KsefClient,
    readonly sessions: OnlineSessions,
    private readonly config: KsefConfig,
    private readonly logger: Logger,
  ) {
    this.updates = new Batcher(db, (items, connection) => this.writeChanges(items, connection));
    this.loop = new WorkerLoop(() => this.tick(), config.outboxIntervalMs, (err) => logger.warn({ error: err.message }, 'outbox pass failed'));
  }

  /**
   * Due rows in `status` of the online lane, locked and leased to this process; `id` narrows it to one
   * invoice. A claimed row may reach KSeF online from now on, so it loses `online_unsent` (see deliver).
   */
  async claim(status: 'queued' | 'pending', options: { id?: string; limit: number }): Promise<OutboxRow[]> {
    return this.db.transaction().execute(async (trx) => {
      const now = new Date();
      let query = trx
        .selectFrom('synced_invoices')
        .selectAll()
        .where('status', '=', status)
        .where('transport', '=', 'online')
        .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', now)]));
      if (options.id) query = query.where('id', '=', options.id);
      const rows = await query.orderBy('created_at').limit(options.limit).forUpdate().skipLocked().execute();
      this.leaseHeld(rows.map((r) => r.id));
      if (rows.length > 0) {
        await trx
          .updateTable('synced_invoices')
          .set({ next_attempt_at: new Date(now.getTime() + this.config.outboxLeaseMs), attempts: sql`attempts + 1`, online_unsent: false, updated_at: now })
          .where('id', 'in', rows.map((r) => r.id))
          .execute();
      }
      return rows;
    });
  }

  /**
   * Encrypts and sends a claimed `queued` row into the company's online session; the row becomes `pending`.
   * `pollAfterMs`: when the worker may first ask KSeF about it (a waiting request asks on its own before).
   * `reserved`: a slot the caller already counted for this row in an open session (used for the first try).
   * `askAtOnce`: ask KSeF for the invoice's status right after sending, and write what it says together
   * with the invoice's reference in one update instead of two (pending, then sent). Until that update
   * the row stays `queued` and leased to this process, as it is while the send itself is under way: if
   * the process dies in between, the row is sent again when the lease ends, and KSeF's 440 (duplicate,
   * with the original number) records it as sent (see checkStatus) - never a second invoice.
   */
  async transmit(row: OutboxRow, pollAfterMs = 200, reserved?: OnlineSession, { askAtOnce = false } = {}): Promise<OutboxRow> {
    const earlier = await this.earlierAttempt(row);
    if (earlier) {
      // KSeF has it from an attempt whose answer was never recorded (a crash, a lost answer): not sent again.
      this.logger.info({ environment: row.environment, invoiceId: row.id }, 'an earlier attempt reached KSeF: recording it instead of sending again');
      const found = { ...row, ...pendingChange(row.attempt_session_reference!, earlier.referenceNumber, pollAfterMs) };
      return earlier.status.code >= 200 ? this.settle(found, earlier) : this.update(row, pendingChange(row.attempt_session_reference!, earlier.referenceNumber, pollAfterMs));
    }
    const { session, referenceNumber } = await this.deliver({ ...row, attempt_session_reference: null }, reserved);
    const pending = pendingChange(session.referenceNumber, referenceNumber, pollAfterMs);
    if (askAtOnce) {
      let item: SessionInvoice;
      try {
        item = await this.ask({ ...row, ...pending });
      } catch (err) {
        await this.update(row, pending);
        throw err;
      }
      if (item.status.code >= 200) return this.settle({ ...row, ...pending }, item);
    }
    return this.update(row, pending);
  }

  /**
   * When an earlier attempt handed the row to a session and its answer was never recorded, that session's
   * invoice list says whether KSeF has it (matched by the invoice hash). Only an invoice KSeF provably does
   * not have is sent again. Undefined: no such attempt, or KSeF does not have it.
   */
  private async earlierAttempt(row: OutboxRow): Promise<SessionInvoice | undefined> {
    const reference = row.attempt_session_reference;
    if (!reference) return undefined;
    try {
      const invoices = await this.client.call(row.company_id, row.environment, (api, bearer) => api.sessionInvoices(row.company_id, bearer, reference));
      return invoices.find((i) => i.invoiceHash === row.invoice_hash);
    } catch (err) {
      // A session KSeF does not know holds nothing; anything else leaves the question open (asked again later).
      if (err instanceof KsefRejectedError && SESSION_UNKNOWN.some((c) => err.has(c))) return undefined;
      throw err;
    }
  }

  /**
   * The send itself: a session slot (or `reserved`), AES, the call; a failure is recorded on the row. A
   * transient failure that provably never reached KSeF (no token or session yet, or every attempt of the
   * send refused: see KsefError.neverReceived) marks it `online_unsent`, so a backlog may move it to a
   * batch session (see BatchOutbox.divert).
   */
  private async deliver(row: OutboxRow, reserved?: OnlineSession): Promise<{ session: OnlineSession; referenceNumber: string }> {
    const environment = row.environment;
    let handedOver = false;
    try {
      for (let attempt = 1; ; attempt++) {
        const session = attempt === 1 && reserved ? reserved : await this.sessions.reserve(row.company_id, environment);
        // Recorded (committed) before the hand-over: if the answer is lost, the next attempt asks this session.
        if (row.attempt_session_reference !== session.referenceNumber) row = await this.update(row, { attempt_session_reference: session.referenceNumber });
        const encrypted = aesEncrypt(session.key, row.xml);
        try {
          const { referenceNumber } = await this.client.call(row.company_id, environment, (api, bearer) => {
            handedOver = true;
            return api.sendInvoice(row.company_id, bearer, session.referenceNumber, {
              invoiceHash: row.invoice_hash,
              invoiceSize: row.xml.length,
              encryptedInvoiceHash: sha256Base64(encrypted),
              encryptedInvoiceSize: encrypted.length,
              encryptedInvoiceContent: encrypted.toString('base64'),
              offlineMode: false,
            });
          });
          return { session, referenceNumber };
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
        await this.update(row, { status: 'error', error_code: entry?.code ?? 400, error_message: err.message, next_attempt_at: null, attempt_session_reference: null });
      } else {
        // Transient (KSeF unreachable, slow, 5xx, 429, auth): stays queued, retried later with backoff.
        const delay = Math.min(5 * 60_000, 1_000 * 2 ** Math.min(row.attempts, 8));
        const neverReceived = !handedOver || (err instanceof KsefError && err.neverReceived);
        // Maybe received (a timeout, a 5xx after the hand-over): the session stays recorded, to be asked first.
        await this.update(row, {
          next_attempt_at: new Date(Date.now() + delay),
          error_message: (err as Error).message,
          online_unsent: neverReceived,
          ...(neverReceived ? { attempt_session_reference: null } : {}),
        });
      }
      throw err;
    }
  }

  /**
   * Asks KSeF about a `pending` row once: it becomes `sent`, `error`, or stays `pending` (polled again
   * later; `recordWaiting: false` when the caller polls on its own and the row need not be touched).
   */
  async checkStatus(row: OutboxRow, { recordWaiting = true } = {}): Promise<OutboxRow> {
    const item = await this.ask(row);
    if (item.status.code >= 200) return this.settle(row, item);
    if (!recordWaiting) return row;
    const delay = Math.min(60_000, 250 * 2 ** Math.min(row.attempts, 8));
    return this.update(row, { next_attempt_at: new Date(Date.now() + delay) });
  }

  private ask(row: OutboxRow): Promise<SessionInvoice> {
    return this.client.call(row.company_id, row.environment, (api, bearer) =>
      api.invoiceStatus(row.company_id, bearer, row.session_reference_number!, row.invoice_reference_number!),
    );
  }

  /** Records KSeF's final word on a sent row (`row` carries its session and invoice reference, written too). */
  private async settle(row: OutboxRow, item: SessionInvoice): Promise<OutboxRow> {
    const code = item.status.code;
    if (code === 200) return this.markSent(row, item.ksefNumber!, row.session_reference_number!, item);
    if (await isOwnDuplicate(this.db, row.company_id, row.environment, row.id, item)) {
      return this.markSent(row, item.status.extensions!.originalKsefNumber!, item.status.extensions?.originalSessionReferenceNumber ?? row.session_reference_number!, null);
    }
    return this.update(row, {
      status: 'error',
      session_reference_number: row.session_reference_number,
      invoice_reference_number: row.invoice_reference_number,
      attempt_session_reference: null,
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

  /**
   * One pass of the background worker: send what is queued, ask about what is pending, close idle sessions,
   * and the extra work when it is due. Answers how many outbox rows it worked on: while there are some,
   * the next pass follows at once (a backlog drains fast); otherwise after the interval.
   */
  async tick(): Promise<number> {
    if (this.divert) await this.divert().catch((err) => this.logger.warn({ error: (err as Error).message }, 'moving a backlog to batch sessions failed'));
    const queued = await this.claim('queued', { limit: 20 });
    await Promise.all(
      queued.map(async (row) => {
        // An outage simulation is on: nothing goes online; the row waits (checked again shortly).
        if (this.hold && (await this.hold(row.company_id, row.environment))) return void (await this.update(row, { next_attempt_at: new Date(Date.now() + 2_000) }));
        await this.transmit(row).catch((err) => this.logFailure('send', row, err));
      }),
    );
    const pending = await this.claim('pending', { limit: 50 });
    await Promise.all(pending.map((row) => this.checkStatus(row).catch((err) => this.logFailure('status check', row, err))));
    // The extra work is periodic: once per interval, also while the outbox drains a backlog. Run on every
    // quick pass, it made passes of a few rows each (ten-odd statements apiece) 20 times a second for as
    // long as invoices were being sent; once per interval it covers what came meanwhile in one pass.
    if (this.extraWork && Date.now() - this.extraWorkAt >= this.config.outboxIntervalMs) {
      this.extraWorkAt = Date.now();
      await this.extraWork().catch((err) => this.logger.warn({ error: (err as Error).message }, 'periodic pass (offline queue, relations) failed'));
    }
    await this.sessions.closeIdle(this.config.sessionIdleMs).catch((err) => this.logger.warn({ error: (err as Error).message }, 'closing idle sessions failed'));
    return queued.length + pending.length;
  }

  start(): void {
    this.loop.start();
  }

  /** Rows leased to this process by another path too (the API's own first send). */
  leaseHeld(ids: string[]): void {
    for (const id of ids) this.leased.add(id);
  }

  /**
   * Stops the worker (its current pass may take up to `timeoutMs`), then gives back the leases of rows it did
   * not finish: another process takes them at once. A row handed to KSeF whose answer never came keeps its
   * `attempt_session_reference`, so whoever takes it asks KSeF before sending anything again.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    await this.loop.stop(timeoutMs);
    await this.releaseLeases();
  }

  private async releaseLeases(): Promise<void> {
    const ids = [...this.leased];
    this.leased.clear();
    if (ids.length === 0) return;
    const now = new Date();
    await this.db
      .updateTable('synced_invoices')
      .set({ next_attempt_at: now, updated_at: now })
      .where('id', 'in', ids)
      .where('status', 'in', ['queued', 'pending'])
      .where('next_attempt_at', '>', now)
      .execute()
      .catch((err) => this.logger.warn({ error: (err as Error).message }, 'giving back outbox leases failed'));
  }

  private async markSent(row: OutboxRow, ksefNumber: string, sessionReference: string, item: SessionInvoice | null): Promise<OutboxRow> {
    return this.update(row, {
      status: 'sent',
      ksef_number: ksefNumber,
      session_reference_number: sessionReference,
      invoice_reference_number: row.invoice_reference_number,
      attempt_session_reference: null,
      acquisition_date: item?.acquisitionDate ? new Date(item.acquisitionDate) : null,
      permanent_storage_date: item?.permanentStorageDate ? new Date(item.permanentStorageDate) : null,
      invoicing_mode: item?.invoicingMode ?? null,
      error_code: null,
      error_message: null,
      next_attempt_at: null,
    });
  }

  /**
   * Writes `values` to the row and answers the row as it now is. Only this process works on a row it has
   * claimed, so the row is `row` with `values` applied; nothing but the id needs to come back.
   */
  private async update(row: OutboxRow, values: RowChange): Promise<OutboxRow> {
    const updatedAt = await this.updates.submit({ id: row.id, values: { ...values, updated_at: new Date() } });
    // A new schedule or a final state replaces the lease.
    if (values.next_attempt_at !== undefined || values.status === 'sent' || values.status === 'error') this.leased.delete(row.id);
    return { ...row, ...values, updated_at: updatedAt };
  }

  /**
   * Writes a batch of row changes; rows reaching KSeF's final word (`sent`, `error`) are announced to
   * webhooks in the same transaction.
   */
  private async writeChanges(items: { id: string; values: RowChange & { updated_at: Date } }[], db: Kysely<Database>): Promise<Date[]> {
    // The same row twice in one statement would be written once: such a batch goes item by item, in order.
    if (new Set(items.map((i) => i.id)).size !== items.length) throw new Error('a row changes twice in one batch');
    const finished = items.filter((i) => i.values.status === 'sent' || i.values.status === 'error').map((i) => i.id);
    if (finished.length === 0) return this.writeRows(items, db);
    return db.transaction().execute(async (trx) => {
      const written = await this.writeRows(items, trx);
      await announceInvoiceOutcomes(trx, finished);
      return written;
    });
  }

  /**
   * One statement for the changes of many rows: rows changing the same columns share an
   * `update … from (values …)`, ordered by id so that two processes lock rows in the same order.
   */
  private async writeRows(items: { id: string; values: RowChange & { updated_at: Date } }[], db: Kysely<Database>): Promise<Date[]> {
    const written = new Map<string, Date>();
    const groups = new Map<string, typeof items>();
    for (const item of items) {
      const signature = Object.keys(item.values).sort().join(',');
      groups.set(signature, [...(groups.get(signature) ?? []), item]);
    }
    for (const [signature, group] of groups) {
      const columns = signature.split(',') as (keyof typeof UPDATABLE)[];
      group.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const rows = group.map(
        (item) => sql`(${item.id}::uuid, ${sql.join(columns.map((c) => sql`${(item.values as Record<string, unknown>)[c] ?? null}::${sql.raw(UPDATABLE[c])}`))})`,
      );
      const result = await sql<{ id: string; updated_at: Date }>`update synced_invoices as t set ${sql.join(columns.map((c) => sql`${sql.ref(c)} = v.${sql.ref(c)}`))}
        from (values ${sql.join(rows)}) as v(id, ${sql.join(columns.map((c) => sql.ref(c)))})
        where t.id = v.id returning t.id, t.updated_at`.execute(db);
      for (const r of result.rows) written.set(r.id, r.updated_at);
    }
    return items.map((item) => {
      const at = written.get(item.id);
      if (!at) throw new Error(`synced_invoices has no row ${item.id}`);
      return at;
    });
  }

  private logFailure(what: string, row: OutboxRow, err: unknown) {
    this.logger.warn({ environment: row.environment, invoiceId: row.id, error: (err as Error).message }, `outbox ${what} failed`);
  }
}

