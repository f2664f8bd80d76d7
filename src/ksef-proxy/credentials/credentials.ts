import type { Kysely, Selectable } from 'kysely';
import type { KsefEnvironmentName } from '../../config.js';
import type { Database, KsefCredentialsTable } from '../../db/schema.js';
import { AuthCertificateError, type AuthCertificateInfo, type AuthCertificateInput, type CertificateIdentifier, parseAuthCertificate } from './auth-certificate.js';
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

export type AuthenticationMethod = 'ksefToken' | 'certificate';
export type SubjectIdentifierType = 'certificateSubject' | 'certificateFingerprint';

/** The sign-in certificate as given: PEM or PKCS#12, and how KSeF is to identify its holder. */
export type AuthCertificateRequest = AuthCertificateInput & {
  /** certificateSubject (default): the NIP or PESEL the certificate names; certificateFingerprint: its SHA-256. */
  subjectIdentifierType?: SubjectIdentifierType;
};

export interface CredentialsInput {
  /** null removes the stored token. */
  ksefToken?: string | null;
  contextNip?: string;
  offlineCertificate?: OfflineCertificateInput;
  /** null removes the stored certificate. */
  authenticationCertificate?: AuthCertificateRequest | null;
  /** Which signs in when both are stored; null: the certificate. */
  preferredAuthentication?: AuthenticationMethod | null;
}

export interface StoredAuthCertificate {
  certificatePem: string;
  privateKeyPem: string;
  subjectIdentifierType: SubjectIdentifierType;
  fingerprint: string;
  identifier: CertificateIdentifier | null;
}

export interface StoredCredentials {
  contextNip: string;
  ksefToken: string | null;
  authCertificate: StoredAuthCertificate | null;
  /** What ksef-proxy signs in with (see signInMethod); null when neither a token nor a certificate is stored. */
  authenticationMethod: AuthenticationMethod | null;
}

export interface AuthCertificateSummary extends AuthCertificateInfo {
  subjectIdentifierType: SubjectIdentifierType;
}

export interface CredentialsSummary {
  environment: KsefEnvironmentName;
  contextNip: string;
  ksefTokenConfigured: boolean;
  offlineCertificate: null | { serialNumber: string; subject: string; validFrom: Date; validTo: Date };
  authenticationCertificate: AuthCertificateSummary | null;
  preferredAuthentication: AuthenticationMethod | null;
  authenticationMethod: AuthenticationMethod | null;
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

/** Stored credentials that do not fit together, naming the request field at fault. */
export class CredentialsInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const tokenNip = (token: string): string | null => /\|nip-(\d{10})\|/.exec(token)?.[1] ?? null;

/**
 * Which credential signs in: the preferred one when it is stored, else the certificate (its permissions follow
 * the grants, while a token's were fixed when it was made), else the token.
 */
export function signInMethod(hasToken: boolean, hasCertificate: boolean, preferred: AuthenticationMethod | null): AuthenticationMethod | null {
  if (preferred === 'ksefToken' && hasToken) return 'ksefToken';
  if (preferred === 'certificate' && hasCertificate) return 'certificate';
  return hasCertificate ? 'certificate' : hasToken ? 'ksefToken' : null;
}

/** Credentials change rarely and are read on every send: remembered this long (another process's change shows after it). */
const CACHE_TTL_MS = 5_000;

type CredentialsRow = Selectable<KsefCredentialsTable>;

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
    const row = await this.row(companyId, environment, db);
    const value = row ? this.opened(row) : null;
    this.cache.set(key, { at: Date.now(), value });
    return value;
  }

  private row(companyId: string, environment: KsefEnvironmentName, db: Kysely<Database> = this.db): Promise<CredentialsRow | undefined> {
    return db.selectFrom('ksef_credentials').selectAll().where('company_id', '=', companyId).where('environment', '=', environment).executeTakeFirst();
  }

  private opened(row: CredentialsRow): StoredCredentials {
    const ksefToken = row.ksef_token_enc ? this.secrets.openString(row.ksef_token_enc) : null;
    const authCertificate =
      row.auth_certificate_pem && row.auth_private_key_enc
        ? {
            certificatePem: row.auth_certificate_pem,
            privateKeyPem: this.secrets.openString(row.auth_private_key_enc),
            subjectIdentifierType: row.auth_subject_identifier_type ?? 'certificateSubject',
            fingerprint: row.auth_certificate_fingerprint ?? '',
            identifier: identifierOf(row),
          }
        : null;
    return {
      contextNip: row.context_nip,
      ksefToken,
      authCertificate,
      authenticationMethod: signInMethod(ksefToken !== null, authCertificate !== null, row.preferred_authentication),
    };
  }

  async summary(companyId: string, environment: KsefEnvironmentName, companyNip: string): Promise<CredentialsSummary> {
    const row = await this.row(companyId, environment);
    const cert = row?.offline_certificate_serial
      ? {
          serialNumber: row.offline_certificate_serial,
          subject: row.offline_certificate_subject ?? '',
          validFrom: row.offline_certificate_valid_from!,
          validTo: row.offline_certificate_valid_to!,
        }
      : null;
    const auth = row?.auth_certificate_serial
      ? {
          serialNumber: row.auth_certificate_serial,
          subject: row.auth_certificate_subject ?? '',
          validFrom: row.auth_certificate_valid_from!,
          validTo: row.auth_certificate_valid_to!,
          fingerprint: row.auth_certificate_fingerprint ?? '',
          identifier: identifierOf(row),
          subjectIdentifierType: row.auth_subject_identifier_type ?? 'certificateSubject',
        }
      : null;
    const preferred = row?.preferred_authentication ?? null;
    return {
      environment,
      contextNip: row?.context_nip ?? companyNip,
      ksefTokenConfigured: Boolean(row?.ksef_token_enc),
      offlineCertificate: cert,
      authenticationCertificate: auth,
      preferredAuthentication: preferred,
      authenticationMethod: signInMethod(Boolean(row?.ksef_token_enc), auth !== null, preferred),
    };
  }

  /**
   * Stores what is given (null removes); fields left out keep their value. Everything is checked first, each
   * error naming its field, so that a refused request stores nothing. A change of who signs in (token,
   * certificate, context, preference) makes the cached access and refresh tokens worthless: they are dropped.
   */
  async put(companyId: string, environment: KsefEnvironmentName, input: CredentialsInput, companyNip: string): Promise<void> {
    const stored = await this.row(companyId, environment);
    const contextNip = input.contextNip ?? stored?.context_nip ?? companyNip;
    const token = input.ksefToken !== undefined ? input.ksefToken : stored?.ksef_token_enc ? this.secrets.openString(stored.ksef_token_enc) : null;
    const nip = token ? tokenNip(token) : null;
    if (nip && nip !== contextNip && (input.ksefToken !== undefined || input.contextNip !== undefined)) {
      throw new KsefTokenContextError(input.ksefToken !== undefined ? 'ksefToken' : 'contextNip', nip, contextNip);
    }
    const authColumns = input.authenticationCertificate !== undefined ? this.authCertificateColumns(input.authenticationCertificate) : {};
    const hasCertificate = input.authenticationCertificate !== undefined ? input.authenticationCertificate !== null : Boolean(stored?.auth_certificate_pem);
    const preferred = input.preferredAuthentication !== undefined ? input.preferredAuthentication : (stored?.preferred_authentication ?? null);
    if (input.preferredAuthentication === 'certificate' && !hasCertificate) {
      throw new CredentialsInputError('preferredAuthentication', 'is "certificate" but no authentication certificate is stored: send authenticationCertificate with it');
    }
    if (input.preferredAuthentication === 'ksefToken' && !token) {
      throw new CredentialsInputError('preferredAuthentication', 'is "ksefToken" but no KSeF token is stored: send ksefToken with it');
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
    const tokenColumns = input.ksefToken !== undefined ? { ksef_token_enc: input.ksefToken === null ? null : this.secrets.seal(input.ksefToken) } : {};
    const signsIn = (s: { token: boolean; certificate: boolean; preferred: AuthenticationMethod | null }) => signInMethod(s.token, s.certificate, s.preferred);
    const before = signsIn({ token: Boolean(stored?.ksef_token_enc), certificate: Boolean(stored?.auth_certificate_pem), preferred: stored?.preferred_authentication ?? null });
    const identityChanged =
      input.ksefToken !== undefined ||
      input.authenticationCertificate !== undefined ||
      (input.contextNip !== undefined && input.contextNip !== stored?.context_nip) ||
      signsIn({ token: token !== null, certificate: hasCertificate, preferred }) !== before;
    const dropTokens = identityChanged ? { access_token_enc: null, access_token_valid_until: null, refresh_token_enc: null, refresh_token_valid_until: null } : {};
    const changes = {
      ...(input.contextNip !== undefined ? { context_nip: input.contextNip } : {}),
      ...tokenColumns,
      ...certColumns,
      ...authColumns,
      ...(input.preferredAuthentication !== undefined ? { preferred_authentication: input.preferredAuthentication } : {}),
    };
    this.cache.delete(`${companyId}:${environment}`);
    await this.db
      .insertInto('ksef_credentials')
      .values({ company_id: companyId, environment, context_nip: contextNip, ...changes })
      .onConflict((oc) => oc.columns(['company_id', 'environment']).doUpdateSet({ ...changes, ...dropTokens, updated_at: new Date() }))
      .execute();
    this.cache.delete(`${companyId}:${environment}`);
  }

  private authCertificateColumns(input: AuthCertificateRequest | null) {
    if (input === null) {
      return {
        auth_certificate_pem: null,
        auth_private_key_enc: null,
        auth_certificate_serial: null,
        auth_certificate_subject: null,
        auth_certificate_valid_from: null,
        auth_certificate_valid_to: null,
        auth_certificate_fingerprint: null,
        auth_certificate_identifier_type: null,
        auth_certificate_identifier: null,
        auth_subject_identifier_type: null,
      };
    }
    const { subjectIdentifierType = 'certificateSubject', ...pair } = input;
    const certificate = parseAuthCertificate(pair);
    if (subjectIdentifierType === 'certificateSubject' && !certificate.identifier) {
      throw new AuthCertificateError(
        'subjectIdentifierType',
        'is certificateSubject, but the certificate names no NIP (organizationIdentifier VATPL-…, serialNumber TINPL-…) or PESEL (serialNumber PNOPL-…): use certificateFingerprint, with permissions granted to the certificate\'s fingerprint',
      );
    }
    return {
      auth_certificate_pem: certificate.certificatePem,
      auth_private_key_enc: this.secrets.seal(certificate.privateKeyPem),
      auth_certificate_serial: certificate.serialNumber,
      auth_certificate_subject: certificate.subject,
      auth_certificate_valid_from: certificate.validFrom,
      auth_certificate_valid_to: certificate.validTo,
      auth_certificate_fingerprint: certificate.fingerprint,
      auth_certificate_identifier_type: certificate.identifier?.type ?? null,
      auth_certificate_identifier: certificate.identifier?.value ?? null,
      auth_subject_identifier_type: subjectIdentifierType,
    };
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

function identifierOf(row: CredentialsRow): CertificateIdentifier | null {
  return row.auth_certificate_identifier_type && row.auth_certificate_identifier ? { type: row.auth_certificate_identifier_type, value: row.auth_certificate_identifier } : null;
}
