import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jest } from '@jest/globals';
import { Users } from '../../src/accounts/users.js';
import { loadConfig } from '../../src/config.js';
import { adminAuth, basic } from '../support/server.js';
import { openModeToken, startKsefStack, withNumber, type KsefStack } from '../support/ksef.js';
import { describeWithShared, readSample } from '../support/shared.js';
import { fa3, OUR_NIP, syncToEnd } from '../support/sync-fixtures.js';
import { eventually, signatureValid, webhookEventChecker, WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Webhooks end to end: our API → ksef-proxy → the KSeF sandbox, events recorded with the changes and
 * delivered to local receivers (plain node http servers) over real HTTP, signed, retried.
 */
jest.setTimeout(120_000);

const b64 = (b: Buffer) => b.toString('base64');
const BASE_MS = 100;
const OTHER_NIP = '1234563218';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const FORMATTED = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** The receiver's `verify` of the README's Webhooks section, run as an integrator would paste it. */
function readmeVerify(): (secret: string, rawBody: string, header: string | undefined) => boolean {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const code = /```js\n(const \{ createHmac, timingSafeEqual \} = require\('node:crypto'\);\nfunction verify[\s\S]*?)```/.exec(readme)?.[1];
  if (!code) throw new Error('README.md has no verify snippet');
  return new Function('require', `${code}\nreturn verify;`)((name: string) => (name === 'node:crypto' ? crypto : undefined));
}
const signatures = (q: { headers: Record<string, unknown> }) => String(q.headers['x-fastksef-signature']).split(',').filter((p) => p.startsWith('v1=')).length;

describeWithShared('webhooks', () => {
  let k: KsefStack;
  let eventErrors: (event: unknown) => unknown[];
  const receivers: WebhookReceiver[] = [];
  const db = () => k.api.server.services.database.db;
  const http = () => k.api.http;
  const send = (xml: Buffer, auth = adminAuth) => http().post('/invoices/test/send').set('Authorization', auth).send({ invoiceXml: b64(xml), mode: 'online' });
  const subscribe = (url: string, events: string[], auth = adminAuth) => http().post('/webhooks').set('Authorization', auth).send({ url, events });
  const receiver = async () => {
    const r = await WebhookReceiver.start();
    receivers.push(r);
    return r;
  };
  /** A receiver subscribed to `events`, and the subscription's id and secret. */
  const subscribed = async (events: string[], auth = adminAuth) => {
    const r = await receiver();
    const res = await subscribe(r.url, events, auth);
    expect(res.status).toBe(201);
    return { r, id: res.body.id as string, secret: res.body.secret as string };
  };
  const deliveries = (id: string, auth = adminAuth) => http().get(`/webhooks/${id}/deliveries`).set('Authorization', auth);

  beforeAll(async () => {
    k = await startKsefStack({ env: { WEBHOOK_INTERVAL_MS: '50', WEBHOOK_RETRY_BASE_MS: String(BASE_MS) } });
    eventErrors = await webhookEventChecker();
  });
  afterAll(async () => {
    await k.close();
    await Promise.all(receivers.map((r) => r.close()));
  });
  afterEach(() => {
    expect(k.api.conformance.violations).toEqual([]);
    k.api.conformance.violations.length = 0;
    // Every event any receiver got is what the spec documents.
    for (const q of receivers.flatMap((r) => r.requests)) expect({ event: q.event, errors: eventErrors(q.event) }).toEqual({ event: q.event, errors: [] });
  });

  it('refuses a URL that is not http(s) naming url, an unknown or no event naming events, and callers who are not admins', async () => {
    for (const url of ['ftp://example.com/hook', 'mailto:ops@example.com', 'not a url', 'http://user:password@example.com/hook']) {
      const res = await subscribe(url, ['invoice.sent']);
      expect({ url, status: res.status }).toEqual({ url, status: 400 });
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['body.url']);
    }
    const credentials = await subscribe('https://user:password@example.com/hook', ['invoice.sent']);
    expect(credentials.body.error.details).toEqual([{ path: 'body.url', message: 'must not carry credentials; verify the signature instead' }]);
    const unknown = await subscribe('https://example.com/hook', ['invoice.sent', 'invoice.paid']);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toEqual([{ path: 'body.events[1]', message: expect.stringContaining('invoice.sent, invoice.failed') }]);
    expect((await subscribe('https://example.com/hook', [])).body.error.details[0].path).toBe('body.events');
    expect((await http().post('/webhooks').set('Authorization', adminAuth).send({ events: ['invoice.sent'] })).body.error.details).toEqual([{ path: 'body.url', message: 'is required' }]);

    await new Users(db()).create((await db().selectFrom('companies').select('id').executeTakeFirstOrThrow()).id, { email: 'erp@example.com', password: 'technical-password-1', role: 'technical' });
    const technical = basic('erp@example.com', 'technical-password-1');
    expect((await subscribe('https://example.com/hook', ['invoice.sent'], technical)).status).toBe(403);
    expect((await http().get('/webhooks').set('Authorization', technical)).status).toBe(403);
    expect((await http().get('/webhooks')).status).toBe(401);
    expect(await db().selectFrom('webhook_subscriptions').selectAll().execute()).toEqual([]);
  });

  it('shows the signing secret once: stored sealed, never in GET, never in the log', async () => {
    const res = await subscribe('https://erp.example.com/hooks/ksef', ['invoice.sent', 'invoice.failed']);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      url: 'https://erp.example.com/hooks/ksef',
      events: ['invoice.sent', 'invoice.failed'],
      description: null,
      createdAt: expect.stringMatching(FORMATTED),
      previousSecretExpiresAt: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{43}$/),
    });
    const { secret, id } = res.body;
    const list = await http().get('/webhooks').set('Authorization', adminAuth);
    expect(list.status).toBe(200);
    const { secret: _shown, ...withoutSecret } = res.body;
    expect(list.body.webhooks).toContainEqual(withoutSecret);
    expect(JSON.stringify(list.body)).not.toContain(secret);
    const row = await db().selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.secret_enc.includes(Buffer.from(secret))).toBe(false);
    expect(k.api.server.services.ksef.secrets.openString(row.secret_enc)).toBe(secret);
    expect(k.log.text).not.toContain(secret);

    expect((await http().delete(`/webhooks/${id}`).set('Authorization', adminAuth)).status).toBe(204);
    expect((await http().delete(`/webhooks/${id}`).set('Authorization', adminAuth)).status).toBe(404);
    expect((await deliveries(id)).status).toBe(404);
    expect((await http().get('/webhooks').set('Authorization', adminAuth)).body.webhooks).toEqual([]);
  });

  it('invoice.sent arrives exactly once, signed, with the KSeF number; a repeated send announces nothing new', async () => {
    const { r, id, secret } = await subscribed(['invoice.sent']);
    const xml = withNumber(readSample('fa3-vat.xml'), 'HOOK/SENT/1');
    const sent = await send(xml);
    expect(sent.status).toBe(200);
    expect(sent.body.status).toBe('sent');
    const [request] = await eventually('invoice.sent', () => r.of('invoice.sent').length > 0 && r.of('invoice.sent'));
    expect(signatureValid(secret, request)).toBe(true);
    expect(signatureValid('whsec_another', request)).toBe(false);
    expect(signatureValid(secret, { ...request, body: request.body.replace('HOOK/SENT/1', 'HOOK/SENT/2') })).toBe(false);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-fastksef-event-id']).toBe(request.event.id);
    const [row] = await db().selectFrom('synced_invoices').selectAll().where('invoice_number', '=', 'HOOK/SENT/1').execute();
    expect(request.event).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'invoice.sent',
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      environment: 'test',
      data: {
        invoiceId: row.id,
        invoiceNumber: 'HOOK/SENT/1',
        mode: 'online',
        ksefNumber: sent.body.ksefNumber,
        referenceNumber: sent.body.referenceNumber,
        acquisitionDate: row.acquisition_date!.toISOString(),
      },
    });
    expect(Math.abs(Date.parse(request.event.createdAt) - Date.now())).toBeLessThan(60_000);
    // The spec check of afterEach notices a body that is not what the contract documents.
    expect(eventErrors({ ...request.event, data: { ...request.event.data, ksefNumber: undefined } })).not.toEqual([]);
    expect(eventErrors({ ...request.event, type: 'invoice.paid' })).not.toEqual([]);

    expect((await send(xml)).body.ksefNumber).toBe(sent.body.ksefNumber);
    // Status checks of the session report the number again: still one event.
    expect((await http().get(`/invoices/test/status/${sent.body.referenceNumber}`).set('Authorization', adminAuth)).status).toBe(200);
    await sleep(1_000);
    expect(r.requests).toHaveLength(1);
    const attempts = await deliveries(id);
    expect(attempts.status).toBe(200);
    expect(attempts.body.deliveries).toEqual([
      {
        eventId: request.event.id,
        eventType: 'invoice.sent',
        environment: 'test',
        attempt: 1,
        statusCode: 200,
        durationMs: expect.any(Number),
        error: null,
        succeeded: true,
        attemptedAt: expect.any(String),
        deliveryStatus: 'delivered',
      },
    ]);
  });

  it('a receiver failing three times (500) gets the event on the fourth attempt, after growing pauses; the deliveries list every attempt', async () => {
    const { r, id, secret } = await subscribed(['invoice.sent']);
    r.answer = (_req, index) => ({ status: index < 3 ? 500 : 204 });
    expect((await send(withNumber(readSample('fa3-vat.xml'), 'HOOK/RETRY/1'))).status).toBe(200);
    await eventually('the fourth attempt', () => r.requests.length === 4);
    await sleep(500);
    expect(r.requests.map((q) => q.answered)).toEqual([500, 500, 500, 204]);
    expect(new Set(r.requests.map((q) => q.event.id)).size).toBe(1);
    expect(new Set(r.requests.map((q) => q.body)).size).toBe(1);
    expect(r.requests.every((q) => signatureValid(secret, q))).toBe(true);
    // Backoff: BASE·2^(n-1) with ±20 % jitter (and the worker's 50 ms polling on top).
    const pauses = r.requests.slice(1).map((q, i) => q.at - r.requests[i].at);
    pauses.forEach((pause, i) => expect(pause).toBeGreaterThanOrEqual(0.8 * BASE_MS * 2 ** i - 5));
    expect(pauses[2]).toBeGreaterThan(pauses[0]);

    const list = (await deliveries(id)).body.deliveries;
    expect(list.map((d: any) => [d.attempt, d.statusCode, d.succeeded, d.error, d.deliveryStatus])).toEqual([
      [4, 204, true, null, 'delivered'],
      [3, 500, false, 'the receiver answered HTTP 500', 'delivered'],
      [2, 500, false, 'the receiver answered HTTP 500', 'delivered'],
      [1, 500, false, 'the receiver answered HTTP 500', 'delivered'],
    ]);
  });

  it("honours Retry-After on 503; a receiver that never answers is cut off after 5 s, holding up neither the send nor another receiver's delivery", async () => {
    const slow = await subscribed(['invoice.sent']);
    slow.r.answer = (_req, index) => (index === 0 ? { status: 503, headers: { 'Retry-After': '2' } } : { status: 200 });
    const hanging = await subscribed(['invoice.sent']);
    hanging.r.answer = () => 'hang';
    const started = Date.now();
    const res = await send(withNumber(readSample('fa3-vat.xml'), 'HOOK/SLOW/1'));
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(4_000);
    await eventually('the second attempt', () => slow.r.requests.length === 2);
    expect(slow.r.requests[1].at - slow.r.requests[0].at).toBeGreaterThanOrEqual(1_950);
    // The receiver that hangs holds up its own delivery only.
    expect(slow.r.requests[1].at - slow.r.requests[0].at).toBeLessThan(4_000);
    expect(hanging.r.requests).toHaveLength(1);

    const timedOut = await eventually('the timed-out attempt', async () => {
      const [first] = (await deliveries(hanging.id)).body.deliveries;
      return first;
    }, 20_000);
    expect(timedOut).toMatchObject({ attempt: 1, statusCode: null, succeeded: false, error: 'no answer within 5000 ms', deliveryStatus: 'pending' });
    expect(timedOut.durationMs).toBeGreaterThanOrEqual(4_900);
    expect(timedOut.durationMs).toBeLessThan(7_000);
    await http().delete(`/webhooks/${hanging.id}`).set('Authorization', adminAuth);
    await http().delete(`/webhooks/${slow.id}`).set('Authorization', adminAuth);
  });

  it('a receiver that hangs holds at most half of the delivery slots (4 of WEBHOOK_CONCURRENCY 8); another receiver gets everything meanwhile', async () => {
    const stuck = await subscribed(['invoice.sent']);
    stuck.r.answer = () => 'hang';
    const fine = await subscribed(['invoice.sent']);
    for (let i = 1; i <= 6; i++) expect((await send(withNumber(readSample('fa3-vat.xml'), `HOOK/CAP/${i}`))).status).toBe(200);
    await eventually('the other receiver got all six', () => fine.r.of('invoice.sent', (d) => d.invoiceNumber.startsWith('HOOK/CAP/')).length === 6);
    await eventually('the hanging receiver holding four', () => stuck.r.mostHanging === 4);
    await eventually('the other two attempted once slots freed', () => stuck.r.requests.length >= 6, 20_000);
    expect(stuck.r.mostHanging).toBe(4);
    await http().delete(`/webhooks/${stuck.id}`).set('Authorization', adminAuth);
    await http().delete(`/webhooks/${fine.id}`).set('Authorization', adminAuth);
  });

  it("invoice.failed when KSeF rejects an invoice (440, a duplicate number), with KSeF's code", async () => {
    const { r, secret } = await subscribed(['invoice.failed']);
    const original = withNumber(readSample('fa3-vat.xml'), 'HOOK/DUP/1');
    expect((await send(original)).status).toBe(200);
    const other = Buffer.from(original.toString('utf8').replace('<Faktura ', '<!-- re-issued -->\n<Faktura '), 'utf8');
    const res = await send(other);
    expect(res.status).toBe(409);
    const [request] = await eventually('invoice.failed', () => r.of('invoice.failed').length > 0 && r.of('invoice.failed'));
    expect(signatureValid(secret, request)).toBe(true);
    const [row] = await db().selectFrom('synced_invoices').selectAll().where('invoice_number', '=', 'HOOK/DUP/1').where('status', '=', 'error').execute();
    expect(request.event.data).toEqual({
      invoiceId: row.id,
      invoiceNumber: 'HOOK/DUP/1',
      mode: 'online',
      referenceNumber: row.session_reference_number,
      errorCode: 440,
      errorMessage: expect.stringContaining('Duplikat faktury'),
    });
    await sleep(500);
    expect(r.requests).toHaveLength(1);
  });

  it("company B's subscription never sees company A's events, nor B A's subscriptions", async () => {
    const a = await subscribed(['invoice.sent']);
    const companyB = (await db().insertInto('companies').values({ nip: OTHER_NIP, name: 'Other S.A.' }).returning('id').executeTakeFirstOrThrow()).id;
    await new Users(db()).create(companyB, { email: 'boss@other.pl', password: 'other-password-1', role: 'admin' });
    const bAuth = basic('boss@other.pl', 'other-password-1');
    expect((await http().put('/ksef/test/credentials').set('Authorization', bAuth).send({ ksefToken: openModeToken(OTHER_NIP) })).status).toBe(200);
    const b = await subscribed(['invoice.sent', 'invoice.failed', 'invoice.received', 'offline.deadline', 'sync.completed', 'batch.completed'], bAuth);

    const day = new Date().toISOString().slice(0, 10);
    for (let i = 1; i <= 3; i++) expect((await send(withNumber(readSample('fa3-vat.xml'), `HOOK/A/${i}`))).status).toBe(200);
    const bInvoice = Buffer.from(fa3({ seller: OTHER_NIP, buyer: OUR_NIP, number: 'HOOK/B/1', issueDate: day, net: 100, vat: 23 }));
    const bSent = await send(bInvoice, bAuth);
    expect(bSent.status).toBe(200);
    await eventually("A's three events", () => a.r.of('invoice.sent', (d) => d.invoiceNumber.startsWith('HOOK/A/')).length === 3);
    await eventually("B's own event", () => b.r.of('invoice.sent').length === 1);
    await sleep(1_000);
    expect(b.r.requests.map((q) => q.event.data.invoiceNumber)).toEqual(['HOOK/B/1']);
    expect(b.r.requests[0].event.data.ksefNumber).toBe(bSent.body.ksefNumber);
    expect(signatureValid(b.secret, b.r.requests[0])).toBe(true);
    expect(signatureValid(a.secret, b.r.requests[0])).toBe(false);
    expect(a.r.requests.some((q) => q.event.data.invoiceNumber === 'HOOK/B/1')).toBe(false);

    expect((await http().get('/webhooks').set('Authorization', bAuth)).body.webhooks.map((w: { id: string }) => w.id)).toEqual([b.id]);
    expect((await deliveries(a.id, bAuth)).status).toBe(404);
    expect((await http().delete(`/webhooks/${a.id}`).set('Authorization', bAuth)).status).toBe(404);
    expect((await http().patch(`/webhooks/${a.id}`).set('Authorization', bAuth).send({ url: b.r.url })).status).toBe(404);
    expect((await http().post(`/webhooks/${a.id}/secret`).set('Authorization', bAuth)).status).toBe(404);
    expect(await db().selectFrom('webhook_subscriptions').select(['url', 'previous_secret_enc']).where('id', '=', a.id).executeTakeFirstOrThrow()).toEqual({ url: a.r.url, previous_secret_enc: null });
    const events = await db().selectFrom('webhook_events').select(['company_id', 'data']).where('type', '=', 'invoice.sent').execute();
    expect(events.filter((e) => e.company_id === companyB).map((e) => e.data.invoiceNumber)).toEqual(['HOOK/B/1']);
    await http().delete(`/webhooks/${b.id}`).set('Authorization', bAuth);
  });

  it('invoice.received for each purchase invoice a sync stores, and sync.completed with its counts', async () => {
    const { r, secret } = await subscribed(['invoice.received', 'sync.completed']);
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const stored = new Date(Date.now() - 60_000).toISOString();
    const seeded = (await k.sandboxAdmin('POST', '/sandbox/invoices', {
      invoices: [
        { xml: fa3({ seller: '7352765225', buyer: OUR_NIP, number: 'HOOK/IN/1', issueDate: day, net: 100, vat: 23 }), permanentStorageDate: stored, acquisitionDate: stored, invoicingDate: stored },
        { xml: fa3({ seller: '7352765225', buyer: OUR_NIP, number: 'HOOK/IN/2', issueDate: day, net: 50, vat: 11.5, currency: 'EUR' }), permanentStorageDate: stored, acquisitionDate: stored, invoicingDate: stored },
        { xml: fa3({ seller: OUR_NIP, buyer: '7352765225', number: 'HOOK/OUT/1', issueDate: day, net: 10, vat: 2.3 }), permanentStorageDate: stored, acquisitionDate: stored, invoicingDate: stored },
      ],
    })) as { invoices: { ksefNumber: string; invoiceNumber: string }[] };
    const sync = await syncToEnd(http());
    expect(sync.status).toBe(202);
    expect(sync.body.lastError).toBeNull();
    // Company B's invoice to us (the test above) is a purchase invoice too.
    const ours = (d: Record<string, any>) => d.invoiceNumber.startsWith('HOOK/IN/');
    await eventually('two invoice.received and sync.completed', () => r.of('invoice.received', ours).length === 2 && r.of('sync.completed').length === 1);
    await sleep(500);
    expect(r.requests.every((q) => signatureValid(secret, q))).toBe(true);
    expect(r.of('invoice.received').map((q) => q.event.data.invoiceNumber).every((n) => n.startsWith('HOOK/IN/') || n === 'HOOK/B/1')).toBe(true);
    const received = r.of('invoice.received', ours).map((q) => q.event.data).sort((x, y) => x.invoiceNumber.localeCompare(y.invoiceNumber));
    const ksefOf = (n: string) => seeded.invoices.find((i) => i.invoiceNumber === n)!.ksefNumber;
    expect(received).toEqual([
      expect.objectContaining({ invoiceNumber: 'HOOK/IN/1', ksefNumber: ksefOf('HOOK/IN/1'), sellerNip: '7352765225', buyerNip: OUR_NIP, netAmount: '100.00', vatAmount: '23.00', grossAmount: '123.00', currency: 'PLN', invoiceType: 'VAT', issueDate: day }),
      expect.objectContaining({ invoiceNumber: 'HOOK/IN/2', ksefNumber: ksefOf('HOOK/IN/2'), grossAmount: '61.50', currency: 'EUR' }),
    ]);
    const [row] = await db().selectFrom('synced_invoices').selectAll().where('invoice_number', '=', 'HOOK/IN/1').execute();
    expect(received[0]).toMatchObject({ invoiceId: row.id, permanentStorageDate: row.permanent_storage_date!.toISOString() });
    const [completed] = r.of('sync.completed');
    expect(completed.event.data).toEqual({
      runId: sync.body.runId,
      trigger: 'requested',
      succeeded: true,
      error: null,
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
      fetched: sync.body.fetched,
      inserted: sync.body.inserted,
      updated: sync.body.updated,
      linkedAdvances: 0,
      linkedCorrections: 0,
    });
    expect(sync.body.inserted).toBeGreaterThanOrEqual(3);
    // A second run stores nothing new: no invoice.received, one more sync.completed.
    await syncToEnd(http());
    const before = r.of('invoice.received').length;
    await eventually('the second sync.completed', () => r.of('sync.completed').length === 2);
    expect(r.of('invoice.received')).toHaveLength(before);
  });

  it('batch.completed once every invoice of a bulk request is sent, with its counts', async () => {
    const { r } = await subscribed(['batch.completed', 'invoice.sent']);
    const sample = readSample('fa3-vat.xml');
    const res = await http()
      .post('/invoices/test/batch')
      .set('Authorization', adminAuth)
      .send({ invoices: [{ invoiceXml: b64(withNumber(sample, 'HOOK/BULK/1')) }, { invoiceXml: b64(withNumber(sample, 'HOOK/BULK/2')) }, { invoiceXml: b64(Buffer.from('<x/>')) }] });
    expect(res.status).toBe(202);
    const [done] = await eventually('batch.completed', () => r.of('batch.completed').length > 0 && r.of('batch.completed'));
    expect(done.event.data).toEqual({ batchId: res.body.batchId, totalCount: 3, acceptedCount: 2, rejectedCount: 1, sentCount: 2, failedCount: 0 });
    const sent = r.of('invoice.sent', (d) => d.invoiceNumber.startsWith('HOOK/BULK/'));
    expect(sent.map((q) => q.event.data.mode)).toEqual(['batch', 'batch']);
    // The same two again: a batch complete at once (both already sent), announced at once.
    const again = await http()
      .post('/invoices/test/batch')
      .set('Authorization', adminAuth)
      .send({ invoices: [{ invoiceXml: b64(withNumber(sample, 'HOOK/BULK/1')) }, { invoiceXml: b64(withNumber(sample, 'HOOK/BULK/2')) }] });
    await eventually('the second batch.completed', () => r.of('batch.completed', (d) => d.batchId === again.body.batchId).length === 1);
    await sleep(500);
    expect(r.of('batch.completed')).toHaveLength(2);
    expect(r.of('invoice.sent', (d) => d.invoiceNumber.startsWith('HOOK/BULK/'))).toHaveLength(2);
  });

  it('offline.deadline once per unsent offline invoice within 24 h of its deadline, not while the outage lasts; invoice.sent when it reaches KSeF', async () => {
    const { r } = await subscribed(['offline.deadline', 'invoice.sent']);
    const { certificatePem, privateKeyPem } = (await k.sandboxAdmin('POST', '/sandbox/certificates', { nip: OUR_NIP, keyType: 'EC', certificateType: 'Offline' })) as {
      certificatePem: string;
      privateKeyPem: string;
    };
    expect((await http().put('/ksef/test/credentials').set('Authorization', adminAuth).send({ offlineCertificate: { certificatePem, privateKeyPem } })).status).toBe(200);
    expect((await http().put('/ksef/test/simulation').set('Authorization', adminAuth).send({ active: true })).status).toBe(200);
    const issued = await http()
      .post('/invoices/test/send')
      .set('Authorization', adminAuth)
      .send({ invoiceXml: b64(withNumber(readSample('fa3-vat.xml'), 'HOOK/OFF/1')), mode: 'offline' });
    expect(issued.status).toBe(200);
    const offlineId = issued.body.offlineId;
    const soon = () => db().updateTable('offline_invoices').set({ submission_deadline: new Date(Date.now() + 3_600_000) }).where('id', '=', offlineId).execute();
    await soon();
    await sleep(1_500);
    expect(r.of('offline.deadline')).toEqual([]);

    expect((await http().put('/ksef/test/simulation').set('Authorization', adminAuth).send({ active: false })).status).toBe(200);
    // The outage's end fixed the deadline (the next business day's end, more than 24 h away): bring it closer.
    await soon();
    const [warning] = await eventually('offline.deadline', () => r.of('offline.deadline').length > 0 && r.of('offline.deadline'));
    const row = await db().selectFrom('offline_invoices').selectAll().where('id', '=', offlineId).executeTakeFirstOrThrow();
    expect(warning.event.data).toEqual({ invoiceId: offlineId, invoiceNumber: 'HOOK/OFF/1', status: 'signed', offlineMode: 'offline', submissionDeadline: row.submission_deadline!.toISOString() });
    await sleep(1_000);
    expect(r.of('offline.deadline')).toHaveLength(1);

    expect((await http().post('/invoices/test/offline/send-batch').set('Authorization', adminAuth)).status).toBe(200);
    const [sent] = await eventually('invoice.sent of the offline invoice', () => r.of('invoice.sent', (d) => d.invoiceId === offlineId).length > 0 && r.of('invoice.sent', (d) => d.invoiceId === offlineId));
    const numbered = await db().selectFrom('offline_invoices').selectAll().where('id', '=', offlineId).executeTakeFirstOrThrow();
    expect(sent.event.data).toMatchObject({ invoiceNumber: 'HOOK/OFF/1', mode: 'offline', ksefNumber: numbered.ksef_number });
  });

  it('PATCH changes what it names: a new URL takes the deliveries still due, new events count from now on; the secret stays; mistakes are 400s naming the field', async () => {
    const { r: before, id, secret } = await subscribed(['invoice.sent']);
    const after = await receiver();
    const patch = (body: unknown, auth = adminAuth, target = id) => http().patch(`/webhooks/${target}`).set('Authorization', auth).send(body as object);
    const row = () => db().selectFrom('webhook_subscriptions').select(['url', 'events', 'description', 'secret_enc']).where('id', '=', id).executeTakeFirstOrThrow();
    const unchanged = await row();
    for (const [body, path] of [
      [{}, 'body'],
      [{ url: 'ftp://example.com/hook' }, 'body.url'],
      [{ url: 'http://169.254.169.254/latest/meta-data' }, 'body.url'],
      [{ url: 'https://user:password@example.com/hook' }, 'body.url'],
      [{ events: [] }, 'body.events'],
      [{ events: ['invoice.paid'] }, 'body.events[0]'],
      [{ events: ['invoice.sent', 'invoice.sent'] }, 'body.events'],
      [{ description: 'x'.repeat(501) }, 'body.description'],
      [{ secret: 'whsec_mine' }, 'body.secret'],
    ] as const) {
      const res = await patch(body);
      expect({ body, status: res.status, paths: res.body.error.details.map((d: { path: string }) => d.path) }).toEqual({ body, status: 400, paths: [path] });
    }
    expect(await row()).toEqual(unchanged);
    expect((await patch({ description: 'x' }, adminAuth, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await patch({ description: 'x' }, adminAuth, 'not-a-uuid')).status).toBe(400);
    expect((await http().patch(`/webhooks/${id}`).set('Authorization', adminAuth).set('Content-Type', 'text/plain').send('description=x')).status).toBe(415);

    // The old receiver fails, so the event is still due when the URL changes: the next attempt goes to the new one.
    before.answer = () => ({ status: 500 });
    expect((await send(withNumber(readSample('fa3-vat.xml'), 'HOOK/PATCH/1'))).status).toBe(200);
    await eventually('a failed first attempt', () => before.requests.length >= 1);
    const moved = await patch({ url: after.url, description: 'moved' });
    expect(moved.status).toBe(200);
    expect(moved.body).toEqual({ id, url: after.url, events: ['invoice.sent'], description: 'moved', createdAt: expect.stringMatching(FORMATTED), previousSecretExpiresAt: null });
    const [delivered] = await eventually('the due event at the new URL', () => after.of('invoice.sent').length > 0 && after.of('invoice.sent'));
    expect(delivered.event.data.invoiceNumber).toBe('HOOK/PATCH/1');
    expect(signatureValid(secret, delivered)).toBe(true);
    const seenBefore = before.requests.length;

    // Events from now on: invoice.failed only (a duplicate number is rejected), invoice.sent no more.
    const control = await subscribed(['invoice.sent']);
    expect((await patch({ events: ['invoice.failed'], description: null })).body).toMatchObject({ events: ['invoice.failed'], description: null });
    const second = withNumber(readSample('fa3-vat.xml'), 'HOOK/PATCH/2');
    expect((await send(second)).status).toBe(200);
    await eventually('the control receiver’s event', () => control.r.of('invoice.sent', (d) => d.invoiceNumber === 'HOOK/PATCH/2').length === 1);
    const sameNumber = Buffer.from(second.toString('utf8').replace('<Faktura ', '<!-- re-issued -->\n<Faktura '), 'utf8');
    expect((await send(sameNumber)).status).toBe(409);
    const [failed] = await eventually('invoice.failed at the new URL', () => after.of('invoice.failed').length > 0 && after.of('invoice.failed'));
    expect(failed.event.data.invoiceNumber).toBe('HOOK/PATCH/2');
    expect(after.of('invoice.sent').map((q) => q.event.data.invoiceNumber)).toEqual(['HOOK/PATCH/1']);
    expect(before.requests.length).toBeLessThanOrEqual(seenBefore);
    const technical = basic('erp@example.com', 'technical-password-1');
    expect((await patch({ description: 'x' }, technical)).status).toBe(403);
  });

  it('rotating the secret: the new one signs at once, the replaced one beside it (two v1) until it expires; 0 ends it at once; never shown again or logged', async () => {
    const { r, id, secret: first } = await subscribed(['invoice.sent']);
    const rotate = (body?: object, auth = adminAuth) => {
      const request = http().post(`/webhooks/${id}/secret`).set('Authorization', auth);
      return body ? request.send(body) : request;
    };
    const stored = () => db().selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const verify = readmeVerify();
    let n = 0;
    const delivered = async () => {
      const number = `HOOK/ROT/${++n}`;
      expect((await send(withNumber(readSample('fa3-vat.xml'), number))).status).toBe(200);
      const [q] = await eventually(number, () => r.of('invoice.sent', (d) => d.invoiceNumber === number).length > 0 && r.of('invoice.sent', (d) => d.invoiceNumber === number));
      return q;
    };

    for (const [body, path] of [
      [{ previousSecretValidForSeconds: -1 }, 'body.previousSecretValidForSeconds'],
      [{ previousSecretValidForSeconds: 604_801 }, 'body.previousSecretValidForSeconds'],
      [{ previousSecretValidForSeconds: 'a day' }, 'body.previousSecretValidForSeconds'],
      [{ keepOld: true }, 'body.keepOld'],
    ] as const) {
      const res = await rotate(body);
      expect({ body, status: res.status, paths: res.body.error.details.map((d: { path: string }) => d.path) }).toEqual({ body, status: 400, paths: [path] });
    }
    expect((await stored()).previous_secret_enc).toBeNull();
    expect((await rotate(undefined, basic('erp@example.com', 'technical-password-1'))).status).toBe(403);
    expect((await http().post('/webhooks/00000000-0000-4000-8000-000000000000/secret').set('Authorization', adminAuth)).status).toBe(404);

    // Without a body: a new secret, the first one signing beside it for 24 hours.
    const rotated = await rotate();
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({
      id,
      url: r.url,
      events: ['invoice.sent'],
      description: null,
      createdAt: expect.stringMatching(FORMATTED),
      previousSecretExpiresAt: expect.stringMatching(FORMATTED),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{43}$/),
    });
    const second: string = rotated.body.secret;
    expect(second).not.toBe(first);
    const row = await stored();
    expect(Math.abs(row.previous_secret_expires_at!.getTime() - (Date.now() + 86_400_000))).toBeLessThan(60_000);
    expect(k.api.server.services.ksef.secrets.openString(row.secret_enc)).toBe(second);
    expect(k.api.server.services.ksef.secrets.openString(row.previous_secret_enc!)).toBe(first);
    expect(row.secret_enc.includes(Buffer.from(second)) || row.previous_secret_enc!.includes(Buffer.from(first))).toBe(false);
    const listed = (await http().get('/webhooks').set('Authorization', adminAuth)).body.webhooks.find((w: { id: string }) => w.id === id);
    expect(listed).toEqual({ ...rotated.body, secret: undefined });
    expect(JSON.stringify(listed)).not.toContain(second);

    const overlap = await delivered();
    expect(signatures(overlap)).toBe(2);
    expect([signatureValid(second, overlap), signatureValid(first, overlap), signatureValid('whsec_another', overlap)]).toEqual([true, true, false]);
    const header = String(overlap.headers['x-fastksef-signature']);
    expect([verify(second, overlap.body, header), verify(first, overlap.body, header), verify('whsec_another', overlap.body, header)]).toEqual([true, true, false]);
    expect(verify(second, overlap.body.replace('HOOK/ROT/1', 'HOOK/ROT/9'), header)).toBe(false);

    // Rotating again for 1 s: the second secret signs beside the third, then stops; the first never again.
    const third: string = (await rotate({ previousSecretValidForSeconds: 1 })).body.secret;
    await sleep(1_200);
    expect((await http().get('/webhooks').set('Authorization', adminAuth)).body.webhooks.find((w: { id: string }) => w.id === id).previousSecretExpiresAt).toBeNull();
    const alone = await delivered();
    expect(signatures(alone)).toBe(1);
    expect([signatureValid(third, alone), signatureValid(second, alone), signatureValid(first, alone)]).toEqual([true, false, false]);
    expect(verify(third, alone.body, String(alone.headers['x-fastksef-signature']))).toBe(true);

    // 0 (a leaked secret): the replaced one stops at once.
    const fourthAnswer = await rotate({ previousSecretValidForSeconds: 0 });
    expect(fourthAnswer.body.previousSecretExpiresAt).toBeNull();
    const fourth: string = fourthAnswer.body.secret;
    expect(await stored()).toMatchObject({ previous_secret_enc: null, previous_secret_expires_at: null });
    const afterLeak = await delivered();
    expect(signatures(afterLeak)).toBe(1);
    expect([signatureValid(fourth, afterLeak), signatureValid(third, afterLeak)]).toEqual([true, false]);
    for (const secret of [first, second, third, fourth]) expect(k.log.text).not.toContain(secret);
  });

  it('a deleted subscription receives nothing more', async () => {
    const { r, id } = await subscribed(['invoice.sent']);
    r.answer = () => ({ status: 500 });
    expect((await send(withNumber(readSample('fa3-vat.xml'), 'HOOK/DEL/1'))).status).toBe(200);
    await eventually('a first attempt', () => r.requests.length >= 1);
    expect((await http().delete(`/webhooks/${id}`).set('Authorization', adminAuth)).status).toBe(204);
    const seen = r.requests.length;
    await sleep(1_500);
    expect(r.requests.length).toBeLessThanOrEqual(seen + 1); // at most the attempt already under way
    expect(await db().selectFrom('webhook_deliveries').selectAll().where('subscription_id', '=', id).execute()).toEqual([]);
  });
});

describe('webhook configuration', () => {
  it('refuses a retry base delay or concurrency out of range, naming the variable', () => {
    expect(loadConfig({}).webhooks).toMatchObject({ retryBaseMs: 10_000, concurrency: 8, timeoutMs: 5_000, retryForMs: 86_400_000, intervalMs: 1_000, privateAddresses: 'allow' });
    expect(() => loadConfig({ WEBHOOK_PRIVATE_ADDRESSES: 'maybe' })).toThrow('WEBHOOK_PRIVATE_ADDRESSES must be allow or deny');
    expect(loadConfig({ WEBHOOK_RETRY_BASE_MS: '250' }).webhooks.retryBaseMs).toBe(250);
    expect(() => loadConfig({ WEBHOOK_RETRY_BASE_MS: '0' })).toThrow(/WEBHOOK_RETRY_BASE_MS must be 1\.\.3600000/);
    expect(() => loadConfig({ WEBHOOK_RETRY_BASE_MS: 'soon' })).toThrow(/WEBHOOK_RETRY_BASE_MS must be a non-negative integer/);
    expect(() => loadConfig({ WEBHOOK_CONCURRENCY: '0' })).toThrow(/WEBHOOK_CONCURRENCY/);
    expect(() => loadConfig({ WEBHOOK_INTERVAL_MS: '-1' })).toThrow(/WEBHOOK_INTERVAL_MS/);
  });
});
