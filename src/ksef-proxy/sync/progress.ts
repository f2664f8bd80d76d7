import type { Kysely } from 'kysely';
import type { KsefEnvironmentName } from '../../config.js';
import type { Database, SubjectType } from '../../db/schema.js';
import { announceSyncCompleted } from '../events.js';

/**
 * The progress of a sync run, persisted (invoice_sync_runs, one row per company and environment) at every
 * phase change and package, so any process can answer GET /sync and a run whose process died is visible.
 */

export type SyncPhase = 'idle' | 'exporting' | 'waiting-for-limit' | 'downloading' | 'storing';
export type SyncTrigger = 'requested' | 'scheduled';

export interface SyncCounts {
  fetched: number;
  inserted: number;
  updated: number;
  linkedAdvances: number;
  linkedCorrections: number;
}

export interface SubjectProgress {
  packages: number;
  invoices: number;
  /** The export being fetched (or the last one): its `from`, and whether KSeF cut it (null until it is ready). */
  window: { from: string; truncated: boolean | null } | null;
}

export interface SyncProgress {
  counts: SyncCounts;
  subjects: Partial<Record<SubjectType, SubjectProgress>>;
}

export const noCounts = (): SyncCounts => ({ fetched: 0, inserted: 0, updated: 0, linkedAdvances: 0, linkedCorrections: 0 });

/** The running process's view of its run; every change is written through. */
export class RunRecorder {
  private readonly progress: SyncProgress = { counts: noCounts(), subjects: {} };
  private phaseNow: SyncPhase = 'exporting';
  private trigger: SyncTrigger = 'requested';
  private startedAt = new Date();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly companyId: string,
    private readonly environment: KsefEnvironmentName,
    readonly runId: string,
  ) {}

  async begin(trigger: SyncTrigger): Promise<void> {
    this.trigger = trigger;
    this.startedAt = new Date();
    const row = {
      company_id: this.companyId,
      environment: this.environment,
      run_id: this.runId,
      trigger,
      phase: this.phaseNow,
      started_at: this.startedAt,
      finished_at: null,
      last_error: null,
      progress: JSON.stringify(this.progress),
      updated_at: new Date(),
    };
    await this.db
      .insertInto('invoice_sync_runs')
      .values(row)
      .onConflict((oc) => oc.columns(['company_id', 'environment']).doUpdateSet(row))
      .execute();
  }

  async phase(phase: SyncPhase): Promise<void> {
    if (phase === this.phaseNow) return;
    this.phaseNow = phase;
    await this.write();
  }

  async window(subject: SubjectType, from: Date): Promise<void> {
    this.subject(subject).window = { from: from.toISOString(), truncated: null };
    await this.write();
  }

  /** A package stored: its invoices and what storing it did, added to the run's totals. */
  async stored(subject: SubjectType, truncated: boolean, invoices: number, counts: SyncCounts): Promise<void> {
    const s = this.subject(subject);
    s.packages++;
    s.invoices += invoices;
    if (s.window) s.window.truncated = truncated;
    for (const k of Object.keys(counts) as (keyof SyncCounts)[]) this.progress.counts[k] += counts[k];
    await this.write();
  }

  get counts(): SyncCounts {
    return this.progress.counts;
  }

  /** The run's end, and its `sync.completed` webhook event, in one transaction. */
  async finish(error: Error | null): Promise<void> {
    this.phaseNow = 'idle';
    const finishedAt = new Date();
    const lastError = error ? error.message.slice(0, 1000) : null;
    await this.db.transaction().execute(async (trx) => {
      await this.write({ finished_at: finishedAt, last_error: lastError }, trx);
      await announceSyncCompleted(trx, {
        companyId: this.companyId,
        environment: this.environment,
        runId: this.runId,
        trigger: this.trigger,
        startedAt: this.startedAt,
        finishedAt,
        counts: this.progress.counts,
        error: lastError,
      });
    });
  }

  private subject(subject: SubjectType): SubjectProgress {
    return (this.progress.subjects[subject] ??= { packages: 0, invoices: 0, window: null });
  }

  private async write(extra: { finished_at?: Date; last_error?: string | null } = {}, db: Kysely<Database> = this.db): Promise<void> {
    await db
      .updateTable('invoice_sync_runs')
      .set({ phase: this.phaseNow, progress: JSON.stringify(this.progress), updated_at: new Date(), ...extra })
      .where('company_id', '=', this.companyId)
      .where('environment', '=', this.environment)
      .where('run_id', '=', this.runId)
      .execute();
  }
}

export async function latestRun(db: Kysely<Database>, companyId: string, environment: KsefEnvironmentName) {
  const row = await db.selectFrom('invoice_sync_runs').selectAll().where('company_id', '=', companyId).where('environment', '=', environment).executeTakeFirst();
  if (!row) return null;
  const raw = typeof row.progress === 'string' ? JSON.parse(row.progress) : row.progress;
  return { ...row, progress: raw as SyncProgress };
}
