import { type Kysely, sql } from 'kysely';
import type { KsefEnvironmentName } from '../../config.js';
import type { Database, SubjectType } from '../../db/schema.js';
import { type Fa3Invoice, parseFa3 } from '../../local/fa3/index.js';
import { announceInvoiceOutcomes, announceReceived } from '../events.js';
import { lockForTransaction } from '../locks.js';
import { indexRelations, REFERRING_KINDS, resolveRelations } from './relations.js';

/**
 * The end of a package: ONE transaction moves its staged rows into the register, teaches invoices we sent
 * their KSeF number (by invoice hash), indexes and resolves the relations of what arrived, announces the
 * newly numbered and the new received invoices to webhooks, advances the subject type's checkpoint and
 * clears the staging. Either all of it commits or none: a crash before the commit leaves staging rows the
 * next run discards, and that run exports the same window again.
 */

export interface StoredPackage {
  inserted: number;
  updated: number;
  linkedAdvances: number;
  linkedCorrections: number;
}

/** Held by every transaction that stores and resolves relations, so the sync and the linking pass take turns. */
export const relationsLockName = (companyId: string, environment: string) => `relations:${companyId}:${environment}`;

export async function storePackage(
  db: Kysely<Database>,
  p: { packageId: string; companyId: string; environment: KsefEnvironmentName; subject: SubjectType; checkpoint: Date | null },
): Promise<StoredPackage> {
  const { packageId, companyId, environment } = p;
  return db.transaction().execute(async (trx) => {
    await lockForTransaction(trx, relationsLockName(companyId, environment));
    // Invoices we sent that KSeF numbered without us hearing it yet: they learn their number here.
    const learned = await sql<{ id: string }>`
      update synced_invoices s set
        ksef_number = m.ksef_number,
        status = case when s.status = 'synced' then 'synced' else 'sent' end,
        acquisition_date = m.acquisition_date,
        permanent_storage_date = m.permanent_storage_date,
        invoicing_mode = m.invoicing_mode,
        error_code = null, error_message = null, next_attempt_at = null, updated_at = now()
      from sync_staged_metadata m
      where m.package_id = ${packageId} and s.company_id = ${companyId} and s.environment = ${environment}
        and s.invoice_hash = m.invoice_hash and s.ksef_number is null
      returning s.id`.execute(trx);
    // Only what `_metadata.json` lists, once per KSeF number (the register's unique keys drop the rest).
    const inserted = await sql<{ id: string }>`
      insert into synced_invoices (company_id, environment, direction, status, ksef_number, invoice_number, invoice_type, issue_date,
        seller_nip, seller_name, buyer_nip, buyer_name, net_amount, vat_amount, gross_amount, currency, invoice_hash, xml,
        acquisition_date, permanent_storage_date, invoicing_mode)
      select i.company_id, i.environment, i.direction, 'synced', i.ksef_number, i.invoice_number, i.invoice_type, i.issue_date,
        i.seller_nip, i.seller_name, i.buyer_nip, i.buyer_name, i.net_amount, i.vat_amount, i.gross_amount, i.currency, i.invoice_hash, i.xml,
        m.acquisition_date, m.permanent_storage_date, m.invoicing_mode
      from sync_staged_invoices i
      join sync_staged_metadata m on m.package_id = i.package_id and m.ksef_number = i.ksef_number
      where i.package_id = ${packageId}
      order by m.permanent_storage_date, i.ksef_number
      on conflict do nothing
      returning id`.execute(trx);

    // Everything of this package not indexed yet (new rows, numbered rows, and rows we sent): only the kinds
    // that can refer to others need their XML parsed.
    const toIndex = await sql<{ id: string; ksef_number: string; xml: Buffer | null }>`
      select s.id, s.ksef_number, case when s.invoice_type in (${sql.join(REFERRING_KINDS)}) then s.xml end as xml
      from synced_invoices s
      join sync_staged_metadata m on m.ksef_number = s.ksef_number
      where m.package_id = ${packageId} and s.company_id = ${companyId} and s.environment = ${environment} and s.relations_indexed_at is null`.execute(trx);
    let linked = { advances: 0, corrections: 0 };
    if (toIndex.rows.length > 0) {
      for (const row of toIndex.rows) {
        const invoice = row.xml && parseQuietly(row.xml);
        if (invoice) await indexRelations(trx, { id: row.id, companyId, environment, ksefNumber: row.ksef_number }, invoice);
      }
      linked = await resolveRelations(trx, companyId, environment);
      await sql`
        update synced_invoices s set relations_indexed_at = now()
        from sync_staged_metadata m
        where m.package_id = ${packageId} and m.ksef_number = s.ksef_number
          and s.company_id = ${companyId} and s.environment = ${environment} and s.relations_indexed_at is null`.execute(trx);
    }

    // Announced with the rows: an invoice we sent learning its number here, and each new purchase invoice.
    await announceInvoiceOutcomes(trx, learned.rows.map((r) => r.id));
    await announceReceived(trx, inserted.rows.map((r) => r.id));

    const added = inserted.rows.length + learned.rows.length;
    await trx
      .updateTable('invoice_sync_meta')
      .set((eb) => ({ ...(p.checkpoint ? { hwm: p.checkpoint } : {}), invoice_count: eb('invoice_count', '+', added), updated_at: new Date() }))
      .where('company_id', '=', companyId)
      .where('environment', '=', environment)
      .where('subject_type', '=', p.subject)
      .execute();
    await clearStaging(trx, companyId, environment);
    return { inserted: inserted.rows.length, updated: learned.rows.length, linkedAdvances: linked.advances, linkedCorrections: linked.corrections };
  });
}

/** Drops the company's staged rows (a package stored, or one a crashed run left half-unpacked). */
export async function clearStaging(db: Kysely<Database>, companyId: string, environment: KsefEnvironmentName): Promise<void> {
  await db.deleteFrom('sync_staged_invoices').where('company_id', '=', companyId).where('environment', '=', environment).execute();
  await db.deleteFrom('sync_staged_metadata').where('company_id', '=', companyId).where('environment', '=', environment).execute();
}

export function parseQuietly(xml: Buffer): Fa3Invoice | null {
  try {
    return parseFa3(xml);
  } catch {
    return null;
  }
}
