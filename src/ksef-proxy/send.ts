import type { Kysely } from 'kysely';
import type { KsefConfig, KsefEnvironmentName } from '../config';
import type { Database } from '../db/schema';
import type { InvoiceSummary } from '../local/fa3';
import type { CredentialsStore } from './credentials';
import { sha256Base64 } from './crypto';
import { KsefNotConfiguredError } from './errors';
import type { Outbox, OutboxRow } from './outbox';

/** What the send path knows of an invoice after local validation: its summary and the seller's name. */
export type InvoiceFacts = InvoiceSummary & { sellerName: string | null };

export type OnlineSendResult =
  | { status: 'sent'; ksefNumber: string; referenceNumber: string; invoiceNumber: string }
  | { status: 'pending'; ksefNumber: null; referenceNumber: string; invoiceNumber: string }
  /** Stored and queued, but not yet accepted by KSeF (another process is sending it right now). */
  | { status: 'queued'; invoiceNumber: string };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Online sending as the API does it: persist first (idempotent by the hash of the exact bytes), then try
 * to deliver at once, then wait a bounded time for KSeF's number. Anything not finished here is finished
 * by the outbox worker.
 */
export class InvoiceSender {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly credentials: CredentialsStore,
    private readonly outbox: Outbox,
    private readonly config: KsefConfig,
  ) {}

  async send(companyId: string, environment: KsefEnvironmentName, xml: Buffer, facts: InvoiceFacts): Promise<OnlineSendResult> {
    const stored = await this.credentials.get(companyId, environment);
    if (!stored?.ksefToken) {
      throw new KsefNotConfiguredError(environment, `No KSeF token is stored for the ${environment} environment: store one with PUT /ksef/${environment}/credentials, then send again.`);
    }
    let { row, claimed } = await this.persist(companyId, environment, xml, facts);
    if (!claimed && row.status === 'queued') {
      [row] = await this.outbox.claim('queued', { id: row.id, limit: 1 });
      claimed = row !== undefined;
    }
    // A transient failure leaves the invoice queued for the worker, and the caller learns why (503/504/502/429).
    if (claimed) row = await this.outbox.transmit(row, this.config.sendWaitMs);
    return this.awaitNumber(row, Date.now() + this.config.sendWaitMs);
  }

  /**
   * Inserts the invoice as `queued` and already leased to this request (`claimed`), or returns the row the
   * same bytes already have (a repeated send).
   */
  private async persist(companyId: string, environment: KsefEnvironmentName, xml: Buffer, facts: InvoiceFacts): Promise<{ row: OutboxRow; claimed: boolean }> {
    const hash = sha256Base64(xml);
    const inserted = await this.db
      .insertInto('synced_invoices')
      .values({
        company_id: companyId,
        environment,
        direction: 'issued',
        status: 'queued',
        invoice_number: facts.invoiceNumber,
        invoice_type: facts.type,
        issue_date: facts.issueDate,
        seller_nip: facts.sellerNip,
        seller_name: facts.sellerName,
        buyer_nip: facts.buyerNip,
        buyer_name: facts.buyerName,
        net_amount: facts.net,
        vat_amount: facts.vat,
        gross_amount: facts.gross,
        currency: facts.currency,
        invoice_hash: hash,
        xml,
        attempts: 1,
        next_attempt_at: new Date(Date.now() + this.config.outboxLeaseMs),
      })
      .onConflict((oc) => oc.columns(['company_id', 'environment', 'invoice_hash']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { row: inserted, claimed: true };
    const existing = await this.db
      .selectFrom('synced_invoices')
      .selectAll()
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .where('invoice_hash', '=', hash)
      .executeTakeFirstOrThrow();
    if (existing.status !== 'error') return { row: existing, claimed: false };
    // The caller sends a rejected file again: try it again (KSeF's verdict may have been about the session).
    const retried = await this.db
      .updateTable('synced_invoices')
      .set({ status: 'queued', next_attempt_at: null, error_code: null, error_message: null, updated_at: new Date() })
      .where('id', '=', existing.id)
      .where('status', '=', 'error')
      .returningAll()
      .executeTakeFirstOrThrow();
    return { row: retried, claimed: false };
  }

  private async awaitNumber(row: OutboxRow, deadline: number): Promise<OnlineSendResult> {
    // KSeF numbers an invoice within tens of milliseconds when it is well: ask early, then back off.
    for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
      if (row.status === 'queued') {
        // Another process holds it: watch the database.
        row = await this.db.selectFrom('synced_invoices').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
      }
      if (row.status === 'pending') row = await this.outbox.checkStatus(row, { recordWaiting: false });
      const failure = this.outbox.failure(row);
      if (failure) throw failure;
      if (row.status === 'sent' || row.status === 'synced') {
        return { status: 'sent', ksefNumber: row.ksef_number!, referenceNumber: row.session_reference_number!, invoiceNumber: row.invoice_number };
      }
      if (Date.now() + delay > deadline) {
        if (row.status === 'pending') return { status: 'pending', ksefNumber: null, referenceNumber: row.session_reference_number!, invoiceNumber: row.invoice_number };
        return { status: 'queued', invoiceNumber: row.invoice_number };
      }
      await sleep(delay);
    }
  }
}
