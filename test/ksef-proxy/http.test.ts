import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config.js';
import { KsefRateLimitedError, KsefRejectedError, KsefServerError, KsefTimeoutError, KsefUnavailableError } from '../../src/ksef-proxy/errors.js';
import { KsefHttp, type RetryPolicy } from '../../src/ksef-proxy/transport/http.js';
import { PUBLISHED_LIMITS, RateLimiter } from '../../src/ksef-proxy/transport/limiter.js';
import { silentLogger } from '../../src/logger.js';

/** The KSeF HTTP client's contract: timeouts, bounded retries only where safe, Retry-After, error kinds. */

type Scripted = { status: number; headers?: Record<string, string>; body?: unknown; delayMs?: number };

describe('KsefHttp against a scripted server', () => {
  let server: http.Server;
  let url: string;
  let script: Scripted[] = [];
  let calls: number[] = [];

  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      calls.push(Date.now());
      const step = script.shift() ?? { status: 200, body: {} };
      setTimeout(() => {
        res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
        res.end(JSON.stringify(step.body ?? {}));
      }, step.delayMs ?? 0);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    script = [];
    calls = [];
  });

  const client = (env: Record<string, string> = {}, sleeps: number[] = []) =>
    new KsefHttp({
      environment: 'test',
      config: loadConfig({ KSEF_TEST_URL: url, KSEF_TIMEOUT_MS: '1000', KSEF_MAX_ATTEMPTS: '3', ...env }).ksef,
      limiter: new RateLimiter(false),
      logger: silentLogger,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
  const get = (c: KsefHttp, retry: RetryPolicy = 'idempotent') => c.request({ method: 'GET', path: '/x', group: 'other', scope: 'c', retry });

  it("waits exactly KSeF's Retry-After on 429 (plus a little jitter), then succeeds", async () => {
    const sleeps: number[] = [];
    script = [{ status: 429, headers: { 'retry-after': '7' } }, { status: 200, body: { ok: true } }];
    const res = await get(client({}, sleeps), 'once');
    expect(res.json()).toEqual({ ok: true });
    expect(calls).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(7_000);
    expect(sleeps[0]).toBeLessThan(7_250);
  });

  it('gives up after the bounded attempts and reports the rate limit with its Retry-After', async () => {
    script = [429, 429, 429, 429].map((status) => ({ status, headers: { 'retry-after': '2' } }));
    await expect(get(client())).rejects.toMatchObject({ constructor: KsefRateLimitedError, retryAfterSeconds: 2 });
    expect(calls).toHaveLength(3);
  });

  it('does not wait for a Retry-After longer than allowed: 429 to the caller at once', async () => {
    script = [{ status: 429, headers: { 'retry-after': '3600' } }];
    await expect(get(client())).rejects.toBeInstanceOf(KsefRateLimitedError);
    expect(calls).toHaveLength(1);
  });

  it('retries a 5xx only where a retry is safe, with growing jittered backoff', async () => {
    const sleeps: number[] = [];
    script = [{ status: 500 }, { status: 502 }, { status: 200 }];
    await get(client({}, sleeps), 'idempotent');
    expect(calls).toHaveLength(3);
    expect(sleeps.every((ms) => ms >= 0 && ms <= 5_000)).toBe(true);

    calls = [];
    script = [{ status: 500 }, { status: 200 }];
    await expect(get(client(), 'once')).rejects.toMatchObject({ constructor: KsefServerError, status: 500 });
    expect(calls).toHaveLength(1);
  });

  it('maps 503 to unavailable and a slow answer to a timeout', async () => {
    script = [{ status: 503 }, { status: 503 }, { status: 503 }];
    await expect(get(client())).rejects.toBeInstanceOf(KsefUnavailableError);
    script = [{ status: 200, delayMs: 1_500 }];
    await expect(get(client({ KSEF_MAX_ATTEMPTS: '1' }))).rejects.toBeInstanceOf(KsefTimeoutError);
  });

  it("reads KSeF's 400 ExceptionResponse and problem+json bodies into codes, without retrying", async () => {
    script = [{ status: 400, body: { exception: { exceptionDetailList: [{ exceptionCode: 21405, exceptionDescription: 'Błąd walidacji', details: ['x'] }] } } }];
    await expect(get(client())).rejects.toMatchObject({ constructor: KsefRejectedError, httpStatus: 400, entries: [{ code: 21405, description: 'Błąd walidacji', details: ['x'] }] });
    expect(calls).toHaveLength(1);
    script = [{ status: 401, body: { title: 'Unauthorized', status: 401, detail: 'Token expired' } }];
    await expect(get(client())).rejects.toMatchObject({ httpStatus: 401, entries: [{ code: 401, description: 'Token expired' }] });
  });

  it('reports a refused connection as unavailable', async () => {
    const c = new KsefHttp({
      environment: 'demo',
      config: loadConfig({ KSEF_DEMO_URL: 'http://127.0.0.1:1/v2', KSEF_MAX_ATTEMPTS: '2' }).ksef,
      limiter: new RateLimiter(false),
      logger: silentLogger,
      sleep: async () => {},
    });
    await expect(c.request({ method: 'POST', path: '/x', group: 'other', scope: 'c', retry: 'once' })).rejects.toThrow(/cannot be reached: ECONNREFUSED/);
    // No connection was ever made: KSeF cannot have received it (a backlog may then go by batch session).
    await expect(c.request({ method: 'POST', path: '/x', group: 'other', scope: 'c', retry: 'once' })).rejects.toMatchObject({ neverReceived: true });
  });

  it('says a failed call was never received only when every attempt was refused (503, 429), not after a timeout or another answer', async () => {
    script = [{ status: 503 }, { status: 429, headers: { 'retry-after': '0' } }, { status: 503 }];
    await expect(get(client())).rejects.toMatchObject({ constructor: KsefUnavailableError, neverReceived: true });
    script = [{ status: 200, delayMs: 1_500 }, { status: 503 }, { status: 503 }];
    await expect(get(client())).rejects.toMatchObject({ constructor: KsefUnavailableError, neverReceived: false });
    script = [{ status: 502 }, { status: 503 }, { status: 503 }];
    await expect(get(client())).rejects.toMatchObject({ constructor: KsefUnavailableError, neverReceived: false });
    script = [{ status: 400, body: {} }];
    await expect(get(client())).rejects.toMatchObject({ constructor: KsefRejectedError, neverReceived: false });
  });
});

describe('RateLimiter (published limits, sliding windows)', () => {
  it('lets calls through up to each window and then waits exactly until the oldest leaves it', async () => {
    let now = 0;
    const waits: number[] = [];
    const limiter = new RateLimiter(true, () => now, async (ms) => {
      waits.push(ms);
      now += ms;
    });
    const [perSecond, perMinute] = PUBLISHED_LIMITS.invoiceSend; // 10 / s, 30 / min
    for (let i = 0; i < perSecond; i++) await limiter.acquire('company|test', 'invoiceSend');
    expect(waits).toEqual([]);
    await limiter.acquire('company|test', 'invoiceSend');
    expect(waits).toEqual([1_001]);
    for (let i = perSecond + 1; i < perMinute; i++) await limiter.acquire('company|test', 'invoiceSend');
    waits.length = 0;
    await limiter.acquire('company|test', 'invoiceSend');
    // The 31st call in a minute waits for the first to be 60 s old.
    expect(now).toBeGreaterThanOrEqual(60_000);
    // Other companies and other groups have their own windows.
    const before = now;
    await limiter.acquire('other|test', 'invoiceSend');
    await limiter.acquire('company|test', 'invoiceStatus');
    expect(now).toBe(before);
  });

  it("tells how long the next export start would wait: nothing within KSeF's 20 an hour, then until the first leaves the hour", async () => {
    let now = 0;
    const limiter = new RateLimiter(true, () => now, async (ms) => {
      now += ms;
    });
    const delays: number[] = [];
    for (let i = 0; i < 20; i++) {
      delays.push(limiter.delay('company|test', 'invoiceExport'));
      await limiter.acquire('company|test', 'invoiceExport');
    }
    // 8 a second, 16 a minute, 20 an hour: the 9th waits a second, the 17th the rest of the minute…
    expect(delays).toEqual([...Array(8).fill(0), 1_001, ...Array(7).fill(0), 59_000, 0, 0, 0]);
    // …and the 21st for the first to be an hour old.
    const wait = limiter.delay('company|test', 'invoiceExport');
    expect(now + wait).toBe(3_600_001);
    expect(limiter.delay('other|test', 'invoiceExport')).toBe(0);
  });

  it('does nothing when off', async () => {
    const limiter = new RateLimiter(false, () => 0, async () => {
      throw new Error('must not wait');
    });
    for (let i = 0; i < 1_000; i++) await limiter.acquire('c', 'invoiceSend');
  });
});
