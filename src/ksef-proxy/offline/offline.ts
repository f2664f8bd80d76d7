import { type Kysely, type Selectable, sql } from 'kysely';
import type { KsefConfig, KsefEnvironmentName } from '../../config.js';
import type { Database, OfflineInvoicesTable, OfflineInvoiceStatus } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import { kodIILink, kodILink } from '../../local/qr/index.js';
import type { SessionInvoice } from '../transport/api.js';
import { type Availability, type EndedOutage, offlineModeOf } from '../transport/availability.js';
import type { KsefClient } from '../transport/client.js';
import type { CredentialsStore, StoredOfflineCertificate } from '../credentials/credentials.js';
import { aesEncrypt, sha256Base64 } from '../transport/crypto.js';
import { KsefNotConfiguredError, KsefOfflineModeError, outageSimulated } from '../errors.js';
import { type BatchLane, type BatchSessions, ZIP_ENTRY_OVERHEAD } from '../sending/batch-session.js';
import type { InvoiceFacts } from '../sending/send.js';
import type { OnlineSessions } from '../sending/sessions.js';
import { announceDeadlines, announceOfflineOutcomes } from '../events.js';
import { submissionDeadline } from './deadlines.js';

export type OfflineRow = Selectable<OfflineInvoicesTable>;
export type OfflineFilter = 'unsent' | 'all' | OfflineInvoiceStatus;

/** An observed outage is probed this often by the background worker. */
const PROBE_EVERY_MS = 5_000;
/** `offline.deadline` is announced this long before an unsent invoice's submission deadline. */
const DEADLINE_WARNING_MS = 24 * 3_600_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Offline mode (PROTOCOL.md §9, API.md part A): invoices issued while KSeF is unavailable (or an outage is
 * simulated) are signed with the company's Offline certificate (KOD II), kept in `offline_invoices`, and
 * later sent in one KSeF batch session with `offlineMode: true`.
 *
 * The batch is crash-safe (see BatchSessions): rows are claimed (`processing`, no reference) before KSeF
 * is asked; the session reference is stored with the rows as soon as KSeF opens it. The worker reverts
 * claims whose batch never opened and lets BatchSessions finish stale batches, so an invoice is never in
 * two processed sessions.
 */
export class OfflineInvoices {
  private readonly lastPolled = new Map<string, number>();
  /** The offline queue as a batch lane: claimed rows are `processing`; their session reference marks them sent. */
  private readonly lane: BatchLane = {
    name: 'offline',
    offlineMode: true,
    tag: async (trx, ids, referenceNumber) => {
      const tagged = await trx
        .updateTable('offline_invoices')
        .set({ session_reference_number: referenceNumber, updated_at: new Date() })
        .where('id', 'in', ids)
        .where('status', '=', 'processing')
        .where('session_reference_number', 'is', null)
        .returning('id')
        .execute();
      return tagged.length === ids.length;
    },
    untag: async (trx, referenceNumber) => {
      await trx
        .updateTable('offline_invoices')
        .set({ status: 'signed', session_reference_number: null, updated_at: new Date() })
        .where('session_reference_number', '=', referenceNumber)
        .where('status', '=', 'processing')
        .execute();
    },
    // Back to `signed`: the next send-batch (a request) tries again.
    release: (ids) => this.release(ids),
  };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly client: KsefClient,
    private readonly credentials: CredentialsStore,
    private readonly availability: Availability,
    private readonly sessions: OnlineSessions,
    private readonly batches: BatchSessions,
    private readonly config: KsefConfig,
    private readonly logger: Logger,
  ) {}

  /** Signs and queues one invoice (already validated; its seller is the context). Same bytes again: the stored row. */
  async issue(companyId: string, environment: KsefEnvironmentName, xml: Buffer, facts: InvoiceFacts, contextNip: string): Promise<OfflineRow> {
    const state = await this.availability.state(companyId, environment);
    if (!state.simulationActive && state.available) {
      throw new KsefOfflineModeError(
        environment,
        `Offline mode is open only while KSeF is unavailable: KSeF ${environment} is available and no outage simulation is active. ` +
          `Send the invoice with mode "online" (or switch an outage simulation on with PUT /ksef/${environment}/simulation).`,
      );
    }
    const cert = await this.requireCertificate(companyId, environment);
    const hash = sha256Base64(xml);
    const existing = await this.byHash(companyId, environment, hash);
    if (existing) return existing;
    const mode = offlineModeOf(state);
    const links = this.links(environment, xml, facts.sellerNip, facts.issueDate, contextNip, cert);
    const inserted = await this.db
      .insertInto('offline_invoices')
      .values({
        company_id: companyId,
        environment,
        status: 'signed',
        invoice_number: facts.invoiceNumber,
        invoice_type: facts.type,
        issue_date: facts.issueDate,
        seller_nip: facts.sellerNip,
        buyer_nip: facts.buyerNip,
        buyer_name: facts.buyerName,
        net_amount: facts.net,
        vat_amount: facts.vat,
        gross_amount: facts.gross,
        currency: facts.currency,
        invoice_hash: hash,
        xml,
        qr_link_invoice: links.kodI,
        qr_link_certificate: links.kodII,
        offline_mode: mode,
        // Provisional while the outage lasts (as if it ended now); fixed when it ends.
        submission_deadline: submissionDeadline(mode, new Date()),
        certificate_serial: cert.serialNumber,
      })
      .onConflict((oc) => oc.columns(['company_id', 'environment', 'invoice_hash']).doNothing())
      .returningAll()
      .executeTakeFirst();
    return inserted ?? (await this.byHash(companyId, environment, hash))!;
  }

  async list(companyId: string, environment: KsefEnvironmentName, filter: OfflineFilter): Promise<OfflineRow[]> {
    let query = this.db.selectFrom('offline_invoices').selectAll().where('company_id', '=', companyId).where('environment', '=', environment);
    if (filter === 'unsent') query = query.where('status', 'in', ['pending', 'signed', 'error', 'processing']);
    else if (filter !== 'all') query = query.where('status', '=', filter);
    return query.orderBy('created_at').orderBy('invoice_number').execute();
  }

  async get(companyId: string, environment: KsefEnvironmentName, id: string): Promise<OfflineRow | undefined> {
    return this.db.selectFrom('offline_invoices').selectAll().where('company_id', '=', companyId).where('environment', '=', environment).where('id', '=', id).executeTakeFirst();
  }

  /**
   * An outage ended: invoices issued during it get their final deadline; an announced failure (`awaryjny`)
   * also moves every other waiting invoice's deadline to 7 business days after it (PROTOCOL.md §9).
   */
  async outageEnded(outage: EndedOutage): Promise<void> {
    const { companyId, environment, mode, since, endedAt } = outage;
    const deadline = submissionDeadline(mode, endedAt);
    const waiting = this.db
      .updateTable('offline_invoices')
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .where('status', 'in', ['signed', 'pending', 'error']);
    await waiting.set({ submission_deadline: deadline, updated_at: new Date() }).where('created_at', '>=', since).execute();
    if (mode === 'awaryjny') {
      await waiting
        .set({ submission_deadline: deadline, updated_at: new Date() })
        .where((eb) => eb.or([eb('submission_deadline', 'is', null), eb('submission_deadline', '<', deadline)]))
        .execute();
    }
    this.logger.info({ environment, mode, deadline: deadline.toISOString() }, 'offline submission deadlines fixed after an outage');
  }

  /**
   * Sends the `signed`/`pending` rows, oldest first and as many as one batch session carries, with
   * `offlineMode: true`: zip, parts, encrypt, open, upload, close. Null when nothing waits. The rows end
   * `processing` with the session reference; `remainingCount` says how many still wait.
   */
  async sendBatch(companyId: string, environment: KsefEnvironmentName): Promise<{ referenceNumber: string; totalCount: number; remainingCount: number } | null> {
    const state = await this.availability.state(companyId, environment);
    if (state.simulationActive) {
      throw new KsefOfflineModeError(
        environment,
        `An outage simulation is active for KSeF ${environment}: the offline queue is sent once it is off (PUT /ksef/${environment}/simulation {"active": false}).`,
      );
    }
    if (!state.available && !(await this.probe(companyId, environment))) {
      throw new KsefOfflineModeError(environment, `KSeF ${environment} is still unavailable; the offline queue stays signed. Send it when KSeF answers again.`);
    }
    // Fetched before rows are claimed: a failure here leaves the queue untouched.
    const certificate = await this.batches.prepare(companyId, environment);

    const limits = this.config.offlineBatch;
    const claim = await this.db.transaction().execute(async (trx) => {
      const waiting = await trx
        .selectFrom('offline_invoices')
        .select(['id', sql<number>`octet_length(xml)`.as('size')])
        .where('company_id', '=', companyId)
        .where('environment', '=', environment)
        .where('status', 'in', ['signed', 'pending'])
        .orderBy('created_at')
        .orderBy('invoice_number')
        .forUpdate()
        .skipLocked()
        .execute();
      // Oldest first, as many as one session carries; the rest stay queued for the next send-batch.
      const ids: string[] = [];
      let bytes = 0;
      for (const row of waiting) {
        const size = Number(row.size) + ZIP_ENTRY_OVERHEAD;
        if (ids.length === limits.maxInvoices || (ids.length > 0 && bytes + size > limits.maxBytes)) break;
        ids.push(row.id);
        bytes += size;
      }
      if (ids.length > 0) {
        await trx
          .updateTable('offline_invoices')
          .set({ status: 'processing', session_reference_number: null, invoice_reference_number: null, error_code: null, error_message: null, updated_at: new Date() })
          .where('id', 'in', ids)
          .execute();
      }
      return { ids, remaining: waiting.length - ids.length };
    });
    if (claim.ids.length === 0) return null;
    const rows = await this.db
      .selectFrom('offline_invoices')
      .select(['id', 'xml'])
      .where('id', 'in', claim.ids)
      .orderBy('created_at')
      .orderBy('invoice_number')
      .execute();
    const referenceNumber = await this.batches.send(companyId, environment, this.lane, certificate, rows, limits.partBytes);
    return { referenceNumber, totalCount: rows.length, remainingCount: claim.remaining };
  }

  /**
   * Technical correction (PROTOCOL.md §9): an offline invoice KSeF rejected is sent again, fixed, in an
   * online session with `offlineMode: true` and `hashOfCorrectedInvoice` = the rejected file's hash.
   */
  async resend(companyId: string, environment: KsefEnvironmentName, row: OfflineRow, xml: Buffer, facts: InvoiceFacts, contextNip: string): Promise<OfflineRow> {
    const state = await this.availability.state(companyId, environment);
    if (state.simulationActive) throw outageSimulated(environment);
    const cert = await this.requireCertificate(companyId, environment);
    const links = this.links(environment, xml, facts.sellerNip, facts.issueDate, contextNip, cert);
    const session = await this.sessions.reserve(companyId, environment);
    const encrypted = aesEncrypt(session.key, xml);
    const { referenceNumber } = await this.client.call(companyId, environment, (api, bearer) =>
      api.sendInvoice(companyId, bearer, session.referenceNumber, {
        invoiceHash: sha256Base64(xml),
        invoiceSize: xml.length,
        encryptedInvoiceHash: sha256Base64(encrypted),
        encryptedInvoiceSize: encrypted.length,
        encryptedInvoiceContent: encrypted.toString('base64'),
        offlineMode: true,
        hashOfCorrectedInvoice: row.invoice_hash,
      }),
    );
    let updated = await this.update(row.id, {
      status: 'processing',
      xml,
      invoice_hash: sha256Base64(xml),
      corrected_invoice_hash: row.invoice_hash,
      qr_link_invoice: links.kodI,
      qr_link_certificate: links.kodII,
      certificate_serial: cert.serialNumber,
      session_reference_number: session.referenceNumber,
      invoice_reference_number: referenceNumber,
      error_code: null,
      error_message: null,
    });
    const deadline = Date.now() + this.config.sendWaitMs;
    for (let delay = 100; updated.status === 'processing' && Date.now() + delay < deadline; delay = Math.min(delay * 2, 1000)) {
      await sleep(delay);
      const item = await this.client.call(companyId, environment, (api, bearer) => api.invoiceStatus(companyId, bearer, session.referenceNumber, referenceNumber));
      updated = (await this.settle(updated, item)) ?? updated;
    }
    return updated;
  }

  /**
   * One pass of the background work: revert dead claims, finish stale batches, ask about processing rows,
   * probe outages, announce deadlines coming up.
   */
  async work(): Promise<void> {
    const stale = new Date(Date.now() - this.config.outboxLeaseMs);
    await this.db
      .updateTable('offline_invoices')
      .set({ status: 'signed', updated_at: new Date() })
      .where('status', '=', 'processing')
      .where('session_reference_number', 'is', null)
      .where('updated_at', '<', stale)
      .execute();

    await this.batches.recoverStale(this.lane, stale);

    const processing = await this.db
      .selectFrom('offline_invoices')
      .select(['company_id', 'environment', 'session_reference_number'])
      .distinct()
      .where('status', '=', 'processing')
      .where('session_reference_number', 'is not', null)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('ksef_sessions')
              .select(sql`1`.as('one'))
              .whereRef('ksef_sessions.reference_number', '=', 'offline_invoices.session_reference_number')
              .where('ksef_sessions.status', '=', 'uploading'),
          ),
        ),
      )
      .execute();
    for (const p of processing) {
      const ref = p.session_reference_number!;
      if (Date.now() - (this.lastPolled.get(ref) ?? 0) < 500) continue;
      this.lastPolled.set(ref, Date.now());
      await this.poll(p.company_id, p.environment, ref).catch((err) =>
        this.logger.warn({ environment: p.environment, referenceNumber: ref, error: (err as Error).message }, 'offline status check failed'),
      );
    }

    for (const env of await this.availability.dueForProbe(PROBE_EVERY_MS)) {
      await this.probe(env.company_id, env.environment);
    }

    await this.warnDeadlines();
  }

  /** Asks KSeF about a session carrying offline rows; rows become `sent` or `error` (or return to the queue). */
  async poll(companyId: string, environment: KsefEnvironmentName, referenceNumber: string): Promise<void> {
    const { status, invoices } = await this.client.call(companyId, environment, async (api, bearer) => {
      const status = await api.sessionStatus(companyId, bearer, referenceNumber);
      const invoices = await api.sessionInvoices(companyId, bearer, referenceNumber);
      return { status, invoices };
    });
    const byHash = new Map(invoices.map((i) => [i.invoiceHash, i]));
    const rows = await this.db
      .selectFrom('offline_invoices')
      .selectAll()
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .where('session_reference_number', '=', referenceNumber)
      .where('status', '=', 'processing')
      .execute();
    for (const row of rows) {
      const item = byHash.get(row.invoice_hash);
      if (item) {
        await this.settle(row, item);
      } else if (status.status.code === 440) {
        // Cancelled without processing anything (never closed in time): the invoice waits in the queue again.
        await this.update(row.id, { status: 'signed', session_reference_number: null, error_message: null });
      } else if (status.status.code >= 400) {
        const message = [status.status.description, ...(status.status.details ?? [])].join(': ');
        await this.update(row.id, { status: 'error', error_code: status.status.code, error_message: message });
      }
    }
  }

  private async settle(row: OfflineRow, item: SessionInvoice): Promise<OfflineRow | undefined> {
    const code = item.status.code;
    if (code === 200 && item.ksefNumber) {
      return this.update(row.id, {
        status: 'sent',
        ksef_number: item.ksefNumber,
        invoice_reference_number: item.referenceNumber,
        acquisition_date: item.acquisitionDate ? new Date(item.acquisitionDate) : null,
        error_code: null,
        error_message: null,
      });
    }
    if (code >= 400) {
      return this.update(row.id, {
        status: 'error',
        invoice_reference_number: item.referenceNumber,
        error_code: code,
        error_message: [item.status.description, ...(item.status.details ?? [])].join(': '),
      });
    }
    return undefined;
  }

  private async release(ids: string[]): Promise<void> {
    await this.db.updateTable('offline_invoices').set({ status: 'signed', updated_at: new Date() }).where('id', 'in', ids).where('status', '=', 'processing').execute();
  }

  /** An unauthenticated, timed call: KSeF answering marks it available (which fixes offline deadlines). */
  private async probe(companyId: string, environment: KsefEnvironmentName): Promise<boolean> {
    try {
      await this.client.tokens.certificate(environment, companyId, 'KsefTokenEncryption', true);
    } catch {
      await this.availability.observe(companyId, environment, false);
      await this.availability.touchProbe(companyId, environment);
      return false;
    }
    await this.availability.observe(companyId, environment, true);
    return true;
  }

  private async requireCertificate(companyId: string, environment: KsefEnvironmentName): Promise<StoredOfflineCertificate> {
    const cert = await this.credentials.offlineCertificate(companyId, environment);
    const fix = `PUT /ksef/${environment}/credentials with offlineCertificate {certificatePem, privateKeyPem}`;
    if (!cert) {
      throw new KsefNotConfiguredError(environment, `Offline mode needs an offline certificate, and none is stored for ${environment}: store your KSeF Offline certificate and its private key with ${fix}.`);
    }
    const now = Date.now();
    if (now < cert.validFrom.getTime() || now > cert.validTo.getTime()) {
      throw new KsefNotConfiguredError(environment, `The stored offline certificate (serial ${cert.serialNumber}) is not valid now (${cert.validFrom.toISOString()} – ${cert.validTo.toISOString()}): store a valid one with ${fix}.`);
    }
    return cert;
  }

  private links(environment: KsefEnvironmentName, xml: Buffer, sellerNip: string, issueDate: string, contextNip: string, cert: StoredOfflineCertificate) {
    return {
      kodI: kodILink({ environment, sellerNip, issueDate, xml }),
      kodII: kodIILink({ environment, contextType: 'Nip', contextValue: contextNip, sellerNip, certificateSerial: cert.serialNumber, xml, privateKeyPem: cert.privateKeyPem }),
    };
  }

  private byHash(companyId: string, environment: KsefEnvironmentName, hash: string): Promise<OfflineRow | undefined> {
    return this.db
      .selectFrom('offline_invoices')
      .selectAll()
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .where('invoice_hash', '=', hash)
      .executeTakeFirst();
  }

  /** Writes `values`; KSeF's final word on the invoice (`sent`, `error`) is announced to webhooks in the same transaction. */
  private update(id: string, values: Partial<Record<keyof OfflineInvoicesTable, unknown>>): Promise<OfflineRow> {
    const write = (db: Kysely<Database>) =>
      db
        .updateTable('offline_invoices')
        .set({ ...(values as object), updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
    if (values.status !== 'sent' && values.status !== 'error') return write(this.db);
    return this.db.transaction().execute(async (trx) => {
      const row = await write(trx);
      await announceOfflineOutcomes(trx, [id]);
      return row;
    });
  }

  /**
   * `offline.deadline`, once per invoice: unsent invoices less than 24 hours before their submission
   * deadline. Not while their company and environment is in an outage (real or simulated): the deadline is
   * provisional until it ends, and fixed then (outageEnded).
   */
  private async warnDeadlines(): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const now = new Date();
      const due = await trx
        .updateTable('offline_invoices as o')
        .set({ deadline_warned_at: now })
        .where('o.status', '!=', 'sent')
        .where('o.deadline_warned_at', 'is', null)
        .where('o.submission_deadline', '<=', new Date(now.getTime() + DEADLINE_WARNING_MS))
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('ksef_environment_state as s')
                .select(sql`1`.as('one'))
                .whereRef('s.company_id', '=', 'o.company_id')
                .whereRef('s.environment', '=', 'o.environment')
                .where((eb) => eb.or([eb('s.simulation_active', '=', true), eb('s.available', '=', false)])),
            ),
          ),
        )
        .returning('o.id')
        .execute();
      await announceDeadlines(trx, due.map((r) => r.id));
    });
  }
}
