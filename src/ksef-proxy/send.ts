import type { Kysely } from 'kysely';
import type { KsefConfig, KsefEnvironmentName } from '../config';
import type { Database } from '../db/schema';
import type { CredentialsStore } from './credentials';
import { sha256Base64 } from './crypto';
import { KsefNotConfiguredError } from './errors';
import type { Outbox, OutboxRow } from './outbox';

/** What the send path knows of an invoice after local validation. */
export interface InvoiceFacts {
  invoiceNumber: string;
  type: string;
  issueDate: string;
  sellerNip: string;
  sellerName: string | null;
  buyerNip: string | null;
  buyerName: string | null;
  net: string;
  vat: string;
  gross: string;
  currency: string;
}

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
    const row = await this.persist(companyId, environment, xml, facts);
    if (row.status === 'queued') {
      const [claimed] = await this.outbox.claim('queued', { id: row.id, limit: 1 });
      // A transient failure leaves the invoice queued for the worker, and the caller learns why (503/504/502/429).
      if (claimed) await this.outbox.transmit(claimed);
    }
    return this.awaitNumber(row.id, Date.now() + this.config.sendWaitMs);
  }

  /** Inserts the invoice as `queued`, or returns the row the same bytes already have (a repeated send). */
  private async persist(companyId: string, environment: KsefEnvironmentName, xml: Buffer, facts: InvoiceFacts): Promise<OutboxRow> {
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
      })
      .onConflict((oc) => oc.columns(['company_id', 'environment', 'invoice_hash']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return inserted;
    const existing = await this.db
      .selectFrom('synced_invoices')
      .selectAll()
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .where('invoice_hash', '=', hash)
      .executeTakeFirstOrThrow();
    if (existing.status !== 'error') return existing;
    // The caller sends a rejected file again: try it again (KSeF's verdict may have been about the session).
    return this.db
      .updateTable('synced_invoices')
      .set({ status: 'queued', next_attempt_at: null, error_code: null, error_message: null, updated_at: new Date() })
      .where('id', '=', existing.id)
      .where('status', '=', 'error')
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  private async awaitNumber(id: string, deadline: number): Promise<OnlineSendResult> {
    for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
      let row = await this.db.selectFrom('synced_invoices').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      if (row.status === 'pending' && (!row.next_attempt_at || row.next_attempt_at.getTime() <= Date.now() + delay)) {
        row = await this.outbox.checkStatus(row);
      }
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
