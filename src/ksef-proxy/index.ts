import type { Kysely } from 'kysely';
import type { AppConfig, KsefEnvironmentName } from '../config';
import type { Database } from '../db/schema';
import type { Logger } from '../logger';
import { KsefApi } from './api';
import { TokenManager } from './auth';
import { KsefClient } from './client';
import { type CredentialsSummary, CredentialsStore } from './credentials';
import { KsefError } from './errors';
import { KsefHttp } from './http';
import { RateLimiter } from './limiter';
import { Outbox } from './outbox';
import { Retrieval } from './retrieval';
import { SecretBox } from './secrets';
import { type InvoiceFacts, InvoiceSender, type OnlineSendResult } from './send';
import { OnlineSessions } from './sessions';

export * from './errors';
export type { InvoiceFacts, OnlineSendResult } from './send';
export type { SessionReport } from './retrieval';
export type { KsefStatusInfo, SessionInvoice } from './api';
export type { CredentialsSummary } from './credentials';

const ENVIRONMENTS: KsefEnvironmentName[] = ['test', 'demo', 'prod'];

export interface ConnectionReport {
  environment: KsefEnvironmentName;
  available: boolean;
  authenticated: boolean;
  contextNip: string | null;
  accessTokenValidUntil: Date | null;
  outageSimulation: boolean;
  latencyMs: number | null;
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

  constructor(
    db: Kysely<Database>,
    config: AppConfig,
    private readonly logger: Logger,
  ) {
    const secrets = SecretBox.load(config.ksef.secretsKey, config.dataDir, logger);
    const limiter = new RateLimiter(config.ksef.rateLimits === 'published');
    const apis = Object.fromEntries(
      ENVIRONMENTS.map((environment) => [environment, new KsefApi(environment, new KsefHttp({ environment, config: config.ksef, limiter, logger }))]),
    ) as Record<KsefEnvironmentName, KsefApi>;
    this.credentials = new CredentialsStore(db, secrets);
    this.tokens = new TokenManager({ db, apis, credentials: this.credentials, secrets, logger });
    this.client = new KsefClient(apis, this.tokens);
    const sessions = new OnlineSessions(db, this.client, secrets, logger);
    this.outbox = new Outbox(db, this.client, sessions, config.ksef, logger);
    this.sender = new InvoiceSender(db, this.credentials, this.outbox, config.ksef);
    this.retrieval = new Retrieval(db, this.client);
  }

  start(): void {
    this.outbox.start();
  }

  async stop(): Promise<void> {
    await this.outbox.stop();
  }

  async putCredentials(companyId: string, companyNip: string, environment: KsefEnvironmentName, input: { ksefToken?: string; contextNip?: string }): Promise<CredentialsSummary> {
    await this.credentials.put(companyId, environment, input, companyNip);
    this.tokens.forget(companyId, environment);
    return this.credentials.summary(companyId, environment, companyNip);
  }

  sendOnline(companyId: string, environment: KsefEnvironmentName, xml: Buffer, facts: InvoiceFacts): Promise<OnlineSendResult> {
    return this.sender.send(companyId, environment, xml, facts);
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

  /** The NIP our KSeF calls for this company act in: the stored context, else the company's own. */
  async contextNip(companyId: string, companyNip: string, environment: KsefEnvironmentName): Promise<string> {
    return (await this.credentials.get(companyId, environment))?.contextNip ?? companyNip;
  }

  /** Availability (an unauthenticated call, timed), then authentication when a KSeF token is stored. */
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
    };
    const started = Date.now();
    try {
      await this.tokens.certificate(environment, companyId, 'KsefTokenEncryption', true);
      report.available = true;
      report.latencyMs = Date.now() - started;
    } catch (err) {
      report.message = err instanceof KsefError ? err.message : 'KSeF could not be reached.';
      return report;
    }
    if (!stored?.ksefToken) {
      report.message = `No KSeF token is stored: PUT /ksef/${environment}/credentials.`;
      return report;
    }
    try {
      const token = await this.tokens.accessToken(companyId, environment);
      report.authenticated = true;
      report.accessTokenValidUntil = token.validUntil;
    } catch (err) {
      report.message = err instanceof KsefError ? err.message : 'Authentication failed.';
      this.logger.warn('connection check: authentication failed', { environment, error: (err as Error).message });
    }
    return report;
  }
}
