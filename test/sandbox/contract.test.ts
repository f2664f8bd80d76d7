import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describeWithShared, readSample } from '../support/shared.js';
import { selfSignedCertificate } from '../support/xades.js';
import { PartUploadRequest, prepareBatch, uploadPart, zipOf } from './support/batch.js';
import { contract, ContractValidator, ContractViolation } from './support/contract.js';
import { buildCsr } from './support/csr.js';
import { bearer, exceptionCode, json } from './support/http.js';
import { sendInvoiceRequest, Tokens } from './support/independent-client.js';
import { FakeClock, invoiceVariant, openModeToken, SELLER_NIP, signIn, startTestSandbox, TestSandbox, uniqueNumber } from './support/sandbox.js';

/** Every operation the sandbox implements, as open-api.json names it. */
const IMPLEMENTED = [
  'GET /security/public-key-certificates',
  'POST /auth/challenge',
  'POST /auth/ksef-token',
  'POST /auth/xades-signature',
  'GET /auth/{referenceNumber}',
  'POST /auth/token/redeem',
  'POST /auth/token/refresh',
  'GET /auth/sessions',
  'DELETE /auth/sessions/current',
  'DELETE /auth/sessions/{referenceNumber}',
  'POST /tokens',
  'GET /tokens',
  'GET /tokens/{referenceNumber}',
  'DELETE /tokens/{referenceNumber}',
  'POST /sessions/online',
  'POST /sessions/online/{referenceNumber}/invoices',
  'POST /sessions/online/{referenceNumber}/close',
  'POST /sessions/batch',
  'POST /sessions/batch/{referenceNumber}/close',
  'GET /sessions',
  'GET /sessions/{referenceNumber}',
  'GET /sessions/{referenceNumber}/invoices',
  'GET /sessions/{referenceNumber}/invoices/failed',
  'GET /sessions/{referenceNumber}/invoices/{invoiceReferenceNumber}',
  'GET /sessions/{referenceNumber}/invoices/ksef/{ksefNumber}/upo',
  'GET /sessions/{referenceNumber}/invoices/{invoiceReferenceNumber}/upo',
  'GET /sessions/{referenceNumber}/upo/{upoReferenceNumber}',
  'GET /invoices/ksef/{ksefNumber}',
  'POST /invoices/query/metadata',
  'POST /invoices/exports',
  'GET /invoices/exports/{referenceNumber}',
  'GET /rate-limits',
  'GET /limits/context',
  'POST /testdata/attachment',
  'POST /testdata/attachment/revoke',
  'GET /certificates/limits',
  'GET /certificates/enrollments/data',
  'POST /certificates/enrollments',
  'GET /certificates/enrollments/{referenceNumber}',
  'POST /certificates/retrieve',
  'POST /certificates/query',
  'POST /certificates/{certificateSerialNumber}/revoke',
];

/** Operations with no request data the sandbox could reject with a 400 in this tour. */
const WITHOUT_400 = [
  'GET /security/public-key-certificates',
  'POST /auth/challenge',
  'GET /rate-limits',
  'GET /limits/context',
  'DELETE /auth/sessions/current',
  'POST /auth/token/refresh',
  'GET /sessions/{referenceNumber}/invoices/failed',
  'GET /invoices/exports/{referenceNumber}',
  'GET /certificates/limits',
];

const withAttachment = (xml: Buffer) =>
  Buffer.from(
    xml
      .toString()
      .replace(
        '</Faktura>',
        '<Zalacznik><BlokDanych><MetaDane><ZKlucz>Umowa</ZKlucz><ZWartosc>1/2026</ZWartosc></MetaDane><Tekst><Akapit>Załącznik</Akapit></Tekst></BlokDanych></Zalacznik></Faktura>',
      ),
  );

describeWithShared('sandbox: conformance to the official open-api.json', () => {
  it('has a validator that can fail: wrong shapes, statuses, content types and request bodies are caught', () => {
    const v = new ContractValidator();
    const url = 'http://x/v2/sessions/20260101-SO-0000000000-0000000000-00';
    const ok = { status: { code: 100, description: 'Sesja interaktywna otwarta' }, dateCreated: '2026-01-01T00:00:00.0000000+00:00', dateUpdated: '2026-01-01T00:00:00+00:00' };
    expect(() => v.checkResponse('GET', url, 200, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify(ok)))).not.toThrow();
    const { dateUpdated: _, ...missing } = ok;
    expect(() => v.checkResponse('GET', url, 200, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify(missing)))).toThrow(ContractViolation);
    expect(() => v.checkResponse('GET', url, 200, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ ...ok, dateCreated: 'yesterday' })))).toThrow(/date-time/);
    expect(() => v.checkResponse('GET', url, 404, { 'content-type': 'application/json' }, Buffer.from('{}'))).toThrow(/not declared/);
    expect(() => v.checkResponse('GET', url, 401, { 'content-type': 'application/json' }, Buffer.from('{}'))).toThrow(/content type/);
    expect(() => v.checkResponse('GET', 'http://x/v2/nope', 200, {}, Buffer.alloc(0))).toThrow(/not an operation/);
    expect(() => v.checkRequest('POST', 'http://x/v2/auth/ksef-token', { challenge: 'c' })).toThrow(ContractViolation);
    expect(() =>
      v.checkResponse('GET', 'http://x/v2/invoices/ksef/5265877635-20260101-0000000000AA-00', 200, { 'content-type': 'application/xml' }, Buffer.from('<a/>')),
    ).toThrow(/x-ms-meta-hash/);
    expect(() => v.checkResponse('POST', 'http://x/v2/auth/challenge', 429, { 'content-type': 'application/json' }, Buffer.from('{"status":{"code":429,"description":"x","details":[]}}'))).toThrow(/Retry-After/);
  });

  describe('a tour of every implemented operation', () => {
    const clock = new FakeClock(new Date());
    let t: TestSandbox;
    let tokens: Tokens;

    beforeAll(async () => {
      t = await startTestSandbox({ now: clock.now, faultsEnabled: true, refreshTokenTtlSeconds: 30 * 24 * 3600 });
      tokens = await t.client.authenticate(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
    });
    afterAll(() => t.close());

    const auth = () => ({ headers: bearer(tokens.accessToken) });

    it('answers every implemented operation within the contract, errors included', async () => {
      const { client, raw } = t;
      // Online session with one good, one failed and one attachment invoice.
      const session = await client.openOnlineSession(tokens.accessToken);
      const good = await client.sendInvoice(tokens.accessToken, session.referenceNumber, session.keys, invoiceVariant('fa3-vat.xml', { number: uniqueNumber() }));
      const bad = await client.sendInvoice(tokens.accessToken, session.referenceNumber, session.keys, Buffer.from('<x/>'));
      const attached = await client.sendInvoice(tokens.accessToken, session.referenceNumber, session.keys, withAttachment(invoiceVariant('fa3-vat.xml', { number: uniqueNumber() })));
      const goodInv = await client.waitForInvoice(tokens.accessToken, session.referenceNumber, good);
      await client.waitForInvoice(tokens.accessToken, session.referenceNumber, bad);
      expect((await client.waitForInvoice(tokens.accessToken, session.referenceNumber, attached)).status.code).toBe(415);
      await client.closeOnlineSession(tokens.accessToken, session.referenceNumber);
      const closed = await client.waitForSession(tokens.accessToken, session.referenceNumber);
      expect(await client.sessionInvoices(tokens.accessToken, session.referenceNumber)).toHaveLength(3);
      await raw.get(`sessions/${session.referenceNumber}/invoices/failed`, auth());
      await raw.get(`sessions/${session.referenceNumber}/invoices/ksef/${goodInv.ksefNumber}/upo`, auth());
      await raw.get(`sessions/${session.referenceNumber}/invoices/${good}/upo`, auth());
      await raw.get(`sessions/${session.referenceNumber}/upo/${closed.upo!.pages[0].referenceNumber}`, auth());
      await raw.get(`invoices/ksef/${goodInv.ksefNumber}`, auth());

      // Attachments: off by default (415), allowed in batch once switched on for the NIP.
      expect((await client.call('POST', 'testdata/attachment', { json: { nip: SELLER_NIP }, expected: 200 })) ?? null).toBeNull();
      const archive = zipOf({ 'z.xml': withAttachment(invoiceVariant('fa3-vat.xml', { number: uniqueNumber() })) });
      const batch = await prepareBatch(client, archive, 1);
      const opened = await client.call<{ referenceNumber: string; partUploadRequests: PartUploadRequest[] }>('POST', 'sessions/batch', { bearer: tokens.accessToken, json: batch.request, expected: 201 });
      await uploadPart(opened.partUploadRequests[0], batch.parts[0]);
      await client.call('POST', `sessions/batch/${opened.referenceNumber}/close`, { bearer: tokens.accessToken, expected: 204 });
      const batchStatus = await client.waitForSession(tokens.accessToken, opened.referenceNumber);
      expect(batchStatus.successfulInvoiceCount).toBe(1);
      await client.call('POST', 'testdata/attachment/revoke', { json: { nip: SELLER_NIP }, expected: 200 });
      const attachmentMeta = await client.queryMetadata(tokens.accessToken, {
        subjectType: 'Subject1',
        dateRange: { dateType: 'Invoicing', from: new Date(clock.now().getTime() - 3600_000).toISOString() },
        hasAttachment: true,
      });
      expect(attachmentMeta.invoices).toHaveLength(1);
      await raw.get('sessions?sessionType=Batch&statuses=Succeeded', auth());

      // Tokens and auth sessions.
      const minted = await client.call<{ referenceNumber: string; token: string }>('POST', 'tokens', {
        bearer: tokens.accessToken,
        json: { permissions: ['InvoiceRead'], description: 'Kontrola kontraktu' },
        expected: 202,
      });
      await raw.get('tokens?pageSize=10', auth());
      await raw.get(`tokens/${minted.referenceNumber}`, auth());
      await raw.delete(`tokens/${minted.referenceNumber}`, auth());
      const second = await client.authenticate(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
      await raw.get('auth/sessions', auth());
      expect((await raw.delete(`auth/sessions/${second.referenceNumber}`, auth())).statusCode).toBe(204);
      const third = await client.authenticate(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
      expect((await raw.delete('auth/sessions/current', { headers: bearer(third.accessToken) })).statusCode).toBe(204);
      await raw.post('auth/token/refresh', { headers: bearer(tokens.refreshToken) });

      await raw.get('rate-limits', auth());
      await raw.get('limits/context', auth());

      // Exports, through to 410 Gone after seven days.
      const keys = { key: randomBytes(32), iv: randomBytes(16) };
      const exported = await client.call<{ referenceNumber: string }>('POST', 'invoices/exports', {
        bearer: tokens.accessToken,
        json: {
          encryption: await client.encryptionFor(keys),
          compressionType: 'TarGz',
          onlyMetadata: true,
          filters: { subjectType: 'Subject1', dateRange: { dateType: 'PermanentStorage', from: new Date(clock.now().getTime() - 3600_000).toISOString() } },
        },
        expected: 201,
      });
      let exportStatus: { status: { code: number }; package?: { invoiceCount: number } };
      do exportStatus = await client.call('GET', `invoices/exports/${exported.referenceNumber}`, { bearer: tokens.accessToken, expected: 200 });
      while (exportStatus.status.code === 100);
      expect(exportStatus.package!.invoiceCount).toBe(2);

      // Error answers in both formats.
      const problem = { 'x-error-format': 'problem-details' };
      await raw.get('sessions/20260101-SO-0000000000-0000000000-00', auth());
      await raw.get('sessions/20260101-SO-0000000000-0000000000-00', { headers: { ...bearer(tokens.accessToken), ...problem } });
      await raw.post('sessions/online', { json: {}, ...auth() });
      await raw.post(`sessions/online/${session.referenceNumber}/invoices`, { json: sendInvoiceRequest(session.keys, readSample('fa3-vat.xml')) as never, ...auth() });
      await raw.post(`sessions/online/${session.referenceNumber}/close`, auth());
      await raw.post('sessions/batch', { json: { formCode: {} }, ...auth() });
      await raw.post(`sessions/batch/${opened.referenceNumber}/close`, auth());
      await raw.get(`sessions/${session.referenceNumber}/invoices?pageSize=1`, auth());
      await raw.get(`sessions/${session.referenceNumber}/invoices/${bad}/upo`, auth());
      await raw.get(`sessions/${session.referenceNumber}/invoices/ksef/${SELLER_NIP}-20260101-0000000000AA-00/upo`, auth());
      await raw.get(`sessions/${session.referenceNumber}/upo/20260101-EU-0000000000-0000000000-00`, auth());
      await raw.get(`sessions/${session.referenceNumber}/invoices/20260101-EE-0000000000-0000000000-00`, auth());
      await raw.get('invoices/ksef/nope', auth());
      await raw.post('invoices/query/metadata', { json: { subjectType: 'Nobody' }, ...auth() });
      await raw.post('invoices/exports', { json: {}, ...auth() });
      await raw.get('tokens/20260101-EC-0000000000-0000000000-00', auth());
      await raw.post('tokens', { json: { permissions: ['Everything'] }, ...auth() });
      await raw.get('tokens?pageSize=1000', auth());
      await raw.delete('tokens/20260101-EC-0000000000-0000000000-00', auth());
      await raw.get('auth/sessions?pageSize=1', auth());
      await raw.delete('auth/sessions/20260101-AU-0000000000-0000000000-00', auth());
      await raw.post('auth/ksef-token', { json: { challenge: 'short' } });
      await raw.post('auth/ksef-token', { body: 'not json', headers: { 'content-type': 'application/json', ...problem } });
      await raw.post('testdata/attachment', { json: { nip: '0' } });
      await raw.post('testdata/attachment/revoke', { json: {} });
      await raw.get('rate-limits');
      await raw.get('limits/context', { headers: bearer(tokens.refreshToken) });
      const started = await client.startTokenAuth(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
      await raw.get('auth/20260101-AU-0000000000-0000000000-00', { headers: bearer(started.authenticationToken.token) });
      await raw.post('auth/token/redeem', { headers: bearer(tokens.accessToken) });
      await client.waitForAuth(started.referenceNumber, started.authenticationToken.token);
      await raw.post('auth/token/redeem', { headers: bearer(started.authenticationToken.token) });
      await raw.post('auth/token/redeem', { headers: bearer(started.authenticationToken.token) });
      await raw.get('sessions?sessionType=Online', { headers: { ...bearer(tokens.accessToken), 'x-continuation-token': 'garbage' } });

      // 403 and 429 in both formats.
      const readOnly = (await t.admin.post('tokens', { json: { contextIdentifier: { type: 'Nip', value: SELLER_NIP }, permissions: ['InvoiceRead'] } })).body.token as string;
      const reader = await client.authenticate(readOnly, { type: 'Nip', value: SELLER_NIP });
      expect((await raw.post('sessions/online', { json: {}, headers: bearer(reader.accessToken) })).statusCode).toBe(403);
      await t.admin.post('faults/too-many-requests', { json: { count: 2, retryAfterSeconds: 3 } });
      expect((await raw.post('auth/challenge')).statusCode).toBe(429);
      expect((await raw.post('auth/challenge', { headers: problem })).statusCode).toBe(429);

      clock.advance(7 * 24 * 3600_000 + 1000);
      const refreshed = json(await raw.post('auth/token/refresh', { headers: bearer(second.refreshToken) }));
      expect(refreshed.accessToken).toBeUndefined(); // the revoked auth session stays dead
      const later = json(await raw.post('auth/token/refresh', { headers: bearer(tokens.refreshToken) })).accessToken.token as string;
      const gone = await raw.get(`invoices/exports/${exported.referenceNumber}`, { headers: bearer(later) });
      expect(gone.statusCode).toBe(410);
      expect(json(gone)).toMatchObject({ title: 'Gone', status: 410, detail: 'Operacja wygasła i nie jest już dostępna.' });
      expect(exceptionCode(await raw.get('sessions/x', { headers: bearer(later) }))).toBe(21405);
    });

    it('answers the certificate operations within the contract, errors included', async () => {
      const { client, raw } = t;
      const seal = await selfSignedCertificate({ seal: { nip: SELLER_NIP } }, { keyType: 'EC' });
      const current = await signIn(client, seal, { type: 'Nip', value: SELLER_NIP });
      await raw.post('auth/xades-signature', { body: '<AuthTokenRequest/>', headers: { 'content-type': 'application/xml' } });
      const tokenCaller = await client.authenticate(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
      expect(exceptionCode(await raw.get('certificates/enrollments/data', { headers: bearer(tokenCaller.accessToken) }))).toBe(25001);
      const bearerOf = { bearer: current.accessToken };
      const headers = { headers: bearer(current.accessToken) };
      await client.call('GET', 'certificates/limits', { ...bearerOf, expected: 200 });
      const data = await client.call<Record<string, string>>('GET', 'certificates/enrollments/data', { ...bearerOf, expected: 200 });
      const csr = buildCsr(data, generateKeyPairSync('ec', { namedCurve: 'prime256v1' })).toString('base64');
      const enrolled = await client.call<{ referenceNumber: string }>('POST', 'certificates/enrollments', {
        ...bearerOf,
        json: { certificateName: 'Certyfikat offline', certificateType: 'Offline', csr, validFrom: clock.now().toISOString() },
        expected: 202,
      });
      let status: { status: { code: number }; certificateSerialNumber?: string };
      do status = await client.call('GET', `certificates/enrollments/${enrolled.referenceNumber}`, { ...bearerOf, expected: 200 });
      while (status.status.code === 100);
      const serial = status.certificateSerialNumber!;
      await client.call('POST', 'certificates/retrieve', { ...bearerOf, json: { certificateSerialNumbers: [serial] }, expected: 200 });
      await client.call('POST', 'certificates/query?pageSize=10&pageOffset=0', { ...bearerOf, json: { type: 'Offline', status: 'Active' }, expected: 200 });
      await client.call('POST', `certificates/${serial}/revoke`, { ...bearerOf, json: { revocationReason: 'Superseded' }, expected: 204 });

      await raw.post('certificates/enrollments', { json: { certificateName: 'x' }, ...headers });
      await raw.post('certificates/enrollments', { json: { certificateName: 'Certyfikat offline', certificateType: 'Offline', csr: 'AAAA' }, ...headers });
      await raw.get('certificates/enrollments/20260101-EH-0000000000-0000000000-00', { headers: { ...headers.headers, 'x-error-format': 'problem-details' } });
      await raw.post('certificates/retrieve', { json: { certificateSerialNumbers: [] }, ...headers });
      await raw.post('certificates/query?pageSize=100', { json: {}, ...headers });
      expect(exceptionCode(await raw.post(`certificates/${serial}/revoke`, { json: {}, ...headers }))).toBe(25009);
    });

    it('covered every implemented operation with a success, and 400/401/403/410/429 answers', () => {
      const seen = contract().seen;
      const succeeded = new Set(seen.filter((e) => e.status < 300).map((e) => `${e.method} ${e.path}`));
      expect(IMPLEMENTED.filter((op) => !succeeded.has(op))).toEqual([]);
      const statuses = new Set(seen.map((e) => e.status));
      for (const status of [400, 401, 403, 410, 429]) expect(statuses).toContain(status);
      const failedOps = new Set(seen.filter((e) => e.status === 400).map((e) => `${e.method} ${e.path}`));
      expect(IMPLEMENTED.filter((op) => !failedOps.has(op) && !WITHOUT_400.includes(op))).toEqual([]);
    });
  });
});
