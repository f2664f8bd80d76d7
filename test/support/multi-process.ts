import got from 'got';
import type { Kysely } from 'kysely';
import { type DatabaseHandle, openDatabase } from '../../src/db/connect.js';
import type { Database } from '../../src/db/schema.js';
import { type RunningSandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import { createTestDatabase, type TestDatabase, usingPostgres } from './database.js';
import { spawnServer, type ServerProcess } from './process.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, COMPANY_NIP, TEST_SECRETS_KEY } from './server.js';
import { hasShared, sharedDir } from './shared.js';

/**
 * Scaffolding of the tests that run our server as several OS processes on one PostgreSQL database
 * against an in-process sandbox: crashes (SIGKILL) and concurrency across processes.
 */

/** `describe` when several processes can share a database (and ../shared is there if `needsShared`), else a one-line skip. */
export function describeMultiProcess(name: string, fn: () => void, options: { needsShared?: boolean } = {}): void {
  const reason =
    options.needsShared && !hasShared
      ? `../shared (KSeF reference material) not found at ${sharedDir}`
      : !usingPostgres
        ? 'needs PostgreSQL shared by several processes (DATABASE_URL); CI runs it in its PostgreSQL pass'
        : null;
  if (reason) describe(name, () => test.skip(`skipped: ${reason}`, () => {}));
  else describe(name, fn);
}

/** Polls `probe` until it returns something other than undefined. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

export interface MultiProcessStack {
  sandbox: RunningSandbox;
  db: Kysely<Database>;
  /** A server process on the shared database; stopped at `close()` unless killed before. */
  start(): Promise<ServerProcess>;
  /** The sandbox's admin API. */
  admin(method: 'POST' | 'PUT' | 'DELETE', path: string, json?: object): Promise<unknown>;
  close(): Promise<void>;
}

/** A sandbox with faults, a fresh PostgreSQL database, and server processes configured for both. */
export async function startMultiProcessStack(env: Record<string, string> = {}, sandboxOptions: SandboxOptions = {}): Promise<MultiProcessStack> {
  const sandbox = await startSandbox({ faultsEnabled: true, ...sandboxOptions });
  const testDb: TestDatabase = await createTestDatabase();
  if (testDb.options.kind !== 'postgres') throw new Error('multi-process tests need DATABASE_URL');
  const handle: DatabaseHandle = await openDatabase(testDb.options);
  const serverEnv = {
    DATABASE_URL: testDb.options.url,
    KSEF_TEST_URL: sandbox.apiUrl,
    KSEF_RATE_LIMITS: 'off',
    KSEF_SECRETS_KEY: TEST_SECRETS_KEY,
    KSEF_TIMEOUT_MS: '5000',
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    COMPANY_NIP,
    ...env,
  };
  const running: ServerProcess[] = [];
  return {
    sandbox,
    db: handle.db,
    async start() {
      const p = await spawnServer(serverEnv);
      running.push(p);
      return p;
    },
    async admin(method, path, json) {
      return (await got(`${sandbox.url}${path}`, { method, json, responseType: 'json' })).body;
    },
    async close() {
      await Promise.all(running.map((p) => p.stop().catch(() => {})));
      await handle.close();
      await testDb.drop();
      await sandbox.close();
    },
  };
}
