import got from 'got';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema';
import { openModeToken } from '../support/ksef';
import type { ServerProcess } from '../support/process';
import { COMPANY_NIP, adminAuth } from '../support/server';
import { fa3, OTHER_NIP, OUR_NIP, type SeedInvoice } from '../support/sync-fixtures';
import { describeMultiProcess, type MultiProcessStack, startMultiProcessStack, until } from '../support/multi-process';

/** The sync across processes: a process killed mid-sync, and two processes asked to sync at once. PostgreSQL only. */
jest.setTimeout(180_000);

const DAY = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

describeMultiProcess('sync across processes and crashes', () => {
  let stack: MultiProcessStack;
  let db: Kysely<Database>;
  const start = () => stack.start();
  const admin = (method: 'POST' | 'DELETE', path: string, json?: object) => stack.admin(method, path, json);
  const sync = (p: ServerProcess) =>
    got.post(`${p.url}/invoices/test/sync`, { headers: { Authorization: adminAuth }, throwHttpErrors: false, responseType: 'json', timeout: { request: 120_000 } });
  const seed = async (prefix: string, count: number) => {
    const invoices: SeedInvoice[] = [];
    for (let i = 0; i < count; i++) {
      const issued = i % 3 === 0;
      invoices.push({ xml: fa3({ seller: issued ? OUR_NIP : OTHER_NIP, buyer: issued ? OTHER_NIP : OUR_NIP, number: `${prefix}/${i}`, issueDate: DAY, net: 10, vat: 2.3 }) });
    }
    for (let i = 0; i < invoices.length; i += 500) await admin('POST', '/sandbox/invoices', { invoices: invoices.slice(i, i + 500) });
  };
  const rowCount = async () => Number((await db.selectFrom('synced_invoices').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    stack = await startMultiProcessStack({ OUTBOX_INTERVAL_MS: '0' });
    ({ db } = stack);
  });
  afterAll(() => stack?.close());

  it('a process killed mid-sync: the next sync completes with nothing lost and nothing doubled', async () => {
    const a = await start();
    const put = await got.put(`${a.url}/ksef/test/credentials`, { json: { ksefToken: openModeToken(COMPANY_NIP) }, headers: { Authorization: adminAuth }, responseType: 'json' });
    expect(put.statusCode).toBe(200);
    await seed('CRASH', 1500);
    await admin('POST', '/sandbox/faults/latency', { ms: 100 });
    const pending = sync(a).catch(() => undefined);
    await until('a part of the sync stored', async () => ((await rowCount()) >= 250 ? true : undefined));
    await a.kill();
    await pending;
    await admin('DELETE', '/sandbox/faults');
    const partial = await rowCount();
    expect(partial).toBeGreaterThanOrEqual(250);
    expect(partial).toBeLessThan(1500);

    const b = await start();
    const res = await sync(b);
    expect(res.statusCode).toBe(200);
    expect(await rowCount()).toBe(1500);
    const numbers = await db.selectFrom('synced_invoices').select('ksef_number').execute();
    expect(new Set(numbers.map((r) => r.ksef_number)).size).toBe(1500);
    // The counters advanced with the rows: exactly once per invoice across the crash.
    const meta = await db.selectFrom('invoice_sync_meta').select(['subject_type', 'invoice_count', 'last_error']).orderBy('subject_type').execute();
    expect(meta.map((m) => [m.subject_type, m.invoice_count, m.last_error])).toEqual([
      ['Subject1', 500, null],
      ['Subject2', 1000, null],
    ]);
    await b.stop();
  });

  it('two processes syncing at once: one runs, the other answers 409 sync_running', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    await seed('PAR', 300);
    await admin('POST', '/sandbox/faults/latency', { ms: 20 });
    const first = sync(a);
    await until('the sync running', async () => {
      const st = await got(`${b.url}/invoices/test/sync`, { headers: { Authorization: adminAuth }, responseType: 'json' });
      return (st.body as any).running ? true : undefined;
    });
    const second = await sync(b);
    expect(second.statusCode).toBe(409);
    expect((second.body as any).error.code).toBe('sync_running');
    const done = await first;
    await admin('DELETE', '/sandbox/faults');
    expect(done.statusCode).toBe(200);
    expect((done.body as any).inserted).toBe(300);
    expect(await rowCount()).toBe(1800);
    // Once the first is done, the other process may sync again (nothing new).
    const again = await sync(b);
    expect(again.statusCode).toBe(200);
    expect((again.body as any).inserted).toBe(0);
  });
});
