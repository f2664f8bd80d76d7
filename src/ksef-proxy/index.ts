import type { Kysely } from 'kysely';
import type { AppConfig, KsefEnvironmentName } from '../config.js';
import type { BulkRejection, Database, OfflineMode } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { KsefApi } from './transport/api.js';
import { TokenManager } from './transport/auth.js';
import { KsefClient } from './transport/client.js';
import { type CredentialsSummary, CredentialsStore } from './credentials/credentials.js';
import { KsefError, KsefTimeoutError, KsefUnavailableError, outageSimulated } from './errors.js';
import { KsefHttp, type KsefCallObserver } from './transport/http.js';
import { RateLimiter } from './transport/limiter.js';
import { Outbox } from './sending/outbox.js';
import { Retrieval } from './retrieval/retrieval.js';
import { SecretBox } from './credentials/secrets.js';
import { type InvoiceFacts, InvoiceSender, type OnlineSendResult } from './sending/send.js';
import { OnlineSessions } from './sending/sessions.js';
import { BatchSessions } from './sending/batch-session.js';
import { BatchOutbox } from './sending/batch-outbox.js';
import { BulkBatches, type BulkInvoice, type BulkProgress, type BulkSubmission } from './sending/bulk.js';
import { Availability, type EnvironmentState } from './transport/availability.js';
import { type OfflineFilter, OfflineInvoices, type OfflineRow } from './offline/offline.js';
import type { AuthenticationMethod, CredentialsInput } from './credentials/credentials.js';
import { credentialPermissions, type KsefPermissionsView } from './permissions/permissions.js';
import { invoiceLinks } from './sync/relations.js';
import { listRegister, type RegisterFilter } from './sync/register.js';
import { InvoiceSync, SyncSchedule } from './sync/sync.js';
import { environmentsInUse, outboxFigures, syncFigures } from './figures.js';

export * from './errors.js';
export type { InvoiceFacts, OnlineSendResult } from './sending/send.js';
export type { BulkInvoice, BulkProgress, BulkSubmission } from './sending/bulk.js';
export type { BulkRejection } from '../db/schema.js';
export type { SessionReport } from './retrieval/retrieval.js';
export type { KsefStatusInfo, SessionInvoice } from './transport/api.js';
export type { CredentialsSummary } from './credentials/credentials.js';
export type { OfflineFilter, OfflineRow } from './offline/offline.js';
export { OfflineCertificateError } from './credentials/offline-certificate.js';
export { CredentialsInputError, KsefTokenContextError } from './credentials/credentials.js';
export { AuthCertificateError } from './credentials/auth-certificate.js';
export type { KsefPermissionsView } from './permissions/permissions.js';
export type { SyncSettings, SyncState, SyncSubjectState } from './sync/sync.js';
export type { InvoiceLinks } from './sync/relations.js';
export type { KsefCall, KsefCallObserver, KsefEndpointGroup } from './transport/http.js';
export type { OutboxFigure, SyncFigure } from './figures.js';
export type { RegisterFilter } from './sync/register.js';

const ENVIRONMENTS: KsefEnvironmentName[] = ['test', 'demo', 'prod'];

export interface OutageSimulation {
  environment: KsefEnvironmentName;
  active: boolean;
  since: Date | null;
  /** The offline mode the simulation stands for (PROTOCOL.md §9). */
  offlineMode: OfflineMode;
}

const simulationView = (environment: KsefEnvironmentName, s: EnvironmentState): OutageSimulation => ({
  environment,
  active: s.simulationActive,
  since: s.simulationSince,
  offlineMode: s.simulationMode,
});

export interface Reachability {
  environment: KsefEnvironmentName;
  reachable: boolean;
  latencyMs: number;
  /** Why not, for the log (it names the configured URL). */
  error?: string;
}

/** Told of what ksef-proxy does, for metrics; nothing here may throw. */
export interface KsefProxyObservers {
  ksefCall?: KsefCallObserver;
}

export interface ConnectionReport {
  environment: KsefEnvironmentName;
  available: boolean;
  authenticated: boolean;
  contextNip: string | null;
  accessTokenValidUntil: Date | null;
  outageSimulation: boolean;
  latencyMs: number | null;
  authenticationMethod?: AuthenticationMethod | null;
  message?: string;
}

/**
 * ksef-proxy: the only code that talks to KSeF. Built once per server; handlers use its methods, the
 * outbox worker runs in the background between `start()` and `stop()`.
 */
export class KsefProxy {
  readonly credentials: CredentialsStore;
  readonly tokens: TokenManager;
  readonly outbox: Outbox;
  private readonly client: KsefClient;
  private readonly sender: InvoiceSender;
  private readonly retrieval: Retrieval;
  readonly availability: Availability;
  readonly offline: OfflineInvoices;
  readonly bulk: BulkBatches;
  readonly batchOutbox: BatchOutbox;
  readonly sync: InvoiceSync;
  /** Seals secrets at rest (KSEF_SECRETS_KEY): KSeF's, and webhook signing secrets. */
  readonly secrets: SecretBox;
  private readonly db: Kysely<Database>;
  private readonly syncSchedule: SyncSchedule;

  constructor(
    db: Kysely<Database>,
    config: AppConfig,
    private readonly logger: Logger,
    observers: KsefProxyObservers = {},
  ) {
    const secrets = SecretBox.load(config.ksef.secretsKey, config.dataDir, logger);
    this.secrets = secrets;
    const limiter = new RateLimiter(config.ksef.rateLimits === 'published');
    const apis = Object.fromEntries(
      ENVIRONMENTS.map((environment) => [environment, new KsefApi(environment, new KsefHttp({ environment, config: config.ksef, limiter, logger, observe: observers.ksefCall }))]),
    ) as Record<KsefEnvironmentName, KsefApi>;
    this.credentials = new CredentialsStore(db, secrets);
    this.tokens = new TokenManager({ db, apis, credentials: this.credentials, secrets, logger });
    this.client = new KsefClient(apis, this.tokens);
    const sessions = new OnlineSessions(db, this.client, secrets, logger);
    this.outbox = new Outbox(db, this.client, sessions, config.ksef, logger);
    this.sender = new InvoiceSender(db, this.credentials, this.outbox, config.ksef);
    this.retrieval = new Retrieval(db, this.client);
    this.availability = new Availability(db, logger);
    // What calls show about KSeF marks the environment (un)available; a failed write must not fail the call.
    this.client.observer = (companyId, environment, available) =>
      void this.availability.observe(companyId, environment, available).catch((err) => logger.warn({ error: (err as Error).message }, 'recording KSeF availability failed'));
    const batches = new BatchSessions(db, this.client, secrets, logger);
    this.offline = new OfflineInvoices(db, this.client, this.credentials, this.availability, sessions, batches, config.ksef, logger);
    this.availability.onOutageEnded = (outage) => this.offline.outageEnded(outage);
    this.outbox.hold = async (companyId, environment) => (await this.availability.state(companyId, environment)).simulationActive;
    this.bulk = new BulkBatches(db, this.credentials);
    this.batchOutbox = new BatchOutbox(db, batches, config.ksef, logger);
    this.batchOutbox.hold = this.outbox.hold;
    this.outbox.divert = () => this.batchOutbox.divert();
    this.sync = new InvoiceSync(db, this.client, this.credentials, logger, {
      startDate: config.ksef.syncStart,
      crossProcess: Boolean(config.databaseUrl),
    });
    this.syncSchedule = new SyncSchedule(db, this.sync, config.ksef.syncIntervalMs, logger);
    // The outbox worker's other duties: the offline queue, and linking the invoices we sent.
    this.outbox.extraWork = async () => {
      await this.offline.work();
      await this.sync.linkSentInvoices();
    };
    this.db = db;
  }

  start(): void {
    this.outbox.start();
    this.batchOutbox.start();
    this.syncSchedule.start();
  }

  /** `timeoutMs`: how long the outbox's pass under way may still take before its leases are given back. */
  async stop(timeoutMs?: number): Promise<void> {
    await this.sync.stop(); // a run going ends at its next step, recorded as interrupted
    await this.syncSchedule.stop();
    await this.batchOutbox.stop();
    await this.outbox.stop(timeoutMs);
  }

  async putCredentials(
    companyId: string,
    companyNip: string,
    environment: KsefEnvironmentName,
    input: CredentialsInput,
  ): Promise<CredentialsSummary> {
    await this.credentials.put(companyId, environment, input, companyNip);
    this.tokens.forget(companyId, environment);
    return this.credentials.summary(companyId, environment, companyNip);
  }

  /** What the stored credentials may do in their context, asked of KSeF (signs in first; not during an outage simulation). */
  async permissions(companyId: string, environment: KsefEnvironmentName): Promise<KsefPermissionsView> {
    if ((await this.availability.state(companyId, environment)).simulationActive) throw outageSimulated(environment);
    return credentialPermissions(this.client, this.credentials, companyId, environment);
  }

  async sendOnline(companyId: string, environment: KsefEnvironmentName, xml: Buffer, facts: InvoiceFacts): Promise<OnlineSendResult> {
    return this.sender.send(companyId, environment, xml, facts);
  }

  /** Stores a bulk request's invoices for the batch lane (README "Bulk sending"). */
  submitBulk(companyId: string, environment: KsefEnvironmentName, totalCount: number, accepted: BulkInvoice[], rejected: BulkRejection[]): Promise<BulkSubmission> {
    return this.bulk.submit(companyId, environment, totalCount, accepted, rejected);
  }

  bulkProgress(companyId: string, environment: KsefEnvironmentName, batchId: string, page: number, pageSize: number): Promise<BulkProgress | undefined> {
    return this.bulk.progress(companyId, environment, batchId, page, pageSize);
  }

  /** Outage simulation state (API.md part B). */
  async simulation(companyId: string, environment: KsefEnvironmentName): Promise<OutageSimulation> {
    return simulationView(environment, await this.availability.state(companyId, environment));
  }

  async setSimulation(companyId: string, environment: KsefEnvironmentName, active: boolean, mode: OfflineMode | undefined): Promise<OutageSimulation> {
    return simulationView(environment, await this.availability.setSimulation(companyId, environment, active, mode));
  }

  issueOffline(companyId: string, environment: KsefEnvironmentName, xml: Buffer, facts: InvoiceFacts, contextNip: string): Promise<OfflineRow> {
    return this.offline.issue(companyId, environment, xml, facts, contextNip);
  }

  listOffline(companyId: string, environment: KsefEnvironmentName, filter: OfflineFilter): Promise<OfflineRow[]> {
    return this.offline.list(companyId, environment, filter);
  }

  offlineInvoice(companyId: string, environment: KsefEnvironmentName, id: string): Promise<OfflineRow | undefined> {
    return this.offline.get(companyId, environment, id);
  }

  sendOfflineBatch(companyId: string, environment: KsefEnvironmentName) {
    return this.offline.sendBatch(companyId, environment);
  }

  resendOffline(companyId: string, environment: KsefEnvironmentName, row: OfflineRow, xml: Buffer, facts: InvoiceFacts, contextNip: string): Promise<OfflineRow> {
    return this.offline.resend(companyId, environment, row, xml, facts, contextNip);
  }

  session(companyId: string, environment: KsefEnvironmentName, referenceNumber: string) {
    return this.retrieval.session(companyId, environment, referenceNumber);
  }

  invoiceUpo(companyId: string, environment: KsefEnvironmentName, referenceNumber: string, ksefNumber: string) {
    return this.retrieval.invoiceUpo(companyId, environment, referenceNumber, ksefNumber);
  }

  async invoiceXml(companyId: string, companyNip: string, environment: KsefEnvironmentName, ksefNumber: string): Promise<Buffer> {
    const stored = await this.credentials.get(companyId, environment);
    return this.retrieval.invoiceXml(companyId, environment, ksefNumber, stored?.contextNip ?? companyNip);
  }

  /** The local register (issued and received invoices). */
  register(companyId: string, environment: KsefEnvironmentName, filter: RegisterFilter) {
    return listRegister(this.db, companyId, environment, filter);
  }

  /** An invoice's advance group and correction chain; null when the register does not hold it. */
  links(companyId: string, environment: KsefEnvironmentName, ksefNumber: string) {
    return invoiceLinks(this.db, companyId, environment, ksefNumber);
  }

  /** The NIP our KSeF calls for this company act in: the stored context, else the company's own. */
  async contextNip(companyId: string, companyNip: string, environment: KsefEnvironmentName): Promise<string> {
    return (await this.credentials.get(companyId, environment))?.contextNip ?? companyNip;
  }

  /** The outbox backlog of every company, per environment and status. */
  outboxFigures() {
    return outboxFigures(this.db);
  }

  /** When each subject type last synced successfully, per environment (the least recent over companies). */
  syncFigures() {
    return syncFigures(this.db);
  }

  /**
   * Whether each environment a company keeps credentials for answers an unauthenticated call (the public
   * key list) within `timeoutMs`, in one attempt. Changes nothing: a company's availability is its calls'.
   */
  async reachability(timeoutMs: number): Promise<Reachability[]> {
    return Promise.all(
      (await environmentsInUse(this.db)).map(async (environment): Promise<Reachability> => {
        const started = Date.now();
        try {
          await this.client.apis[environment].publicKeyCertificates('readiness', { timeoutMs });
          return { environment, reachable: true, latencyMs: Date.now() - started };
        } catch (err) {
          return { environment, reachable: false, latencyMs: Date.now() - started, error: (err as Error).message };
        }
      }),
    );
  }

  /** Availability (an unauthenticated call, timed), then authentication when a KSeF token or certificate is stored. */
  async connection(companyId: string, environment: KsefEnvironmentName, companyNip: string): Promise<ConnectionReport> {
    const stored = await this.credentials.get(companyId, environment);
    const report: ConnectionReport = {
      environment,
      available: false,
      authenticated: false,
      contextNip: stored?.contextNip ?? companyNip,
      accessTokenValidUntil: null,
      outageSimulation: false,
      latencyMs: null,
      authenticationMethod: stored?.authenticationMethod ?? null,
    };
    if ((await this.availability.state(companyId, environment)).simulationActive) {
      // Simulated: KSeF is treated as unavailable and not called at all.
      report.outageSimulation = true;
      report.message = `An outage simulation is active: KSeF ${environment} is treated as unavailable and offline mode is open (PUT /ksef/${environment}/simulation {"active": false} ends it).`;
      return report;
    }
    const started = Date.now();
    try {
      await this.tokens.certificate(environment, companyId, 'KsefTokenEncryption', true);
      report.available = true;
      report.latencyMs = Date.now() - started;
      await this.availability.observe(companyId, environment, true);
    } catch (err) {
      report.message = err instanceof KsefError ? err.message : 'KSeF could not be reached.';
      if (err instanceof KsefUnavailableError || err instanceof KsefTimeoutError) await this.availability.observe(companyId, environment, false);
      return report;
    }
    if (!stored?.authenticationMethod) {
      report.message = `Neither a KSeF token nor an authentication certificate is stored: PUT /ksef/${environment}/credentials.`;
      return report;
    }
    try {
      const token = await this.tokens.accessToken(companyId, environment);
      report.authenticated = true;
      report.accessTokenValidUntil = token.validUntil;
    } catch (err) {
      report.message = err instanceof KsefError ? err.message : 'Authentication failed.';
      this.logger.warn({ environment, error: (err as Error).message }, 'connection check: authentication failed');
    }
    return report;
  }
}
