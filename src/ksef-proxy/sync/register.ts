import { type Kysely, sql } from 'kysely';
import type { KsefEnvironmentName } from '../../config.js';
import type { Database, InvoiceDirection, SyncedInvoiceStatus } from '../../db/schema.js';
import type { InvoiceKind } from '../../local/fa3/index.js';

/** The local invoice register: issued (sent or synced) and received invoices, filtered, paged, with totals per currency. */

export interface RegisterFilter {
  direction?: InvoiceDirection;
  type?: string;
  status?: SyncedInvoiceStatus;
  dateFrom?: string;
  dateTo?: string;
  page: number;
  pageSize: number;
}

export async function listRegister(db: Kysely<Database>, companyId: string, environment: KsefEnvironmentName, f: RegisterFilter) {
  let q = db.selectFrom('synced_invoices').where('company_id', '=', companyId).where('environment', '=', environment);
  if (f.direction) q = q.where('direction', '=', f.direction);
  if (f.type) q = q.where('invoice_type', '=', f.type);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.dateFrom) q = q.where('issue_date', '>=', f.dateFrom);
  if (f.dateTo) q = q.where('issue_date', '<=', f.dateTo);
  const [rows, totals] = await Promise.all([
    q
      .select([
        'id',
        'direction',
        'ksef_number',
        'invoice_number',
        'invoice_type',
        'issue_date',
        'seller_nip',
        'seller_name',
        'buyer_nip',
        'buyer_name',
        'net_amount',
        'vat_amount',
        'gross_amount',
        'currency',
        'status',
        'session_reference_number',
        'acquisition_date',
      ])
      .orderBy('issue_date', 'desc')
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(f.pageSize)
      .offset((f.page - 1) * f.pageSize)
      .execute(),
    q
      .select([
        'currency',
        sql<number>`count(*)::int`.as('count'),
        sql<string>`coalesce(sum(net_amount), 0)::numeric(18,2)::text`.as('net'),
        sql<string>`coalesce(sum(vat_amount), 0)::numeric(18,2)::text`.as('vat'),
        sql<string>`coalesce(sum(gross_amount), 0)::numeric(18,2)::text`.as('gross'),
      ])
      .groupBy('currency')
      .orderBy('currency')
      .execute(),
  ]);
  return {
    invoices: rows.map((r) => ({
      id: r.id,
      direction: r.direction,
      ksefNumber: r.ksef_number,
      invoiceNumber: r.invoice_number,
      type: r.invoice_type as InvoiceKind,
      issueDate: r.issue_date,
      sellerNip: r.seller_nip,
      sellerName: r.seller_name,
      buyerNip: r.buyer_nip,
      buyerName: r.buyer_name,
      netAmount: r.net_amount,
      vatAmount: r.vat_amount,
      grossAmount: r.gross_amount,
      currency: r.currency,
      status: r.status,
      sessionReferenceNumber: r.session_reference_number,
      acquisitionDate: r.acquisition_date,
    })),
    totalCount: totals.reduce((n, t) => n + Number(t.count), 0),
    page: f.page,
    pageSize: f.pageSize,
    totals: totals.map((t) => ({ currency: t.currency, netAmount: t.net, vatAmount: t.vat, grossAmount: t.gross })),
  };
}
