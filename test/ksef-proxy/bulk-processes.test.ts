import { jest } from '@jest/globals';
import got from 'got';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.js';
import type { RunningSandbox } from '../../src/sandbox/index.js';
import { openModeToken, withNumber } from '../support/ksef.js';
import type { ServerProcess } from '../support/process.js';
import { COMPANY_NIP, adminAuth } from '../support/server.js';
import { readSample } from '../support/shared.js';
import { describeMultiProcess, type MultiProcessStack, startMultiProcessStack, until } from '../support/multi-process.js';

/**
 * A bulk send survives a server process killed (SIGKILL) between the part upload and the close of its
 * batch session: the next process closes the session KSeF still holds open, and every invoice is numbered
 * once - no second session, no invoice twice.
 */
jest.setTimeout(180_000);

describeMultiProcess('bulk send across a crash', () => {
  let stack: MultiProcessStack;
  let sandbox: RunningSandbox;
  let db: Kysely<Database>;
  const call = (p: ServerProcess, method: 'GET' | 'POST' | 'PUT', url: string, json?: object) =>
    got(`${p.url}${url}`, { method, json, headers: { Authorization: adminAuth }, throwHttpErrors: false, responseType: 'json', timeout: { request: 120_000 } });

  beforeAll(async () => {
    stack = await startMultiProcessStack({ KSEF_MAX_ATTEMPTS: '30', OUTBOX_INTERVAL_MS: '200', OUTBOX_LEASE_MS: '3000' });
    ({ sandbox, db } = stack);
  });
  afterAll(() => stack?.close());

  it('a process killed after uploading the parts and before KSeF accepted the close: the next one closes it; each invoice numbered once', async () => {
    let p = await stack.start();
    expect((await call(p, 'PUT', '/ksef/test/credentials', { ksefToken: openModeToken(COMPANY_NIP) })).statusCode).toBe(200);
    // Every close is answered 503 (retried), so the process is certainly between upload and close when it dies.
    for (let n = 1; n <= 30; n++) await stack.admin('POST', '/sandbox/faults/fail-nth', { method: 'POST', pathPattern: '/v2/sessions/batch/{ref}/close', n, status: 503 });
    const xmls = Array.from({ length: 300 }, (_, i) => withNumber(readSample('fa3-vat.xml'), `CRASH/BULK/${i}`));
    const posted = await call(p, 'POST', '/invoices/test/batch', { invoices: xmls.map((x) => ({ invoiceXml: x.toString('base64') })) });
    expect(posted.statusCode).toBe(202);
    const batchId = (posted.body as { batchId: string }).batchId;

    const session = await until('the parts uploaded and a close attempted', async () =>
      [...sandbox.state.sessions.values()].find((s) => s.batch && s.batch.parts.every((part) => part.data)),
    );
    await new Promise((r) => setTimeout(r, 300));
    await p.kill();
    expect(session.status.code).toBe(100); // still open: KSeF never saw a successful close
    const claimed = await db.selectFrom('synced_invoices').select(['status', 'session_reference_number']).where('invoice_number', 'like', 'CRASH/BULK/%').execute();
    expect(claimed).toHaveLength(300);
    expect(claimed.every((r) => r.status === 'pending' && r.session_reference_number === session.referenceNumber)).toBe(true);
    await stack.admin('DELETE', '/sandbox/faults');

    p = await stack.start();
    const done = await until('the batch finished by the next process', async () => {
      const res = await call(p, 'GET', `/invoices/test/batch/${batchId}?pageSize=1000`);
      const body = res.body as { status: string; sentCount: number; referenceNumbers: string[]; invoices: { ksefNumber: string }[] };
      return body.status === 'completed' ? body : undefined;
    });
    expect(done.sentCount).toBe(300);
    expect(done.referenceNumbers).toEqual([session.referenceNumber]);
    // Exactly one batch session, each invoice in it once, numbered as our rows say.
    expect([...sandbox.state.sessions.values()].filter((s) => s.type === 'Batch')).toHaveLength(1);
    expect(session.invoices).toHaveLength(300);
    const rows = await db.selectFrom('synced_invoices').select(['invoice_number', 'ksef_number', 'status']).where('invoice_number', 'like', 'CRASH/BULK/%').execute();
    expect(new Set(rows.map((r) => r.ksef_number)).size).toBe(300);
    for (const r of rows) {
      const copies = [...sandbox.state.invoicesByKsefNumber.values()].filter((i) => i.facts?.invoiceNumber === r.invoice_number);
      expect(copies).toHaveLength(1);
      expect(copies[0].ksefNumber).toBe(r.ksef_number);
    }
    await p.stop();
  });

  it('two processes draining the same bulk queue never put an invoice in two sessions', async () => {
    const [a, b] = [await stack.start(), await stack.start()];
    const xmls = Array.from({ length: 400 }, (_, i) => withNumber(readSample('fa3-vat.xml'), `TWO/BULK/${i}`));
    const posts = await Promise.all([
      call(a, 'POST', '/invoices/test/batch', { invoices: xmls.slice(0, 250).map((x) => ({ invoiceXml: x.toString('base64') })) }),
      call(b, 'POST', '/invoices/test/batch', { invoices: xmls.slice(150).map((x) => ({ invoiceXml: x.toString('base64') })) }),
    ]);
    expect(posts.map((r) => r.statusCode)).toEqual([202, 202]);
    const rows = await until('all numbered', async () => {
      const r = await db.selectFrom('synced_invoices').select(['ksef_number', 'status', 'invoice_hash']).where('invoice_number', 'like', 'TWO/BULK/%').execute();
      return r.length === 400 && r.every((x) => x.status === 'sent') ? r : undefined;
    });
    expect(new Set(rows.map((r) => r.ksef_number)).size).toBe(400);
    for (const r of rows) expect(sandbox.state.invoicesByHash.get(r.invoice_hash)).toHaveLength(1);
    await Promise.all([a.stop(), b.stop()]);
  });
}, { needsShared: true });
