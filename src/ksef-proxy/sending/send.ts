import { type Kysely, sql } from 'kysely';
import type { KsefConfig, KsefEnvironmentName } from '../../config.js';
import type { Database, InvoiceTransport } from '../../db/schema.js';
import type { InvoiceSummary } from '../../local/fa3/index.js';
import { Batcher } from './batcher.js';
import type { CredentialsStore } from '../credentials/credentials.js';
import { sha256Base64 } from '../transport/crypto.js';
import { KsefNotConfiguredError, outageSimulated } from '../errors.js';
import type { Outbox, OutboxRow } from './outbox.js';
import { EXPIRY_MARGIN_MS, MAX_INVOICES, type OnlineSession } from './sessions.js';

/** What the send path knows of an invoice after local validation: its summary and the seller's name. */
export type InvoiceFacts = InvoiceSummary & { sellerName: string | null };

export type OnlineSendResult =
  | { status: 'sent'; ksefNumber: string; referenceNumber: string; invoiceNumber: string }
  | { status: 'pending'; ksefNumber: null; referenceNumber: string; invoiceNumber: string }
  /** Stored and queued, but not yet accepted by KSeF (another process is sending it right now). */
  | { status: 'queued'; invoiceNumber: string };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface NewInvoice {
  companyId: string;
  environment: KsefEnvironmentName;
  xml: Buffer;
  hash: string;
  facts: InvoiceFacts;
}

/** A stored new invoice, already leased to its request, and the session slot counted for it (null: none had room). */
interface Stored {
  row: OutboxRow;
  session: OnlineSession | null;
}

/**
 * Online sending as the API does it: persist first (idempotent by the hash of the exact bytes), then try
 * to deliver at once, then wait a bounded time for KSeF's number. Anything not finished here is finished
 * by the outbox worker.
 */
export class InvoiceSender {
  /** New invoices of concurrent requests, stored (and given session slots) by one statement. */
  private readonly inserts: Batcher<NewInvoice, Stored | 'held' | null>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly credentials: CredentialsStore,
    private readonly outbox: Outbox,
    private readonly config: KsefConfig,
  ) {
    // Invoices are up to 3 MB (with attachments): a statement carries at most a few MB of them.
    this.inserts = new Batcher(db, (items, connection) => this.insert(items, connection), { maxItems: 64, maxBytes: 4_000_000, bytes: (item) => item.xml.length });
  }

  async send(companyId: string, environment: KsefEnvironmentName, xml: Buffer, facts: InvoiceFacts): Promise<OnlineSendResult> {
    const credentials = await this.credentials.get(companyId, environment);
    if (!credentials?.authenticationMethod) {
      throw new KsefNotConfiguredError(environment, `Neither a KSeF token nor an authentication certificate is stored for the ${environment} environment: store one with PUT /ksef/${environment}/credentials, then send again.`);
    }
    const hash = sha256Base64(xml);
    const stored = await this.inserts.submit({ companyId, environment, xml, hash, facts });
    if (stored === 'held') throw outageSimulated(environment);
    if (stored) this.outbox.leaseHeld([stored.row.id]);
    let row: OutboxRow;
    let transmitted = false;
    if (stored) {
      transmitted = true;
      // A transient failure leaves the invoice queued for the worker, and the caller learns why (503/504/502/429).
      row = await this.outbox.transmit(stored.row, this.config.sendWaitMs, stored.session ?? undefined, { askAtOnce: true });
    } else {
      const found = await this.existing(companyId, environment, hash);
      row = found;
      // Travelling in a batch session (sent in bulk, or a drained backlog): its result comes from that session.
      if (found.transport === 'batch') return this.awaitNumber(row, Date.now() + this.config.sendWaitMs, false, true);
      if (row.status === 'queued') {
        const [claimed] = await this.outbox.claim('queued', { id: row.id, limit: 1 });
        // Not claimed: another request or process holds it right now, and awaitNumber watches it.
        if (claimed) {
          transmitted = true;
          row = await this.outbox.transmit(claimed, this.config.sendWaitMs, undefined, { askAtOnce: true });
        }
      }
    }
    return this.awaitNumber(row, Date.now() + this.config.sendWaitMs, transmitted);
  }

  /**
   * Stores new invoices as `queued`, already leased to their requests, and counts a slot for each in its
   * company's open online session, in one statement: the invoice is stored and its slot counted before it
   * is sent. The same statement reads the outage simulation: while one is on for the company and
   * environment, nothing is stored ('held'). An invoice whose bytes are already stored (a repeated send)
   * gets null and is left unchanged. Ordered by hash, so that two processes inserting the same files take
   * their index entries in one order.
   */
  private async insert(items: NewInvoice[], db: Kysely<Database>): Promise<(Stored | 'held' | null)[]> {
    const now = new Date();
    const lease = new Date(now.getTime() + this.config.outboxLeaseMs);
    const sorted = [...items].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    // Typed here: the values are selected (not inserted directly), so Postgres needs their types.
    const values = sorted.map(
      ({ companyId, environment, xml, hash, facts: f }) =>
        sql`(${companyId}::uuid, ${environment}::text, ${f.invoiceNumber}::text, ${f.type}::text, ${f.issueDate}::date, ${f.sellerNip}::text,
          ${f.sellerName}::text, ${f.buyerNip}::text, ${f.buyerName}::text, ${f.net}::numeric, ${f.vat}::numeric, ${f.gross}::numeric,
          ${f.currency}::text, ${hash}::text, ${xml}::bytea)`,
    );
    // The slot: as OnlineSessions.takeSlot, for all the new invoices of a company and environment at once.
    const result = await sql<{
      company_id: string;
      environment: KsefEnvironmentName;
      invoice_hash: string;
      held: boolean;
      id: string | null;
      updated_at: Date | null;
      session_id: string | null;
      reference_number: string | null;
      symmetric_key_enc: Buffer | null;
      initialization_vector: Buffer | null;
    }>`with input (company_id, environment, invoice_number, invoice_type, issue_date, seller_nip, seller_name, buyer_nip, buyer_name,
          net_amount, vat_amount, gross_amount, currency, invoice_hash, xml) as (
        values ${sql.join(values)}
      ), held as (
        select distinct s.company_id, s.environment from ksef_environment_state as s
        join input as i on i.company_id = s.company_id and i.environment = s.environment
        where s.simulation_active
      ), ins as (
        insert into synced_invoices (company_id, environment, direction, status, invoice_number, invoice_type, issue_date, seller_nip, seller_name,
          buyer_nip, buyer_name, net_amount, vat_amount, gross_amount, currency, invoice_hash, xml, attempts, next_attempt_at)
        select i.company_id, i.environment, 'issued', 'queued', i.invoice_number, i.invoice_type, i.issue_date, i.seller_nip, i.seller_name,
          i.buyer_nip, i.buyer_name, i.net_amount, i.vat_amount, i.gross_amount, i.currency, i.invoice_hash, i.xml, 1, ${lease}::timestamptz
        from input as i
        where not exists (select from held as h where h.company_id = i.company_id and h.environment = i.environment)
        on conflict (company_id, environment, invoice_hash) do nothing
        returning id, company_id, environment, invoice_hash, updated_at
      ), wanted as (
        select company_id, environment, count(*)::int as n from ins group by company_id, environment
      ), slot as (
        update ksef_sessions as s set invoice_count = s.invoice_count + w.n, last_used_at = ${now}, updated_at = ${now}
        from wanted as w
        where s.id = (
            select o.id from ksef_sessions as o
            where o.company_id = w.company_id and o.environment = w.environment and o.kind = 'online' and o.status = 'open'
              and o.invoice_count + w.n <= ${MAX_INVOICES} and o.valid_until > ${new Date(now.getTime() + EXPIRY_MARGIN_MS)}
            order by o.opened_at desc limit 1)
          and s.status = 'open' and s.invoice_count + w.n <= ${MAX_INVOICES}
        returning s.id, s.company_id, s.environment, s.reference_number, s.symmetric_key_enc, s.initialization_vector
      )
      select i.company_id, i.environment, i.invoice_hash, h.company_id is not null as held, ins.id, ins.updated_at,
        slot.id as session_id, slot.reference_number, slot.symmetric_key_enc, slot.initialization_vector
      from input as i
      left join held as h on h.company_id = i.company_id and h.environment = i.environment
      left join ins on ins.company_id = i.company_id and ins.environment = i.environment and ins.invoice_hash = i.invoice_hash
      left join slot on slot.company_id = ins.company_id and slot.environment = ins.environment`.execute(db);
    const byKey = new Map(result.rows.map((r) => [`${r.company_id}|${r.environment}|${r.invoice_hash}`, r]));
    return items.map(({ companyId, environment, xml, hash, facts: f }) => {
      const key = `${companyId}|${environment}|${hash}`;
      const r = byKey.get(key);
      if (r?.held) return 'held';
      // The same bytes twice in one batch: the first is stored, the second is a repeated send.
      if (!r?.id || !r.updated_at || !byKey.delete(key)) return null;
      const row: OutboxRow = {
        id: r.id,
        company_id: companyId,
        environment,
        status: 'queued',
        ksef_number: null,
        invoice_number: f.invoiceNumber,
        invoice_hash: hash,
        xml,
        session_reference_number: null,
        invoice_reference_number: null,
        attempt_session_reference: null,
        acquisition_date: null,
        permanent_storage_date: null,
        invoicing_mode: null,
        error_code: null,
        error_message: null,
        attempts: 1,
        next_attempt_at: lease,
        updated_at: r.updated_at,
      };
      return { row, session: r.session_id ? this.outbox.sessions.session({ ...r, id: r.session_id }) : null };
    });
  }

  /** The row the same bytes already have (a repeated send); a rejected one is queued again. */
  private async existing(companyId: string, environment: KsefEnvironmentName, hash: string): Promise<OutboxRow & { transport: InvoiceTransport }> {
    const existing = await this.db
      .selectFrom('synced_invoices')
      .selectAll()
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .where('invoice_hash', '=', hash)
      .executeTakeFirstOrThrow();
    if (existing.status !== 'error') return existing;
    // The caller sends a rejected file again: try it again (KSeF's verdict may have been about the session).
    const retried = await this.db
      .updateTable('synced_invoices')
      .set({ status: 'queued', transport: 'online', next_attempt_at: null, error_code: null, error_message: null, updated_at: new Date() })
      .where('id', '=', existing.id)
      .where('status', '=', 'error')
      .returningAll()
      .executeTakeFirstOrThrow();
    return retried;
  }

  /** `watchOnly`: the row is the batch lane's, whose worker learns its result: only the database is read. */
  private async awaitNumber(row: OutboxRow, deadline: number, justAsked: boolean, watchOnly = false): Promise<OnlineSendResult> {
    // KSeF numbers an invoice within tens of milliseconds when it is well: ask early, then back off.
    for (let delay = 25; ; delay = Math.min(delay * 2, 500), justAsked = false) {
      if (row.status === 'queued' || watchOnly) {
        // Another process holds it: watch the database.
        row = await this.db.selectFrom('synced_invoices').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
      }
      // `justAsked`: transmit asked KSeF a moment ago, and the answer was "not yet".
      if (row.status === 'pending' && !justAsked && !watchOnly) row = await this.outbox.checkStatus(row, { recordWaiting: false });
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
