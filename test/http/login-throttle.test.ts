import supertest from 'supertest';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { startServer } from '../../src/server.js';
import { usingPostgres } from '../support/database.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, adminAuth, basic, COMPANY_NIP, startTestServer, TEST_SECRETS_KEY, type TestServer } from '../support/server.js';

/** Failed Basic credentials are throttled per email and client address (TRUST_PROXY lets a test choose the address). */
describe('login throttling', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { TRUST_PROXY: 'true', OUTBOX_INTERVAL_MS: '0' } });
    const { id } = await t.server.services.database.db.selectFrom('companies').select('id').executeTakeFirstOrThrow();
    await t.server.services.users.create(id, { email: 'erp@example.com', password: 'erp-password-1', role: 'technical' });
    await t.server.services.users.create(id, { email: 'shop@example.com', password: 'shop-password-1', role: 'technical' });
  });
  afterAll(() => t.close());

  const as = (auth: string, address: string) => t.http.get('/invoices/test').set('Authorization', auth).set('X-Forwarded-For', address);

  test('after 3 failures in a row the next ones are refused with 429 and Retry-After, growing, without hashing', async () => {
    const wrong = basic('erp@example.com', 'wrong-password');
    for (let i = 0; i < 3; i++) expect((await as(wrong, '203.0.113.1')).status).toBe(401);
    const fourth = await as(wrong, '203.0.113.1');
    expect(fourth.status).toBe(401); // the fourth is checked, and starts the back-off
    const held = await as(wrong, '203.0.113.1');
    expect(held.status).toBe(429);
    expect(held.body.error).toMatchObject({ code: 'too_many_failed_logins', message: expect.stringContaining('this email from your address') });
    expect(Number(held.headers['retry-after'])).toBe(2);
    // Even the right password waits out the back-off from that address; another address is not held back.
    expect((await as(basic('erp@example.com', 'erp-password-1'), '203.0.113.1')).status).toBe(429);
    expect((await as(basic('erp@example.com', 'erp-password-1'), '203.0.113.2')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2_100));
    expect((await as(wrong, '203.0.113.1')).status).toBe(401);
    const longer = await as(wrong, '203.0.113.1');
    expect(longer.status).toBe(429);
    expect(Number(longer.headers['retry-after'])).toBe(4);
  });

  test('a success clears the back-off of its email and address', async () => {
    const wrong = basic('shop@example.com', 'wrong-password');
    for (let i = 0; i < 3; i++) expect((await as(wrong, '198.51.100.7')).status).toBe(401);
    expect((await as(basic('shop@example.com', 'shop-password-1'), '198.51.100.7')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await as(wrong, '198.51.100.7')).status).toBe(401);
    const rows = await t.server.services.database.db.selectFrom('login_throttle').select('key').where('key', 'like', '%shop@example.com|198.51.100.7').execute();
    expect(rows.map((r) => r.key)).toEqual(['pair:shop@example.com|198.51.100.7']);
  });

  test('a flood of 200 wrong passwords at concurrency 20: nearly all refused before hashing; a signed-in caller is never held back', async () => {
    // The admin signs in once: its credential is remembered.
    expect((await as(adminAuth, '192.0.2.50')).status).toBe(200);
    const wrong = basic(ADMIN_EMAIL, 'wrong-password');
    const statuses: number[] = [];
    let next = 0;
    const started = process.cpuUsage();
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < 200) {
          next++;
          statuses.push((await as(wrong, '192.0.2.66')).status);
        }
      }),
    );
    const cpu = process.cpuUsage(started);
    const hashed = statuses.filter((s) => s === 401).length;
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    expect(hashed).toBeLessThanOrEqual(40);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(160);
    // ≈110 ms of scrypt each before: 200 of them were 22 s of CPU.
    expect((cpu.user + cpu.system) / 1e6).toBeLessThan(10);
    // The remembered admin passes at once, even from the flooding address; the email is locked for others.
    expect((await as(adminAuth, '192.0.2.66')).status).toBe(200);
    expect((await as(adminAuth, '192.0.2.50')).status).toBe(200);
    const locked = await as(basic(ADMIN_EMAIL, ADMIN_PASSWORD + 'x'), '192.0.2.99');
    expect(locked.status).toBe(429);
    expect(locked.body.error.message).toContain('for this email');
  });

  test('an address failing for many emails is locked for all of them', async () => {
    const { id } = await t.server.services.database.db.selectFrom('companies').select('id').executeTakeFirstOrThrow();
    await t.server.services.users.create(id, { email: 'fresh@example.com', password: 'fresh-password-1', role: 'technical' });
    for (let i = 0; i < 49; i++) expect((await as(basic(`nobody${i}@example.com`, 'wrong-password'), '203.0.113.200')).status).toBe(401);
    expect((await as(basic('fresh@example.com', 'fresh-password-1'), '203.0.113.200')).status).toBe(200);
    expect((await as(basic('nobody49@example.com', 'wrong-password'), '203.0.113.200')).status).toBe(401); // the 50th
    const res = await as(basic('fresh@example.com', 'fresh-password-1' + 'x'), '203.0.113.200');
    expect(res.status).toBe(429);
    expect(res.body.error.message).toContain('your address');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(800);
  });

  const acrossProcesses = 'processes on one database count together';
  if (!usingPostgres) test.skip(`${acrossProcesses} — skipped: needs PostgreSQL (DATABASE_URL); CI runs it in its PostgreSQL pass`, () => {});
  else test(acrossProcesses, async () => {
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', KSEF_SECRETS_KEY: TEST_SECRETS_KEY, COMPANY_NIP, TRUST_PROXY: 'true', OUTBOX_INTERVAL_MS: '0' });
    const second = await startServer({ config, logger: silentLogger, database: t.database.options });
    try {
      const wrong = basic('erp@example.com', 'another-wrong-password');
      for (let i = 0; i < 4; i++) expect((await as(wrong, '203.0.113.77')).status).toBe(401);
      const res = await supertest(second.url).get('/invoices/test').set('Authorization', wrong).set('X-Forwarded-For', '203.0.113.77');
      expect(res.status).toBe(429);
    } finally {
      await second.close();
    }
  });
});
