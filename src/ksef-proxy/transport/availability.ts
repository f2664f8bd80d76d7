import type { Kysely } from 'kysely';
import type { KsefEnvironmentName } from '../../config.js';
import type { Database, OfflineMode } from '../../db/schema.js';
import type { Logger } from '../../logger.js';

export interface EnvironmentState {
  simulationActive: boolean;
  simulationSince: Date | null;
  /** The offline mode the simulation stands for (kept after it ends: the last one chosen). */
  simulationMode: OfflineMode;
  available: boolean;
  unavailableSince: Date | null;
}

/** An outage (simulated or observed) that has just ended: offline deadlines are fixed from its end. */
export interface EndedOutage {
  companyId: string;
  environment: KsefEnvironmentName;
  mode: OfflineMode;
  since: Date;
  endedAt: Date;
}

/** The offline mode invoices issued now fall under (meaningful while offline mode is open). */
export function offlineModeOf(state: EnvironmentState): OfflineMode {
  // An observed outage counts as unavailability; a simulation says what it stands for.
  return state.simulationActive ? state.simulationMode : 'offline';
}

const DEFAULT_STATE: EnvironmentState = { simulationActive: false, simulationSince: null, simulationMode: 'offline', available: true, unavailableSince: null };

/**
 * Whether KSeF is usable for a company and environment (`ksef_environment_state`): an outage simulation
 * switched on by an admin, or an outage ksef-proxy observed (connection failures, 503) until a probe or a
 * call succeeds again. Either opens offline mode; shared by every process through the database.
 */
export class Availability {
  /** Last availability written per company:environment, so a healthy call does not write every time. */
  private readonly known = new Map<string, boolean>();
  /** Told once (in one process) when an outage ends. */
  onOutageEnded: (outage: EndedOutage) => Promise<void> = async () => {};

  constructor(
    private readonly db: Kysely<Database>,
    private readonly logger: Logger,
  ) {}

  async state(companyId: string, environment: KsefEnvironmentName): Promise<EnvironmentState> {
    const row = await this.db
      .selectFrom('ksef_environment_state')
      .selectAll()
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .executeTakeFirst();
    if (!row) return { ...DEFAULT_STATE };
    this.known.set(`${companyId}:${environment}`, row.available);
    return {
      simulationActive: row.simulation_active,
      simulationSince: row.simulation_since,
      simulationMode: row.simulation_mode,
      available: row.available,
      unavailableSince: row.unavailable_since,
    };
  }

  /**
   * Switches the simulation on (standing for `requestedMode`) or off. Switching it off ends an outage; switching
   * it on again with another mode is a new announcement. No mode: an active simulation keeps its own, a new
   * one stands for `offline`.
   */
  async setSimulation(companyId: string, environment: KsefEnvironmentName, active: boolean, requestedMode?: OfflineMode): Promise<EnvironmentState> {
    const now = new Date();
    const { mode, ended } = await this.db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom('ksef_environment_state')
        .select(['simulation_active', 'simulation_since', 'simulation_mode'])
        .where('company_id', '=', companyId)
        .where('environment', '=', environment)
        .forUpdate()
        .executeTakeFirst();
      const mode: OfflineMode = requestedMode ?? (current?.simulation_active ? current.simulation_mode : 'offline');
      if (current?.simulation_active === active && (!active || current.simulation_mode === mode)) return { mode, ended: null };
      const values = active ? { simulation_active: true, simulation_since: now, simulation_mode: mode } : { simulation_active: false, simulation_since: null };
      await trx
        .insertInto('ksef_environment_state')
        .values({ company_id: companyId, environment, available: true, ...values })
        .onConflict((oc) => oc.columns(['company_id', 'environment']).doUpdateSet({ ...values, updated_at: now }))
        .execute();
      // A simulation that stops, or changes what it stands for, ends the outage it was.
      const ended = current?.simulation_active && current.simulation_since ? { mode: current.simulation_mode, since: current.simulation_since } : null;
      return { mode, ended };
    });
    this.logger.info({ environment, ...(active ? { mode } : {}) }, active ? 'outage simulation switched on' : 'outage simulation switched off');
    if (ended) await this.onOutageEnded({ companyId, environment, ...ended, endedAt: now });
    return this.state(companyId, environment);
  }

  /** Records what a call or probe observed; writes only when it changes what this process last knew. */
  async observe(companyId: string, environment: KsefEnvironmentName, available: boolean): Promise<void> {
    const key = `${companyId}:${environment}`;
    if (this.known.get(key) === available) return;
    const now = new Date();
    if (available) {
      // Only the process that flips the row learns that the outage ended.
      const ended = await this.db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('ksef_environment_state')
          .select('unavailable_since')
          .where('company_id', '=', companyId)
          .where('environment', '=', environment)
          .where('available', '=', false)
          .forUpdate()
          .executeTakeFirst();
        if (!row) return null;
        await trx
          .updateTable('ksef_environment_state')
          .set({ available: true, unavailable_since: null, last_probe_at: now, updated_at: now })
          .where('company_id', '=', companyId)
          .where('environment', '=', environment)
          .execute();
        return { since: row.unavailable_since ?? now };
      });
      this.known.set(key, true);
      if (ended) {
        this.logger.warn({ environment }, 'KSeF is available again');
        await this.onOutageEnded({ companyId, environment, mode: 'offline', since: ended.since, endedAt: now });
      }
      return;
    }
    await this.db
      .insertInto('ksef_environment_state')
      .values({ company_id: companyId, environment, simulation_active: false, available: false, unavailable_since: now, last_probe_at: now })
      .onConflict((oc) =>
        // An outage already recorded keeps its start.
        oc.columns(['company_id', 'environment']).doUpdateSet((eb) => ({
          available: false,
          unavailable_since: eb.fn.coalesce('ksef_environment_state.unavailable_since', eb.val(now)),
          last_probe_at: now,
          updated_at: now,
        })),
      )
      .execute();
    this.logger.warn({ environment }, 'KSeF marked unavailable');
    this.known.set(key, false);
  }

  /** Environments observed unavailable (not merely simulated) whose last probe is older than `olderThanMs`. */
  async dueForProbe(olderThanMs: number): Promise<{ company_id: string; environment: KsefEnvironmentName }[]> {
    return this.db
      .selectFrom('ksef_environment_state')
      .select(['company_id', 'environment'])
      .where('available', '=', false)
      .where((eb) => eb.or([eb('last_probe_at', 'is', null), eb('last_probe_at', '<', new Date(Date.now() - olderThanMs))]))
      .execute();
  }

  async touchProbe(companyId: string, environment: KsefEnvironmentName): Promise<void> {
    await this.db
      .updateTable('ksef_environment_state')
      .set({ last_probe_at: new Date() })
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .execute();
  }
}
