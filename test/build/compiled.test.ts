import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import got from 'got';
import { spawnServer } from '../support/process.js';
import { TEST_SECRETS_KEY } from '../support/server.js';

/** `make build` compiles to dist/, and production runs plain node on it: no TypeScript loader at run time. */
const root = path.join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

describe('the compiled build', () => {
  beforeAll(() => {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe' });
  }, 120_000);

  test('tsx is not a runtime dependency; npm start and the production scripts run dist/ with node', () => {
    expect(pkg.dependencies.tsx).toBeUndefined();
    expect(pkg.devDependencies.tsx).toBeDefined();
    for (const script of ['start', 'migrate', 'user:add', 'sandbox']) expect(pkg.scripts[script]).toMatch(/^node dist\//);
  });

  test('node dist/src/main.js serves the API, its contract and Swagger, as one plain node process', async () => {
    const server = await spawnServer(
      { PGLITE_MEMORY: '1', ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'admin-password-1', KSEF_SECRETS_KEY: TEST_SECRETS_KEY, OUTBOX_INTERVAL_MS: '0' },
      'compiled',
    );
    try {
      const status = await got(`${server.url}/status`).json<{ status: string; version: string }>();
      expect(status).toMatchObject({ status: 'ok', version: pkg.version });
      expect((await got(`${server.url}/openapi.json`).json<{ openapi: string }>()).openapi).toBe('3.0.3');
      expect((await got(`${server.url}/swagger`)).statusCode).toBe(200);
      expect((await got(`${server.url}/admin/users`, { username: 'admin@example.com', password: 'admin-password-1' })).statusCode).toBe(200);
      const cmdline = fs.readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      expect(cmdline.slice(1)).toEqual(['dist/src/main.js']);
      // No loader process in between: the server is the process itself (tsx ran it as a child, 50 MB more).
      expect(() => execFileSync('pgrep', ['-P', String(server.child.pid)])).toThrow();
    } finally {
      await server.stop();
    }
  });

  test('node dist/scripts/migrate.js migrates an embedded database', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fastksef-build-'));
    try {
      const out = execFileSync(process.execPath, ['dist/scripts/migrate.js'], { cwd: root, env: { ...process.env, NODE_OPTIONS: '', DATA_DIR: dataDir, DATABASE_URL: '' }, encoding: 'utf8' });
      expect(out).toMatch(/^applied: 0001_initial, /);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
