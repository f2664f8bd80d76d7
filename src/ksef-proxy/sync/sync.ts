import { type Kysely, sql } from 'kysely';
import type { KsefEnvironmentName } from '../../config';
import type { Database } from '../../db/schema';
import type { Logger } from '../../logger';
import { type Fa3Invoice, parseFa3 } from '../../local/fa3';
import type { InvoiceMetadata, MetadataPage } from '../transport/api';
import type { KsefClient } from '../transport/client';
import type { CredentialsStore } from '../credentials/credentials';
import { KsefNotConfiguredError, KsefSyncRunningError } from '../errors';
import { heldInThisProcess, lockForTransaction, tryAdvisoryLock } from '../locks';
import { indexRelations, REFERRING_KINDS, resolveRelations } from './relations';
import { syncedInvoiceRow } from '../retrieval/retrieval';

/**
 * Incremental sync (PROTOCOL.md §8.2/§8.4): for Subject1 (issued) and Subject2 (received), metadata queries over
 * PermanentStorage windows from the stored high-water mark, restricted to KSeF's own HWM, paged until `hasMore` is
 * false, narrowed (from = last record's date) when `isTruncated`. Each page: new invoices are downloaded (bounded
 * concurrency, outside any transaction), then stored, linked and the subject's HWM advanced in ONE transaction —
 * a crash loses nothing and doubles nothing (the next run starts at the stored HWM; KSeF numbers de-duplicate).
 */

export type SubjectType = 'Subject1' | 'Subject2';
const SUBJECTS: { subject: SubjectType; direction: 'issued' | 'received' }[] = [
  { subject: 'Subject1', direction: 'issued' },
  { subject: 'Subject2', direction: 'received' },
];

export interface SyncResult {
  fetched: number;
  inserted: number;
  updated: number;
  linkedAdvances: number;
  linkedCorrections: number;
  hwm: { issued: Date | null; received: Date | null };
}

export interface SyncSubjectState {
  subjectType: SubjectType;
  direction: 'issued' | 'received';
  hwm: Date | null;
  lastRunAt: Date | null;
  lastSuccessAt: Date | null;
  invoiceCount: number;
  lastError: string | null;
}

export interface SyncOptions {
  /** Where the first sync starts (no HWM stored yet). */
  startDate: Date;
  /** Downloads in flight at once (the limiter keeps them inside KSeF's limits). */
  downloadConcurrency: number;
  pageSize: number;
  /** PostgreSQL: the lock also excludes other processes. */
  crossProcess: boolean;
}

const MAX_WINDOW_MONTHS = 3;

const addMonths = (d: Date, months: number) => {
  const r = new Date(d.getTime());
  r.setUTCMonth(r.getUTCMonth() + months);
  return r;
};

const lockName = (companyId: string, environment: string) => `sync:${companyId}:${environment}`;
/** Held by every transaction that stores and resolves relations, so the sync and the linking pass take turns. */
const relationsLockName = (companyId: string, environment: string) => `relations:${companyId}:${environment}`;

export class InvoiceSync {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly client: KsefClient,
    private readonly credentials: CredentialsStore,
    private readonly logger: Logger,
    private readonly options: SyncOptions,
  ) {}

  /** Runs one sync now; KsefSyncRunningError when one is already running for the company and environment. */
  async run(companyId: string, companyNip: string, environment: KsefEnvironmentName): Promise<SyncResult> {
    const stored = await this.credentials.get(companyId, environment);
    if (!stored?.ksefToken) throw new KsefNotConfiguredError(environment, `No KSeF token is stored: PUT /ksef/${environment}/credentials first.`);
    const contextNip = stored.contextNip ?? companyNip;
    const outcome = await tryAdvisoryLock(this.db, lockName(companyId, environment), this.options.crossProcess, () => this.locked(companyId, environment, contextNip));
    if (outcome === 'busy') throw new KsefSyncRunningError(environment);
    return outcome.result;
  }

  /**
   * Indexes the relations of numbered invoices no sync has covered yet - the ones we sent ourselves - so
   * their advance groups and corrections link without waiting for a sync. Each batch is one short
   * transaction under the relations lock the sync's pages take too.
   */
  async linkSentInvoices(batchSize = 200): Promise<void> {
    const due = await this.db
      .selectFrom('synced_invoices')
      .select(['company_id', 'environment'])
      .distinct()
      .where('relations_indexed_at', 'is', null)
      .where('ksef_number', 'is not', null)
      .execute();
    for (const { company_id: companyId, environment } of due) {
      await this.db.transaction().execute(async (trx) => {
        await lockForTransaction(trx, relationsLockName(companyId, environment));
        const rows = await trx
          .selectFrom('synced_invoices')
          // The XML only of invoices that may refer to others (the rest may still be referred to: resolved below).
          .select(['id', 'ksef_number', sql<Buffer | null>`case when invoice_type in (${sql.join(REFERRING_KINDS)}) then xml end`.as('xml')])
          .where('company_id', '=', companyId)
          .where('environment', '=', environment)
          .where('relations_indexed_at', 'is', null)
          .where('ksef_number', 'is not', null)
          .orderBy('created_at')
          .limit(batchSize)
          .execute();
        for (const row of rows) {
          const invoice = row.xml && parseQuietly(row.xml);
          if (invoice) await indexRelations(trx, { id: row.id, companyId, environment, ksefNumber: row.ksef_number }, invoice);
        }
        if (rows.length > 0) {
          await resolveRelations(trx, companyId, environment);
          await trx.updateTable('synced_invoices').set({ relations_indexed_at: new Date() }).where('id', 'in', rows.map((r) => r.id)).execute();
        }
      });
    }
  }

  running(companyId: string, environment: KsefEnvironmentName): boolean {
    return heldInThisProcess(lockName(companyId, environment));
  }

  async status(companyId: string, environment: KsefEnvironmentName): Promise<{ running: boolean; subjects: SyncSubjectState[] }> {
    const rows = await this.db.selectFrom('invoice_sync_meta').selectAll().where('company_id', '=', companyId).where('environment', '=', environment).execute();
    let running = this.running(companyId, environment);
    if (!running && this.options.crossProcess) {
      // Another process may hold it: a try-lock that succeeds is released at once.
      running = await this.db.connection().execute(async (conn) => {
        const name = lockName(companyId, environment);
        const got = await sql<{ ok: boolean }>`select pg_try_advisory_lock(hashtextextended(${name}, 0)) as ok`.execute(conn);
        if (got.rows[0]?.ok) await sql`select pg_advisory_unlock(hashtextextended(${name}, 0))`.execute(conn);
        return !got.rows[0]?.ok;
      });
    }
    return {
      running,
      subjects: SUBJECTS.map(({ subject, direction }) => {
        const r = rows.find((x) => x.subject_type === subject);
        return {
          subjectType: subject,
          direction,
          hwm: r?.hwm ?? null,
          lastRunAt: r?.last_run_at ?? null,
          lastSuccessAt: r?.last_success_at ?? null,
          invoiceCount: r?.invoice_count ?? 0,
          lastError: r?.last_error ?? null,
        };
      }),
    };
  }

  private async locked(companyId: string, environment: KsefEnvironmentName, contextNip: string): Promise<SyncResult> {
    const result: SyncResult = { fetched: 0, inserted: 0, updated: 0, linkedAdvances: 0, linkedCorrections: 0, hwm: { issued: null, received: null } };
    for (const { subject, direction } of SUBJECTS) {
      await this.db
        .insertInto('invoice_sync_meta')
        .values({ company_id: companyId, environment, subject_type: subject, last_run_at: new Date() })
        .onConflict((oc) => oc.columns(['company_id', 'environment', 'subject_type']).doUpdateSet({ last_run_at: new Date(), updated_at: new Date() }))
        .execute();
      try {
        result.hwm[direction] = await this.syncSubject(companyId, environment, contextNip, subject, result);
        await this.db
          .updateTable('invoice_sync_meta')
          .set({ last_success_at: new Date(), last_error: null, updated_at: new Date() })
          .where('company_id', '=', companyId)
          .where('environment', '=', environment)
          .where('subject_type', '=', subject)
          .execute();
      } catch (err) {
        await this.db
          .updateTable('invoice_sync_meta')
          .set({ last_error: (err as Error).message.slice(0, 1000), updated_at: new Date() })
          .where('company_id', '=', companyId)
          .where('environment', '=', environment)
          .where('subject_type', '=', subject)
          .execute()
          .catch(() => undefined);
        this.logger.warn('sync failed', { environment, subject, error: (err as Error).message });
        throw err;
      }
    }
    this.logger.info('sync done', { environment, fetched: result.fetched, inserted: result.inserted, updated: result.updated });
    return result;
  }

  /** Walks windows from the stored HWM up to KSeF's; returns the new HWM. */
  private async syncSubject(companyId: string, environment: KsefEnvironmentName, contextNip: string, subject: SubjectType, result: SyncResult): Promise<Date | null> {
    const meta = await this.db
      .selectFrom('invoice_sync_meta')
      .select('hwm')
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .where('subject_type', '=', subject)
      .executeTakeFirst();
    let from = meta?.hwm ?? this.options.startDate;
    let hwm: Date | null = meta?.hwm ?? null;
    for (;;) {
      const now = new Date();
      const windowEnd = addMonths(from, MAX_WINDOW_MONTHS);
      const to = windowEnd.getTime() < now.getTime() ? windowEnd : undefined; // no `to`: up to KSeF's HWM
      let pageOffset = 0;
      let ksefHwm: Date | null = null;
      for (;;) {
        const page: MetadataPage = await this.client.call(companyId, environment, (api, bearer) =>
          api.queryMetadata(
            companyId,
            bearer,
            { pageOffset, pageSize: this.options.pageSize, sortOrder: 'Asc' },
            {
              subjectType: subject,
              dateRange: {
                dateType: 'PermanentStorage',
                from: from.toISOString(),
                ...(to ? { to: to.toISOString() } : {}),
                restrictToPermanentStorageHwmDate: true,
              },
            },
          ),
        );
        if (page.permanentStorageHwmDate) ksefHwm = new Date(page.permanentStorageHwmDate);
        const last = page.invoices[page.invoices.length - 1];
        // What this page proves complete: up to its last record while more follow, the whole window after the last page.
        let covered: Date | null;
        if (!page.hasMore) {
          const end = to ?? ksefHwm;
          covered = end && ksefHwm && end.getTime() > ksefHwm.getTime() ? ksefHwm : end;
        } else covered = last ? new Date(last.permanentStorageDate) : null;
        await this.storePage(companyId, environment, contextNip, subject, page.invoices, covered, result);
        if (covered) hwm = covered;
        if (!page.hasMore) break;
        if (page.isTruncated && last && new Date(last.permanentStorageDate).getTime() > from.getTime()) {
          from = new Date(last.permanentStorageDate); // narrow: restart the window at the last record's date
          pageOffset = 0;
        } else pageOffset++; // (a cap full of one instant cannot be narrowed: page on)
      }
      if (!to) return hwm;
      if (ksefHwm && to.getTime() >= ksefHwm.getTime()) return hwm;
      from = to;
    }
  }

  /** Downloads the page's new invoices, then stores them, links them and advances the HWM in one transaction. */
  private async storePage(
    companyId: string,
    environment: KsefEnvironmentName,
    contextNip: string,
    subject: SubjectType,
    records: InvoiceMetadata[],
    covered: Date | null,
    result: SyncResult,
  ): Promise<void> {
    const unique = [...new Map(records.map((r) => [r.ksefNumber, r])).values()];
    const known =
      unique.length === 0
        ? []
        : await this.db
            .selectFrom('synced_invoices')
            .select(['id', 'ksef_number', 'invoice_hash', 'status', 'xml'])
            .where('company_id', '=', companyId)
            .where('environment', '=', environment)
            .where((eb) =>
              eb.or([eb('ksef_number', 'in', unique.map((r) => r.ksefNumber)), eb('invoice_hash', 'in', unique.map((r) => r.invoiceHash))]),
            )
            .execute();
    const byKsef = new Map(known.filter((k) => k.ksef_number).map((k) => [k.ksef_number!, k]));
    const byHash = new Map(known.map((k) => [k.invoice_hash, k]));
    const fresh = unique.filter((r) => !byKsef.has(r.ksefNumber) && !byHash.has(r.invoiceHash));
    const learned = unique.filter((r) => !byKsef.has(r.ksefNumber) && byHash.has(r.invoiceHash));
    const present = unique.filter((r) => byKsef.has(r.ksefNumber));

    const downloaded = await this.downloadAll(companyId, environment, fresh);
    result.fetched += downloaded.length;

    await this.db.transaction().execute(async (trx) => {
      await lockForTransaction(trx, relationsLockName(companyId, environment));
      const toIndex: { id: string; ksefNumber: string; invoice: Fa3Invoice }[] = [];
      let added = 0;
      for (const { meta, xml } of downloaded) {
        const parsed = syncedInvoiceRow(companyId, environment, meta.ksefNumber, contextNip, xml, {
          acquisitionDate: new Date(meta.acquisitionDate),
          permanentStorageDate: new Date(meta.permanentStorageDate),
          invoicingMode: meta.invoicingMode,
        });
        if (!parsed) continue; // not FA(3): nothing to keep in an FA(3) register
        const inserted = await trx.insertInto('synced_invoices').values(parsed.row).onConflict((oc) => oc.doNothing()).returning('id').executeTakeFirst();
        if (!inserted) continue;
        result.inserted++;
        added++;
        toIndex.push({ id: inserted.id, ksefNumber: meta.ksefNumber, invoice: parsed.invoice });
      }
      // Invoices we sent that KSeF numbered without us hearing it yet: they learn their number here.
      for (const meta of learned) {
        const row = byHash.get(meta.invoiceHash)!;
        await trx
          .updateTable('synced_invoices')
          .set({
            ksef_number: meta.ksefNumber,
            status: row.status === 'synced' ? 'synced' : 'sent',
            acquisition_date: new Date(meta.acquisitionDate),
            permanent_storage_date: new Date(meta.permanentStorageDate),
            invoicing_mode: meta.invoicingMode,
            error_code: null,
            error_message: null,
            next_attempt_at: null,
            updated_at: new Date(),
          })
          .where('id', '=', row.id)
          .execute();
        result.updated++;
        added++;
        const invoice = parseQuietly(row.xml);
        if (invoice) toIndex.push({ id: row.id, ksefNumber: meta.ksefNumber, invoice });
      }
      // Already in the register (e.g. sent by us): make sure their references are indexed too.
      for (const meta of present) {
        const row = byKsef.get(meta.ksefNumber)!;
        const invoice = parseQuietly(row.xml);
        if (invoice) toIndex.push({ id: row.id, ksefNumber: meta.ksefNumber, invoice });
      }
      for (const item of toIndex) {
        await indexRelations(trx, { id: item.id, companyId, environment, ksefNumber: item.ksefNumber }, item.invoice);
      }
      if (toIndex.length > 0) {
        const linked = await resolveRelations(trx, companyId, environment);
        result.linkedAdvances += linked.advances;
        result.linkedCorrections += linked.corrections;
        await trx.updateTable('synced_invoices').set({ relations_indexed_at: new Date() }).where('id', 'in', toIndex.map((i) => i.id)).execute();
      }
      await trx
        .updateTable('invoice_sync_meta')
        .set((eb) => ({
          ...(covered ? { hwm: covered } : {}),
          invoice_count: eb('invoice_count', '+', added),
          updated_at: new Date(),
        }))
        .where('company_id', '=', companyId)
        .where('environment', '=', environment)
        .where('subject_type', '=', subject)
        .execute();
    });
  }

  /** XML of each record, `downloadConcurrency` at a time (the rate limiter paces them inside KSeF's limits). */
  private async downloadAll(companyId: string, environment: KsefEnvironmentName, records: InvoiceMetadata[]): Promise<{ meta: InvoiceMetadata; xml: Buffer }[]> {
    const out: { meta: InvoiceMetadata; xml: Buffer }[] = new Array(records.length);
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const i = next++;
        const meta = records[i];
        const xml = await this.client.call(companyId, environment, (api, bearer) => api.downloadInvoice(companyId, bearer, meta.ksefNumber));
        out[i] = { meta, xml };
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.downloadConcurrency, records.length) }, worker));
    return out;
  }
}

function parseQuietly(xml: Buffer): Fa3Invoice | null {
  try {
    return parseFa3(xml);
  } catch {
    return null;
  }
}

/** `SYNC_INTERVAL`: every configured company and environment, one after another; a sync already running is skipped. */
export class SyncSchedule {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sync: InvoiceSync,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (!this.current) this.current = this.tick().finally(() => (this.current = null));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.current;
  }

  private async tick(): Promise<void> {
    const targets = await this.db
      .selectFrom('ksef_credentials as k')
      .innerJoin('companies as c', 'c.id', 'k.company_id')
      .select(['k.company_id', 'k.environment', 'c.nip'])
      .where('k.ksef_token_enc', 'is not', null)
      .execute()
      .catch(() => []);
    for (const t of targets) {
      if (!this.timer) return;
      try {
        await this.sync.run(t.company_id, t.nip, t.environment);
      } catch (err) {
        if (!(err instanceof KsefSyncRunningError)) this.logger.warn('scheduled sync failed', { environment: t.environment, error: (err as Error).message });
      }
    }
  }
}
