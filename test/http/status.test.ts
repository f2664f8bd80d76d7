import { startTestServer, type TestServer } from '../support/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());
afterEach(() => expect(t.conformance.violations).toEqual([]));

describe('GET /status', () => {
  test('200 with the database up, no credentials needed', async () => {
    const res = await t.http.get('/status');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', version: '0.1.0', database: { status: 'up', kind: process.env.DATABASE_URL ? 'postgres' : 'pglite' } });
    expect(res.body.uptimeSeconds).toBeGreaterThanOrEqual(0);
  });

  test('503 when the database is down', async () => {
    await t.server.services.database.close();
    const res = await t.http.get('/status');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'degraded', database: { status: 'down', latencyMs: null } });
  });
});
