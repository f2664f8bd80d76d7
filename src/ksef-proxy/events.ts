import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { isoTimestamp, recordEventRows, recordEvents } from '../webhooks/events.js';
import type { SyncCounts, SyncTrigger } from './sync/progress.js';

/**
 * What ksef-proxy announces to webhooks, and the `data` each event carries (spec: WebhookEvent). Every
 * function runs inside the transaction that makes the change (`trx`), after the change: the event exists
 * exactly when the change committed. Announcing one change twice (two processes, a repeated status
 * answer) records it once: each event has a key naming the change.
 */

const ids = (list: string[]) => sql.join(list.map((id) => sql`${id}::uuid`));

/**
 * `invoice.sent` / `invoice.failed` for invoices we issue (`synced_invoices`) that are now `sent` or
 * `error`, then `batch.completed` for the bulk batches they finish. A failure is one event per attempt
 * (`attempts` counts the claims): the same file failing again after a resend is announced again.
 */
export async function announceInvoiceOutcomes(trx: Kysely<Database>, invoiceIds: string[]): Promise<void> {
  if (invoiceIds.length === 0) return;
  await recordEventRows(
    trx,
    sql`select company_id, environment,
        case when status = 'error' then 'invoice.failed' else 'invoice.sent' end,
        case when status = 'error' then 'invoice.failed:' || id || ':' || attempts else 'invoice.sent:' || id end,
        case when status = 'error'
          then jsonb_build_object('invoiceId', id, 'invoiceNumber', invoice_number, 'mode', transport, 'referenceNumber', session_reference_number,
            'errorCode', error_code, 'errorMessage', error_message)
          else jsonb_build_object('invoiceId', id, 'invoiceNumber', invoice_number, 'mode', transport, 'ksefNumber', ksef_number,
            'referenceNumber', session_reference_number, 'acquisitionDate', ${isoTimestamp(sql.ref('acquisition_date'))})
        end
      from synced_invoices
      where id in (${ids(invoiceIds)}) and direction = 'issued' and (status = 'error' or (status in ('sent', 'synced') and ksef_number is not null))`,
  );
  await announceBatchCompletions(trx, invoiceIds);
}

/** The same for offline invoices (`offline_invoices`), `mode: "offline"`, the invoice id being the offline id. */
export async function announceOfflineOutcomes(trx: Kysely<Database>, offlineIds: string[]): Promise<void> {
  if (offlineIds.length === 0) return;
  await recordEventRows(
    trx,
    sql`select company_id, environment,
        case when status = 'error' then 'invoice.failed' else 'invoice.sent' end,
        case when status = 'error' then 'invoice.failed:' || id || ':' || coalesce(invoice_reference_number, session_reference_number, '') else 'invoice.sent:' || id end,
        case when status = 'error'
          then jsonb_build_object('invoiceId', id, 'invoiceNumber', invoice_number, 'mode', 'offline', 'referenceNumber', session_reference_number,
            'errorCode', error_code, 'errorMessage', error_message)
          else jsonb_build_object('invoiceId', id, 'invoiceNumber', invoice_number, 'mode', 'offline', 'ksefNumber', ksef_number,
            'referenceNumber', session_reference_number, 'acquisitionDate', ${isoTimestamp(sql.ref('acquisition_date'))})
        end
      from offline_invoices
      where id in (${ids(offlineIds)}) and (status = 'error' or (status = 'sent' and ksef_number is not null))`,
  );
}

/** `invoice.received`: purchase invoices (`received`) the sync has just stored. */
export async function announceReceived(trx: Kysely<Database>, invoiceIds: string[]): Promise<void> {
  if (invoiceIds.length === 0) return;
  await recordEventRows(
    trx,
    sql`select company_id, environment, 'invoice.received', 'invoice.received:' || id,
        jsonb_build_object('invoiceId', id, 'ksefNumber', ksef_number, 'invoiceNumber', invoice_number, 'invoiceType', invoice_type,
          'issueDate', issue_date::text, 'sellerNip', seller_nip, 'sellerName', seller_name, 'buyerNip', buyer_nip, 'buyerName', buyer_name,
          'netAmount', net_amount::text, 'vatAmount', vat_amount::text, 'grossAmount', gross_amount::text, 'currency', currency,
          'acquisitionDate', ${isoTimestamp(sql.ref('acquisition_date'))}, 'permanentStorageDate', ${isoTimestamp(sql.ref('permanent_storage_date'))})
      from synced_invoices
      where id in (${ids(invoiceIds)}) and direction = 'received'`,
  );
}

/**
 * `batch.completed` for the bulk batches holding any of `invoiceIds` that have no invoice left `queued` or
 * `pending`, once per batch. The batch rows are locked first: of two transactions finishing a batch's last
 * invoices at the same moment, the one that locks second sees the other's commit, so one of them announces it.
 */
async function announceBatchCompletions(trx: Kysely<Database>, invoiceIds: string[]): Promise<void> {
  const batches = await sql<{ id: string }>`
    select b.id from bulk_batches as b
    where b.id in (select i.batch_id from bulk_batch_items as i where i.invoice_id in (${ids(invoiceIds)}))
      and exists (select from webhook_subscriptions as s where s.company_id = b.company_id and 'batch.completed' = any(s.events))
    order by b.id
    for update`.execute(trx);
  if (batches.rows.length > 0) await announceFinishedBatches(trx, batches.rows.map((b) => b.id));
}

/** `batch.completed` for those of `batchIds` (locked by the caller, or new) none of whose invoices is still on its way. */
export async function announceFinishedBatches(trx: Kysely<Database>, batchIds: string[]): Promise<void> {
  await recordEventRows(
    trx,
    sql`with wanted as (
        select * from bulk_batches as b
        where b.id in (${ids(batchIds)})
          and exists (select from webhook_subscriptions as s where s.company_id = b.company_id and 'batch.completed' = any(s.events))
      )
      select b.company_id, b.environment, 'batch.completed', 'batch.completed:' || b.id,
        jsonb_build_object('batchId', b.id, 'totalCount', b.total_count, 'acceptedCount', b.accepted_count,
          'rejectedCount', jsonb_array_length(b.rejected), 'sentCount', c.sent, 'failedCount', c.failed)
      from wanted as b
      cross join lateral (
        select count(*) filter (where s.status in ('sent', 'synced'))::int as sent, count(*) filter (where s.status = 'error')::int as failed,
          count(*) filter (where s.status in ('queued', 'pending'))::int as open
        from bulk_batch_items as i join synced_invoices as s on s.id = i.invoice_id
        where i.batch_id = b.id
      ) as c
      where c.open = 0`,
  );
}

/** `sync.completed`: a sync run ended (`error` null: every subject type synced). */
export async function announceSyncCompleted(
  trx: Kysely<Database>,
  run: { companyId: string; environment: Database['invoice_sync_runs']['environment']; runId: string; trigger: SyncTrigger; startedAt: Date; finishedAt: Date; counts: SyncCounts; error: string | null },
): Promise<void> {
  await recordEvents(trx, [
    {
      companyId: run.companyId,
      environment: run.environment,
      type: 'sync.completed',
      dedupeKey: `sync.completed:${run.runId}`,
      data: {
        runId: run.runId,
        trigger: run.trigger,
        succeeded: run.error === null,
        error: run.error,
        startedAt: run.startedAt.toISOString(),
        finishedAt: run.finishedAt.toISOString(),
        ...run.counts,
      },
    },
  ]);
}

/** `offline.deadline`: offline invoices (`offlineIds`) whose submission deadline is less than 24 hours away. */
export async function announceDeadlines(trx: Kysely<Database>, offlineIds: string[]): Promise<void> {
  if (offlineIds.length === 0) return;
  await recordEventRows(
    trx,
    sql`select company_id, environment, 'offline.deadline', 'offline.deadline:' || id,
        jsonb_build_object('invoiceId', id, 'invoiceNumber', invoice_number, 'status', status, 'offlineMode', offline_mode,
          'submissionDeadline', ${isoTimestamp(sql.ref('submission_deadline'))})
      from offline_invoices
      where id in (${ids(offlineIds)})`,
  );
}
