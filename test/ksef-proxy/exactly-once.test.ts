import { jest } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import got from 'got';
import { type RunningSandbox, startSandbox } from '../../src/sandbox/index.js';
import { createTestDatabase, type TestDatabase, usingPostgres } from '../support/database.js';
import { openModeToken, withNumber } from '../support/ksef.js';
import { spawnServer, type ServerProcess } from '../support/process.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, adminAuth, COMPANY_NIP, TEST_SECRETS_KEY } from '../support/server.js';
import { describeWithShared, readSample } from '../support/shared.js';

/**
 * Exactly-once on our side, not by KSeF's duplicate check: a server is killed (SIGKILL) while KSeF has taken
 * 16 invoices but its answers have not arrived (the sandbox holds them back); the next process asks the
 * session before sending anything again. Checked against the sandbox's own session lists: every invoice
 * submitted once, none refused as a duplicate (440). On PGlite one process restarts on the same data
 * directory; on PostgreSQL two processes take over.
 */
jest.setTimeout(400_000);

describeWithShared(`exactly-once across a crash (${usingPostgres ? 'PostgreSQL, two processes take over' : 'PGlite, a restart'})`, () => {
  let sandbox: RunningSandbox;
  let testDb: TestDatabase | null = null;
  let dataDir: string | null = null;
  const running: ServerProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    sandbox = await startSandbox({ faultsEnabled: true });
    if (usingPostgres) testDb = await createTestDatabase();
    else dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fastksef-once-'));
    env = {
      ...(testDb && testDb.options.kind === 'postgres' ? { DATABASE_URL: testDb.options.url } : { DATABASE_URL: '', DATA_DIR: dataDir! }),
      KSEF_TEST_URL: sandbox.apiUrl,
      KSEF_RATE_LIMITS: 'off',
      KSEF_SECRETS_KEY: TEST_SECRETS_KEY,
      KSEF_TIMEOUT_MS: '20000',
      OUTBOX_INTERVAL_MS: '200',
      OUTBOX_LEASE_MS: '2000',
      SEND_WAIT_MS: '10000',
      ADMIN_EMAIL,
      ADMIN_PASSWORD,
      COMPANY_NIP,
    };
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop().catch(() => {})));
    await testDb?.drop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    await sandbox.close();
  });

  const start = async () => {
    const p = await spawnServer(env);
    running.push(p);
    return p;
  };
  const numbers = Array.from({ length: 16 }, (_, i) => `FV/ONCE/${i + 1}`);
  /** Every submission the sandbox received for our invoices, across all its sessions. */
  const submissions = (wanted = numbers) =>
    [...sandbox.state.sessions.values()].flatMap((s) => s.invoices).filter((i) => wanted.includes(i.facts?.invoiceNumber ?? i.invoiceNumber ?? ''));
  const until = async (what: string, probe: () => Promise<boolean> | boolean, ms = 60_000) => {
    for (const deadline = Date.now() + ms; !(await probe()); ) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('16 sends in flight, KSeF has them, the server dies before hearing back: each invoice numbered once, none submitted twice', async () => {
    const first = await start();
    const put = await got.put(`${first.url}/ksef/test/credentials`, { json: { ksefToken: openModeToken(COMPANY_NIP) }, headers: { Authorization: adminAuth }, throwHttpErrors: false });
    expect(put.statusCode).toBe(200);
    await got.post(`${sandbox.url}/sandbox/faults/answer-delay`, { json: { method: 'POST', pathPattern: '/v2/sessions/online/{ref}/invoices', ms: 60_000 } });

    const base = readSample('fa3-vat.xml');
    const inFlight = numbers.map((n) =>
      got
        .post(`${first.url}/invoices/test/send`, { json: { invoiceXml: withNumber(base, n).toString('base64'), mode: 'online' }, headers: { Authorization: adminAuth }, throwHttpErrors: false, retry: { limit: 0 } })
        .catch(() => null),
    );
    await until('KSeF to take all 16', () => submissions().length === numbers.length);
    await first.kill(); // KSeF took all 16; not one answer reached our server
    await Promise.all(inFlight);
    await got.delete(`${sandbox.url}/sandbox/faults`);

    const takers = usingPostgres ? [await start(), await start()] : [await start()];
    let sent: { invoiceNumber: string; ksefNumber: string | null; status: string }[] = [];
    for (let i = 0; ; i++) {
      const page = await got(`${takers[0].url}/invoices/test?direction=issued&pageSize=100`, { headers: { Authorization: adminAuth } }).json<{ invoices: typeof sent }>();
      sent = page.invoices.filter((r) => numbers.includes(r.invoiceNumber));
      if (sent.length === numbers.length && sent.every((r) => r.status === 'sent')) break;
      if (i > 600) throw new Error(`not all sent: ${JSON.stringify(sent.map((r) => r.status))}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const received = submissions();
    expect(received).toHaveLength(numbers.length); // each submitted exactly once
    expect(received.filter((i) => i.status.code === 440)).toEqual([]);
    expect(new Set(received.map((i) => i.invoiceHash)).size).toBe(numbers.length);
    const byNumber = new Map(received.map((i) => [i.facts!.invoiceNumber, i.ksefNumber]));
    for (const row of sent) expect(row.ksefNumber).toBe(byNumber.get(row.invoiceNumber));
    expect(new Set(sent.map((r) => r.ksefNumber)).size).toBe(numbers.length);
  });

  it('SIGTERM gives back the leases of what a process did not finish: another one takes it over at once, and asks KSeF first', async () => {
    const leaseMs = 120_000;
    await Promise.all(running.splice(0).map((p) => p.stop())); // the embedded database serves one process at a time
    const holder = await spawnServer({ ...env, OUTBOX_LEASE_MS: String(leaseMs), SHUTDOWN_TIMEOUT_MS: '1000' });
    running.push(holder);
    await got.post(`${sandbox.url}/sandbox/faults/answer-delay`, { json: { method: 'POST', pathPattern: '/v2/sessions/online/{ref}/invoices', ms: 60_000 } });
    const n = 'FV/ONCE/TERM';
    const inFlight = got
      .post(`${holder.url}/invoices/test/send`, { json: { invoiceXml: withNumber(readSample('fa3-vat.xml'), n).toString('base64'), mode: 'online' }, headers: { Authorization: adminAuth }, throwHttpErrors: false, retry: { limit: 0 } })
      .catch(() => null);
    await until('KSeF to take the invoice', () => submissions([n]).length === 1);
    await holder.stop(); // SIGTERM while the answer is still on its way: the lease is given back
    await inFlight;
    await got.delete(`${sandbox.url}/sandbox/faults`);
    const taker = await start();
    const started = Date.now();
    await until('the invoice to be taken over and recorded sent', async () => {
      const page = await got(`${taker.url}/invoices/test?direction=issued&pageSize=100`, { headers: { Authorization: adminAuth } }).json<{ invoices: { invoiceNumber: string; status: string }[] }>();
      return page.invoices.find((r) => r.invoiceNumber === n)?.status === 'sent';
    });
    expect(Date.now() - started).toBeLessThan(leaseMs / 4);
    expect(submissions([n])).toHaveLength(1);
  });
});
