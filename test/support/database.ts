import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { Kysely } from 'kysely';
import { migrateToLatest, type DatabaseOptions } from '../../src/db/connect.js';
import { PGliteDialect } from '../../src/db/pglite-dialect.js';
import type { Database } from '../../src/db/schema.js';

/**
 * Each test file gets a database of its own: a fresh PostgreSQL database on the server named by
 * DATABASE_URL (dropped afterwards), or an in-memory PGlite when DATABASE_URL is unset.
 */
export interface TestDatabase {
  options: DatabaseOptions;
  drop(): Promise<void>;
}

export const usingPostgres = Boolean(process.env.DATABASE_URL);

export async function createTestDatabase(): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL;
  if (!url) return { options: { kind: 'pglite', dataDir: null, initialData: await migratedPgliteTemplate() }, drop: async () => {} };
  const name = `fastksef_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${name}`;
  return {
    options: { kind: 'postgres', url: dbUrl.toString(), poolSize: 5 },
    async drop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/**
 * Creating a PGlite cluster (initdb in WASM) costs seconds; the suite does it once, migrates, and
 * every test file starts from that dump. The file name carries a hash of the migrations, so a new
 * migration makes a new template.
 */
async function migratedPgliteTemplate(): Promise<Blob> {
  const migrationsDir = path.join(import.meta.dirname, '..', '..', 'src', 'db', 'migrations');
  const hash = crypto.createHash('sha256');
  for (const f of fs.readdirSync(migrationsDir).sort()) hash.update(f).update(fs.readFileSync(path.join(migrationsDir, f)));
  const file = path.join(os.tmpdir(), `fastksef-pglite-${hash.digest('hex').slice(0, 16)}.tar.gz`);
  if (!fs.existsSync(file)) {
    const pglite = new PGlite();
    const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    await migrateToLatest(db);
    const dump = await pglite.dumpDataDir('gzip');
    await db.destroy();
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    fs.renameSync(partial, file);
  }
  return new Blob([fs.readFileSync(file)]);
}
