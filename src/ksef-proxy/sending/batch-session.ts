import { zipSync } from 'fflate';
import type { Kysely, Transaction } from 'kysely';
import type { KsefEnvironmentName } from '../../config.js';
import type { Database } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import type { SecretBox } from '../credentials/secrets.js';
import { KsefRejectedError, KsefUnavailableError } from '../errors.js';
import type { SessionInvoice, SessionStatusResponse } from '../transport/api.js';
import type { KsefClient } from '../transport/client.js';
import { aesEncrypt, newSessionKey, rsaOaepEncrypt, sha256Base64 } from '../transport/crypto.js';

/** KSeF's limit on parts per batch session (PROTOCOL.md §5); the other limits are in `config.offlineBatch`. */
export const KSEF_MAX_PARTS = 50;
/** Bytes a zip entry adds to its file (local header, central directory record, names), rounded up. */
export const ZIP_ENTRY_OVERHEAD = 128;
/** Fixed time stamp in the archive: the same rows always make the same bytes. */
const ZIP_MTIME = new Date('2026-01-01T00:00:00Z');

/** KSeF's encryption certificate for the session key, fetched before anything is claimed. */
export type EncryptionCertificate = { certificate: string; publicKeyId: string };

/**
 * The rows one kind of batch session carries (the offline queue, or invoices sent in bulk). A lane's
 * sessions are told apart in `ksef_sessions` by `offline_mode`, which is also what KSeF is told.
 */
export interface BatchLane {
  readonly name: string;
  readonly offlineMode: boolean;
  /**
   * Marks the claimed rows `ids` as travelling in `referenceNumber`, inside the transaction that records
   * the session. False when some of them are no longer this claim's (its lease ran out meanwhile).
   */
  tag(trx: Transaction<Database>, ids: string[], referenceNumber: string): Promise<boolean>;
  /** Gives the rows of a session KSeF will never process back to their queue. */
  untag(trx: Transaction<Database>, referenceNumber: string): Promise<void>;
  /** Gives claimed rows that never got a session back to their queue; `cause` is why KSeF opened none. */
  release(ids: string[], cause: unknown): Promise<void>;
}

/**
 * KSeF batch sessions (PROTOCOL.md §5), crash-safe: zip the files, cut the archive into parts, encrypt
 * them, open the session, store it (`uploading`) together with the rows' session reference, upload, close
 * (`closed`). A session that is never closed is processed by KSeF not at all, so a process that dies
 * before the close leaves nothing half-sent: the recovery pass (`recoverStale`) asks KSeF and either
 * closes a still-open session whose parts are all there or abandons it (rows back to the queue); one
 * already closed is left to the lane's status checks. An invoice is never in two processed sessions.
 */
export class BatchSessions {
  /** Sessions this process is uploading or closing right now: its own recovery pass leaves them alone. */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly client: KsefClient,
    private readonly secrets: SecretBox,
    private readonly logger: Logger,
  ) {}

  /** The certificate and a valid access token, fetched before rows are claimed: a failure here leaves every queue untouched. */
  async prepare(companyId: string, environment: KsefEnvironmentName): Promise<EncryptionCertificate> {
    const certificate = await this.client.tokens.certificate(environment, companyId, 'SymmetricKeyEncryption');
    await this.client.tokens.accessToken(companyId, environment);
    return certificate;
  }

  /**
   * Sends the claimed `files` (in this order) in one new batch session and answers its reference. Any
   * failure before the close gives the rows back to the lane; an unclear close leaves the session to the
   * recovery pass.
   */
  async send(
    companyId: string,
    environment: KsefEnvironmentName,
    lane: BatchLane,
    certificate: EncryptionCertificate,
    files: { id: string; xml: Buffer }[],
    partBytes: number,
  ): Promise<string> {
    const ids = files.map((f) => f.id);
    const key = newSessionKey();
    const archive = Buffer.from(
      zipSync(Object.fromEntries(files.map((f, i) => [`${String(i + 1).padStart(5, '0')}.xml`, [new Uint8Array(f.xml), { mtime: ZIP_MTIME }] as const]))),
    );
    const plainParts: Buffer[] = [];
    for (let offset = 0; offset < archive.length; offset += partBytes) plainParts.push(archive.subarray(offset, offset + partBytes));
    if (plainParts.length > KSEF_MAX_PARTS) {
      const error = new Error(`the ${lane.name} batch archive needs ${plainParts.length} parts, more than KSeF's ${KSEF_MAX_PARTS}: lower OFFLINE_BATCH_MAX_BYTES`);
      await lane.release(ids, error);
      throw error;
    }
    const parts = plainParts.map((p) => aesEncrypt(key, p));

    let opened: Awaited<ReturnType<typeof this.client.apis.test.openBatchSession>>;
    try {
      opened = await this.client.call(companyId, environment, (api, bearer) =>
        api.openBatchSession(companyId, bearer, {
          batchFile: {
            fileSize: archive.length,
            fileHash: sha256Base64(archive),
            fileParts: parts.map((p, i) => ({ ordinalNumber: i + 1, fileSize: p.length, fileHash: sha256Base64(p) })),
          },
          encryption: {
            encryptedSymmetricKey: rsaOaepEncrypt(certificate.certificate, key.key).toString('base64'),
            initializationVector: key.iv.toString('base64'),
            publicKeyId: certificate.publicKeyId,
          },
          offlineMode: lane.offlineMode,
        }),
      );
    } catch (err) {
      await lane.release(ids, err);
      throw err;
    }
    const referenceNumber = opened.referenceNumber;
    const now = new Date();
    const session = await this.db.transaction().execute(async (trx) => {
      const s = await trx
        .insertInto('ksef_sessions')
        .values({
          company_id: companyId,
          environment,
          kind: 'batch',
          reference_number: referenceNumber,
          status: 'uploading',
          symmetric_key_enc: this.secrets.seal(key.key),
          initialization_vector: key.iv,
          invoice_count: files.length,
          offline_mode: lane.offlineMode,
          opened_at: now,
          last_used_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { ...s, complete: await lane.tag(trx, ids, referenceNumber) };
    });
    if (!session.complete) {
      // Opening took longer than the lease and the rows went back to the queue: this session is never
      // uploaded nor closed (KSeF processes none of it), so no invoice can travel twice.
      await this.abandon(lane, session.id, referenceNumber);
      throw new KsefUnavailableError(environment, `Opening the KSeF batch session took too long; the ${lane.name} queue is unchanged. It is sent again.`);
    }
    this.logger.info({ environment, referenceNumber, invoices: files.length }, `opened a KSeF batch session for the ${lane.name} queue`);

    this.inFlight.add(referenceNumber);
    try {
      try {
        for (const upload of opened.partUploadRequests) {
          await this.client.apis[environment].uploadBatchPart(companyId, upload, parts[upload.ordinalNumber - 1]);
        }
      } catch (err) {
        // Never closed, so KSeF processes none of it: the rows go back to the queue.
        await this.abandon(lane, session.id, referenceNumber);
        throw err;
      }
      await this.heartbeat(session.id);
      await this.close(companyId, environment, lane, session.id, referenceNumber, true);
    } finally {
      this.inFlight.delete(referenceNumber);
    }
    return referenceNumber;
  }

  /** Finishes the lane's `uploading` sessions untouched since `staleBefore` (their process died or lost its way). */
  async recoverStale(lane: BatchLane, staleBefore: Date): Promise<void> {
    const uploading = await this.db
      .selectFrom('ksef_sessions')
      .select(['id', 'company_id', 'environment', 'reference_number'])
      .where('kind', '=', 'batch')
      .where('offline_mode', '=', lane.offlineMode)
      .where('status', '=', 'uploading')
      .where('last_used_at', '<', staleBefore)
      .execute();
    for (const s of uploading) {
      const referenceNumber = s.reference_number!;
      if (this.inFlight.has(referenceNumber)) continue;
      await this.recover(s.company_id, s.environment, lane, s.id, referenceNumber).catch((err) =>
        this.logger.warn({ environment: s.environment, referenceNumber, error: (err as Error).message }, `recovering a ${lane.name} batch failed`),
      );
    }
  }

  /** The session's status and, once KSeF has finished with it (code ≥ 200), every invoice it holds. */
  async results(companyId: string, environment: KsefEnvironmentName, referenceNumber: string): Promise<{ status: SessionStatusResponse; invoices: SessionInvoice[] }> {
    return this.client.call(companyId, environment, async (api, bearer) => {
      const status = await api.sessionStatus(companyId, bearer, referenceNumber);
      const invoices = status.status.code >= 200 ? await api.sessionInvoices(companyId, bearer, referenceNumber) : [];
      return { status, invoices };
    });
  }

  private async recover(companyId: string, environment: KsefEnvironmentName, lane: BatchLane, sessionId: string, referenceNumber: string): Promise<void> {
    const status = await this.client.call(companyId, environment, (api, bearer) => api.sessionStatus(companyId, bearer, referenceNumber));
    if (status.status.code === 100) {
      this.logger.info({ environment, referenceNumber }, `finishing a ${lane.name} batch a process left unclosed`);
      this.inFlight.add(referenceNumber);
      try {
        await this.heartbeat(sessionId);
        await this.close(companyId, environment, lane, sessionId, referenceNumber, false);
      } finally {
        this.inFlight.delete(referenceNumber);
      }
    } else {
      // Already closed (processing or done) or cancelled: the status checks take it from here.
      await this.markClosed(sessionId);
    }
  }

  /** Closes the batch; a definite refusal abandons it (rows back to the queue), an unclear failure leaves it to the recovery pass. */
  private async close(companyId: string, environment: KsefEnvironmentName, lane: BatchLane, sessionId: string, referenceNumber: string, rethrow: boolean): Promise<void> {
    try {
      await this.client.call(companyId, environment, (api, bearer) => api.closeBatchSession(companyId, bearer, referenceNumber));
    } catch (err) {
      if (err instanceof KsefRejectedError && err.httpStatus === 400) {
        // Refused: if another process closed it meanwhile, it is closed; if KSeF still holds it open (a part
        // missing) or cancelled it, nothing of it will be processed and the rows go back to the queue.
        const status = await this.client
          .call(companyId, environment, (api, bearer) => api.sessionStatus(companyId, bearer, referenceNumber))
          .catch(() => null);
        if (status && status.status.code >= 150 && status.status.code !== 440) return this.markClosed(sessionId);
        if (status) await this.abandon(lane, sessionId, referenceNumber);
      } else {
        // Maybe closed, maybe not: the recovery pass asks KSeF after the lease (never closes or resends blindly).
        await this.heartbeat(sessionId);
      }
      if (rethrow) throw err;
      return;
    }
    await this.markClosed(sessionId);
  }

  private async markClosed(sessionId: string): Promise<void> {
    const now = new Date();
    await this.db.updateTable('ksef_sessions').set({ status: 'closed', closed_at: now, updated_at: now }).where('id', '=', sessionId).execute();
  }

  private async heartbeat(sessionId: string): Promise<void> {
    await this.db.updateTable('ksef_sessions').set({ last_used_at: new Date(), updated_at: new Date() }).where('id', '=', sessionId).execute();
  }

  private async abandon(lane: BatchLane, sessionId: string, referenceNumber: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('ksef_sessions').set({ status: 'abandoned', closed_at: new Date(), updated_at: new Date() }).where('id', '=', sessionId).execute();
      await lane.untag(trx, referenceNumber);
    });
  }
}
