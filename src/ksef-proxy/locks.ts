import { type Kysely, type Transaction, sql } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * Runs `fn` in a transaction holding a Postgres advisory lock named `name`: one holder at a time across
 * every process sharing the database (and in PGlite, across this process's callers). Released at commit
 * or rollback, or when a crashed holder's connection drops.
 */
export async function withAdvisoryLock<T>(db: Kysely<Database>, name: string, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await lockForTransaction(trx, name);
    return fn(trx);
  });
}

/** Waits for the advisory lock `name` and holds it until `trx` ends. */
export async function lockForTransaction(trx: Transaction<Database>, name: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${name}, 0))`.execute(trx);
}


const heldHere = new Set<string>();

/**
 * Runs `fn` while holding the lock `name`, or answers 'busy' at once when someone holds it. Within this
 * process a set of names; across processes (PostgreSQL) a session-level advisory lock on a connection kept
 * for the duration, so a crashed holder releases it with its connection. `fn` runs with `db` (no
 * transaction): it may take as long as it needs and use as many short transactions as it likes.
 */
export async function tryAdvisoryLock<T>(
  db: Kysely<Database>,
  name: string,
  crossProcess: boolean,
  fn: () => Promise<T>,
): Promise<{ ran: true; result: T } | 'busy'> {
  if (heldHere.has(name)) return 'busy';
  heldHere.add(name);
  try {
    if (!crossProcess) return { ran: true, result: await fn() };
    return await db.connection().execute(async (conn) => {
      const got = await sql<{ ok: boolean }>`select pg_try_advisory_lock(hashtextextended(${name}, 0)) as ok`.execute(conn);
      if (!got.rows[0]?.ok) return 'busy' as const;
      try {
        return { ran: true as const, result: await fn() };
      } finally {
        await sql`select pg_advisory_unlock(hashtextextended(${name}, 0))`.execute(conn).catch(() => undefined);
      }
    });
  } finally {
    heldHere.delete(name);
  }
}

/** True while this process holds `name` through tryAdvisoryLock. */
export const heldInThisProcess = (name: string): boolean => heldHere.has(name);

/**
 * Does any session (any process) hold the session-level lock `name`? Read from pg_locks, so asking never
 * holds the lock even for an instant: a probe that try-locked and released could make a concurrent
 * tryAdvisoryLock answer 'busy' with no one running. A bigint key shows as classid (high half) and objid.
 */
export async function heldBySomeSession(db: Kysely<Database>, name: string): Promise<boolean> {
  const found = await sql<{ held: boolean }>`
    select exists(
      select 1 from pg_locks
       where locktype = 'advisory' and granted and objsubid = 1
         and database = (select oid from pg_database where datname = current_database())
         and ((classid::bigint << 32) | objid::bigint) = hashtextextended(${name}, 0)
    ) as held`.execute(db);
  return found.rows[0]?.held ?? false;
}
