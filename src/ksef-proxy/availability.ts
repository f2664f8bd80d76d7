import type { Kysely } from 'kysely';
import type { KsefEnvironmentName } from '../config';
import type { Database } from '../db/schema';
import type { Logger } from '../logger';

export interface EnvironmentState {
  simulationActive: boolean;
  simulationSince: Date | null;
  available: boolean;
  unavailableSince: Date | null;
}

const DEFAULT_STATE: EnvironmentState = { simulationActive: false, simulationSince: null, available: true, unavailableSince: null };

/**
 * Whether KSeF is usable for a company and environment (`ksef_environment_state`): an outage simulation
 * switched on by an admin, or an outage ksef-proxy observed (connection failures, 503) until a probe or a
 * call succeeds again. Either opens offline mode; shared by every process through the database.
 */
export class Availability {
  /** Last availability written per company:environment, so a healthy call does not write every time. */
  private readonly known = new Map<string, boolean>();

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
    return { simulationActive: row.simulation_active, simulationSince: row.simulation_since, available: row.available, unavailableSince: row.unavailable_since };
  }

  /** Offline mode is open: a simulation is on, or KSeF was observed unavailable. */
  async offlineOpen(companyId: string, environment: KsefEnvironmentName): Promise<boolean> {
    const s = await this.state(companyId, environment);
    return s.simulationActive || !s.available;
  }

  async setSimulation(companyId: string, environment: KsefEnvironmentName, active: boolean): Promise<EnvironmentState> {
    const now = new Date();
    const current = await this.state(companyId, environment);
    if (current.simulationActive === active) return current;
    await this.db
      .insertInto('ksef_environment_state')
      .values({ company_id: companyId, environment, simulation_active: active, simulation_since: active ? now : null, available: true })
      .onConflict((oc) => oc.columns(['company_id', 'environment']).doUpdateSet({ simulation_active: active, simulation_since: active ? now : null, updated_at: now }))
      .execute();
    this.logger.info(active ? 'outage simulation switched on' : 'outage simulation switched off', { environment });
    return this.state(companyId, environment);
  }

  /** Records what a call or probe observed; writes only when it changes what this process last knew. */
  async observe(companyId: string, environment: KsefEnvironmentName, available: boolean): Promise<void> {
    const key = `${companyId}:${environment}`;
    if (this.known.get(key) === available) return;
    const now = new Date();
    const values = available ? { available: true, unavailable_since: null, last_probe_at: now } : { available: false, unavailable_since: now, last_probe_at: now };
    await this.db
      .insertInto('ksef_environment_state')
      .values({ company_id: companyId, environment, simulation_active: false, ...values })
      .onConflict((oc) =>
        oc.columns(['company_id', 'environment']).doUpdateSet(
          available
            ? { available: true, unavailable_since: null, last_probe_at: now, updated_at: now }
            : // An outage already recorded keeps its start.
              (eb) => ({ available: false, unavailable_since: eb.fn.coalesce('ksef_environment_state.unavailable_since', eb.val(now)), last_probe_at: now, updated_at: now }),
        ),
      )
      .execute();
    if (this.known.get(key) !== undefined || !available) this.logger.warn(available ? 'KSeF is available again' : 'KSeF marked unavailable', { environment });
    this.known.set(key, available);
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
