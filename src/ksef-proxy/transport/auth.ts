import type { Kysely, Transaction } from 'kysely';
import type { KsefEnvironmentName } from '../../config.js';
import type { Database } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import type { KsefApi, PublicKeyCertificate } from './api.js';
import type { CredentialsStore, StoredAuthCertificate, StoredCredentials } from '../credentials/credentials.js';
import { authTokenRequestXml } from '../../xades/auth-token-request.js';
import { signEnveloped } from '../../xades/sign.js';
import { rsaOaepEncrypt } from './crypto.js';
import { KsefAuthenticationError, KsefNotConfiguredError, KsefRejectedError, KsefTimeoutError, type SignIn } from '../errors.js';
import { withAdvisoryLock } from '../locks.js';
import type { SecretBox } from '../credentials/secrets.js';

export interface AccessToken {
  token: string;
  validUntil: Date;
}

/** A token this close to expiry is treated as expired: refreshed before it can fail mid-call. */
const EXPIRY_MARGIN_MS = 60_000;
const PUBLIC_KEYS_TTL_MS = 60 * 60_000;
const AUTH_POLL_LIMIT_MS = 60_000;
const SIGNING_TIME_SKEW_MS = 60_000;

export interface TokenManagerDeps {
  db: Kysely<Database>;
  apis: Record<KsefEnvironmentName, KsefApi>;
  credentials: CredentialsStore;
  secrets: SecretBox;
  logger: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Access tokens per company and environment (PROTOCOL.md §2): cached in memory and in the database
 * (sealed), refreshed with the refresh token before they expire, re-authenticated with the KSeF token
 * when that is gone too. Single-flight: concurrent callers in this process share one promise, and other
 * processes wait on a Postgres advisory lock and then find the tokens the first one stored.
 */
export class TokenManager {
  private readonly memory = new Map<string, AccessToken>();
  private readonly inflight = new Map<string, Promise<AccessToken>>();
  private readonly publicKeys = new Map<KsefEnvironmentName, { at: number; certificates: PublicKeyCertificate[] }>();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: TokenManagerDeps) {
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async accessToken(companyId: string, environment: KsefEnvironmentName): Promise<AccessToken> {
    const key = `${companyId}:${environment}`;
    const cached = this.memory.get(key);
    if (cached && this.fresh(cached.validUntil)) return cached;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.obtain(companyId, environment).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    const token = await pending;
    this.memory.set(key, token);
    return token;
  }

  /** KSeF answered 401 with this token: forget it everywhere so the next call refreshes. */
  async invalidate(companyId: string, environment: KsefEnvironmentName, token: AccessToken): Promise<void> {
    const key = `${companyId}:${environment}`;
    if (this.memory.get(key)?.token === token.token) this.memory.delete(key);
    await this.deps.db
      .updateTable('ksef_credentials')
      .set({ access_token_enc: null, access_token_valid_until: null })
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .where('access_token_valid_until', '=', token.validUntil)
      .execute();
  }

  /** Credentials changed: cached tokens belong to the old ones. */
  forget(companyId: string, environment: KsefEnvironmentName): void {
    this.memory.delete(`${companyId}:${environment}`);
  }

  /** Who signs in for the company, and to which context (null: nothing stored that could). */
  async signIn(companyId: string, environment: KsefEnvironmentName): Promise<SignIn | null> {
    const credentials = await this.deps.credentials.get(companyId, environment);
    return credentials ? signInOf(credentials) : null;
  }

  /** The cached access token's expiry, if any (for the connection check; does not call KSeF). */
  cachedValidUntil(companyId: string, environment: KsefEnvironmentName): Date | null {
    const cached = this.memory.get(`${companyId}:${environment}`);
    return cached && cached.validUntil.getTime() > this.now() ? cached.validUntil : null;
  }

  async certificate(environment: KsefEnvironmentName, scope: string, usage: 'KsefTokenEncryption' | 'SymmetricKeyEncryption', refresh = false): Promise<PublicKeyCertificate> {
    let entry = this.publicKeys.get(environment);
    if (refresh || !entry || this.now() - entry.at > PUBLIC_KEYS_TTL_MS) {
      entry = { at: this.now(), certificates: await this.deps.apis[environment].publicKeyCertificates(scope) };
      this.publicKeys.set(environment, entry);
    }
    const now = this.now();
    const usable = entry.certificates
      .filter((c) => c.usage.includes(usage) && Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo))
      .sort((a, b) => Date.parse(b.validFrom) - Date.parse(a.validFrom));
    if (usable.length === 0) throw new KsefRejectedError(environment, 200, [], `KSeF lists no valid certificate for ${usage}.`);
    return usable[0];
  }

  private fresh(validUntil: Date | null | undefined): validUntil is Date {
    return Boolean(validUntil && validUntil.getTime() - this.now() > EXPIRY_MARGIN_MS);
  }

  private async obtain(companyId: string, environment: KsefEnvironmentName): Promise<AccessToken> {
    const stored = await this.storedAccess(this.deps.db, companyId, environment);
    if (stored) return stored;
    return withAdvisoryLock(this.deps.db, `ksef-auth:${companyId}:${environment}`, async (trx) => {
      // Another process may have authenticated while we waited for the lock.
      const again = await this.storedAccess(trx, companyId, environment);
      if (again) return again;
      const row = await trx
        .selectFrom('ksef_credentials')
        .select(['refresh_token_enc', 'refresh_token_valid_until'])
        .where('company_id', '=', companyId)
        .where('environment', '=', environment)
        .executeTakeFirst();
      if (row?.refresh_token_enc && this.fresh(row.refresh_token_valid_until)) {
        try {
          const { accessToken } = await this.deps.apis[environment].refresh(companyId, this.deps.secrets.openString(row.refresh_token_enc));
          const access = { token: accessToken.token, validUntil: new Date(accessToken.validUntil) };
          await this.store(trx, companyId, environment, access);
          return access;
        } catch (err) {
          if (!(err instanceof KsefRejectedError)) throw err;
          this.deps.logger.info({ environment }, 'KSeF refused the refresh token; authenticating again');
        }
      }
      const { access, refresh } = await this.authenticate(trx, companyId, environment);
      await this.store(trx, companyId, environment, access, refresh);
      return access;
    });
  }

  private async storedAccess(db: Kysely<Database> | Transaction<Database>, companyId: string, environment: KsefEnvironmentName): Promise<AccessToken | null> {
    const row = await db
      .selectFrom('ksef_credentials')
      .select(['access_token_enc', 'access_token_valid_until'])
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .executeTakeFirst();
    if (!row?.access_token_enc || !this.fresh(row.access_token_valid_until)) return null;
    return { token: this.deps.secrets.openString(row.access_token_enc), validUntil: row.access_token_valid_until };
  }

  private async store(trx: Transaction<Database>, companyId: string, environment: KsefEnvironmentName, access: AccessToken, refresh?: AccessToken): Promise<void> {
    const { secrets } = this.deps;
    await trx
      .updateTable('ksef_credentials')
      .set({
        access_token_enc: secrets.seal(access.token),
        access_token_valid_until: access.validUntil,
        ...(refresh ? { refresh_token_enc: secrets.seal(refresh.token), refresh_token_valid_until: refresh.validUntil } : {}),
        updated_at: new Date(),
      })
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .execute();
  }

  /**
   * Challenge → the KSeF token encrypted, or the AuthTokenRequest signed with the certificate (XAdES) → poll
   * the operation → redeem (PROTOCOL.md §2). Which credential signs in: StoredCredentials.authenticationMethod.
   */
  private async authenticate(trx: Transaction<Database>, companyId: string, environment: KsefEnvironmentName): Promise<{ access: AccessToken; refresh: AccessToken }> {
    const credentials = await this.deps.credentials.get(companyId, environment, trx);
    const method = credentials?.authenticationMethod;
    if (!credentials || !method) {
      throw new KsefNotConfiguredError(
        environment,
        `Neither a KSeF token nor an authentication certificate is stored for the ${environment} environment. Store one with PUT /ksef/${environment}/credentials.`,
      );
    }
    const api = this.deps.apis[environment];
    const signIn = signInOf(credentials)!;
    const started =
      signIn.method === 'certificate'
        ? await this.startSignatureAuthentication(api, companyId, credentials.contextNip, credentials.authCertificate!)
        : await this.startAuthentication(api, companyId, environment, credentials.contextNip, credentials.ksefToken!);
    const deadline = this.now() + AUTH_POLL_LIMIT_MS;
    for (let delay = 100; ; delay = Math.min(delay * 2, 1_000)) {
      const { status } = await api.authenticationStatus(companyId, started.referenceNumber, started.authenticationToken.token);
      if (status.code === 200) break;
      if (status.code >= 400) throw new KsefAuthenticationError(environment, status, signIn);
      if (this.now() > deadline) throw new KsefTimeoutError(environment, 'KSeF did not finish authenticating within a minute; try again later.');
      await this.sleep(delay);
    }
    const { accessToken, refreshToken } = await api.redeem(companyId, started.authenticationToken.token);
    this.deps.logger.info({ environment, contextNip: credentials.contextNip, method }, 'authenticated to KSeF');
    return {
      access: { token: accessToken.token, validUntil: new Date(accessToken.validUntil) },
      refresh: { token: refreshToken.token, validUntil: new Date(refreshToken.validUntil) },
    };
  }

  /** The certificate flow (PROTOCOL.md §2.6): the challenge in an AuthTokenRequest for the context, signed enveloped. */
  private async startSignatureAuthentication(api: KsefApi, companyId: string, contextNip: string, certificate: StoredAuthCertificate) {
    const { challenge } = await api.challenge(companyId);
    const request = authTokenRequestXml({ challenge, context: { type: 'Nip', value: contextNip }, subjectIdentifierType: certificate.subjectIdentifierType });
    // Backdated a minute, as the official client does, for clocks a little ahead of KSeF's.
    const signed = await signEnveloped(
      request,
      { certificate: certificate.certificatePem, privateKey: certificate.privateKeyPem },
      { signingTime: new Date(this.now() - SIGNING_TIME_SKEW_MS) },
    );
    return api.authenticateWithSignature(companyId, signed);
  }

  private async startAuthentication(api: KsefApi, companyId: string, environment: KsefEnvironmentName, contextNip: string, ksefToken: string) {
    for (let attempt = 1; ; attempt++) {
      const certificate = await this.certificate(environment, companyId, 'KsefTokenEncryption', attempt > 1);
      const { challenge, timestampMs } = await api.challenge(companyId);
      try {
        return await api.authenticateWithKsefToken(companyId, {
          challenge,
          contextIdentifier: { type: 'Nip', value: contextNip },
          encryptedToken: rsaOaepEncrypt(certificate.certificate, Buffer.from(`${ksefToken}|${timestampMs}`, 'utf8')).toString('base64'),
          publicKeyId: certificate.publicKeyId,
        });
      } catch (err) {
        // 21470: KSeF rotated its keys; fetch the list again once.
        if (attempt === 1 && err instanceof KsefRejectedError && err.has(21470)) continue;
        throw err;
      }
    }
  }
}

export function signInOf(credentials: StoredCredentials): SignIn | null {
  const { authenticationMethod: method, authCertificate: certificate, contextNip } = credentials;
  if (method === 'certificate' && certificate) return { method, contextNip, subject: subjectOf(certificate) };
  return method === 'ksefToken' ? { method, contextNip } : null;
}

/** How the certificate's holder is named in messages: its NIP or PESEL, or its fingerprint. */
export function subjectOf(certificate: Pick<StoredAuthCertificate, 'identifier' | 'subjectIdentifierType' | 'fingerprint'>): string {
  return certificate.subjectIdentifierType === 'certificateSubject' && certificate.identifier
    ? `${certificate.identifier.type === 'Nip' ? 'NIP' : 'PESEL'} ${certificate.identifier.value}`
    : `fingerprint ${certificate.fingerprint}`;
}
