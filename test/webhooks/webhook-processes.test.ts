import { jest } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import got from 'got';
import { type RunningSandbox, startSandbox } from '../../src/sandbox/index.js';
import { createTestDatabase, type TestDatabase, usingPostgres } from '../support/database.js';
import { openModeToken, withNumber } from '../support/ksef.js';
import { describeMultiProcess, type MultiProcessStack, startMultiProcessStack } from '../support/multi-process.js';
import { type ServerProcess, spawnServer } from '../support/process.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, COMPANY_NIP, TEST_SECRETS_KEY, adminAuth } from '../support/server.js';
import { describeWithShared, readSample } from '../support/shared.js';
import { eventually, signatureValid, WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Webhook delivery survives a crash: our server as an OS process (on an embedded data directory, or on
 * PostgreSQL with DATABASE_URL), killed with SIGKILL between a change and its delivery, and in the middle
 * of an attempt; and two processes on one PostgreSQL delivering together, each event once.
 */
jest.setTimeout(180_000);

const call = (p: ServerProcess, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, json?: object) =>
  got(`${p.url}${url}`, { method, json, headers: { Authorization: adminAuth }, throwHttpErrors: false, responseType: 'json', retry: { limit: 0 }, timeout: { request: 60_000 } });

const sendInvoice = (p: ServerProcess, invoiceNumber: string) =>
  call(p, 'POST', '/invoices/test/send', { invoiceXml: withNumber(readSample('fa3-vat.xml'), invoiceNumber).toString('base64'), mode: 'online' });

describeWithShared('webhook delivery across a crash', () => {
  let sandbox: RunningSandbox;
  let database: TestDatabase | undefined;
  let dataDir: string;
  let receiver: WebhookReceiver;
  const running: ServerProcess[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const p = await spawnServer({
      ...(database?.options.kind === 'postgres' ? { DATABASE_URL: database.options.url } : { DATABASE_URL: '', DATA_DIR: dataDir }),
      KSEF_TEST_URL: sandbox.apiUrl,
      KSEF_RATE_LIMITS: 'off',
      KSEF_SECRETS_KEY: TEST_SECRETS_KEY,
      OUTBOX_INTERVAL_MS: '200',
      WEBHOOK_INTERVAL_MS: '100',
      WEBHOOK_RETRY_BASE_MS: '100',
      ADMIN_EMAIL,
      ADMIN_PASSWORD,
      COMPANY_NIP,
      ...env,
    });
    running.push(p);
    return p;
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ faultsEnabled: true });
    if (usingPostgres) database = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fastksef-hooks-'));
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop().catch(() => {})));
    await receiver.close();
    await database?.drop();
    await sandbox.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  let secret: string;
  let subscriptionId: string;

  it('killed after the invoice is numbered and before any delivery attempt: delivered once after the restart', async () => {
    // The delivery worker off: the event can only be in the database when the process dies.
    let p = await start({ WEBHOOK_INTERVAL_MS: '0' });
    expect((await call(p, 'PUT', '/ksef/test/credentials', { ksefToken: openModeToken(COMPANY_NIP) })).statusCode).toBe(200);
    const created = await call(p, 'POST', '/webhooks', { url: receiver.url, events: ['invoice.sent'] });
    expect(created.statusCode).toBe(201);
    ({ secret, id: subscriptionId } = created.body as { secret: string; id: string });
    const sent = await sendInvoice(p, 'CRASH/HOOK/1');
    expect(sent.statusCode).toBe(200);
    expect((sent.body as { status: string }).status).toBe('sent');
    expect((await call(p, 'GET', `/webhooks/${subscriptionId}/deliveries`)).body).toEqual({ deliveries: [] });
    await p.kill();
    expect(receiver.requests).toEqual([]);

    p = await start();
    const [request] = await eventually('the delivery after the restart', () => receiver.requests.length > 0 && receiver.requests, 60_000);
    expect(signatureValid(secret, request)).toBe(true);
    expect(request.event).toMatchObject({ type: 'invoice.sent', environment: 'test', data: { invoiceNumber: 'CRASH/HOOK/1', ksefNumber: (sent.body as { ksefNumber: string }).ksefNumber } });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receiver.requests).toHaveLength(1);
    const { deliveries } = (await call(p, 'GET', `/webhooks/${subscriptionId}/deliveries`)).body as { deliveries: any[] };
    expect(deliveries).toMatchObject([{ eventId: request.event.id, attempt: 1, statusCode: 200, succeeded: true, deliveryStatus: 'delivered' }]);
    await p.stop();
  });

  it('killed while an attempt waits for the receiver: made again, with the same event, once the lease of the dead process ends', async () => {
    receiver.requests.length = 0;
    receiver.answer = (_req, index) => (index === 0 ? 'hang' : { status: 200 });
    let p = await start();
    expect((await sendInvoice(p, 'CRASH/HOOK/2')).statusCode).toBe(200);
    await eventually('the attempt under way', () => receiver.requests.length === 1);
    await p.kill();
    const killedAt = Date.now();
    p = await start();
    const [, again] = await eventually('the attempt made again', () => receiver.requests.length === 2 && receiver.requests, 60_000);
    // The lease (6 × the 5 s attempt timeout) kept the new process off it until then.
    expect(again.at - receiver.requests[0].at).toBeGreaterThanOrEqual(25_000);
    expect(again.at - killedAt).toBeLessThan(45_000);
    expect(again.event.id).toBe(receiver.requests[0].event.id);
    expect(again.event.data.invoiceNumber).toBe('CRASH/HOOK/2');
    expect(signatureValid(secret, again)).toBe(true);
    const { deliveries } = (await call(p, 'GET', `/webhooks/${subscriptionId}/deliveries?limit=1`)).body as { deliveries: any[] };
    // The dead process never recorded its attempt: the list has the second one only.
    expect(deliveries).toMatchObject([{ eventId: again.event.id, attempt: 2, statusCode: 200, deliveryStatus: 'delivered' }]);
    await p.stop();
  });
});

describeMultiProcess(
  'webhook delivery by two processes on one PostgreSQL',
  () => {
    let stack: MultiProcessStack;
    let receiver: WebhookReceiver;

    beforeAll(async () => {
      stack = await startMultiProcessStack({ OUTBOX_INTERVAL_MS: '200', WEBHOOK_INTERVAL_MS: '20', WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_CONCURRENCY: '4' });
      receiver = await WebhookReceiver.start();
    });
    afterAll(async () => {
      await stack?.close();
      await receiver?.close();
    });

    it('60 events, every other attempt failing: each delivered exactly once, none attempted by both at once', async () => {
      const a = await stack.start();
      const b = await stack.start();
      expect((await call(a, 'PUT', '/ksef/test/credentials', { ksefToken: openModeToken(COMPANY_NIP) })).statusCode).toBe(200);
      const created = await call(a, 'POST', '/webhooks', { url: receiver.url, events: ['invoice.sent'] });
      const { secret } = created.body as { secret: string };
      const seen = new Map<string, number>();
      receiver.answer = (req) => {
        const n = (seen.get(req.event.id) ?? 0) + 1;
        seen.set(req.event.id, n);
        return { status: n === 1 ? 503 : 200 };
      };
      const numbers = Array.from({ length: 60 }, (_, i) => `PAR/HOOK/${i}`);
      for (let i = 0; i < numbers.length; i += 6) {
        await Promise.all(numbers.slice(i, i + 6).map((n, j) => sendInvoice(j % 2 === 0 ? a : b, n).then((res) => expect(res.statusCode).toBe(200))));
      }
      await eventually('every event delivered', () => receiver.requests.filter((q) => q.answered === 200).length >= 60, 90_000);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const delivered = receiver.requests.filter((q) => q.answered === 200);
      expect(delivered).toHaveLength(60);
      expect(new Set(delivered.map((q) => q.event.data.invoiceNumber))).toEqual(new Set(numbers));
      // Each event: one failed attempt, then one delivery (two processes attempting one at once would show more).
      for (const [id, count] of seen) expect({ id, count }).toEqual({ id, count: 2 });
      expect(receiver.requests.every((q) => signatureValid(secret, q))).toBe(true);
      const attempts = await stack.db.selectFrom('webhook_attempts').select(['delivery_id', 'attempt']).execute();
      expect(attempts).toHaveLength(120);
      expect(new Set(attempts.map((x) => `${x.delivery_id}:${x.attempt}`)).size).toBe(120);
      await Promise.all([a.stop(), b.stop()]);
    });
  },
  { needsShared: true },
);
