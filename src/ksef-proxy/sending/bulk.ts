import { type Kysely, sql } from 'kysely';
import type { KsefEnvironmentName } from '../../config.js';
import type { BulkRejection, Database, SyncedInvoiceStatus } from '../../db/schema.js';
import type { CredentialsStore } from '../credentials/credentials.js';
import { KsefNotConfiguredError } from '../errors.js';
import { announceFinishedBatches } from '../events.js';
import { sha256Base64 } from '../transport/crypto.js';
import type { InvoiceFacts } from './send.js';

export interface BulkInvoice {
  /** Its position in the request. */
  index: number;
  xml: Buffer;
  facts: InvoiceFacts;
}

export interface BulkSubmission {
  batchId: string;
  totalCount: number;
  acceptedCount: number;
  rejected: BulkRejection[];
}

export interface BulkItem {
  index: number;
  invoiceNumber: string;
  status: SyncedInvoiceStatus;
  ksefNumber: string | null;
  error: string | null;
}

export interface BulkProgress {
  batchId: string;
  status: 'processing' | 'completed';
  totalCount: number;
  acceptedCount: number;
  sentCount: number;
  failedCount: number;
  rejected: BulkRejection[];
  referenceNumbers: string[];
  invoices: BulkItem[];
  page: number;
  pageSize: number;
}

/** Rows per insert statement (15 parameters each, well under PostgreSQL's 65,535). */
const INSERT_CHUNK = 500;

/**
 * Bulk requests (`POST /invoices/{env}/batch`): their invoices stored for the batch lane of
 * `synced_invoices`, which BatchOutbox delivers, and their progress read back by index.
 */
export class BulkBatches {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly credentials: CredentialsStore,
  ) {}

  /**
   * Stores the accepted invoices (`queued`, batch lane) and the request's record, all in one transaction.
   * The same bytes already stored (in this request, an earlier one, or sent online) map to that row and
   * are not sent again.
   */
  async submit(companyId: string, environment: KsefEnvironmentName, totalCount: number, accepted: BulkInvoice[], rejected: BulkRejection[]): Promise<BulkSubmission> {
    const credentials = await this.credentials.get(companyId, environment);
    if (!credentials?.authenticationMethod) {
      throw new KsefNotConfiguredError(environment, `Neither a KSeF token nor an authentication certificate is stored for the ${environment} environment: store one with PUT /ksef/${environment}/credentials, then send again.`);
    }
    const hashed = accepted.map((a) => ({ ...a, hash: sha256Base64(a.xml) }));
    const unique = [...new Map(hashed.map((a) => [a.hash, a])).values()];
    // Ordered by hash, so that two requests inserting the same files take their index entries in one order.
    unique.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    return this.db.transaction().execute(async (trx) => {
      const batch = await trx
        .insertInto('bulk_batches')
        .values({ company_id: companyId, environment, total_count: totalCount, accepted_count: accepted.length, rejected: JSON.stringify(rejected) })
        .returning('id')
        .executeTakeFirstOrThrow();
      const ids = new Map<string, string>();
      for (let i = 0; i < unique.length; i += INSERT_CHUNK) {
        const chunk = unique.slice(i, i + INSERT_CHUNK);
        const inserted = await trx
          .insertInto('synced_invoices')
          .values(
            chunk.map(({ xml, hash, facts: f }) => ({
              company_id: companyId,
              environment,
              direction: 'issued' as const,
              status: 'queued' as const,
              transport: 'batch' as const,
              invoice_number: f.invoiceNumber,
              invoice_type: f.type,
              issue_date: f.issueDate,
              seller_nip: f.sellerNip,
              seller_name: f.sellerName,
              buyer_nip: f.buyerNip,
              buyer_name: f.buyerName,
              net_amount: f.net,
              vat_amount: f.vat,
              gross_amount: f.gross,
              currency: f.currency,
              invoice_hash: hash,
              xml,
            })),
          )
          .onConflict((oc) => oc.columns(['company_id', 'environment', 'invoice_hash']).doNothing())
          .returning(['id', 'invoice_hash'])
          .execute();
        for (const r of inserted) ids.set(r.invoice_hash, r.id);
        const known = chunk.filter((c) => !ids.has(c.hash)).map((c) => c.hash);
        if (known.length > 0) {
          // Locked (shared) until the commit: one of them finishing meanwhile is seen by the check below, or
          // sees this batch (its transaction waits for ours), so the batch's completion is announced either way.
          const existing = await trx
            .selectFrom('synced_invoices')
            .select(['id', 'invoice_hash'])
            .where('company_id', '=', companyId)
            .where('environment', '=', environment)
            .where('invoice_hash', 'in', known)
            .forShare()
            .execute();
          for (const r of existing) ids.set(r.invoice_hash, r.id);
        }
      }
      const items = hashed.map((a) => ({ batch_id: batch.id, item_index: a.index, invoice_id: ids.get(a.hash)! }));
      for (let i = 0; i < items.length; i += INSERT_CHUNK * 4) await trx.insertInto('bulk_batch_items').values(items.slice(i, i + INSERT_CHUNK * 4)).execute();
      // Every invoice of it already sent or failed (all sent before): complete at once.
      await announceFinishedBatches(trx, [batch.id]);
      return { batchId: batch.id, totalCount, acceptedCount: accepted.length, rejected };
    });
  }

  /** A bulk request's progress and one page of its invoices; undefined when the company has no such batch. */
  async progress(companyId: string, environment: KsefEnvironmentName, batchId: string, page: number, pageSize: number): Promise<BulkProgress | undefined> {
    const batch = await this.db
      .selectFrom('bulk_batches')
      .selectAll()
      .where('id', '=', batchId)
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .executeTakeFirst();
    if (!batch) return undefined;
    const items = this.db.selectFrom('bulk_batch_items as i').innerJoin('synced_invoices as s', 's.id', 'i.invoice_id').where('i.batch_id', '=', batchId);
    const [counts, references, rows] = await Promise.all([
      items.select(['s.status', sql<number>`count(*)::int`.as('n')]).groupBy('s.status').execute(),
      items.select('s.session_reference_number').distinct().where('s.session_reference_number', 'is not', null).orderBy('s.session_reference_number').execute(),
      items
        .select(['i.item_index', 's.invoice_number', 's.status', 's.ksef_number', 's.error_message'])
        .orderBy('i.item_index')
        .limit(pageSize)
        .offset((page - 1) * pageSize)
        .execute(),
    ]);
    const count = (...statuses: SyncedInvoiceStatus[]) => counts.filter((c) => statuses.includes(c.status)).reduce((sum, c) => sum + Number(c.n), 0);
    const sentCount = count('sent', 'synced');
    const failedCount = count('error');
    return {
      batchId,
      status: count('queued', 'pending') === 0 ? 'completed' : 'processing',
      totalCount: batch.total_count,
      acceptedCount: batch.accepted_count,
      sentCount,
      failedCount,
      rejected: batch.rejected,
      referenceNumbers: references.map((r) => r.session_reference_number!),
      invoices: rows.map((r) => ({
        index: r.item_index,
        invoiceNumber: r.invoice_number,
        status: r.status,
        ksefNumber: r.ksef_number,
        error: r.status === 'error' ? r.error_message : null,
      })),
      page,
      pageSize,
    };
  }
}
