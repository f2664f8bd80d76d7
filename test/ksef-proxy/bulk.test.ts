import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Users } from '../../src/accounts/users.js';
import { adminAuth, basic } from '../support/server.js';
import { startKsefStack, upoValidates, withNumber, type KsefStack } from '../support/ksef.js';
import { describeWithShared, readSample } from '../support/shared.js';
import { waitFor as waitUntil } from '../support/wait.js';

/**
 * Bulk sending through KSeF batch sessions, and an online backlog drained by batch, end to end: our API →
 * ksef-proxy → the KSeF sandbox, both under KSeF's published rate limits.
 */
// A safety net, not a speed goal (bench/bulk measures that): thousands of invoices on a loaded CI machine.
jest.setTimeout(300_000);

const b64 = (b: Buffer) => b.toString('base64');
const OTHER_NIP = '1234563218';

describeWithShared('bulk sending through batch sessions', () => {
  let k: KsefStack;
  const db = () => k.api.server.services.database.db;
  const ksef = () => k.api.server.services.ksef;
  const http = () => k.api.http;
  const postBatch = (invoices: unknown[]) => http().post('/invoices/test/batch').set('Authorization', adminAuth).send({ invoices });
  const getBatch = (id: string, query = '', auth = adminAuth) => http().get(`/invoices/test/batch/${id}${query}`).set('Authorization', auth);
  const waitFor = <T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 90_000) => waitUntil(what, probe, ms, 250);
  const completed = (id: string) =>
    waitFor(`batch ${id} completed`, async () => {
      const res = await getBatch(id);
      return res.body.status === 'completed' ? res.body : undefined;
    });
  /** How often the sandbox received each file (every session, online and batch). */
  const receivedCopies = (xml: Buffer) => {
    const hash = createHash('sha256').update(xml).digest('base64');
    return [...k.sandbox.state.sessions.values()].flatMap((s) => s.invoices).filter((i) => i.invoiceHash === hash);
  };
  const sample = readSample('fa3-vat.xml');

  beforeAll(async () => {
    k = await startKsefStack({
      sandbox: { rateLimits: 'published' },
      env: { KSEF_RATE_LIMITS: 'published', KSEF_MAX_ATTEMPTS: '2', OUTBOX_INTERVAL_MS: '200' },
    });
  });
  afterAll(() => k.close());
  afterEach(() => {
    expect(k.api.conformance.violations).toEqual([]);
    k.api.conformance.violations.length = 0;
  });

  it('2,000 invoices, 20 invalid: 202 with the 20 rejected by index, 1,980 in the register before sending, then each numbered exactly once', async () => {
    const invalid = new Set(Array.from({ length: 20 }, (_, i) => i * 100 + 7));
    const xmls = Array.from({ length: 2000 }, (_, i) => {
      const xml = withNumber(sample, `BULK/${i}`);
      if (!invalid.has(i)) return xml;
      // Half of them a foreign seller (KSeF would refuse it), half not FA(3) at all.
      return i % 200 === 7 ? Buffer.from(xml.toString('utf8').replace(/<NIP>5265877635<\/NIP>/, `<NIP>${OTHER_NIP}</NIP>`)) : Buffer.from('<Faktura>nie</Faktura>');
    });
    // Held back until the register was read, so that "before anything is sent" is what the assertion sees.
    await ksef().batchOutbox.stop();
    const res = await postBatch(xmls.map((x) => ({ invoiceXml: b64(x) })));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'processing', totalCount: 2000, acceptedCount: 1980 });
    expect(res.body.rejected.map((r: { index: number }) => r.index)).toEqual([...invalid]);
    for (const r of res.body.rejected) {
      expect(r.errors.length).toBeGreaterThan(0);
      for (const e of r.errors) expect(e.path.startsWith(`body.invoices[${r.index}].invoiceXml`)).toBe(true);
    }
    expect(res.body.rejected.find((r: { index: number }) => r.index === 7).errors[0].path).toBe('body.invoices[7].invoiceXml/Faktura/Podmiot1/DaneIdentyfikacyjne/NIP');

    const register = await http().get('/invoices/test?direction=issued&status=queued&pageSize=500').set('Authorization', adminAuth);
    expect(register.status).toBe(200);
    expect(register.body.totalCount).toBe(1980);
    expect(k.sandbox.state.invoicesByHash.size).toBe(0);
    const before = await getBatch(res.body.batchId);
    expect(before.body).toMatchObject({ status: 'processing', sentCount: 0, failedCount: 0, referenceNumbers: [] });
    ksef().batchOutbox.start();

    const done = await completed(res.body.batchId);
    expect(done).toMatchObject({ totalCount: 2000, acceptedCount: 1980, sentCount: 1980, failedCount: 0 });
    expect(done.referenceNumbers.length).toBeGreaterThanOrEqual(1);
    for (const ref of done.referenceNumbers) expect(k.sandbox.state.sessions.get(ref)?.type).toBe('Batch');

    const rows = await db().selectFrom('synced_invoices').selectAll().where('invoice_number', 'like', 'BULK/%').execute();
    expect(rows).toHaveLength(1980);
    expect(rows.every((r) => r.status === 'sent' && r.transport === 'batch' && done.referenceNumbers.includes(r.session_reference_number))).toBe(true);
    expect(new Set(rows.map((r) => r.ksef_number)).size).toBe(1980);
    expect(new Set(rows.map((r) => r.invoice_hash)).size).toBe(1980);
    // The sandbox received each file once, and numbered what we recorded.
    for (const [i, xml] of xmls.entries()) {
      if (invalid.has(i)) continue;
      const copies = receivedCopies(xml);
      expect(copies).toHaveLength(1);
      expect(copies[0].ksefNumber).toBe(rows.find((r) => r.invoice_number === `BULK/${i}`)!.ksef_number);
    }

    // Paged by index, the way the register pages.
    const page2 = await getBatch(res.body.batchId, '?page=2&pageSize=1000');
    expect(page2.body.invoices).toHaveLength(980);
    // 1,000 accepted invoices on page 1: indexes 0-1010 without the 11 rejected ones (7, 107, … 1007).
    expect(page2.body.invoices[0]).toMatchObject({ index: 1011, invoiceNumber: 'BULK/1011', status: 'sent', error: null });
    expect(page2.body.invoices.every((i: { ksefNumber: string | null }) => typeof i.ksefNumber === 'string')).toBe(true);

    const one = rows[0];
    const upo = await http().get(`/invoices/test/status/${one.session_reference_number}/${one.ksef_number}/upo`).set('Authorization', adminAuth);
    expect(upo.status).toBe(200);
    const upoXml = Buffer.from(upo.body.content, 'base64');
    expect(upoXml.toString('utf8')).toContain(one.ksef_number!);
    expect((await upoValidates(upoXml)).valid).toBe(true);
  });

  it('the same bytes twice (in one request, in two requests, or sent online before) are sent once', async () => {
    const [a, b, c, d] = ['TWICE/A', 'TWICE/B', 'TWICE/C', 'TWICE/D'].map((n) => withNumber(sample, n));
    const online = await http().post('/invoices/test/send').set('Authorization', adminAuth).send({ invoiceXml: b64(d) });
    expect(online.status).toBe(200);
    expect(online.body.status).toBe('sent');

    const first = await postBatch([a, b, a].map((x) => ({ invoiceXml: b64(x) })));
    const second = await postBatch([a, c, d].map((x) => ({ invoiceXml: b64(x) })));
    expect([first.status, second.status]).toEqual([202, 202]);
    const [one, two] = [await completed(first.body.batchId), await completed(second.body.batchId)];
    expect(one).toMatchObject({ acceptedCount: 3, sentCount: 3, failedCount: 0 });
    expect(one.invoices[0].ksefNumber).toBe(one.invoices[2].ksefNumber);
    expect(two.invoices[0].ksefNumber).toBe(one.invoices[0].ksefNumber);
    expect(two.invoices[2].ksefNumber).toBe(online.body.ksefNumber);
    expect(two.referenceNumbers).toContain(online.body.referenceNumber);
    for (const xml of [a, b, c, d]) expect(receivedCopies(xml)).toHaveLength(1);
    const rows = await db().selectFrom('synced_invoices').select('invoice_number').where('invoice_number', 'like', 'TWICE/%').execute();
    expect(rows).toHaveLength(4);

    // Sending a bulk invoice again online answers its number, without sending it again.
    const again = await http().post('/invoices/test/send').set('Authorization', adminAuth).send({ invoiceXml: b64(a) });
    expect(again.body).toMatchObject({ status: 'sent', ksefNumber: one.invoices[0].ksefNumber });
    expect(receivedCopies(a)).toHaveLength(1);
  });

  it('refuses malformed requests with 400 naming the field, and stores nothing', async () => {
    const batches = async () => Number((await db().selectFrom('bulk_batches').select(db().fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const count = await batches();
    const good = { invoiceXml: b64(withNumber(sample, 'BAD/1')) };
    const cases: [unknown, string][] = [
      [[], 'body.invoices'],
      [Array.from({ length: 10_001 }, () => ({ invoiceXml: 'QQ==' })), 'body.invoices'],
      [[good, { invoiceXml: 'not base64!' }], 'body.invoices[1].invoiceXml'],
      [[good, {}], 'body.invoices[1].invoiceXml'],
      [[good, good, { invoiceXml: '' }], 'body.invoices[2].invoiceXml'],
      [[{ invoiceXml: b64(Buffer.from('<x/>')) }], 'body.invoices[0].invoiceXml'],
    ];
    for (const [invoices, path] of cases) {
      const res = await postBatch(invoices as unknown[]);
      expect(res.status).toBe(400);
      expect(res.body.error.details.some((d: { path: string }) => d.path.startsWith(path))).toBe(true);
    }
    const noList = await http().post('/invoices/test/batch').set('Authorization', adminAuth).send({});
    expect(noList.status).toBe(400);
    expect(noList.body.error.details[0].path).toBe('body.invoices');
    expect(await batches()).toBe(count);
    expect(await db().selectFrom('synced_invoices').select('id').where('invoice_number', '=', 'BAD/1').execute()).toEqual([]);
  });

  it("another company's batch is not found, nor an unknown one", async () => {
    const res = await postBatch([{ invoiceXml: b64(withNumber(sample, 'SCOPE/1')) }]);
    expect(res.status).toBe(202);
    const other = (await db().insertInto('companies').values({ nip: OTHER_NIP, name: 'Other S.A.' }).returning('id').executeTakeFirstOrThrow()).id;
    await new Users(db()).create(other, { email: 'boss@other.pl', password: 'other-password-1', role: 'admin' });
    const foreign = await getBatch(res.body.batchId, '', basic('boss@other.pl', 'other-password-1'));
    expect(foreign.status).toBe(404);
    expect((await getBatch('1b4e28ba-2fa1-11d2-883f-0016d3cca427')).status).toBe(404);
    expect((await getBatch('not-a-uuid')).status).toBe(400);
    expect((await getBatch(res.body.batchId)).status).toBe(200);
  });

  it('a batch session KSeF refuses to open (400) fails its invoices instead of retrying them forever; a passing failure is retried', async () => {
    await k.sandboxAdmin('POST', '/sandbox/faults/fail-nth', { method: 'POST', pathPattern: '/v2/sessions/batch', n: 1, status: 400 });
    const refused = await postBatch(['REFUSED/1', 'REFUSED/2'].map((n) => ({ invoiceXml: b64(withNumber(sample, n)) })));
    expect(refused.status).toBe(202);
    const failed = await completed(refused.body.batchId);
    expect(failed).toMatchObject({ sentCount: 0, failedCount: 2, referenceNumbers: [] });
    expect(failed.invoices.every((i: { status: string; error: string | null }) => i.status === 'error' && i.error)).toBe(true);

    await k.sandboxAdmin('POST', '/sandbox/faults/fail-nth', { method: 'POST', pathPattern: '/v2/sessions/batch', n: 1, status: 500 });
    const retried = await postBatch([{ invoiceXml: b64(withNumber(sample, 'RETRIED/1')) }]);
    expect((await completed(retried.body.batchId)).sentCount).toBe(1);
  });
});

describeWithShared('an online backlog drained through a batch session', () => {
  // A stack of its own: no access token or online session yet, so that the outage refuses every call
  // at authentication (whose published limit is per second) rather than queueing sends in the limiter.
  let k: KsefStack;
  const db = () => k.api.server.services.database.db;
  const http = () => k.api.http;
  const waitFor = <T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 90_000) => waitUntil(what, probe, ms, 250);
  const receivedCopies = (xml: Buffer) => {
    const hash = createHash('sha256').update(xml).digest('base64');
    return [...k.sandbox.state.sessions.values()].flatMap((s) => s.invoices).filter((i) => i.invoiceHash === hash);
  };
  const sample = readSample('fa3-vat.xml');

  beforeAll(async () => {
    k = await startKsefStack({
      sandbox: { rateLimits: 'published' },
      env: { KSEF_RATE_LIMITS: 'published', KSEF_MAX_ATTEMPTS: '2', OUTBOX_INTERVAL_MS: '200' },
    });
  });
  afterAll(() => k.close());
  afterEach(() => expect(k.api.conformance.violations).toEqual([]));

  it('an outage backlog of 500 online invoices drains through a batch session, none of them sent online', async () => {
    const xmls = Array.from({ length: 500 }, (_, i) => withNumber(sample, `BACKLOG/${i}`));
    await k.sandboxAdmin('POST', '/sandbox/faults/outage', { mode: 'refuse' });
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = next++; i < xmls.length; i = next++) {
          const res = await http().post('/invoices/test/send').set('Authorization', adminAuth).send({ invoiceXml: b64(xmls[i]), mode: 'online' });
          statuses.push(res.status);
        }
      }),
    );
    // Stored and queued, KSeF unreachable.
    expect(new Set(statuses)).toEqual(new Set([503]));
    const backlog = () => db().selectFrom('synced_invoices').select(['transport', 'status', 'session_reference_number', 'ksef_number', 'invoice_hash']).where('invoice_number', 'like', 'BACKLOG/%').execute();
    // More than the online limits clear in a few minutes (150 under the published limits): moved to the batch lane.
    await waitFor('the backlog moved to batch', async () => {
      const rows = await backlog();
      return rows.length === 500 && rows.every((r) => r.transport === 'batch' && r.status === 'queued');
    });
    await k.sandboxAdmin('DELETE', '/sandbox/faults/outage');

    const rows = await waitFor('the backlog numbered', async () => {
      const r = await backlog();
      return r.every((x) => x.status === 'sent') ? r : undefined;
    });
    const sessions = new Set(rows.map((r) => r.session_reference_number));
    for (const ref of sessions) expect(k.sandbox.state.sessions.get(ref!)?.type).toBe('Batch');
    expect(new Set(rows.map((r) => r.ksef_number)).size).toBe(500);
    for (const xml of xmls) {
      const copies = receivedCopies(xml);
      expect(copies).toHaveLength(1);
      expect(copies[0].session?.type).toBe('Batch');
    }
  });
});
