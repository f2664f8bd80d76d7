import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bootstrapIfEmpty } from '../../src/accounts/bootstrap';
import { verifyPassword } from '../../src/accounts/passwords';
import { migrateToLatest, openDatabase } from '../../src/db/connect';
import { createTestDatabase, type TestDatabase } from '../support/database';

const root = path.join(__dirname, '..', '..');
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
