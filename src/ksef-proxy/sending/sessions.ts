import { type Kysely, sql } from 'kysely';
import type { KsefEnvironmentName } from '../../config.js';
import type { Database } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import type { KsefClient } from '../transport/client.js';
import { type SessionKey, newSessionKey, rsaOaepEncrypt } from '../transport/crypto.js';
import { KsefRejectedError } from '../errors.js';
import { withAdvisoryLock } from '../locks.js';
import type { SecretBox } from '../credentials/secrets.js';

export interface OnlineSession {
  id: string;
  referenceNumber: string;
  key: SessionKey;
}

/** KSeF allows 10 000 invoices per session (PROTOCOL.md §11); we move on a little before. */
export const MAX_INVOICES = 9_900;
/** A session this close to its 12-hour end takes no new invoices. */
export const EXPIRY_MARGIN_MS = 30 * 60_000;

/**
 * The company's open online session per environment, shared by every process (its AES key is stored
 * sealed): reused while it has room and time, opened on demand under an advisory lock, closed when idle.
 */
export class OnlineSessions {
  /** Opened AES keys by session id: a session's key never changes, and every send needs it. */
  private readonly keys = new Map<string, Buffer>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly client: KsefClient,
    private readonly secrets: SecretBox,
    private readonly logger: Logger,
  ) {}

  /** A session with room for one more invoice; the slot is counted before the invoice is sent. */
  async reserve(companyId: string, environment: KsefEnvironmentName): Promise<OnlineSession> {
    const existing = await this.takeSlot(this.db, companyId, environment);
    if (existing) return existing;
    // The token and certificate are fetched before taking the lock: inside it only the transaction may
    // touch the database (PGlite has one connection, and other waiters hold pool connections).
    for (let attempt = 1; ; attempt++) {
      const token = await this.client.tokens.accessToken(companyId, environment);
      const certificate = await this.client.tokens.certificate(environment, companyId, 'SymmetricKeyEncryption');
      try {
        return await withAdvisoryLock(this.db, `ksef-online-session:${companyId}:${environment}`, async (trx) => {
          const opened = await this.takeSlot(trx, companyId, environment);
          if (opened) return opened;
          const key = newSessionKey();
          const ksef = await this.client.apis[environment].openOnlineSession(companyId, token.token, {
            encryptedSymmetricKey: rsaOaepEncrypt(certificate.certificate, key.key).toString('base64'),
            initializationVector: key.iv.toString('base64'),
            publicKeyId: certificate.publicKeyId,
          });
          const now = new Date();
          const row = await trx
            .insertInto('ksef_sessions')
            .values({
              company_id: companyId,
              environment,
              kind: 'online',
              reference_number: ksef.referenceNumber,
              status: 'open',
              symmetric_key_enc: this.secrets.seal(key.key),
              initialization_vector: key.iv,
              invoice_count: 1,
              opened_at: now,
              valid_until: new Date(ksef.validUntil),
              last_used_at: now,
            })
            .returning('id')
            .executeTakeFirstOrThrow();
          this.logger.info({ environment, referenceNumber: ksef.referenceNumber }, 'opened a KSeF online session');
          return { id: row.id, referenceNumber: ksef.referenceNumber, key };
        });
      } catch (err) {
        if (attempt === 1 && err instanceof KsefRejectedError && err.httpStatus === 401) {
          await this.client.tokens.invalidate(companyId, environment, token);
          continue;
        }
        throw await this.client.attributed(err, companyId, environment);
      }
    }
  }

  /** A session row (its sealed key) as a session to send into. */
  session(row: { id: string; reference_number: string | null; symmetric_key_enc: Buffer | null; initialization_vector: Buffer | null }): OnlineSession {
    let key = this.keys.get(row.id);
    if (!key) {
      key = this.secrets.open(row.symmetric_key_enc!);
      if (this.keys.size >= 1_000) this.keys.clear();
      this.keys.set(row.id, key);
    }
    return { id: row.id, referenceNumber: row.reference_number!, key: { key, iv: row.initialization_vector! } };
  }

  /** KSeF says the session can take no more (closed, expired, unknown): stop using it. */
  async retire(sessionId: string): Promise<void> {
    this.keys.delete(sessionId);
    await this.db.updateTable('ksef_sessions').set({ status: 'closed', closed_at: new Date(), updated_at: new Date() }).where('id', '=', sessionId).execute();
  }

  /** Closes open sessions idle for `idleMs`, full, or near their end (KSeF then issues the session UPO). */
  async closeIdle(idleMs: number): Promise<number> {
    const now = Date.now();
    const stale = await this.db
      .updateTable('ksef_sessions')
      .set({ status: 'closed', closed_at: new Date(now), updated_at: new Date(now) })
      .where('kind', '=', 'online')
      .where('status', '=', 'open')
      .where((eb) =>
        eb.or([
          eb('last_used_at', '<', new Date(now - idleMs)),
          eb('valid_until', '<', new Date(now + EXPIRY_MARGIN_MS)),
          eb('invoice_count', '>=', MAX_INVOICES),
        ]),
      )
      .returning(['company_id', 'environment', 'reference_number'])
      .execute();
    for (const s of stale) {
      try {
        await this.client.call(s.company_id, s.environment, (api, bearer) => api.closeOnlineSession(s.company_id, bearer, s.reference_number!));
      } catch (err) {
        // KSeF closes it on its own at the end of its 12 hours; nothing is lost.
        this.logger.warn({ environment: s.environment, referenceNumber: s.reference_number, error: (err as Error).message }, 'could not close a KSeF online session');
      }
    }
    return stale.length;
  }

  private async takeSlot(db: Kysely<Database>, companyId: string, environment: KsefEnvironmentName): Promise<OnlineSession | null> {
    const row = await db
      .updateTable('ksef_sessions')
      .set({ invoice_count: sql`invoice_count + 1`, last_used_at: new Date(), updated_at: new Date() })
      .where('id', '=', (eb) =>
        eb
          .selectFrom('ksef_sessions')
          .select('id')
          .where('company_id', '=', companyId)
          .where('environment', '=', environment)
          .where('kind', '=', 'online')
          .where('status', '=', 'open')
          .where('invoice_count', '<', MAX_INVOICES)
          .where('valid_until', '>', new Date(Date.now() + EXPIRY_MARGIN_MS))
          .orderBy('opened_at', 'desc')
          .limit(1),
      )
      // Checked again on the row as it is when locked: a concurrent taker may have filled or closed it meanwhile.
      .where('status', '=', 'open')
      .where('invoice_count', '<', MAX_INVOICES)
      .returning(['id', 'reference_number', 'symmetric_key_enc', 'initialization_vector'])
      .executeTakeFirst();
    return row ? this.session(row) : null;
  }
}
