import { type Kysely, type Transaction, sql } from 'kysely';
import type { Database } from '../db/schema';

/**
 * Runs `fn` in a transaction holding a Postgres advisory lock named `name`: one holder at a time across
 * every process sharing the database (and in PGlite, across this process's callers). Released at commit
 * or rollback, or when a crashed holder's connection drops.
 */
export async function withAdvisoryLock<T>(db: Kysely<Database>, name: string, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtextextended(${name}, 0))`.execute(trx);
    return fn(trx);
  });
}

