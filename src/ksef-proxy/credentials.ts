import type { Kysely } from 'kysely';
import type { KsefEnvironmentName } from '../config';
import type { Database } from '../db/schema';
import type { SecretBox } from './secrets';

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

/** KSeF credentials per company and environment, secrets sealed by the SecretBox; nothing secret ever leaves. */
export class CredentialsStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly secrets: SecretBox,
  ) {}

  /** `db` may be a transaction: a caller holding a lock must not wait for another connection. */
  async get(companyId: string, environment: KsefEnvironmentName, db: Kysely<Database> = this.db): Promise<StoredCredentials | null> {
    const row = await db
      .selectFrom('ksef_credentials')
      .select(['context_nip', 'ksef_token_enc'])
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .executeTakeFirst();
    if (!row) return null;
    return { contextNip: row.context_nip, ksefToken: row.ksef_token_enc ? this.secrets.openString(row.ksef_token_enc) : null };
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
  async put(companyId: string, environment: KsefEnvironmentName, input: { ksefToken?: string; contextNip?: string }, companyNip: string): Promise<void> {
    const tokenEnc = input.ksefToken !== undefined ? this.secrets.seal(input.ksefToken) : undefined;
    const identityChanged = input.ksefToken !== undefined || input.contextNip !== undefined;
    const dropTokens = identityChanged ? { access_token_enc: null, access_token_valid_until: null, refresh_token_enc: null, refresh_token_valid_until: null } : {};
    await this.db
      .insertInto('ksef_credentials')
      .values({ company_id: companyId, environment, context_nip: input.contextNip ?? companyNip, ksef_token_enc: tokenEnc ?? null })
      .onConflict((oc) =>
        oc.columns(['company_id', 'environment']).doUpdateSet({
          ...(input.contextNip !== undefined ? { context_nip: input.contextNip } : {}),
          ...(tokenEnc !== undefined ? { ksef_token_enc: tokenEnc } : {}),
          ...dropTokens,
          updated_at: new Date(),
        }),
      )
      .execute();
  }
}
