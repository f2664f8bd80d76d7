import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bootstrapIfEmpty } from '../../src/accounts/bootstrap.js';
import { verifyPassword } from '../../src/accounts/passwords.js';
import { migrateToLatest, openDatabase } from '../../src/db/connect.js';
import got from 'got';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { spawnServer } from '../support/process.js';
import { TEST_SECRETS_KEY } from '../support/server.js';

const root = path.join(import.meta.dirname, '..', '..');
const noSettings = { adminEmail: undefined, adminPassword: undefined, companyNip: undefined, companyName: undefined };

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(() => testDb.drop());

describe('bootstrap of an empty database', () => {
  test('creates a company and an admin with a generated password, once', async () => {
    const handle = await openDatabase(testDb.options);
    try {
      await migrateToLatest(handle.db);
      const first = await bootstrapIfEmpty(handle.db, noSettings);
      expect(first).toMatchObject({ created: true, adminEmail: 'admin@localhost' });
      expect(first.generatedPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
      const user = await handle.db.selectFrom('users').selectAll().executeTakeFirstOrThrow();
      expect(user.role).toBe('admin');
      // KSeF's test NIP: the README's token, the sandbox's open mode and examples/ all name it.
      const company = await handle.db.selectFrom('companies').select(['nip', 'name']).executeTakeFirstOrThrow();
      expect(company).toEqual({ nip: '5265877635', name: 'My company' });
      expect(user.password_hash).not.toContain(first.generatedPassword);
      expect(await verifyPassword(first.generatedPassword!, user.password_hash)).toBe(true);
      expect(await bootstrapIfEmpty(handle.db, noSettings)).toEqual({ created: false });
      expect(await handle.db.selectFrom('users').select('id').execute()).toHaveLength(1);
    } finally {
      await handle.close();
    }
  });
});

describe('npm run user:add', () => {
  test('adds a user to a new company from the command line', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fastksef-cli-'));
    const env = { ...process.env, DATA_DIR: dataDir, USER_PASSWORD: 'cli-password-1', DATABASE_URL: testDb.options.kind === 'postgres' ? testDb.options.url : '' };
    try {
      const out = execFileSync('npx', ['tsx', 'scripts/user-add.ts', '--email', 'cli@example.com', '--role', 'technical', '--company-nip', '1234563218', '--company-name', 'CLI S.A.'], { cwd: root, env, encoding: 'utf8' });
      expect(out).toMatch(/added cli@example.com \(technical\)/);
      expect(out).not.toContain('cli-password-1');
      const again = (() => {
        try {
          execFileSync('npx', ['tsx', 'scripts/user-add.ts', '--email', 'CLI@example.com'], { cwd: root, env, encoding: 'utf8', stdio: 'pipe' });
          return 'ok';
        } catch (err) {
          return String((err as { stderr: string }).stderr);
        }
      })();
      expect(again).toMatch(/already exists/);
      const superuser = (() => {
        try {
          execFileSync('npx', ['tsx', 'scripts/user-add.ts', '--email', 'root@example.com', '--role', 'superuser'], { cwd: root, env, encoding: 'utf8', stdio: 'pipe' });
          return 'ok';
        } catch (err) {
          return String((err as { stderr: string }).stderr);
        }
      })();
      expect(superuser).toMatch(/--role must be one of admin, technical \(got superuser\)/);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('command-line tools beside a server on the embedded database', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv) => {
    try {
      return { code: 0, out: execFileSync('npx', ['tsx', ...args], { cwd: root, env, encoding: 'utf8', stdio: 'pipe' }) };
    } catch (err) {
      const e = err as { status: number; stdout: string; stderr: string };
      return { code: e.status, out: `${e.stdout}${e.stderr}` };
    }
  };

  test('refuse while the server holds the database, lose nothing, and work once it has stopped or crashed', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fastksef-cli-'));
    const env = { ...process.env, NODE_OPTIONS: '', DATA_DIR: dataDir, DATABASE_URL: '', KSEF_SECRETS_KEY: TEST_SECRETS_KEY, ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'admin-password-1' };
    let server = await spawnServer({ ...env, OUTBOX_INTERVAL_MS: '0', HOST: '0.0.0.0' });
    try {
      // The start-up line names the address it really listens on, beside the one to call it at.
      const port = new URL(server.url).port;
      expect(server.output()).toContain(`"url":"http://127.0.0.1:${port}","listening":"0.0.0.0:${port}"`);
      const refused = run(['scripts/user-add.ts', '--email', 'late@example.com', '--password', 'late-password-1'], env);
      expect(refused.code).not.toBe(0);
      expect(refused.out).toMatch(/in use by another process/);
      expect(refused.out).not.toMatch(/added/);
      expect(run(['scripts/migrate.ts'], env).code).not.toBe(0);
      // A second server on the same directory is refused too; the first one keeps answering.
      await expect(spawnServer({ ...env, OUTBOX_INTERVAL_MS: '0' })).rejects.toThrow(/in use by another process/);
      const users = await got(`${server.url}/admin/users`, { username: 'admin@example.com', password: 'admin-password-1' }).json<{ users: { email: string }[] }>();
      expect(users.users.map((u) => u.email)).toEqual(['admin@example.com']);

      await server.kill(); // a crash leaves its lock behind: the next process takes it over at once
      const added = run(['scripts/user-add.ts', '--email', 'late@example.com', '--password', 'late-password-1'], env);
      expect(added).toMatchObject({ code: 0, out: expect.stringContaining('added late@example.com') });
      server = await spawnServer({ ...env, OUTBOX_INTERVAL_MS: '0' });
      const after = await got(`${server.url}/admin/users`, { username: 'admin@example.com', password: 'admin-password-1' }).json<{ users: { email: string }[] }>();
      expect(after.users.map((u) => u.email).sort()).toEqual(['admin@example.com', 'late@example.com']);
      expect((await got(`${server.url}/invoices/test`, { username: 'late@example.com', password: 'late-password-1' })).statusCode).toBe(200);
    } finally {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 300_000);
});
