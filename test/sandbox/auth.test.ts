import { describeWithShared } from '../support/shared.js';
import { bearer, exceptionCode, exceptionDetails, json } from './support/http.js';
import { rsaOaepEncrypt } from './support/independent-client.js';
import { FakeClock, openModeToken, OTHER_NIP, SELLER_NIP, startTestSandbox, TestSandbox } from './support/sandbox.js';

const ctx = (value = SELLER_NIP) => ({ type: 'Nip' as const, value });

describeWithShared('sandbox: authentication with a KSeF token', () => {
  const clock = new FakeClock(new Date());
  let t: TestSandbox;

  beforeAll(async () => {
    t = await startTestSandbox({ now: clock.now, faultsEnabled: true });
  });
  afterAll(() => t.close());

  async function failedAuth(token: string, context = ctx()) {
    const started = await t.client.startTokenAuth(token, context);
    return t.client.waitForAuth(started.referenceNumber, started.authenticationToken.token);
  }

  it('serves two RSA certificates whose ids are the SHA-256 of the DER certificate and of its public key', async () => {
    const certs = await t.client.publicKeyCertificates();
    expect(certs.map((c) => c.usage)).toEqual([['KsefTokenEncryption'], ['SymmetricKeyEncryption']]);
    const { X509Certificate, createHash } = await import('node:crypto');
    for (const c of certs) {
      const der = Buffer.from(c.certificate, 'base64');
      const x509 = new X509Certificate(der);
      expect(createHash('sha256').update(der).digest('base64')).toBe(c.certificateId);
      const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
      expect(createHash('sha256').update(spki).digest('base64')).toBe(c.publicKeyId);
      expect(x509.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    }
  });

  it('issues a challenge in the auth XSD format with the time in ms and the client IP', async () => {
    const ch = await t.client.challenge();
    expect(ch.challenge).toMatch(/^\d{8}-CR-[A-F0-9]{10}-[A-F0-9]{10}-[A-F0-9]{2}$/);
    expect(ch.timestampMs).toBe(Date.parse(ch.timestamp));
    expect(ch.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}\+00:00$/);
    expect(ch.clientIp).toBe('127.0.0.1');
  });

  it('authenticates an open-mode token, redeems once, and refuses a second redeem with 21301', async () => {
    const started = await t.client.startTokenAuth(openModeToken(SELLER_NIP), ctx());
    expect(await t.client.waitForAuth(started.referenceNumber, started.authenticationToken.token)).toEqual({
      code: 200,
      description: 'Uwierzytelnianie zakończone sukcesem',
    });
    const first = await t.raw.post('auth/token/redeem', { headers: bearer(started.authenticationToken.token) });
    expect(first.statusCode).toBe(200);
    const again = await t.raw.post('auth/token/redeem', { headers: bearer(started.authenticationToken.token) });
    expect(again.statusCode).toBe(400);
    expect(exceptionCode(again)).toBe(21301);
    expect(exceptionDetails(again)[0]).toContain('zostały już pobrane');
  });

  it('rejects a token that is not in the official shape with status 450 "Nieprawidłowy token"', async () => {
    const status = await failedAuth('not-a-ksef-token');
    expect(status.code).toBe(450);
    expect(status.details).toEqual(['Nieprawidłowy token']);
  });

  it('rejects a token for another context with 415 "Brak przypisanych uprawnień"', async () => {
    const status = await failedAuth(openModeToken(OTHER_NIP), ctx(SELLER_NIP));
    expect(status).toMatchObject({ code: 415, details: ['Brak przypisanych uprawnień'] });
  });

  it('rejects a token encrypted with a timestamp other than the challenge\'s with "Nieprawidłowy czas tokena"', async () => {
    const ch = await t.client.challenge();
    const started = await t.client.startTokenAuth(openModeToken(SELLER_NIP), ctx(), { ...ch, timestampMs: ch.timestampMs - 1 });
    const status = await t.client.waitForAuth(started.referenceNumber, started.authenticationToken.token);
    expect(status).toMatchObject({ code: 450, details: ['Nieprawidłowy czas tokena'] });
    const redeem = await t.raw.post('auth/token/redeem', { headers: bearer(started.authenticationToken.token) });
    expect(exceptionCode(redeem)).toBe(21301);
  });

  it('refuses a used, an unknown and an expired challenge with 21111', async () => {
    const ch = await t.client.challenge();
    await t.client.startTokenAuth(openModeToken(SELLER_NIP), ctx(), ch);
    const reused = await t.client.startTokenAuth(openModeToken(SELLER_NIP), ctx(), ch).catch((e) => e.response);
    expect(exceptionCode(reused)).toBe(21111);

    const unknown = await t.client
      .startTokenAuth(openModeToken(SELLER_NIP), ctx(), { challenge: '20260101-CR-0000000000-0000000000-00', timestampMs: ch.timestampMs })
      .catch((e) => e.response);
    expect(exceptionCode(unknown)).toBe(21111);

    const old = await t.client.challenge();
    clock.advance(10 * 60_000 + 1);
    const expired = await t.client.startTokenAuth(openModeToken(SELLER_NIP), ctx(), old).catch((e) => e.response);
    expect(exceptionCode(expired)).toBe(21111);
    expect(exceptionDetails(expired)).toEqual(['Wyzwanie wygasło.']);
  });

  it('refuses an unknown publicKeyId with 21470', async () => {
    const ch = await t.client.challenge();
    const cert = await t.client.certificateFor('KsefTokenEncryption');
    const response = await t.raw.post('auth/ksef-token', {
      json: {
        challenge: ch.challenge,
        contextIdentifier: ctx(),
        encryptedToken: rsaOaepEncrypt(cert.certificate, Buffer.from(`${openModeToken(SELLER_NIP)}|${ch.timestampMs}`)).toString('base64'),
        publicKeyId: Buffer.alloc(32, 7).toString('base64'),
      },
    });
    expect(response.statusCode).toBe(400);
    expect(exceptionCode(response)).toBe(21470);
  });

  it('answers 21405 naming the field, in both error formats, and for malformed JSON', async () => {
    const missing = await t.raw.post('auth/ksef-token', { json: { challenge: 'x'.repeat(36), encryptedToken: 'AAAA' } });
    expect(exceptionCode(missing)).toBe(21405);
    expect(exceptionDetails(missing)).toEqual(['contextIdentifier: is required']);

    const problem = await t.raw.post('auth/ksef-token', {
      json: { challenge: 'x', contextIdentifier: { type: 'Nip', value: '123' }, encryptedToken: 'not base64!' },
      headers: { 'x-error-format': 'problem-details' },
    });
    expect(problem.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = json(problem);
    expect(body).toMatchObject({ status: 400, title: 'Bad Request', instance: '/v2/auth/ksef-token' });
    expect(body.errors[0].code).toBe(21405);
    expect(body.errors[0].details).toEqual([
      'challenge: must be exactly 36 characters',
      'contextIdentifier.value: is not a valid Nip identifier',
      'encryptedToken: must be standard Base64 with padding',
    ]);

    const malformed = await t.raw.post('auth/ksef-token', { body: '{"challenge": ', headers: { 'content-type': 'application/json' } });
    expect(malformed.statusCode).toBe(400);
    expect(exceptionCode(malformed)).toBe(21405);
    expect(exceptionDetails(malformed)[0]).toMatch(/^body: invalid JSON/);
  });

  it('reports 100 until authDelayMs has passed on the injected clock, and refuses to redeem meanwhile', async () => {
    const slow = await startTestSandbox({ now: clock.now, authDelayMs: 5_000 });
    try {
      const started = await slow.client.startTokenAuth(openModeToken(SELLER_NIP), ctx());
      const status = await slow.raw.get(`auth/${started.referenceNumber}`, { headers: bearer(started.authenticationToken.token) });
      expect(json(status).status).toEqual({ code: 100, description: 'Uwierzytelnianie w toku' });
      const early = await slow.raw.post('auth/token/redeem', { headers: bearer(started.authenticationToken.token) });
      expect(exceptionDetails(early)).toEqual(['Status uwierzytelniania (100) nie pozwala na pobranie tokenów.']);
      clock.advance(5_000);
      expect((await slow.client.waitForAuth(started.referenceNumber, started.authenticationToken.token)).code).toBe(200);
    } finally {
      await slow.close();
    }
  });

  it('answers 401 problem+json for a missing, foreign, wrong-kind and expired bearer', async () => {
    const tokens = await t.client.authenticate(openModeToken(SELLER_NIP), ctx());
    const none = await t.raw.get('sessions?sessionType=Online');
    expect(none.statusCode).toBe(401);
    expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(json(none)).toMatchObject({ status: 401, title: 'Unauthorized' });

    const forged = await t.raw.get('sessions?sessionType=Online', { headers: bearer(`${tokens.accessToken.slice(0, -4)}AAAA`) });
    expect(forged.statusCode).toBe(401);
    const wrongKind = await t.raw.get('sessions?sessionType=Online', { headers: bearer(tokens.refreshToken) });
    expect(wrongKind.statusCode).toBe(401);
    expect(json(wrongKind).detail).toContain('accessToken');

    expect((await t.raw.get('sessions?sessionType=Online', { headers: bearer(tokens.accessToken) })).statusCode).toBe(200);
    clock.advance(900_000);
    const expired = await t.raw.get('sessions?sessionType=Online', { headers: bearer(tokens.accessToken) });
    expect(expired.statusCode).toBe(401);
    expect(json(expired).detail).toBe('Token wygasł.');

    const refreshed = await t.raw.post('auth/token/refresh', { headers: bearer(tokens.refreshToken) });
    expect(refreshed.statusCode).toBe(200);
    const fresh = json(refreshed).accessToken.token as string;
    expect((await t.raw.get('sessions?sessionType=Online', { headers: bearer(fresh) })).statusCode).toBe(200);
  });

  it('lists auth sessions and revokes them: the refresh token dies, the access token lives until it expires', async () => {
    const tokens = await t.client.authenticate(openModeToken(SELLER_NIP), ctx());
    const list = json(await t.raw.get('auth/sessions', { headers: bearer(tokens.accessToken) }));
    const current = list.items.find((i: { referenceNumber: string }) => i.referenceNumber === tokens.referenceNumber);
    expect(current).toMatchObject({ isCurrent: true, isTokenRedeemed: true, status: { code: 200 } });

    expect((await t.raw.delete('auth/sessions/current', { headers: bearer(tokens.accessToken) })).statusCode).toBe(204);
    expect((await t.raw.post('auth/token/refresh', { headers: bearer(tokens.refreshToken) })).statusCode).toBe(401);
    expect((await t.raw.get('sessions?sessionType=Online', { headers: bearer(tokens.accessToken) })).statusCode).toBe(200);
  });

  it('enforces the authorization policy IP allow-list with 403 ip-not-allowed', async () => {
    const ch = await t.client.challenge();
    const cert = await t.client.certificateFor('KsefTokenEncryption');
    const started = await t.client.call<{ referenceNumber: string; authenticationToken: { token: string } }>('POST', 'auth/ksef-token', {
      json: {
        challenge: ch.challenge,
        contextIdentifier: ctx(),
        encryptedToken: rsaOaepEncrypt(cert.certificate, Buffer.from(`${openModeToken(SELLER_NIP)}|${ch.timestampMs}`)).toString('base64'),
        authorizationPolicy: { allowedIps: { ip4Addresses: ['10.1.2.3'], ip4Masks: ['192.168.0.0/16'] } },
      },
      expected: 202,
    });
    await t.client.waitForAuth(started.referenceNumber, started.authenticationToken.token);
    const tokens = await t.client.call<{ accessToken: { token: string } }>('POST', 'auth/token/redeem', { bearer: started.authenticationToken.token, expected: 200 });
    const denied = await t.raw.get('sessions?sessionType=Online', { headers: bearer(tokens.accessToken.token) });
    expect(denied.statusCode).toBe(403);
    expect(json(denied)).toMatchObject({ reasonCode: 'ip-not-allowed', security: { clientIp: '127.0.0.1' } });
  });

  it('echoes X-Test-System-Warning into X-System-Warning', async () => {
    const response = await t.raw.post('auth/challenge', { headers: { 'x-test-system-warning': '[1]: planned maintenance' } });
    expect(response.headers['x-system-warning']).toBe('[1]: planned maintenance');
  });

  describe('KSeF tokens (POST/GET/DELETE /tokens) and strict mode', () => {
    let strict: TestSandbox;
    beforeAll(async () => {
      strict = await startTestSandbox({ tokenMode: 'strict', faultsEnabled: true });
    });
    afterAll(() => strict.close());

    it('refuses open-mode tokens but accepts a token registered through the admin API, for its context only', async () => {
      const unregistered = await strict.client.startTokenAuth(openModeToken(SELLER_NIP), ctx());
      expect(await strict.client.waitForAuth(unregistered.referenceNumber, unregistered.authenticationToken.token)).toMatchObject({
        code: 450,
        details: ['Nieprawidłowy token'],
      });

      const registered = await strict.admin.post('tokens', { json: { contextIdentifier: ctx(), permissions: ['InvoiceWrite', 'InvoiceRead'] } });
      expect(registered.statusCode).toBe(201);
      const { token } = registered.body as { token: string };
      expect(token).toMatch(new RegExp(`^\\d{8}-EC-[0-9A-F]{10}-[0-9A-F]{10}-[0-9A-F]{2}\\|nip-${SELLER_NIP}\\|[0-9a-f]{64}$`));
      const tokens = await strict.client.authenticate(token, ctx());
      expect(tokens.accessToken).toBeTruthy();

      const elsewhere = await strict.client.startTokenAuth(token, ctx(OTHER_NIP));
      expect((await strict.client.waitForAuth(elsewhere.referenceNumber, elsewhere.authenticationToken.token)).code).toBe(415);

      // Without CredentialsManage the token cannot mint tokens with more rights (26001).
      const escalate = await strict.raw.post('tokens', { json: { permissions: ['CredentialsManage'], description: 'więcej uprawnień' }, headers: bearer(tokens.accessToken) });
      expect(exceptionCode(escalate)).toBe(26001);
    });

    it('generates, lists, uses and revokes a token through the API', async () => {
      const owner = (await strict.admin.post('tokens', { json: { contextIdentifier: ctx() } })).body as { token: string };
      const admin = await strict.client.authenticate(owner.token, ctx());
      const generated = await strict.client.call<{ referenceNumber: string; token: string }>('POST', 'tokens', {
        bearer: admin.accessToken,
        json: { permissions: ['InvoiceRead', 'InvoiceWrite'], description: 'Integracja ERP' },
        expected: 202,
      });
      const listed = await strict.client.call<{ tokens: Array<{ referenceNumber: string; status: string }> }>('GET', 'tokens?status=Active&description=erp', {
        bearer: admin.accessToken,
        expected: 200,
      });
      expect(listed.tokens.map((x) => x.referenceNumber)).toEqual([generated.referenceNumber]);

      const user = await strict.client.authenticate(generated.token, ctx());
      const details = await strict.client.call<{ status: string; lastUseDate?: string; requestedPermissions: string[] }>('GET', `tokens/${generated.referenceNumber}`, {
        bearer: admin.accessToken,
        expected: 200,
      });
      expect(details).toMatchObject({ status: 'Active', requestedPermissions: ['InvoiceRead', 'InvoiceWrite'] });
      expect(details.lastUseDate).toBeDefined();

      await strict.client.call('DELETE', `tokens/${generated.referenceNumber}`, { bearer: admin.accessToken, expected: 204 });
      const refresh = await strict.raw.post('auth/token/refresh', { headers: bearer(user.refreshToken) });
      expect(exceptionCode(refresh)).toBe(21301);
      expect(exceptionDetails(refresh)).toEqual(['Token KSeF został unieważniony.']);
      const again = await strict.client.startTokenAuth(generated.token, ctx());
      expect(await strict.client.waitForAuth(again.referenceNumber, again.authenticationToken.token)).toMatchObject({
        code: 450,
        details: ['Token unieważniony'],
      });
    });

    it('refuses session operations to a token without InvoiceWrite with 403 missing-permissions', async () => {
      const readOnly = (await strict.admin.post('tokens', { json: { contextIdentifier: ctx(), permissions: ['InvoiceRead'] } })).body as { token: string };
      const tokens = await strict.client.authenticate(readOnly.token, ctx());
      const denied = await strict.raw.get('sessions?sessionType=Online', { headers: bearer(tokens.accessToken) });
      expect(denied.statusCode).toBe(403);
      expect(json(denied)).toMatchObject({
        reasonCode: 'missing-permissions',
        security: { requiredAnyOfPermissions: ['InvoiceWrite', 'Introspection', 'EnforcementOperations'], presentPermissions: ['InvoiceRead'] },
      });
    });
  });
});
