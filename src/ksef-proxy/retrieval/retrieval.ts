import type { Insertable, Kysely } from 'kysely';
import type { KsefEnvironmentName } from '../../config.js';
import type { Database, InvoiceDirection, SyncedInvoicesTable } from '../../db/schema.js';
import type { SessionInvoice, SessionStatusResponse } from '../transport/api.js';
import { type Fa3Invoice, parseFa3, summarize } from '../../local/fa3/index.js';
import type { KsefClient } from '../transport/client.js';
import { sha256Base64 } from '../transport/crypto.js';
import { announceInvoiceOutcomes, announceOfflineOutcomes } from '../events.js';

export interface SessionReport {
  status: SessionStatusResponse;
  invoices: SessionInvoice[];
}

/** Sessions, receipts and invoices read back from KSeF, with what they teach us stored locally. */
export class Retrieval {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly client: KsefClient,
  ) {}

  /**
   * The session's status and every one of its invoices (all pages). Side effect: local invoices with the
   * same file hash learn the session they travelled in, and those that KSeF numbered become `sent`.
   */
  async session(companyId: string, environment: KsefEnvironmentName, referenceNumber: string): Promise<SessionReport> {
    return this.client.call(companyId, environment, async (api, bearer) => {
      const status = await api.sessionStatus(companyId, bearer, referenceNumber);
      const invoices = await api.sessionInvoices(companyId, bearer, referenceNumber);
      invoices.sort((a, b) => a.ordinalNumber - b.ordinalNumber);
      await this.recordSession(companyId, environment, referenceNumber, invoices);
      return { status, invoices };
    });
  }

  async invoiceUpo(companyId: string, environment: KsefEnvironmentName, referenceNumber: string, ksefNumber: string): Promise<Buffer> {
    return this.client.call(companyId, environment, (api, bearer) => api.invoiceUpo(companyId, bearer, referenceNumber, ksefNumber));
  }

  /** The invoice's XML: our stored copy when we have one (sent or synced), else KSeF's, which is then kept. */
  async invoiceXml(companyId: string, environment: KsefEnvironmentName, ksefNumber: string, contextNip: string): Promise<Buffer> {
    const local = await this.db
      .selectFrom('synced_invoices')
      .select('xml')
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .where('ksef_number', '=', ksefNumber)
      .executeTakeFirst();
    if (local) return local.xml;
    const xml = await this.client.call(companyId, environment, (api, bearer) => api.downloadInvoice(companyId, bearer, ksefNumber));
    await this.keep(companyId, environment, ksefNumber, contextNip, xml);
    return xml;
  }

  /** Stores a downloaded invoice as `synced`, so the next request (and the register) need not ask KSeF. */
  private async keep(companyId: string, environment: KsefEnvironmentName, ksefNumber: string, contextNip: string, xml: Buffer): Promise<void> {
    const parsed = syncedInvoiceRow(companyId, environment, ksefNumber, contextNip, xml);
    if (!parsed) return; // Not FA(3) (e.g. an FA(2) invoice on TEST): served, but not kept in an FA(3) register.
    await this.db.insertInto('synced_invoices').values(parsed.row).onConflict((oc) => oc.doNothing()).execute();
  }

  private async recordSession(companyId: string, environment: KsefEnvironmentName, referenceNumber: string, invoices: SessionInvoice[]): Promise<void> {
    for (const item of invoices) await this.db.transaction().execute((trx) => this.recordInvoice(trx, companyId, environment, referenceNumber, item));
  }

  /** One invoice of a session's list on our rows; what KSeF's answer settles is announced to webhooks with it. */
  private async recordInvoice(trx: Kysely<Database>, companyId: string, environment: KsefEnvironmentName, referenceNumber: string, item: SessionInvoice): Promise<void> {
    const numbered = item.status.code === 200 && Boolean(item.ksefNumber);
    const rejected = item.status.code >= 400;
    const issued = await trx
      .updateTable('synced_invoices')
      .set({
        session_reference_number: referenceNumber,
        invoice_reference_number: item.referenceNumber,
        ...(numbered
          ? {
              status: 'sent' as const,
              ksef_number: item.ksefNumber,
              acquisition_date: item.acquisitionDate ? new Date(item.acquisitionDate) : null,
              permanent_storage_date: item.permanentStorageDate ? new Date(item.permanentStorageDate) : null,
              invoicing_mode: item.invoicingMode ?? null,
              error_code: null,
              error_message: null,
              next_attempt_at: null,
            }
          : {}),
        updated_at: new Date(),
      })
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .where('invoice_hash', '=', item.invoiceHash)
      .where('direction', '=', 'issued')
      .returning('id')
      .execute();
    if (numbered) await announceInvoiceOutcomes(trx, issued.map((r) => r.id));
    const offline = await trx
      .updateTable('offline_invoices')
      .set({
        session_reference_number: referenceNumber,
        invoice_reference_number: item.referenceNumber,
        ...(numbered ? { status: 'sent' as const, ksef_number: item.ksefNumber, acquisition_date: item.acquisitionDate ? new Date(item.acquisitionDate) : null } : {}),
        // Rejected by KSeF: the offline row shows KSeF's reason (it can be corrected and resent).
        ...(rejected
          ? { status: 'error' as const, error_code: item.status.code, error_message: [item.status.description, ...(item.status.details ?? [])].join(': ') }
          : {}),
        updated_at: new Date(),
      })
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .where('invoice_hash', '=', item.invoiceHash)
      .returning('id')
      .execute();
    if (numbered || rejected) await announceOfflineOutcomes(trx, offline.map((r) => r.id));
  }
}

/** A downloaded invoice as a `synced` register row with its parsed fields; null when it is not FA(3). */
export function syncedInvoiceRow(
  companyId: string,
  environment: KsefEnvironmentName,
  ksefNumber: string,
  contextNip: string,
  xml: Buffer,
  dates: { acquisitionDate?: Date | null; permanentStorageDate?: Date | null; invoicingMode?: string | null } = {},
): { row: Insertable<SyncedInvoicesTable>; invoice: Fa3Invoice } | null {
  let invoice: Fa3Invoice;
  try {
    invoice = parseFa3(xml);
  } catch {
    return null;
  }
  const summary = summarize(invoice);
  return {
    invoice,
    row: {
      company_id: companyId,
      environment,
      direction: directionOf(invoice, summary.sellerNip, summary.buyerNip, contextNip),
      status: 'synced',
      ksef_number: ksefNumber,
      invoice_number: summary.invoiceNumber,
      invoice_type: summary.type,
      issue_date: summary.issueDate,
      seller_nip: summary.sellerNip,
      seller_name: invoice.seller.name,
      buyer_nip: summary.buyerNip,
      buyer_name: summary.buyerName,
      net_amount: summary.net,
      vat_amount: summary.vat,
      gross_amount: summary.gross,
      currency: summary.currency,
      invoice_hash: sha256Base64(xml),
      xml,
      acquisition_date: dates.acquisitionDate ?? null,
      permanent_storage_date: dates.permanentStorageDate ?? null,
      invoicing_mode: dates.invoicingMode ?? null,
    },
  };
}

/** Where the context stands on the invoice, in the order the sync's subject types take (seller first). */
function directionOf(invoice: Fa3Invoice, sellerNip: string, buyerNip: string | null, contextNip: string): InvoiceDirection {
  if (sellerNip === contextNip) return 'issued';
  if (buyerNip === contextNip) return 'received';
  if (invoice.thirdParties.some((p) => p.nip === contextNip)) return 'third-party';
  if (invoice.authorizedParty?.nip === contextNip) return 'authorized';
  return 'received';
}
