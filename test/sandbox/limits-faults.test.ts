import got from 'got';
import { describeWithShared, readSample } from '../support/shared.js';
import { bearer, exceptionCode, json } from './support/http.js';
import { sendInvoiceRequest, Tokens } from './support/independent-client.js';
import { authenticatedSession, BUYER_NIP, FakeClock, openModeToken, SELLER_NIP, startTestSandbox, TestSandbox } from './support/sandbox.js';

describeWithShared('sandbox: rate limits', () => {
  const clock = new FakeClock(new Date());
  let t: TestSandbox;
  let tokens: Tokens;

  beforeAll(async () => {
    t = await startTestSandbox({ now: clock.now, rateLimits: 'published', faultsEnabled: true });
    tokens = await t.client.authenticate(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
  });
  afterAll(() => t.close());

  const listSessions = (token = tokens.accessToken, headers: Record<string, string> = {}) =>
    t.raw.get('sessions?sessionType=Online', { headers: { ...bearer(token), ...headers } });

  it('enforces the published per-second and per-minute limits of GET /sessions with Retry-After', async () => {
    for (let i = 0; i < 5; i++) expect((await listSessions()).statusCode).toBe(200);
    const perSecond = await listSessions();
    expect(perSecond.statusCode).toBe(429);
    expect(perSecond.headers['retry-after']).toBe('1');
    expect(json(perSecond)).toEqual({
      status: { code: 429, description: 'Too Many Requests', details: ['Przekroczono limit 5 żądań na sekundę. Spróbuj ponownie po 1 sekundach.'] },
    });

    clock.advance(1_000);
    for (let i = 0; i < 5; i++) expect((await listSessions()).statusCode).toBe(200);
    clock.advance(1_000);
    const perMinute = await listSessions(tokens.accessToken, { 'x-error-format': 'problem-details' });
    expect(perMinute.statusCode).toBe(429);
    // The 10 requests of this minute began 2 s ago: the oldest leaves the window in 58 s.
    expect(perMinute.headers['retry-after']).toBe('58');
    expect(perMinute.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(json(perMinute)).toMatchObject({
      title: 'Too Many Requests',
      status: 429,
      instance: '/v2/sessions',
      detail: 'Przekroczono limit 10 żądań na minutę. Spróbuj ponownie po 58 sekundach.',
    });

    // Counted per (context, client IP): another context still has its full budget.
    const other = await t.client.authenticate(openModeToken(BUYER_NIP), { type: 'Nip', value: BUYER_NIP });
    expect((await listSessions(other.accessToken)).statusCode).toBe(200);

    clock.advance(58_000);
    expect((await listSessions()).statusCode).toBe(200);
  });

  it('switches to a custom table and off at run time through the admin API', async () => {
    const custom = await t.admin.put('rate-limits', { json: { mode: 'custom', table: { invoiceSend: { perSecond: 2 } } } });
    expect(custom.body).toEqual({ mode: 'custom', table: { invoiceSend: { perSecond: 2 } } });
    const s = await authenticatedSession(t.client);
    const send = () =>
      t.raw.post(`sessions/online/${s.referenceNumber}/invoices`, { json: sendInvoiceRequest(s.keys, readSample('fa3-vat.xml')) as never, headers: bearer(s.tokens.accessToken) });
    expect((await send()).statusCode).toBe(202);
    expect((await send()).statusCode).toBe(202);
    expect((await send()).statusCode).toBe(429);
    for (let i = 0; i < 12; i++) expect((await listSessions(s.tokens.accessToken)).statusCode).toBe(200);

    const limits = json(await t.raw.get('rate-limits', { headers: bearer(s.tokens.accessToken) }));
    expect(limits.invoiceSend).toEqual({ perSecond: 2, perMinute: 1_000_000, perHour: 1_000_000 });

    expect((await t.admin.put('rate-limits', { json: { mode: 'off' } })).statusCode).toBe(200);
    expect((await send()).statusCode).toBe(202);
    const bad = await t.admin.put('rate-limits', { json: { mode: 'custom', table: { nonsense: { perSecond: 1 } } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.body.error).toBe('unknown rate limit group nonsense');
  });
});

describeWithShared('sandbox: fault injection (/sandbox admin API)', () => {
  let t: TestSandbox;
  let tokens: Tokens;

  beforeAll(async () => {
    t = await startTestSandbox({ faultsEnabled: true });
    tokens = await t.client.authenticate(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
  });
  afterEach(async () => {
    await t.admin.delete('faults');
  });
  afterAll(() => t.close());

  // Injected 5xx answers are not part of the KSeF contract: those requests skip the contract check.
  const status = () => t.raw.get('sessions?sessionType=Online', { headers: bearer(tokens.accessToken), context: { contract: 'off' } });

  it('refuses connections during an outage while the admin API keeps working', async () => {
    expect((await t.admin.post('faults/outage', { json: { mode: 'refuse' } })).statusCode).toBe(200);
    const error = await got(`${t.sandbox.apiUrl}/auth/challenge`, { method: 'POST', retry: 0, timeout: 5_000 }).catch((e: { code?: string }) => e);
    expect(['ECONNRESET', 'EPIPE', 'ECONNREFUSED']).toContain((error as { code?: string }).code);
    expect((await t.admin.get('state')).body.faults.outage).toEqual({ mode: 'refuse', until: null });
    await t.admin.delete('faults/outage');
    expect((await status()).statusCode).toBe(200);
  });

  it('answers 503 during a timed outage and recovers by itself', async () => {
    await t.admin.post('faults/outage', { json: { mode: '503', durationMs: 300 } });
    const down = await status();
    expect(down.statusCode).toBe(503);
    expect(json(down)).toMatchObject({ status: 503, title: 'Service Unavailable' });
    await new Promise((r) => setTimeout(r, 350));
    expect((await status()).statusCode).toBe(200);
  });

  it('adds latency to every request', async () => {
    await t.admin.post('faults/latency', { json: { ms: 300 } });
    const started = Date.now();
    expect((await status()).statusCode).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(295);
  });

  it('forces a number of 429s with the given Retry-After', async () => {
    await t.admin.post('faults/too-many-requests', { json: { count: 2, retryAfterSeconds: 7 } });
    for (let i = 0; i < 2; i++) {
      const limited = await status();
      expect(limited.statusCode).toBe(429);
      expect(limited.headers['retry-after']).toBe('7');
    }
    expect((await status()).statusCode).toBe(200);
  });

  it('fails exactly the n-th matching call with the given status', async () => {
    const s = await authenticatedSession(t.client);
    await t.admin.post('faults/fail-nth', { json: { method: 'GET', pathPattern: '/v2/sessions/{referenceNumber}', n: 2, status: 503 } });
    const get = () => t.raw.get(`sessions/${s.referenceNumber}`, { headers: bearer(s.tokens.accessToken), context: { contract: 'off' } });
    expect((await status()).statusCode).toBe(200); // another path: not counted
    expect((await get()).statusCode).toBe(200);
    const failed = await get();
    expect(failed.statusCode).toBe(503);
    expect(failed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((await get()).statusCode).toBe(200);
  });

  it('expires sessions and tokens on demand', async () => {
    const s = await authenticatedSession(t.client);
    const expired = await t.admin.post('expire', { json: { what: 'sessions' } });
    expect(expired.body.expired).toBeGreaterThanOrEqual(1);
    const closed = await t.client.waitForSession(s.tokens.accessToken, s.referenceNumber);
    expect(closed.status).toMatchObject({ code: 440, details: ['Nie przesłano faktur'] });
    const late = await t.raw.post(`sessions/online/${s.referenceNumber}/invoices`, {
      json: sendInvoiceRequest(s.keys, readSample('fa3-vat.xml')) as never,
      headers: bearer(s.tokens.accessToken),
    });
    expect(exceptionCode(late)).toBe(21180);

    await t.admin.post('expire', { json: { what: 'tokens' } });
    const denied = await t.raw.get('sessions?sessionType=Online', { headers: bearer(s.tokens.accessToken) });
    expect(denied.statusCode).toBe(401);
    expect((await t.raw.post('auth/token/refresh', { headers: bearer(s.tokens.refreshToken) })).statusCode).toBe(401);
    tokens = await t.client.authenticate(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
  });

  it('resets faults, and with data: true everything the sandbox stored', async () => {
    const s = await authenticatedSession(t.client);
    await t.admin.post('faults/latency', { json: { ms: 10 } });
    const reset = await t.admin.post('reset', { json: {} });
    expect(reset.body.faults).toEqual({ outage: null, latencyMs: 0, tooManyRequests: null, failNth: [], answerDelay: null });
    expect((await t.client.sessionStatus(s.tokens.accessToken, s.referenceNumber)).status.code).toBe(100);
    const wiped = await t.admin.post('reset', { json: { data: true } });
    expect(wiped.body.counts.sessions).toEqual({ online: 0, batch: 0, open: 0 });
    expect((await t.raw.get(`sessions/${s.referenceNumber}`, { headers: bearer(s.tokens.accessToken) })).statusCode).toBe(401);
    tokens = await t.client.authenticate(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
  });

  it('rejects bad admin input with 400 and is absent unless enabled', async () => {
    const bad = await t.admin.post('faults/outage', { json: { mode: 'sometimes' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toEqual({ error: "mode must be 'refuse' or '503'" });
    const plain = await startTestSandbox();
    try {
      expect((await plain.admin.get('state')).statusCode).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
