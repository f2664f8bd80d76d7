import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migrations/index.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { Database } from './schema.js';

const requireFrom = createRequire(import.meta.url);

export type DatabaseKind = 'postgres' | 'pglite';

export interface DatabaseHandle {
  db: Kysely<Database>;
  kind: DatabaseKind;
  close(): Promise<void>;
}

export type DatabaseOptions =
  | { kind: 'postgres'; url: string; poolSize?: number }
  | { kind: 'pglite'; dataDir: string | null /* null: in memory */; initialData?: Blob /* a dumpDataDir() tarball to start from */ };

// Both drivers return the same JS types: dates as 'YYYY-MM-DD' strings (a date has no time zone),
// numerics as strings (amounts are never floats), int8 counts as numbers, timestamptz as Date, bytea as Buffer.
const DATE = 1082;
const NUMERIC = 1700;
const INT8 = 20;
const BYTEA = 17;
const asIs = (value: string) => value;
const asNumber = (value: string) => Number(value);

const once = (fn: () => Promise<void>) => {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
};

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      types: {
        getTypeParser: ((oid: number, format?: any) =>
          oid === DATE || oid === NUMERIC ? asIs : oid === INT8 ? asNumber : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: 'postgres', close: once(() => db.destroy()) };
  }
  const release = options.dataDir ? await lockDataDir(options.dataDir) : async () => {};
  if (options.dataDir && !options.initialData) await initializeDataDir(options.dataDir);
  const pglite = new PGlite({
    dataDir: options.dataDir ?? undefined,
    loadDataDir: options.initialData,
    postgresqlconf: EMBEDDED_POSTGRES_SETTINGS,
    parsers: { [DATE]: asIs, [NUMERIC]: asIs, [INT8]: asNumber, [BYTEA]: (value: string) => Buffer.from(value.slice(2), 'hex') },
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    close: once(async () => {
      await db.destroy();
      await release();
    }),
  };
}

/**
 * Postgres' defaults size a server machine (128 MB of shared buffers, all of it WASM heap here); an embedded
 * database of one company's invoices is served well by much less: the process idles at ~180 MB instead of ~300.
 */
const EMBEDDED_POSTGRES_SETTINGS = ['shared_buffers = 16MB', 'wal_buffers = 1MB', 'temp_buffers = 2MB', 'work_mem = 4MB', 'maintenance_work_mem = 16MB'];

/**
 * A new data directory is created (initdb) by a short-lived child process: initdb grows the WASM heap to
 * ~800 MB, and a WASM heap never shrinks, so done in the server it would cost that for as long as it runs.
 */
async function initializeDataDir(dataDir: string): Promise<void> {
  if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) return;
  const script = `const { PGlite } = require(${JSON.stringify(requireFrom.resolve('@electric-sql/pglite'))});
    const db = new PGlite({ dataDir: process.argv[1] });
    db.waitReady.then(() => db.close()).then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });`;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, dataDir], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`creating the embedded database in ${dataDir} failed (exit ${code}): ${stderr.trim()}`))));
  });
}

/** A second process opening the same embedded database would see none of the first one's writes, and lose its own. */
export class EmbeddedDatabaseInUseError extends Error {
  constructor(dataDir: string) {
    super(
      `the embedded database in ${dataDir} is in use by another process (a running Fast KSeF server?): it serves one process at a time. ` +
        'Do this through the running server (e.g. POST /admin/users as an admin) or stop it first; several processes need PostgreSQL (DATABASE_URL).',
    );
  }
}

/** Brings the schema up to date. Safe to run at every start and from several processes at once. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** The migrations this version knows that the database has not applied (read only: nothing is created). */
export async function pendingMigrations(db: Kysely<Database>): Promise<string[]> {
  const migrations = await new Migrator({ db, provider: migrationProvider }).getMigrations();
  return migrations.filter((m) => !m.executedAt).map((m) => m.name);
}

export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}

/**
 * An exclusive lock on the data directory for as long as the database is open: a file created atomically
 * (`wx`) holding the owner's pid. A lock whose process is gone (a crash, kill -9) is taken over at once, so a
 * restart works. (proper-lockfile was tried: its liveness is an mtime refreshed on a timer, which PGlite's
 * synchronous WASM start starves on a loaded machine — the server then died with ECOMPROMISED.)
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockFile = path.join(dataDir, 'fastksef.lock');
  const own = String(process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(lockFile, own, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0 || !holderIsGone(lockFile)) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new EmbeddedDatabaseInUseError(dataDir);
        throw err;
      }
      fs.rmSync(lockFile, { force: true });
    }
  }
  return async () => {
    if (readHolder(lockFile) === own) fs.rmSync(lockFile, { force: true });
  };
}

function readHolder(lockFile: string): string | null {
  try {
    return fs.readFileSync(lockFile, 'utf8');
  } catch {
    return null;
  }
}

function holderIsGone(lockFile: string): boolean {
  const pid = Number(readHolder(lockFile));
  // An empty file is a lock being written right now: its holder is alive.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  // A killed process nobody has reaped yet (a zombie) still answers signal 0, but holds nothing.
  try {
    return /^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
