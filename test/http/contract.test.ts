import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ResponseConformance, adminAuth, startTestServer, type TestServer } from '../support/server.js';

const spec = YAML.parse(fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'spec', 'openapi.yaml'), 'utf8'));

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ env: { BODY_LIMIT: '64kb' } });
});
afterAll(() => t.close());
afterEach(() => expect(t.conformance.violations).toEqual([]));

const KSEF_NUMBER = '5265877635-20250826-0100001AF629-AF';

describe('the contract', () => {
  test('every route of API.md has an operationId, a tag and a summary', () => {
    const ops = Object.entries<any>(spec.paths).flatMap(([p, item]) =>
      ['get', 'put', 'post', 'delete'].filter((m) => item[m]).map((m) => ({ route: `${m.toUpperCase()} ${p}`, ...item[m] })),
    );
    for (const op of ops) {
      expect({ route: op.route, ok: Boolean(op.operationId && op.tags?.length && op.summary) }).toEqual({ route: op.route, ok: true });
    }
    const routes = ops.map((o) => o.route);
    expect(routes).toEqual(
      expect.arrayContaining([
        'GET /status',
        'GET /status/ready',
        'GET /metrics',
        'GET /openapi.json',
        'GET /swagger',
        'POST /invoices/{environment}/send',
        'GET /invoices/{environment}/{ksefNumber}',
        'GET /invoices/{environment}/status/{referenceNumber}',
        'GET /invoices/{environment}/status/{referenceNumber}/{ksefNumber}/upo',
        'GET /invoices/{environment}/offline',
        'GET /invoices/{environment}/offline/{id}',
        'POST /invoices/{environment}/offline/send-batch',
        'GET /invoices/{environment}',
        'POST /invoices/{environment}/sync',
        'GET /invoices/{environment}/sync',
        'PUT /invoices/{environment}/sync/settings',
        'GET /invoices/{environment}/{ksefNumber}/links',
        'POST /invoices/validate',
        'POST /invoices/render',
        'GET /ksef/{environment}/connection',
        'GET /ksef/{environment}/simulation',
        'PUT /ksef/{environment}/simulation',
        'GET /ksef/{environment}/credentials',
        'PUT /ksef/{environment}/credentials',
        'GET /admin/config/{key}',
        'PUT /admin/config/{key}',
        'GET /admin/users',
        'POST /admin/users',
        'DELETE /admin/users/{id}',
      ]),
    );
  });

  test('GET /openapi.json is the spec, public', async () => {
    const res = await t.http.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(spec);
  });

  test('GET /swagger serves the UI and its assets locally (no internet needed)', async () => {
    const page = await t.http.get('/swagger');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets).toEqual(['/swagger/assets/swagger-ui.css', '/swagger/assets/swagger-ui-bundle.js', '/swagger/assets/swagger-ui-standalone-preset.js', '/swagger/init.js']);
    expect(page.text).not.toMatch(/https?:\/\//);
    const bundle = await t.http.get('/swagger/assets/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    expect(bundle.text.length).toBeGreaterThan(100_000);
    const init = await t.http.get('/swagger/init.js');
    expect(init.text).toContain("url: '/openapi.json'");
  });
});

describe('routing and validation', () => {
  test('static segments win over {ksefNumber}: /invoices/test/offline is the offline queue', async () => {
    const res = await t.http.get('/invoices/test/offline').set('Authorization', adminAuth);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ invoices: [], totalCount: 0 });
    const sync = await t.http.get('/invoices/test/sync').set('Authorization', adminAuth);
    expect(sync.status).toBe(200);
    expect(sync.body).toMatchObject({ environment: 'test', running: false });
  });

  test('a KSeF number that does not match the pattern → 400 naming the parameter', async () => {
    const res = await t.http.get('/invoices/test/not-a-ksef-number').set('Authorization', adminAuth);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toContainEqual({ path: 'path.ksefNumber', message: 'has an invalid format (got "not-a-ksef-number")' });
  });

  test('unknown environment → 400 that names the value', async () => {
    const res = await t.http.get('/ksef/staging/connection').set('Authorization', adminAuth);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'path.environment', message: 'must be one of test, demo, prod (got "staging")' }]);
    expect(res.body.error.message).toContain('staging');
  });

  test('validation errors name every failing field', async () => {
    const res = await t.http.post('/admin/users').set('Authorization', adminAuth).send({ email: 'not-an-email', password: 'short', role: 'boss', extra: 1 });
    expect(res.status).toBe(400);
    const paths = res.body.error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(['body.email', 'body.extra', 'body.password', 'body.role']);
    expect(res.body.error.details.find((d: { path: string }) => d.path === 'body.role').message).toBe('must be one of admin, technical (got "boss")');
  });

  test('a missing required field is named', async () => {
    const res = await t.http.post('/invoices/test/send').set('Authorization', adminAuth).send({ mode: 'online' });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'body.invoiceXml', message: 'is required' }]);
  });

  test('bad base64 → 400 naming the field', async () => {
    const res = await t.http.post('/invoices/test/send').set('Authorization', adminAuth).send({ invoiceXml: 'not base64!!' });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe('body.invoiceXml');
  });

  test('a query parameter outside its enum → 400', async () => {
    const res = await t.http.get(`/invoices/test/${KSEF_NUMBER}?docType=docx`).set('Authorization', adminAuth);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'query.docType', message: 'must be one of xml, pdf, qr (got "docx")' }]);
  });

  test('invalid JSON → 400', async () => {
    const res = await t.http.post('/invoices/validate').set('Authorization', adminAuth).set('Content-Type', 'application/json').send('{"invoiceXml": ');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/not valid JSON/);
  });

  test('a body over the limit → 413', async () => {
    const res = await t.http.post('/invoices/validate').set('Authorization', adminAuth).send({ invoiceXml: 'A'.repeat(100_000) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  test('a body that is not JSON → 415', async () => {
    const res = await t.http.post('/invoices/validate').set('Authorization', adminAuth).set('Content-Type', 'application/xml').send('<Faktura/>');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  test('an unknown route → 404 in the error shape', async () => {
    const res = await t.http.get('/nothing/here').set('Authorization', adminAuth);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  test('no stack traces reach clients', async () => {
    const res = await t.http.post('/invoices/validate').set('Authorization', adminAuth).set('Content-Type', 'application/json').send('{');
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/);
  });
});

describe('response conformance checking', () => {
  test('a body that breaks the spec is reported', async () => {
    const conformance = new ResponseConformance();
    await conformance.init();
    conformance.check({ method: 'GET', path: '/status' }, 200, { status: 'ok' });
    conformance.check({ method: 'GET', path: '/admin/users' }, 418, { users: [] });
    expect(conformance.violations).toHaveLength(2);
    conformance.check({ method: 'GET', path: '/admin/users' }, 200, { users: [] });
    expect(conformance.violations).toHaveLength(2);
  });
});
