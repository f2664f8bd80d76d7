import net from 'node:net';
import { adminAuth, startTestServer, type TestServer } from '../support/server.js';

/** Client mistakes that once reached the generic 500: each is a 4xx in our error shape, naming the problem. */
describe('bad input answers a 4xx in the JSON error shape', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  const expectClientError = (res: { status: number; body: any }, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.body.error).toMatchObject({ code });
    expect(typeof res.body.error.message).toBe('string');
  };

  test.each(['/invoices/test/%FF', '/invoices/test/%E0%A4%A/links', '/invoices/test/status/%C3%28'])('malformed percent-encoding in a path parameter: %s', async (path) => {
    const res = await t.http.get(path).set('Authorization', adminAuth);
    expectClientError(res, 400, 'validation_failed');
    expect(res.body.error.details).toEqual([{ path: 'path', message: 'malformed percent-encoding' }]);
  });

  test('a plain body sent as Content-Encoding: gzip', async () => {
    const res = await t.http
      .post('/invoices/validate')
      .set('Authorization', adminAuth)
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .send('{"invoiceXml":"PA=="}');
    expectClientError(res, 400, 'validation_failed');
    expect(res.body.error.details).toEqual([{ path: 'body', message: 'not valid for its Content-Encoding' }]);
  });

  test.each(['1e309', '99999999999999999999'])('a page number too large for any register: page=%s', async (page) => {
    const res = await t.http.get(`/invoices/test?page=${page}`).set('Authorization', adminAuth);
    expectClientError(res, 400, 'validation_failed');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain('query.page');
  });

  test('a Swagger asset path climbing out of its folder', async () => {
    const res = await t.http.get('/swagger/assets/%2e%2e/x');
    expectClientError(res, 404, 'not_found');
  });

  test('a setting holding U+0000 is refused and the setting is unchanged', async () => {
    const res = await t.http.put('/admin/config/api.date.format').set('Authorization', adminAuth).send({ value: 'yyyy\u0000' });
    expectClientError(res, 400, 'validation_failed');
    expect(res.body.error.details).toEqual([{ path: 'body.value', message: expect.stringContaining('control characters') }]);
    const after = await t.http.get('/admin/config/api.date.format').set('Authorization', adminAuth);
    expect(after.body.value).toBe('yyyy-MM-dd HH:mm:ss');
  });

  test('headers larger than Node accepts: 431 with our JSON body', async () => {
    const { port } = new URL(t.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write(`GET /status HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      });
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    const [head, body] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
    expect(head).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(body).error).toMatchObject({ code: 'headers_too_large' });
  });

  test.each([300, 10_000])('XML nested %d deep rendered as HTML', async (depth) => {
    const xml = `<?xml version="1.0"?>${'<a>'.repeat(depth)}x${'</a>'.repeat(depth)}`;
    const res = await t.http.post('/invoices/render').set('Authorization', adminAuth).send({ invoiceXml: Buffer.from(xml).toString('base64'), docType: 'html' });
    expectClientError(res, 400, 'validation_failed');
    expect(res.body.error.details).toEqual([{ path: 'body.invoiceXml', message: expect.any(String) }]);
  });

  test('every response above conforms to the contract', () => {
    expect(t.conformance.violations).toEqual([]);
  });
});
