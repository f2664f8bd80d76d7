import { execFile, execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from '../support/server.js';

const root = path.join(import.meta.dirname, '..', '..');
/** A project outside the repository: it sees the SDK only through the tarball it installs. */
const consumer = fs.mkdtempSync(path.join(os.tmpdir(), 'fast-ksef-sdk-consumer-'));
/** Asynchronous: the test server answering the consumer runs in this very process. */
const run = promisify(execFile);
const npm = (args: string[], cwd: string) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });

/** What the other project runs with node: every call's status and the bits of the bodies the test checks. */
const consumerScript = `
const { createFastKsefClient } = require('fast-ksef-sdk');
const [baseUrl, email, password] = process.argv.slice(2);
(async () => {
  const api = createFastKsefClient({ baseUrl, email, password });
  const status = await api.GET('/status');
  const created = await api.POST('/admin/users', { body: { email: 'sdk@example.com', password: 'sdk-password-1', role: 'technical' } });
  const list = await api.GET('/admin/users');
  const bad = await api.GET('/ksef/{environment}/connection', { params: { path: { environment: 'nowhere' } } });
  const anonymous = await createFastKsefClient({ baseUrl }).GET('/admin/users');
  console.log(JSON.stringify({
    status: [status.response.status, status.data.database.status],
    created: [created.response.status, created.data.email],
    users: list.data.users.map((u) => u.email),
    bad: [bad.response.status, bad.error.error.code],
    anonymous: anonymous.response.status,
  }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** Compiled against the installed declarations only: the paths, bodies and error shape are typed. */
const consumerTypes = `
import { createFastKsefClient, type components } from 'fast-ksef-sdk';
export async function check(baseUrl: string): Promise<string | undefined> {
  const api = createFastKsefClient({ baseUrl, email: 'a@example.com', password: 'p' });
  const { error } = await api.GET('/ksef/{environment}/connection', { params: { path: { environment: 'test' } } });
  const code: string | undefined = error?.error.code;
  const user: components['schemas']['User'] | undefined = (await api.GET('/admin/users')).data?.users[0];
  // @ts-expect-error: not a path of the contract
  await api.GET('/no/such/path');
  return code ?? user?.email;
}
`;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  execFileSync(process.execPath, [require.resolve('tsx/cli'), 'scripts/sdk.ts'], { cwd: root, stdio: 'pipe', env: { ...process.env, NODE_OPTIONS: '' } });
  const tarball = npm(['pack', '--pack-destination', consumer], path.join(root, 'sdk')).trim().split('\n').pop()!;
  fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'sdk-consumer', version: '1.0.0', private: true }));
  npm(['install', '--prefer-offline', path.join(consumer, tarball)], consumer);
}, 180_000);
afterAll(async () => {
  await t.close();
  fs.rmSync(consumer, { recursive: true, force: true });
});
afterEach(() => expect(t.conformance.violations).toEqual([]));

describe('the SDK package built by make sdk', () => {
  test('is a package of compiled JS and declarations with openapi-fetch as its dependency', () => {
    const installed = path.join(consumer, 'node_modules', 'fast-ksef-sdk');
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
    const rootManifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'fast-ksef-sdk', version: rootManifest.version, main: 'dist/index.js', types: 'dist/index.d.ts' });
    expect(Object.keys(manifest.dependencies)).toEqual(['openapi-fetch']);
    expect(fs.existsSync(path.join(installed, 'dist', 'index.js'))).toBe(true);
    expect(fs.existsSync(path.join(installed, 'dist', 'index.d.ts'))).toBe(true);
    expect(fs.existsSync(path.join(installed, 'src'))).toBe(false);
    expect(fs.existsSync(path.join(consumer, 'node_modules', 'openapi-fetch'))).toBe(true);
  });

  test('installed in another project, drives the running server: status, users, a typed error', async () => {
    fs.writeFileSync(path.join(consumer, 'drive.js'), consumerScript);
    const { stdout } = await run(process.execPath, ['drive.js', t.url, ADMIN_EMAIL, ADMIN_PASSWORD], { cwd: consumer, timeout: 30_000, env: { ...process.env, NODE_OPTIONS: '' } });
    const result = JSON.parse(stdout);
    expect(result).toEqual({
      status: [200, 'up'],
      created: [201, 'sdk@example.com'],
      users: expect.arrayContaining([ADMIN_EMAIL, 'sdk@example.com']),
      bad: [400, 'validation_failed'],
      anonymous: 401,
    });
  });

  test("its declarations type the other project's code", () => {
    fs.writeFileSync(path.join(consumer, 'typed.ts'), consumerTypes);
    const tsc = require.resolve('typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--lib', 'es2022,dom', 'typed.ts'];
    const compiled = spawnSync(process.execPath, [tsc, ...args], { cwd: consumer, encoding: 'utf8' });
    expect({ status: compiled.status, output: compiled.stdout }).toEqual({ status: 0, output: '' });
  });
});
