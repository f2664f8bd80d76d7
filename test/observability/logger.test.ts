import os from 'node:os';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';

/** A logger writing into memory: the bytes that would reach stdout. */
function capture(level: 'debug' | 'info' | 'warn' = 'debug') {
  const chunks: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => void chunks.push(line) } });
  return { logger, text: () => chunks.join(''), lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l)) };
}

const KSEF_TOKEN = '20260101-EC-0123456789-ABCDEF0123-00|nip-5265877635|c0ffee0123456789c0ffee0123456789';
const PASSWORD = 'hunter2-very-secret';
const BEARER = 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
const PRIVATE_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
const COOKIE = 'session=s3cr3t-cookie-value';

describe('the logger (pino)', () => {
  test("writes pino's shape: level, time, pid, hostname, msg, then the fields", () => {
    const log = capture();
    log.logger.info({ environment: 'test', invoices: 3 }, 'opened a session');
    const [line] = log.lines();
    expect(line).toEqual({ level: 30, time: expect.any(Number), pid: process.pid, hostname: os.hostname(), environment: 'test', invoices: 3, msg: 'opened a session' });
  });

  test('never writes a secret, whatever the field is called or how deep it is', () => {
    const log = capture();
    const err = Object.assign(new Error('KSeF refused'), { options: { headers: { authorization: BEARER } } });
    log.logger.warn(
      {
        ksefToken: KSEF_TOKEN,
        password: PASSWORD,
        credentials: { nested: { deeper: { ADMIN_PASSWORD: PASSWORD, privateKey: PRIVATE_KEY, offline_private_key: PRIVATE_KEY } } },
        headers: [{ Authorization: BEARER, cookie: COOKIE, 'set-cookie': [COOKIE] }],
        accessToken: { token: BEARER },
        err,
        keep: 'visible',
      },
      'a call failed',
    );
    // A request or response is reduced by pino's serializers (no raw headers, no body); redact masks its credential headers.
    const req = { method: 'GET', url: '/admin/users', headers: { authorization: BEARER, cookie: COOKIE }, rawHeaders: ['Authorization', BEARER], body: { password: PASSWORD } };
    log.logger.info({ req, res: { statusCode: 200, headersSent: true, getHeaders: () => ({ 'set-cookie': COOKIE }) } }, 'request');
    log.logger.child({ requestId: 'r-1', refreshToken: BEARER }).error({ secret: KSEF_TOKEN }, 'child');
    const text = log.text();
    for (const secret of [KSEF_TOKEN, 'c0ffee0123456789', PASSWORD, BEARER, 'eyJhbGciOiJSUzI1NiJ9', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 's3cr3t-cookie-value']) {
      expect(text).not.toContain(secret);
    }
    const [warn, request, child] = log.lines();
    expect(warn).toMatchObject({ ksefToken: '[redacted]', password: '[redacted]', keep: 'visible', headers: [{ Authorization: '[redacted]', cookie: '[redacted]', 'set-cookie': '[redacted]' }] });
    expect(warn.credentials.nested.deeper).toEqual({ ADMIN_PASSWORD: '[redacted]', privateKey: '[redacted]', offline_private_key: '[redacted]' });
    // An Error keeps what tells what happened; only its secret fields go.
    expect(warn.err).toMatchObject({ type: 'Error', message: 'KSeF refused', stack: expect.stringContaining('Error: KSeF refused'), options: { headers: { authorization: '[redacted]' } } });
    expect(request.req).toEqual({ method: 'GET', url: '/admin/users', headers: { authorization: '[redacted]', cookie: '[redacted]' } });
    expect(request.res).toEqual({ statusCode: 200, headers: { 'set-cookie': '[redacted]' } });
    expect(child).toMatchObject({ requestId: 'r-1', refreshToken: '[redacted]', secret: '[redacted]', msg: 'child' });
  });

  test('a value nested deeper than anyone reads is dropped, not written unchecked', () => {
    const log = capture();
    let deep: Record<string, unknown> = { token: KSEF_TOKEN };
    for (let i = 0; i < 20; i++) deep = { level: deep };
    log.logger.info({ deep }, 'deep');
    expect(log.text()).not.toContain(KSEF_TOKEN);
    expect(log.text()).toContain('[too deep]');
  });

  test('LOG_LEVEL chooses the level by name; an unknown name is refused at start', () => {
    expect(loadConfig({}).logLevel).toBe('info');
    expect(loadConfig({ LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).toThrow('LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "verbose"');
    const log = capture('warn');
    log.logger.info('not written');
    log.logger.warn('written');
    expect(log.lines().map((l) => l.msg)).toEqual(['written']);
  });
});
