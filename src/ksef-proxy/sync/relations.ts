import { type Kysely, sql, type Transaction } from 'kysely';
import type { KsefEnvironmentName } from '../../config.js';
import type { Database } from '../../db/schema.js';
import type { Fa3Invoice, InvoiceKind } from '../../local/fa3/index.js';

/**
 * Relations between invoices (FA3.md §2.4): advance groups (a ROZ, or the final ZAL of art. 106f(4), and
 * the advances it lists) and corrections (KOR / KOR_ZAL / KOR_ROZ → what they correct, chains included).
 * References are stored as written and resolved set-wise, so they link in any arrival order, for synced
 * invoices and for invoices we sent ourselves alike.
 */

type Db = Kysely<Database> | Transaction<Database>;

export interface IndexedInvoice {
  id: string;
  companyId: string;
  environment: KsefEnvironmentName;
  ksefNumber: string | null;
}

const CORRECTION_KINDS = new Set(['KOR', 'KOR_ZAL', 'KOR_ROZ']);

/** The kinds of invoice that can refer to others: only these need reading and parsing to be indexed. */
export const REFERRING_KINDS = [...CORRECTION_KINDS, 'ROZ', 'ZAL'];

/** Stores (again: idempotent) the references the invoice carries. */
export async function indexRelations(db: Db, row: IndexedInvoice, invoice: Fa3Invoice): Promise<void> {
  // An invoice in KSeF never changes: once its references are stored, they stay (and keep their links).
  if (CORRECTION_KINDS.has(invoice.kind) && invoice.correctedInvoices.length > 0 && !(await hasCorrections(db, row.id))) {
    const listedAt = Date.now();
    const seller = invoice.correctedSeller?.nip ?? invoice.seller.nip;
    await db
      .insertInto('invoice_corrections')
      .values(
        invoice.correctedInvoices.map((c, i) => ({
          created_at: new Date(listedAt + i), // keeps the order of a collective correction
          company_id: row.companyId,
          environment: row.environment,
          correction_invoice_id: row.id,
          corrected_ksef_number: c.ksefNumber ?? null,
          corrected_invoice_number: c.number,
          corrected_issue_date: c.issueDate || null,
          corrected_seller_nip: seller,
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  if ((invoice.kind === 'ROZ' || invoice.kind === 'ZAL') && invoice.advances.length > 0 && !(await isSettlement(db, row.id))) {
    const group = await db
      .insertInto('advance_groups')
      .values({
        company_id: row.companyId,
        environment: row.environment,
        settlement_invoice_id: row.id,
        settlement_ksef_number: row.ksefNumber,
        seller_nip: invoice.seller.nip,
        settlement_invoice_number: invoice.number,
        currency: invoice.currency,
        order_total: invoice.order?.value ?? null,
        advances_total: '0',
        remainder: '0',
      })
      .onConflict((oc) =>
        oc.columns(['company_id', 'environment', 'seller_nip', 'settlement_invoice_number']).doUpdateSet({
          settlement_invoice_id: row.id,
          settlement_ksef_number: row.ksefNumber,
          currency: invoice.currency,
          order_total: invoice.order?.value ?? null,
          updated_at: new Date(),
        }),
      )
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.deleteFrom('advance_group_invoices').where('group_id', '=', group.id).execute();
    const listedAt = Date.now();
    await db
      .insertInto('advance_group_invoices')
      .values(
        invoice.advances
          .filter((a) => a.ksefNumber || a.number)
          // created_at (a millisecond apart) keeps the order the settlement lists them in.
          .map((a, i) => ({
            group_id: group.id,
            advance_ksef_number: a.ksefNumber ?? null,
            advance_invoice_number: a.ksefNumber ? null : (a.number ?? null),
            created_at: new Date(listedAt + i),
          })),
      )
      .execute();
  }
}

const hasCorrections = async (db: Db, id: string) =>
  Boolean(await db.selectFrom('invoice_corrections').select('id').where('correction_invoice_id', '=', id).limit(1).executeTakeFirst());
const isSettlement = async (db: Db, id: string) =>
  Boolean(await db.selectFrom('advance_groups').select('id').where('settlement_invoice_id', '=', id).limit(1).executeTakeFirst());

/**
 * Links every unresolved reference of the company's environment that now has its target, then recomputes
 * the groups' amounts (effective amount = P_15 + the deltas of every correction reachable from it).
 */
export async function resolveRelations(db: Db, companyId: string, environment: KsefEnvironmentName): Promise<{ advances: number; corrections: number }> {
  // 1. Corrections by the KSeF number they cite (globally unique).
  const byKsef = await sql`
    update invoice_corrections c set corrected_invoice_id = s.id
    from synced_invoices s
    where c.company_id = ${companyId} and c.environment = ${environment} and c.corrected_invoice_id is null
      and c.corrected_ksef_number is not null
      and s.company_id = c.company_id and s.environment = c.environment and s.ksef_number = c.corrected_ksef_number
      and s.id <> c.correction_invoice_id`.execute(db);
  // 2. Fallback: seller NIP + number (+ the kinds the correction may target), issue date preferred.
  const candidate = sql`(
      select s.id from synced_invoices s join synced_invoices k on k.id = c.correction_invoice_id
      where s.company_id = c.company_id and s.environment = c.environment and s.seller_nip = c.corrected_seller_nip
        and s.invoice_number = c.corrected_invoice_number and s.id <> c.correction_invoice_id
        and (c.corrected_ksef_number is null or s.ksef_number is null)
        and s.invoice_type = any(case k.invoice_type when 'KOR' then array['VAT','UPR','KOR'] when 'KOR_ZAL' then array['ZAL','KOR_ZAL']
                                                      else array['ROZ','KOR_ROZ'] end)
      order by (s.issue_date = c.corrected_issue_date) desc, s.created_at limit 1)`;
  const byNumber = await sql`
    update invoice_corrections c set corrected_invoice_id = ${candidate}
    where c.company_id = ${companyId} and c.environment = ${environment} and c.corrected_invoice_id is null
      and ${candidate} is not null`.execute(db);
  // Refuse cycles: a correction that (through the chain) corrects itself is unlinked again.
  await sql`
    with recursive up(start, id, path) as (
      select c.correction_invoice_id, c.corrected_invoice_id, array[c.correction_invoice_id]
      from invoice_corrections c where c.company_id = ${companyId} and c.environment = ${environment} and c.corrected_invoice_id is not null
      union all
      select up.start, c.corrected_invoice_id, up.path || up.id
      from up join invoice_corrections c on c.correction_invoice_id = up.id
      where c.corrected_invoice_id is not null and not (up.id = any(up.path)) and array_length(up.path, 1) < 1000)
    update invoice_corrections c set corrected_invoice_id = null
    where c.company_id = ${companyId} and c.environment = ${environment}
      and c.correction_invoice_id in (select start from up where id = start)`.execute(db);
  // 3. Advances: by KSeF number, else the seller's ZAL with that number.
  const advByKsef = await sql`
    update advance_group_invoices a set advance_invoice_id = s.id
    from advance_groups g, synced_invoices s
    where a.group_id = g.id and g.company_id = ${companyId} and g.environment = ${environment} and a.advance_invoice_id is null
      and a.advance_ksef_number is not null
      and s.company_id = g.company_id and s.environment = g.environment and s.ksef_number = a.advance_ksef_number`.execute(db);
  const advByNumber = await sql`
    update advance_group_invoices a set advance_invoice_id = s.id
    from advance_groups g, synced_invoices s
    where a.group_id = g.id and g.company_id = ${companyId} and g.environment = ${environment} and a.advance_invoice_id is null
      and a.advance_ksef_number is null and a.advance_invoice_number is not null
      and s.company_id = g.company_id and s.environment = g.environment and s.seller_nip = g.seller_nip
      and s.invoice_number = a.advance_invoice_number and s.invoice_type = 'ZAL'`.execute(db);
  await recomputeGroups(db, companyId, environment);
  return {
    advances: Number(advByKsef.numAffectedRows ?? 0n) + Number(advByNumber.numAffectedRows ?? 0n),
    corrections: Number(byKsef.numAffectedRows ?? 0n) + Number(byNumber.numAffectedRows ?? 0n),
  };
}

async function recomputeGroups(db: Db, companyId: string, environment: KsefEnvironmentName): Promise<void> {
  await sql`
    with recursive roots as (
      select a.advance_invoice_id as id from advance_group_invoices a join advance_groups g on g.id = a.group_id
      where g.company_id = ${companyId} and g.environment = ${environment} and a.advance_invoice_id is not null
      union
      select g.settlement_invoice_id from advance_groups g
      where g.company_id = ${companyId} and g.environment = ${environment} and g.settlement_invoice_id is not null),
    chain(root, id) as (
      select id, id from roots
      union
      select chain.root, c.correction_invoice_id from chain join invoice_corrections c on c.corrected_invoice_id = chain.id),
    eff as (select chain.root, sum(s.gross_amount) as gross from chain join synced_invoices s on s.id = chain.id group by chain.root),
    amounts as (
      update advance_group_invoices a set amount = eff.gross
      from eff, advance_groups g
      where eff.root = a.advance_invoice_id and a.group_id = g.id and g.company_id = ${companyId} and g.environment = ${environment}
      returning a.group_id, a.id, a.amount)
    update advance_groups g set
      settlement_gross = (select gross from eff where eff.root = g.settlement_invoice_id),
      updated_at = now()
    where g.company_id = ${companyId} and g.environment = ${environment}`.execute(db);
  await sql`
    update advance_groups g set
      advances_total = coalesce((select sum(a.amount) from advance_group_invoices a where a.group_id = g.id), 0),
      remainder = coalesce(g.order_total - coalesce((select sum(a.amount) from advance_group_invoices a where a.group_id = g.id), 0), g.settlement_gross, 0)
    where g.company_id = ${companyId} and g.environment = ${environment}`.execute(db);
}

// ---------------------------------------------------------------------------------------------- reading

export interface LinkedInvoice {
  ksefNumber: string | null;
  invoiceNumber: string;
  type: InvoiceKind | null;
  issueDate: string | null;
  grossAmount: string | null;
  resolved: boolean;
}

export interface AdvanceGroupView {
  settlement: LinkedInvoice | null;
  advances: LinkedInvoice[];
  orderTotal: string | null;
  advancesTotal: string;
  remainder: string;
  currency: string;
}

export interface InvoiceLinks {
  ksefNumber: string;
  advanceGroup: AdvanceGroupView | null;
  corrects: LinkedInvoice[];
  correctedBy: LinkedInvoice[];
}

interface RowLite {
  id: string;
  ksef_number: string | null;
  invoice_number: string;
  invoice_type: string;
  issue_date: string;
  gross_amount: string;
}

const linked = (r: RowLite): LinkedInvoice => ({
  ksefNumber: r.ksef_number,
  invoiceNumber: r.invoice_number,
  type: r.invoice_type as InvoiceKind,
  issueDate: r.issue_date,
  grossAmount: r.gross_amount,
  resolved: true,
});

/** The invoice's advance group and correction chain; null when the register has no such KSeF number. */
export async function invoiceLinks(db: Kysely<Database>, companyId: string, environment: KsefEnvironmentName, ksefNumber: string): Promise<InvoiceLinks | null> {
  const cols = ['id', 'ksef_number', 'invoice_number', 'invoice_type', 'issue_date', 'gross_amount'] as const;
  const me = await db
    .selectFrom('synced_invoices')
    .select(cols)
    .where('company_id', '=', companyId)
    .where('environment', '=', environment)
    .where('ksef_number', '=', ksefNumber)
    .executeTakeFirst();
  if (!me) return null;
  const byId = async (id: string) => db.selectFrom('synced_invoices').select(cols).where('id', '=', id).executeTakeFirst();

  // Up the chain: what this corrects, nearest first (breadth-first; collective corrections have several).
  const corrects: LinkedInvoice[] = [];
  const seenUp = new Set([me.id]);
  const upChain: string[] = [];
  let frontier = [me.id];
  while (frontier.length > 0) {
    const refs = await db.selectFrom('invoice_corrections').selectAll().where('correction_invoice_id', 'in', frontier).orderBy('created_at').execute();
    const next: string[] = [];
    for (const ref of refs) {
      if (ref.corrected_invoice_id) {
        if (seenUp.has(ref.corrected_invoice_id)) continue;
        seenUp.add(ref.corrected_invoice_id);
        const target = await byId(ref.corrected_invoice_id);
        if (target) {
          corrects.push(linked(target));
          upChain.push(target.id);
          next.push(target.id);
        }
      } else {
        corrects.push({
          ksefNumber: ref.corrected_ksef_number,
          invoiceNumber: ref.corrected_invoice_number,
          type: null,
          issueDate: ref.corrected_issue_date,
          grossAmount: null,
          resolved: false,
        });
      }
    }
    frontier = next;
  }

  // Down the chain: corrections of this one, and of those.
  const correctedBy: LinkedInvoice[] = [];
  const seenDown = new Set([me.id]);
  frontier = [me.id];
  while (frontier.length > 0) {
    const rows = await db
      .selectFrom('invoice_corrections as c')
      .innerJoin('synced_invoices as s', 's.id', 'c.correction_invoice_id')
      .select(['s.id', 's.ksef_number', 's.invoice_number', 's.invoice_type', 's.issue_date', 's.gross_amount'])
      .where('c.corrected_invoice_id', 'in', frontier)
      .orderBy('s.issue_date')
      .orderBy('s.created_at')
      .execute();
    const next: string[] = [];
    for (const r of rows) {
      if (seenDown.has(r.id)) continue;
      seenDown.add(r.id);
      correctedBy.push(linked(r));
      next.push(r.id);
    }
    frontier = next;
  }

  // The advance group: as its settlement, as one of its advances, or through what this corrects.
  let group = null;
  for (const id of [me.id, ...upChain]) {
    group =
      (await db.selectFrom('advance_groups').selectAll().where('settlement_invoice_id', '=', id).executeTakeFirst()) ??
      (await db
        .selectFrom('advance_groups as g')
        .innerJoin('advance_group_invoices as a', 'a.group_id', 'g.id')
        .selectAll('g')
        .where('a.advance_invoice_id', '=', id)
        .executeTakeFirst());
    if (group) break;
  }
  let advanceGroup: AdvanceGroupView | null = null;
  if (group) {
    const settlement = group.settlement_invoice_id ? await byId(group.settlement_invoice_id) : undefined;
    const members = await db
      .selectFrom('advance_group_invoices as a')
      .leftJoin('synced_invoices as s', 's.id', 'a.advance_invoice_id')
      .select(['a.advance_ksef_number', 'a.advance_invoice_number', 'a.amount', 's.ksef_number', 's.invoice_number', 's.invoice_type', 's.issue_date', 's.gross_amount', 's.id'])
      .where('a.group_id', '=', group.id)
      .orderBy('a.created_at')
      .orderBy('a.id')
      .execute();
    advanceGroup = {
      settlement: settlement ? linked(settlement) : null,
      advances: members.map((m) =>
        m.id
          ? { ksefNumber: m.ksef_number, invoiceNumber: m.invoice_number!, type: m.invoice_type as InvoiceKind, issueDate: m.issue_date, grossAmount: m.amount ?? m.gross_amount, resolved: true }
          : { ksefNumber: m.advance_ksef_number, invoiceNumber: m.advance_invoice_number ?? '', type: null, issueDate: null, grossAmount: null, resolved: false },
      ),
      orderTotal: group.order_total,
      advancesTotal: group.advances_total,
      remainder: group.remainder,
      currency: group.currency,
    };
  }
  return { ksefNumber, advanceGroup, corrects, correctedBy };
}
