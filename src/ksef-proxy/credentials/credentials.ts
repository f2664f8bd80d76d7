import type { Kysely } from 'kysely';
import type { KsefEnvironmentName } from '../../config.js';
import type { Database } from '../../db/schema.js';
import { type OfflineCertificateInfo, parseOfflineCertificate } from './offline-certificate.js';
import type { SecretBox } from './secrets.js';

export interface OfflineCertificateInput {
  certificatePem: string;
  privateKeyPem: string;
}

export interface StoredOfflineCertificate extends OfflineCertificateInfo {
  certificatePem: string;
  privateKeyPem: string;
}

export interface StoredCredentials {
  contextNip: string;
  ksefToken: string | null;
}

export interface CredentialsSummary {
  environment: KsefEnvironmentName;
  contextNip: string;
  ksefTokenConfigured: boolean;
  offlineCertificate: null | { serialNumber: string; subject: string; validFrom: Date; validTo: Date };
}

/** A KSeF token names the context it was generated in (`…|nip-<NIP>|…`); it authenticates in no other. */
export class KsefTokenContextError extends Error {
  constructor(
    readonly field: 'ksefToken' | 'contextNip',
    readonly tokenNip: string,
    readonly contextNip: string,
  ) {
    super(
      `the KSeF token was generated for NIP ${tokenNip} but the context NIP is ${contextNip}: store the token generated in context ${contextNip}, or set contextNip to ${tokenNip} if that is the context you act in`,
    );
  }
}

const tokenNip = (token: string): string | null => /\|nip-(\d{10})\|/.exec(token)?.[1] ?? null;

/** Credentials change rarely and are read on every send: remembered this long (another process's change shows after it). */
const CACHE_TTL_MS = 5_000;

/** KSeF credentials per company and environment, secrets sealed by the SecretBox; nothing secret ever leaves. */
export class CredentialsStore {
  private readonly cache = new Map<string, { at: number; value: StoredCredentials | null }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly secrets: SecretBox,
  ) {}

  /** `db` may be a transaction: a caller holding a lock must not wait for another connection. */
  async get(companyId: string, environment: KsefEnvironmentName, db: Kysely<Database> = this.db): Promise<StoredCredentials | null> {
    const key = `${companyId}:${environment}`;
    const cached = this.cache.get(key);
    if (db === this.db && cached && Date.now() - cached.at < CACHE_TTL_MS) return cached.value;
    const row = await db
      .selectFrom('ksef_credentials')
      .select(['context_nip', 'ksef_token_enc'])
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .executeTakeFirst();
    const value = row ? { contextNip: row.context_nip, ksefToken: row.ksef_token_enc ? this.secrets.openString(row.ksef_token_enc) : null } : null;
    this.cache.set(key, { at: Date.now(), value });
    return value;
  }

  async summary(companyId: string, environment: KsefEnvironmentName, companyNip: string): Promise<CredentialsSummary> {
    const row = await this.db
      .selectFrom('ksef_credentials')
      .selectAll()
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .executeTakeFirst();
    const cert = row?.offline_certificate_serial
      ? {
          serialNumber: row.offline_certificate_serial,
          subject: row.offline_certificate_subject ?? '',
          validFrom: row.offline_certificate_valid_from!,
          validTo: row.offline_certificate_valid_to!,
        }
      : null;
    return { environment, contextNip: row?.context_nip ?? companyNip, ksefTokenConfigured: Boolean(row?.ksef_token_enc), offlineCertificate: cert };
  }

  /**
   * Stores what is given; fields left out keep their value. A new token or context makes the cached
   * access and refresh tokens worthless (they were issued for the old ones), so they are dropped.
   */
  async put(
    companyId: string,
    environment: KsefEnvironmentName,
    input: { ksefToken?: string; contextNip?: string; offlineCertificate?: OfflineCertificateInput },
    companyNip: string,
  ): Promise<void> {
    // Checked (each error names its field) before anything is stored.
    if (input.ksefToken !== undefined || input.contextNip !== undefined) {
      const stored = await this.get(companyId, environment, this.db);
      const token = input.ksefToken ?? stored?.ksefToken ?? null;
      const contextNip = input.contextNip ?? stored?.contextNip ?? companyNip;
      const nip = token ? tokenNip(token) : null;
      if (nip && nip !== contextNip) throw new KsefTokenContextError(input.ksefToken !== undefined ? 'ksefToken' : 'contextNip', nip, contextNip);
    }
    const offline = input.offlineCertificate;
    const cert = offline ? parseOfflineCertificate(offline.certificatePem, offline.privateKeyPem) : undefined;
    const certColumns =
      cert && offline
        ? {
            offline_certificate_pem: offline.certificatePem,
            offline_private_key_enc: this.secrets.seal(offline.privateKeyPem),
            offline_certificate_serial: cert.serialNumber,
            offline_certificate_subject: cert.subject,
            offline_certificate_valid_from: cert.validFrom,
            offline_certificate_valid_to: cert.validTo,
          }
        : {};
    this.cache.delete(`${companyId}:${environment}`);
    const tokenEnc = input.ksefToken !== undefined ? this.secrets.seal(input.ksefToken) : undefined;
    const identityChanged = input.ksefToken !== undefined || input.contextNip !== undefined;
    const dropTokens = identityChanged ? { access_token_enc: null, access_token_valid_until: null, refresh_token_enc: null, refresh_token_valid_until: null } : {};
    await this.db
      .insertInto('ksef_credentials')
      .values({ company_id: companyId, environment, context_nip: input.contextNip ?? companyNip, ksef_token_enc: tokenEnc ?? null, ...certColumns })
      .onConflict((oc) =>
        oc.columns(['company_id', 'environment']).doUpdateSet({
          ...(input.contextNip !== undefined ? { context_nip: input.contextNip } : {}),
          ...(tokenEnc !== undefined ? { ksef_token_enc: tokenEnc } : {}),
          ...dropTokens,
          ...certColumns,
          updated_at: new Date(),
        }),
      )
      .execute();
    this.cache.delete(`${companyId}:${environment}`);
  }

  /** The offline certificate with its private key (opened), or null; `db` may be a transaction. */
  async offlineCertificate(companyId: string, environment: KsefEnvironmentName, db: Kysely<Database> = this.db): Promise<StoredOfflineCertificate | null> {
    const row = await db
      .selectFrom('ksef_credentials')
      .selectAll()
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .executeTakeFirst();
    if (!row?.offline_certificate_pem || !row.offline_private_key_enc || !row.offline_certificate_serial) return null;
    return {
      certificatePem: row.offline_certificate_pem,
      privateKeyPem: this.secrets.openString(row.offline_private_key_enc),
      serialNumber: row.offline_certificate_serial,
      subject: row.offline_certificate_subject ?? '',
      validFrom: row.offline_certificate_valid_from!,
      validTo: row.offline_certificate_valid_to!,
    };
  }
}
