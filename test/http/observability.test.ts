import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, adminAuth, startTestServer, type TestServer } from '../support/server.js';
import { CapturedLog, openModeToken, startKsefStack, withNumber, type KsefStack } from '../support/ksef.js';
import { syncToEnd } from '../support/sync-fixtures.js';

/** Access log, request ids, /metrics and /status/ready of a server wired to the KSeF sandbox, over real HTTP. */

const example = (name: string) => fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'examples', name));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The value of one series of a Prometheus exposition (labels matched exactly), undefined when absent. */
function series(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((p) => [p[1], p[2]]));
    if (JSON.stringify(Object.entries(found).sort()) === JSON.stringify(Object.entries(labels).sort())) return Number(m[3]);
  }
  return undefined;
}

/** The port of a listener that was closed again: nothing answers there. */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('logs, metrics and readiness', () => {
  let k: KsefStack;
  const http = () => k.api.http;
  const scrape = async () => {
    const res = await http().get('/metrics').set('Authorization', adminAuth);
    expect(res.status).toBe(200);
    return res.text;
  };
  const accessLines = (requestId: string) =>
    k.log.lines.map((l) => JSON.parse(l)).filter((l) => l.requestId === requestId && (l.msg === 'request completed' || l.msg === 'request errored'));

  beforeAll(async () => {
    k = await startKsefStack();
  });
  afterAll(() => k.close());
  afterEach(() => {
    expect(k.api.conformance.violations).toEqual([]);
    k.api.conformance.violations.length = 0;
  });

  describe('X-Request-Id and the access line', () => {
    test('a sane client id is kept and echoed; none, or one that is not a sane token, gets a fresh UUID', async () => {
      const kept = await http().get('/status').set('X-Request-Id', 'erp-7f3a:batch/42');
      expect(kept.headers['x-request-id']).toBe('erp-7f3a:batch/42');
      const generated = await http().get('/status');
      expect(generated.headers['x-request-id']).toMatch(UUID);
      expect((await http().get('/status')).headers['x-request-id']).not.toBe(generated.headers['x-request-id']);
      for (const bad of ['has spaces in it', 'x'.repeat(129), '"quoted"', 'semi;colon']) {
        const res = await http().get('/status').set('X-Request-Id', bad);
        expect(res.headers['x-request-id']).toMatch(UUID);
        expect(k.log.text).not.toContain(bad);
      }
    });

    test('one line per request: method, operation and route template, status, duration, company, user, request id', async () => {
      const ref = '20260101-SO-0000000000-0000000000-00';
      const res = await http().get(`/invoices/test/status/${ref}`).set('Authorization', adminAuth).set('X-Request-Id', 'req-status-1');
      expect(res.status).toBe(404);
      const lines = accessLines('req-status-1');
      expect(lines).toEqual([
        {
          level: 30,
          time: expect.any(Number),
          pid: process.pid,
          hostname: expect.any(String),
          requestId: 'req-status-1',
          method: 'GET',
          operationId: 'getSessionStatus',
          route: '/invoices/{environment}/status/{referenceNumber}',
          status: 404,
          durationMs: expect.any(Number),
          company: '5265877635',
          user: ADMIN_EMAIL,
          msg: 'request completed',
        },
      ]);
      // The route, not the URL: the reference number is not in the line.
      expect(JSON.stringify(lines[0])).not.toContain(ref);
    });

    test('an anonymous or refused request has no user, an unknown path is `unknown`; nothing of the request is written', async () => {
      await http().get('/nowhere/at/all').set('X-Request-Id', 'req-unknown');
      expect(accessLines('req-unknown')).toEqual([expect.objectContaining({ operationId: 'unknown', route: null, status: 404, company: null, user: null })]);
      await http().get('/admin/users').set('Authorization', `Basic ${Buffer.from(`${ADMIN_EMAIL}:wrong-password-9`).toString('base64')}`).set('X-Request-Id', 'req-401');
      expect(accessLines('req-401')).toEqual([expect.objectContaining({ operationId: 'listUsers', status: 401, user: null })]);
      const created = await http()
        .post('/admin/users')
        .set('Authorization', adminAuth)
        .set('Cookie', 'session=cookie-secret-1')
        .set('X-Request-Id', 'req-create')
        .send({ email: 'log-check@example.com', password: 'body-secret-password-1', role: 'technical' });
      expect(created.status).toBe(201);
      expect(accessLines('req-create')).toEqual([expect.objectContaining({ method: 'POST', operationId: 'createUser', status: 201, user: ADMIN_EMAIL })]);
      const text = k.log.text;
      for (const secret of ['body-secret-password-1', 'wrong-password-9', ADMIN_PASSWORD, adminAuth.slice('Basic '.length), 'cookie-secret-1', k.ksefToken.split('|')[2]]) {
        expect(text).not.toContain(secret);
      }
    });
    test("ksef-proxy's lines written for a request carry its id too, once per line", async () => {
      // A new token: the next send signs in to KSeF again, within the request.
      expect((await http().put('/ksef/test/credentials').set('Authorization', adminAuth).send({ ksefToken: openModeToken('5265877635') })).status).toBe(200);
      const xml = withNumber(example('vat.xml'), `RID/${Date.now()}`);
      const res = await http().post('/invoices/test/send').set('Authorization', adminAuth).set('X-Request-Id', 'req-send-1').send({ invoiceXml: xml.toString('base64') });
      expect(res.status).toBe(200);
      const lines = k.log.lines.filter((l) => l.includes('"req-send-1"'));
      expect(lines.map((l) => JSON.parse(l).msg)).toEqual(expect.arrayContaining(['authenticated to KSeF', 'request completed']));
      for (const line of lines) expect(line.split('"requestId"').length - 1).toBe(1);
      // Lines of work no request asked for carry none.
      const loose = k.log.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'authenticated to KSeF' && !l.requestId);
      expect(loose).toEqual([]);
    });
  });

  describe('GET /metrics', () => {
    test('needs the API credentials', async () => {
      const res = await http().get('/metrics');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic/);
    });

    test('Prometheus text with every metric of ours and the process metrics', async () => {
      const res = await http().get('/metrics').set('Authorization', adminAuth);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      for (const name of [
        'http_request_duration_seconds',
        'fastksef_ksef_request_duration_seconds',
        'fastksef_outbox_invoices',
        'fastksef_outbox_oldest_queued_seconds',
        'fastksef_sync_lag_seconds',
        'fastksef_pdf_render_duration_seconds',
        'process_cpu_user_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_seconds',
      ]) {
        expect(res.text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
      }
      // Every environment and outbox status has a series, zeros included.
      expect(series(res.text, 'fastksef_outbox_invoices', { environment: 'prod', status: 'error' })).toBe(0);
      expect(series(res.text, 'fastksef_outbox_oldest_queued_seconds', { environment: 'demo' })).toBe(0);
    });

    test('a request counts under its operationId and status; a path outside the contract under `unknown`', async () => {
      const count = (text: string, operationId: string, status: string) => series(text, 'http_request_duration_seconds_count', { operationId, status }) ?? 0;
      const before = await scrape();
      await http().get('/admin/users').set('Authorization', adminAuth);
      await http().get('/admin/users').set('Authorization', adminAuth);
      await http().get('/invoices/test/5265877635-20250826-0100001AF629-AF/not-a-route').set('Authorization', adminAuth);
      const after = await scrape();
      expect(count(after, 'listUsers', '200') - count(before, 'listUsers', '200')).toBe(2);
      expect(count(after, 'unknown', '404') - count(before, 'unknown', '404')).toBe(1);
      // No raw path ever becomes a label.
      expect(after).not.toContain('5265877635-20250826-0100001AF629-AF');
    });

    test('KSeF calls count by environment, endpoint group and status', async () => {
      const count = (text: string) => series(text, 'fastksef_ksef_request_duration_seconds_count', { environment: 'test', endpoint: 'security', status: '200' }) ?? 0;
      const before = await scrape();
      const connection = await http().get('/ksef/test/connection').set('Authorization', adminAuth);
      expect(connection.body).toMatchObject({ available: true, authenticated: true });
      const after = await scrape();
      // The connection check fetches KSeF's public keys: one call to /security/public-key-certificates.
      expect(count(after) - count(before)).toBe(1);
      expect(series(after, 'fastksef_ksef_request_duration_seconds_count', { environment: 'test', endpoint: 'auth', status: '200' })).toBeGreaterThan(0);
    });

    test('a queued invoice shows in the outbox gauges, and leaves them once delivered', async () => {
      const queued = (text: string) => series(text, 'fastksef_outbox_invoices', { environment: 'test', status: 'queued' });
      expect(queued(await scrape())).toBe(0);
      await k.sandboxAdmin('POST', '/sandbox/faults/outage', { mode: 'refuse' });
      try {
        const res = await http().post('/invoices/test/send').set('Authorization', adminAuth).send({ invoiceXml: withNumber(example('vat.xml'), 'FV/METRICS/1').toString('base64') });
        expect(res.status).toBe(503);
        await new Promise((resolve) => setTimeout(resolve, 50));
        const during = await scrape();
        expect(queued(during)).toBe(1);
        expect(series(during, 'fastksef_outbox_oldest_queued_seconds', { environment: 'test' })).toBeGreaterThan(0);
      } finally {
        await k.sandboxAdmin('DELETE', '/sandbox/faults/outage');
      }
      const deadline = Date.now() + 20_000;
      while (queued(await scrape()) !== 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      const after = await scrape();
      expect(queued(after)).toBe(0);
      expect(series(after, 'fastksef_outbox_oldest_queued_seconds', { environment: 'test' })).toBe(0);
    });

    test('a PDF render is timed; a repeat from the cache is not a render', async () => {
      const renders = (text: string) => series(text, 'fastksef_pdf_render_duration_seconds_count', { outcome: 'ok' }) ?? 0;
      const before = renders(await scrape());
      const render = () => http().post('/invoices/render').set('Authorization', adminAuth).send({ invoiceXml: example('zal.xml').toString('base64'), docType: 'pdf' });
      expect((await render()).status).toBe(200);
      const once = renders(await scrape());
      expect(once - before).toBe(1);
      expect((await render()).status).toBe(200);
      expect(renders(await scrape())).toBe(once);
    });

    test('the sync lag appears per subject type once a sync succeeded', async () => {
      expect(series(await scrape(), 'fastksef_sync_lag_seconds', { environment: 'test', subject_type: 'Subject1' })).toBeUndefined();
      const sync = await syncToEnd(http());
      expect(sync.body.lastError).toBeNull();
      const text = await scrape();
      for (const subject_type of ['Subject1', 'Subject2']) {
        const lag = series(text, 'fastksef_sync_lag_seconds', { environment: 'test', subject_type });
        expect(lag).toBeGreaterThanOrEqual(0);
        expect(lag).toBeLessThan(60);
      }
    });
  });

  describe('GET /status/ready', () => {
    test('200 and every check named when all is well: database, migrations, Chromium, each KSeF environment in use', async () => {
      const res = await http().get('/status/ready');
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('ready');
      expect(res.body.checks.map((c: { name: string }) => c.name)).toEqual(['database', 'migrations', 'chromium', 'ksef:test']);
      expect(res.body.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
    });

    test('503 naming what fails: a KSeF environment on a closed port, a missing Chromium; no host in the answer, the cause in the log with the request id', async () => {
      const port = await closedPort();
      const log = new CapturedLog();
      const saved = process.env.CHROMIUM_PATH;
      process.env.CHROMIUM_PATH = '/nonexistent/chromium';
      let t: TestServer;
      try {
        t = await startTestServer({ env: { KSEF_TEST_URL: `http://127.0.0.1:${port}/v2`, OUTBOX_INTERVAL_MS: '0' }, logger: log.logger });
      } finally {
        if (saved === undefined) delete process.env.CHROMIUM_PATH;
        else process.env.CHROMIUM_PATH = saved;
      }
      try {
        const put = await t.http.put('/ksef/test/credentials').set('Authorization', adminAuth).send({ ksefToken: openModeToken('5265877635') });
        expect(put.status).toBe(200);
        const res = await t.http.get('/status/ready').set('X-Request-Id', 'ready-probe-1');
        expect(res.status).toBe(503);
        expect(res.body.status).toBe('not_ready');
        const byName = Object.fromEntries(res.body.checks.map((c: { name: string }) => [c.name, c]));
        expect(byName).toMatchObject({
          database: { ok: true },
          migrations: { ok: true },
          chromium: { ok: false, message: expect.stringContaining('Chromium not found at /nonexistent/chromium') },
          'ksef:test': { ok: false, message: 'KSeF test did not answer within 3000 ms or refused the call' },
        });
        expect(JSON.stringify(res.body)).not.toContain(String(port));
        const failed = log.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'readiness check failed');
        expect(failed).toEqual(
          expect.arrayContaining([expect.objectContaining({ requestId: 'ready-probe-1', check: 'ksef:test', error: expect.stringContaining(`127.0.0.1:${port}`) })]),
        );
        expect(t.conformance.violations).toEqual([]);
      } finally {
        await t.close();
      }
    });
  });
});
