import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { KsefEnvironmentName } from '../../config.js';
import type { Database, InvoiceDirection, SubjectType } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import { type ExportPackage, type ExportStatus, isRejected } from '../transport/api.js';
import type { KsefClient } from '../transport/client.js';
import { newSessionKey, rsaOaepEncrypt, type SessionKey } from '../transport/crypto.js';
import type { CredentialsStore } from '../credentials/credentials.js';
import { KsefNotConfiguredError, KsefRejectedError, KsefTimeoutError } from '../errors.js';
import { heldBySomeSession, heldInThisProcess, lockForTransaction, tryAdvisoryLock } from '../locks.js';
import { latestRun, RunRecorder, type SyncCounts, type SyncPhase, type SyncTrigger } from './progress.js';
import { indexRelations, REFERRING_KINDS, resolveRelations } from './relations.js';
import { clearStaging, parseQuietly, relationsLockName, storePackage } from './store.js';
import { unpackPackage } from './unpack.js';

/**
 * Incremental sync through KSeF exports (PROTOCOL.md §8.4), as a background job: per subject type one
 * checkpoint; exports with dateType PermanentStorage from the checkpoint, restricted to KSeF's HWM, no `to`;
 * the next `from` is `lastPermanentStorageDate` while KSeF truncates, else `permanentStorageHwmDate`. Each
 * package is unpacked streaming into staging and then moved into the register, linked and checkpointed in ONE
 * transaction (store.ts): a crash loses nothing and doubles nothing. One run per company and environment
 * across processes (advisory lock); its progress is in the database for any process to show.
 */

export const SUBJECTS: { subject: SubjectType; direction: InvoiceDirection }[] = [
  { subject: 'Subject1', direction: 'issued' },
  { subject: 'Subject2', direction: 'received' },
  { subject: 'Subject3', direction: 'third-party' },
  { subject: 'SubjectAuthorized', direction: 'authorized' },
];

/** KSeF's advice (§8.4): a scheduled sync leaves at least this much between runs of one subject type. */
export const SCHEDULED_GAP_MS = 15 * 60_000;
/** How long an export may take KSeF to build before the run gives up (the next run asks again). */
const EXPORT_READY_TIMEOUT_MS = 30 * 60_000;

export interface SyncSettings {
  thirdParty: boolean;
  authorized: boolean;
}

export interface SyncSubjectState {
  subjectType: SubjectType;
  direction: InvoiceDirection;
  enabled: boolean;
  hwm: Date | null;
  lastRunAt: Date | null;
  lastSuccessAt: Date | null;
  invoiceCount: number;
  lastError: string | null;
  packages: number;
  invoices: number;
  window: { from: Date; truncated: boolean | null } | null;
}

export interface SyncState extends SyncCounts {
  running: boolean;
  phase: SyncPhase;
  runId: string | null;
  trigger: SyncTrigger | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  interrupted: boolean;
  lastError: string | null;
  hwm: { issued: Date | null; received: Date | null };
  subjects: SyncSubjectState[];
}

export interface SyncOptions {
  /** Where the first sync starts (no checkpoint stored yet). */
  startDate: Date;
  /** PostgreSQL: the lock also excludes other processes. */
  crossProcess: boolean;
}

class SyncStoppedError extends Error {
  constructor() {
    super('interrupted: the server stopped during the sync; the next run resumes from the checkpoints');
  }
}

/** Attempts at recording a run's end. */
const END_ATTEMPTS = 3;
const lockName = (companyId: string, environment: string) => `sync:${companyId}:${environment}`;

export class InvoiceSync {
  private readonly jobs = new Set<Promise<unknown>>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly client: KsefClient,
    private readonly credentials: CredentialsStore,
    private readonly logger: Logger,
    private readonly options: SyncOptions,
  ) {}

  /**
   * Starts a run in the background and answers its state as soon as it holds the lock - or, when a run is
   * already going (here or in another process), that run's state. KsefNotConfiguredError without a token.
   */
  async start(companyId: string, companyNip: string, environment: KsefEnvironmentName, trigger: SyncTrigger): Promise<SyncState> {
    const stored = await this.credentials.get(companyId, environment);
    if (!stored?.authenticationMethod) {
      throw new KsefNotConfiguredError(environment, `Neither a KSeF token nor an authentication certificate is stored: PUT /ksef/${environment}/credentials first.`);
    }
    await this.runNow(companyId, stored.contextNip ?? companyNip, environment, trigger);
    return this.status(companyId, environment);
  }

  /** Resolves once the run has begun (its state recorded) or was found busy; the run itself goes on. */
  private async runNow(companyId: string, contextNip: string, environment: KsefEnvironmentName, trigger: SyncTrigger): Promise<void> {
    let begun!: () => void;
    const started = new Promise<void>((resolve) => (begun = resolve));
    const job = tryAdvisoryLock(this.db, lockName(companyId, environment), this.options.crossProcess, async () => {
      const recorder = new RunRecorder(this.db, companyId, environment, randomUUID());
      await recorder.begin(trigger);
      begun();
      await this.locked(recorder, companyId, environment, contextNip, trigger);
    });
    const tracked = job.finally(() => this.jobs.delete(tracked));
    this.jobs.add(tracked);
    tracked.catch((err) => this.logger.warn({ environment, error: (err as Error).message }, 'sync run failed'));
    await Promise.race([started, job]);
  }

  /** Aborts runs of this process at their next step and waits for them (they record themselves interrupted). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.jobs]);
  }

  async settings(companyId: string, environment: KsefEnvironmentName): Promise<SyncSettings> {
    const row = await this.db.selectFrom('invoice_sync_settings').selectAll().where('company_id', '=', companyId).where('environment', '=', environment).executeTakeFirst();
    return { thirdParty: row?.third_party ?? true, authorized: row?.authorized ?? true };
  }

  async putSettings(companyId: string, environment: KsefEnvironmentName, change: Partial<SyncSettings>): Promise<SyncSettings> {
    const next = { ...(await this.settings(companyId, environment)), ...change };
    const values = { third_party: next.thirdParty, authorized: next.authorized, updated_at: new Date() };
    await this.db
      .insertInto('invoice_sync_settings')
      .values({ company_id: companyId, environment, ...values })
      .onConflict((oc) => oc.columns(['company_id', 'environment']).doUpdateSet(values))
      .execute();
    return next;
  }

  /**
   * Indexes the relations of numbered invoices no sync has covered yet - the ones we sent ourselves - so
   * their advance groups and corrections link without waiting for a sync. Each batch is one short
   * transaction under the relations lock the sync's packages take too.
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

  /** Is a run going, in this process or (PostgreSQL) in another one holding the lock? */
  private async running(companyId: string, environment: KsefEnvironmentName): Promise<boolean> {
    const name = lockName(companyId, environment);
    if (heldInThisProcess(name)) return true;
    return this.options.crossProcess && heldBySomeSession(this.db, name);
  }

  async status(companyId: string, environment: KsefEnvironmentName): Promise<SyncState> {
    const [metas, run, settings] = await Promise.all([
      this.db.selectFrom('invoice_sync_meta').selectAll().where('company_id', '=', companyId).where('environment', '=', environment).execute(),
      latestRun(this.db, companyId, environment),
      this.settings(companyId, environment),
    ]);
    const running = await this.running(companyId, environment);
    const live = running && run !== null && run.finished_at === null;
    const interrupted = !running && run !== null && run.finished_at === null;
    const hwmOf = (subject: SubjectType) => metas.find((m) => m.subject_type === subject)?.hwm ?? null;
    return {
      running,
      phase: live ? (run.phase as SyncPhase) : 'idle',
      runId: run?.run_id ?? null,
      trigger: run?.trigger ?? null,
      startedAt: run?.started_at ?? null,
      finishedAt: run?.finished_at ?? null,
      interrupted,
      lastError: run?.last_error ?? (interrupted ? 'interrupted: the process running the sync stopped; the next run resumes from the checkpoints' : null),
      ...(run?.progress.counts ?? { fetched: 0, inserted: 0, updated: 0, linkedAdvances: 0, linkedCorrections: 0 }),
      hwm: { issued: hwmOf('Subject1'), received: hwmOf('Subject2') },
      subjects: SUBJECTS.map(({ subject, direction }) => {
        const m = metas.find((x) => x.subject_type === subject);
        const p = run?.progress.subjects[subject];
        return {
          subjectType: subject,
          direction,
          enabled: enabledIn(settings, subject),
          hwm: m?.hwm ?? null,
          lastRunAt: m?.last_run_at ?? null,
          lastSuccessAt: m?.last_success_at ?? null,
          invoiceCount: m?.invoice_count ?? 0,
          lastError: m?.last_error ?? null,
          packages: p?.packages ?? 0,
          invoices: p?.invoices ?? 0,
          window: p?.window ? { from: new Date(p.window.from), truncated: p.window.truncated } : null,
        };
      }),
    };
  }

  private async locked(recorder: RunRecorder, companyId: string, environment: KsefEnvironmentName, contextNip: string, trigger: SyncTrigger): Promise<void> {
    let failure: Error | null = null;
    try {
      await clearStaging(this.db, companyId, environment); // what a crashed run left half-unpacked
      const settings = await this.settings(companyId, environment);
      for (const { subject, direction } of SUBJECTS) {
        if (!enabledIn(settings, subject)) continue;
        if (trigger === 'scheduled' && (await this.syncedRecently(companyId, environment, subject))) continue;
        try {
          await this.syncSubject(recorder, companyId, environment, contextNip, subject, direction);
        } catch (err) {
          // 21181: KSeF does not offer this subject type to this context; the others still sync (its lastError says why).
          if (!isRejected(err, 21181)) throw err;
          this.logger.warn({ environment, subject }, 'sync: subject type not allowed for this context');
        }
      }
      this.logger.info({ environment, ...recorder.counts }, 'sync done');
    } catch (err) {
      failure = this.stopping.signal.aborted ? new SyncStoppedError() : (err as Error);
    }
    await this.recordEnd(recorder, failure);
    if (failure) throw failure;
  }

  /** A few attempts (finish is idempotent): unrecorded, a run that completed would show as interrupted. */
  private async recordEnd(recorder: RunRecorder, failure: Error | null): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await recorder.finish(failure);
      } catch (err) {
        if (attempt === END_ATTEMPTS) {
          this.logger.warn({ error: (err as Error).message, runId: recorder.runId }, 'recording the end of a sync failed');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, attempt * 500));
      }
    }
  }

  private async syncedRecently(companyId: string, environment: KsefEnvironmentName, subject: SubjectType): Promise<boolean> {
    const meta = await this.meta(companyId, environment, subject);
    return Boolean(meta?.last_run_at && Date.now() - meta.last_run_at.getTime() < SCHEDULED_GAP_MS);
  }

  private meta(companyId: string, environment: KsefEnvironmentName, subject: SubjectType) {
    return this.db
      .selectFrom('invoice_sync_meta')
      .selectAll()
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .where('subject_type', '=', subject)
      .executeTakeFirst();
  }

  /** Packages from the subject type's checkpoint up to KSeF's HWM; each stored (and checkpointed) on its own. */
  private async syncSubject(
    recorder: RunRecorder,
    companyId: string,
    environment: KsefEnvironmentName,
    contextNip: string,
    subject: SubjectType,
    direction: InvoiceDirection,
  ): Promise<void> {
    const record = (values: { last_success_at?: Date; last_error: string | null }) =>
      this.db
        .updateTable('invoice_sync_meta')
        .set({ ...values, updated_at: new Date() })
        .where('company_id', '=', companyId)
        .where('environment', '=', environment)
        .where('subject_type', '=', subject)
        .execute();
    await this.db
      .insertInto('invoice_sync_meta')
      .values({ company_id: companyId, environment, subject_type: subject, last_run_at: new Date() })
      .onConflict((oc) => oc.columns(['company_id', 'environment', 'subject_type']).doUpdateSet({ last_run_at: new Date(), updated_at: new Date() }))
      .execute();
    try {
      let from = (await this.meta(companyId, environment, subject))?.hwm ?? this.options.startDate;
      for (;;) {
        await recorder.window(subject, from);
        const key = newSessionKey();
        const pkg = await this.exportPackage(recorder, companyId, environment, subject, from, key);
        if (!pkg) break; // `from` is past KSeF's HWM: nothing new yet
        await recorder.phase('downloading');
        const packageId = randomUUID();
        const api = this.client.apis[environment];
        const unpacked = await unpackPackage(this.db, { packageId, companyId, environment, contextNip, direction }, pkg, key, (part) =>
          this.abortable(api.exportPart(part)),
        );
        const next = pkg.isTruncated ? pkg.lastPermanentStorageDate : pkg.permanentStorageHwmDate;
        const checkpoint = next ? new Date(next) : null;
        if (pkg.isTruncated && (!checkpoint || checkpoint.getTime() <= from.getTime())) {
          throw new KsefRejectedError(environment, 200, [], `KSeF truncated an export at ${from.toISOString()} without moving past it; the sync cannot narrow the window.`);
        }
        this.stopping.signal.throwIfAborted();
        await recorder.phase('storing');
        const stored = await storePackage(this.db, { packageId, companyId, environment, subject, checkpoint });
        await recorder.stored(subject, pkg.isTruncated, unpacked.invoices, { fetched: unpacked.invoices, ...stored });
        if (!pkg.isTruncated || !checkpoint) break;
        from = checkpoint;
      }
      await record({ last_success_at: new Date(), last_error: null });
    } catch (err) {
      const message = this.stopping.signal.aborted ? new SyncStoppedError().message : (err as Error).message;
      await record({ last_error: message.slice(0, 1000) }).catch(() => undefined);
      throw err;
    }
  }

  /** Starts an export (waiting, visibly, for KSeF's 20-an-hour limit) and waits for its package; null past the HWM. */
  private async exportPackage(
    recorder: RunRecorder,
    companyId: string,
    environment: KsefEnvironmentName,
    subject: SubjectType,
    from: Date,
    key: SessionKey,
  ): Promise<ExportPackage | null> {
    const api = this.client.apis[environment];
    const wait = api.exportStartDelay(companyId);
    if (wait > 0) {
      await recorder.phase('waiting-for-limit');
      await this.sleep(wait);
    }
    await recorder.phase('exporting');
    const certificate = await this.client.tokens.certificate(environment, companyId, 'SymmetricKeyEncryption');
    const { referenceNumber } = await this.client.call(companyId, environment, (a, bearer) =>
      a.startExport(companyId, bearer, {
        encryption: {
          encryptedSymmetricKey: rsaOaepEncrypt(certificate.certificate, key.key).toString('base64'),
          initializationVector: key.iv.toString('base64'),
          publicKeyId: certificate.publicKeyId,
        },
        filters: { subjectType: subject, dateRange: { dateType: 'PermanentStorage', from: from.toISOString(), restrictToPermanentStorageHwmDate: true } },
      }),
    );
    const deadline = Date.now() + EXPORT_READY_TIMEOUT_MS;
    for (let pause = 100; ; pause = Math.min(2_000, pause * 2)) {
      const status: ExportStatus = await this.client.call(companyId, environment, (a, bearer) => a.exportStatus(companyId, bearer, referenceNumber));
      if (status.status.code === 200 && status.package) return status.package;
      if (status.status.code === 420) return null;
      if (status.status.code !== 100) {
        const detail = [status.status.description, ...(status.status.details ?? [])].join(': ');
        throw new KsefRejectedError(environment, 200, [{ code: status.status.code, description: detail }], `KSeF's export ${referenceNumber} failed (${status.status.code}: ${detail}).`);
      }
      if (Date.now() > deadline) throw new KsefTimeoutError(environment, `KSeF has not built export ${referenceNumber} within ${EXPORT_READY_TIMEOUT_MS / 60_000} minutes; the next run asks again.`);
      await this.sleep(pause);
    }
  }

  /** A sleep the server's stop cuts short (the run then ends as interrupted). */
  private async sleep(ms: number): Promise<void> {
    const signal = this.stopping.signal;
    signal.throwIfAborted();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
    signal.throwIfAborted();
  }

  private async *abortable(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      this.stopping.signal.throwIfAborted();
      yield chunk;
    }
  }

  /**
   * The scheduled sync's entry: its subject types honour SCHEDULED_GAP_MS, and when none is due no run starts
   * at all, so the state keeps showing the last run that did something.
   */
  async runScheduled(companyId: string, contextNip: string, environment: KsefEnvironmentName): Promise<void> {
    const settings = await this.settings(companyId, environment);
    for (const { subject } of SUBJECTS) {
      if (enabledIn(settings, subject) && !(await this.syncedRecently(companyId, environment, subject))) return this.runNow(companyId, contextNip, environment, 'scheduled');
    }
  }

  /** Resolves when every run of this process has ended. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.jobs]);
  }
}

const enabledIn = (settings: SyncSettings, subject: SubjectType) =>
  subject === 'Subject3' ? settings.thirdParty : subject === 'SubjectAuthorized' ? settings.authorized : true;

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
      .select(['k.company_id', 'k.environment', 'k.context_nip', 'c.nip'])
      .where((eb) => eb.or([eb('k.ksef_token_enc', 'is not', null), eb('k.auth_private_key_enc', 'is not', null)]))
      .execute()
      .catch(() => []);
    for (const t of targets) {
      if (!this.timer) return;
      try {
        await this.sync.runScheduled(t.company_id, t.context_nip ?? t.nip, t.environment);
        await this.sync.idle(); // one company at a time: KSeF's export limits are per context, ours per process
      } catch (err) {
        this.logger.warn({ environment: t.environment, error: (err as Error).message }, 'scheduled sync failed');
      }
    }
  }
}
