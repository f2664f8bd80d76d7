import type { Kysely } from 'kysely';

/**
 * Exactly-once on our side: before an invoice is handed to an online session, the row records that session.
 * Until KSeF's answer is recorded (or the attempt provably never reached KSeF) it stays set, and a later
 * attempt first asks that session whether it holds the invoice, instead of sending it again.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('synced_invoices').addColumn('attempt_session_reference', 'varchar(36)').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('synced_invoices').dropColumn('attempt_session_reference').execute();
}
