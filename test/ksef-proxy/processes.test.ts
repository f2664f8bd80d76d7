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
 * Several server processes on one PostgreSQL database, and processes killed mid-work: nothing lost,
 * nothing sent twice, one authentication. Needs a database that several processes share.
 */
jest.setTimeout(180_000);

describeMultiProcess('ksef-proxy across processes and crashes', () => {
  let stack: MultiProcessStack;
  let sandbox: RunningSandbox;
  let db: Kysely<Database>;
  const start = () => stack.start();
  const admin = (method: 'POST' | 'DELETE', path: string, json?: object) => stack.admin(method, path, json);
  const send = (p: ServerProcess, xml: Buffer) =>
    got.post(`${p.url}/invoices/test/send`, {
      json: { invoiceXml: xml.toString('base64'), mode: 'online' },
      headers: { Authorization: adminAuth },
      throwHttpErrors: false,
      responseType: 'json',
      timeout: { request: 60_000 },
    });
  const rows = (invoiceNumber: string) => db.selectFrom('synced_invoices').selectAll().where('invoice_number', '=', invoiceNumber).execute();
  const ksefCopies = (invoiceNumber: string) => [...sandbox.state.invoicesByKsefNumber.values()].filter((i) => i.facts?.invoiceNumber === invoiceNumber);

  beforeAll(async () => {
    stack = await startMultiProcessStack({ OUTBOX_INTERVAL_MS: '200', OUTBOX_LEASE_MS: '3000', SEND_WAIT_MS: '10000', LOG_LEVEL: 'debug' });
    ({ sandbox, db } = stack);
  });
  afterAll(() => stack?.close());

  let ksefToken: string;

  it('two processes send 200 invoices concurrently: 200 distinct KSeF numbers, no duplicates, one authentication', async () => {
    const a = await start();
    const b = await start();
    ksefToken = openModeToken(COMPANY_NIP);
    const put = await got.put(`${a.url}/ksef/test/credentials`, { json: { ksefToken }, headers: { Authorization: adminAuth }, responseType: 'json' });
    expect(put.statusCode).toBe(200);

    const base = readSample('fa3-vat.xml');
    const numbers = Array.from({ length: 200 }, (_, i) => `FV/PAR/${i + 1}`);
    const queue = [...numbers];
    const worker = async (p: ServerProcess) => {
      for (let n = queue.shift(); n; n = queue.shift()) {
        const res = await send(p, withNumber(base, n));
        expect({ n, status: res.statusCode }).toEqual({ n, status: 200 });
        expect(['sent', 'pending']).toContain((res.body as any).status);
      }
    };
    await Promise.all([...Array(8)].flatMap(() => [worker(a), worker(b)]));

    await until('all 200 numbered', async () => {
      const sent = await db.selectFrom('synced_invoices').select('ksef_number').where('status', '=', 'sent').where('invoice_number', 'like', 'FV/PAR/%').execute();
      return sent.length === 200 ? sent : undefined;
    });
    const all = await db.selectFrom('synced_invoices').select(['invoice_number', 'ksef_number', 'status']).where('invoice_number', 'like', 'FV/PAR/%').execute();
    expect(all).toHaveLength(200);
    expect(new Set(all.map((r) => r.ksef_number)).size).toBe(200);
    expect(sandbox.state.invoicesByKsefNumber.size).toBe(200);
    expect(sandbox.state.authOperations.size).toBe(1);
    // Both processes shared one online session.
    const sessions = await db.selectFrom('ksef_sessions').select('reference_number').execute();
    expect(sessions).toHaveLength(1);
    for (const p of [a, b]) {
      expect(p.output()).not.toContain(ksefToken.split('|')[2]);
      expect(p.output()).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    }
    await Promise.all([a.stop(), b.stop()]);
  });

  it('an invoice stored but not delivered when the process dies is delivered once after a restart', async () => {
    let p = await start();
    await admin('POST', '/sandbox/faults/outage', { mode: 'refuse' });
    const xml = withNumber(readSample('fa3-vat.xml'), 'FV/CRASH/1');
    const res = await send(p, xml);
    expect(res.statusCode).toBe(503);
    expect((await rows('FV/CRASH/1'))[0].status).toBe('queued');
    await p.kill();
    await admin('DELETE', '/sandbox/faults/outage');
    p = await start();
    const row = await until('delivery after restart', async () => {
      const [r] = await rows('FV/CRASH/1');
      return r.status === 'sent' ? r : undefined;
    });
    expect(ksefCopies('FV/CRASH/1')).toHaveLength(1);
    expect(ksefCopies('FV/CRASH/1')[0]).toMatchObject({ ksefNumber: row.ksef_number });
    await p.stop();
  });

  it('a process killed while KSeF holds its send: after a restart the invoice is recorded once, with the number KSeF gave it', async () => {
    let p = await start();
    // Warm up: the session is open, so the call in flight below is the invoice itself.
    expect((await send(p, withNumber(readSample('fa3-vat.xml'), 'FV/WARM/1'))).statusCode).toBe(200);
    await admin('POST', '/sandbox/faults/latency', { ms: 2_000 });
    const xml = withNumber(readSample('fa3-vat.xml'), 'FV/MIDSEND/1');
    const inFlight = send(p, xml).catch(() => undefined);
    await until('the send to be under way', async () => {
      const [r] = await rows('FV/MIDSEND/1');
      return r && r.attempts >= 1 ? r : undefined;
    });
    await new Promise((r) => setTimeout(r, 300));
    await p.kill();
    await inFlight;
    await new Promise((r) => setTimeout(r, 2_500));
    await admin('DELETE', '/sandbox/faults');
    p = await start();
    const row = await until('the invoice settled after restart', async () => {
      const [r] = await rows('FV/MIDSEND/1');
      return r.status === 'sent' ? r : undefined;
    });
    const copies = ksefCopies('FV/MIDSEND/1');
    expect(copies).toHaveLength(1);
    expect(row.ksef_number).toBe(copies[0].ksefNumber);
    expect(await rows('FV/MIDSEND/1')).toHaveLength(1);
    await p.stop();
  });
}, { needsShared: true });
