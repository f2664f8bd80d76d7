import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { describeWithShared, hasShared, readSample, sharedPath } from '../support/shared.js';
import { selfSignedCertificate } from '../support/xades.js';
import { PartUploadRequest, prepareBatch, uploadPart, zipOf } from './support/batch.js';
import { contract, ContractValidator, ContractViolation } from './support/contract.js';
import { buildCsr } from './support/csr.js';
import { bearer, exceptionCode, json } from './support/http.js';
import { sendInvoiceRequest, Tokens } from './support/independent-client.js';
import { BUYER_NIP, FakeClock, invoiceVariant, openModeToken, OTHER_NIP, SELLER_NIP, signIn, startTestSandbox, TestSandbox, uniqueNumber } from './support/sandbox.js';

/** Every operation of open-api.json (it names none by operationId): the tour below must answer each. */
const OPERATIONS: string[] = hasShared
  ? Object.entries(JSON.parse(fs.readFileSync(sharedPath('ksef', 'official', 'open-api.json'), 'utf8')).paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, item]) => Object.keys(item).filter((m) => ['get', 'post', 'put', 'delete', 'patch'].includes(m)).map((m) => `${m.toUpperCase()} ${path}`),
    )
  : [];

/** Operations with no request data the sandbox could reject with a 400 in this tour. */
const WITHOUT_400 = [
  'GET /security/public-key-certificates',
  'POST /auth/challenge',
  'GET /rate-limits',
  'GET /limits/context',
  'GET /limits/subject',
  'DELETE /testdata/limits/context/session',
  'DELETE /testdata/limits/subject/certificate',
  'DELETE /testdata/rate-limits',
  'POST /testdata/rate-limits/production',
  'GET /permissions/attachments/status',
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

    it('answers the permission, test-data, limit and Peppol operations within the contract, errors included', async () => {
      const { client, raw } = t;
      const seal = await selfSignedCertificate({ seal: { nip: SELLER_NIP } }, { keyType: 'EC' });
      const owner = (await signIn(client, seal, { type: 'Nip', value: SELLER_NIP })).accessToken;
      const headers = { headers: bearer(owner) };
      const ok = (method: 'POST' | 'DELETE' | 'GET', path: string, json?: unknown, token: string | undefined = owner) =>
        client.call(method, path, { ...(token ? { bearer: token } : {}), json, expected: 200 });
      const granted = async (path: string, json: unknown, token = owner) => {
        const { referenceNumber } = await client.call<{ referenceNumber: string }>('POST', path, { bearer: token, json, expected: 202 });
        let status: { status: { code: number } };
        do status = await client.call('GET', `permissions/operations/${referenceNumber}`, { bearer: token, expected: 200 });
        while (status.status.code === 100);
        return status.status.code;
      };
      const person = { subjectDetailsType: 'PersonByIdentifier', personById: { firstName: 'Anna', lastName: 'Nowak' } };
      const subunit = `${SELLER_NIP}-12346`; // with its check digit

      // Test data, then the operations that read it.
      await ok('POST', 'testdata/subject', { subjectNip: OTHER_NIP, subjectType: 'VatGroup', description: 'Grupa VAT testowa', subunits: [{ subjectNip: BUYER_NIP, description: 'Członek grupy' }] }, undefined);
      await ok('POST', 'testdata/person', { nip: BUYER_NIP, pesel: '90010112345', isBailiff: false, description: 'Właściciel nabywcy' }, undefined);
      await ok('POST', 'testdata/permissions', { contextIdentifier: { type: 'Nip', value: SELLER_NIP }, authorizedIdentifier: { type: 'Pesel', value: '90010112345' }, permissions: [{ permissionType: 'InvoiceRead', description: 'Z ZAW-FA' }] }, undefined);
      await ok('POST', 'testdata/context/block', { contextIdentifier: { type: 'Nip', value: BUYER_NIP } }, undefined);
      await ok('POST', 'testdata/context/unblock', { contextIdentifier: { type: 'Nip', value: BUYER_NIP } }, undefined);
      const sessionLimits = { maxInvoiceSizeInMB: 1, maxInvoiceWithAttachmentSizeInMB: 3, maxInvoices: 100 };
      await ok('POST', 'testdata/limits/context/session', { onlineSession: sessionLimits, batchSession: sessionLimits });
      await ok('DELETE', 'testdata/limits/context/session');
      await ok('POST', 'testdata/limits/subject/certificate', { subjectIdentifierType: 'Nip', enrollment: { maxEnrollments: 10 }, certificate: { maxCertificates: 5 } });
      await ok('GET', 'limits/subject');
      await ok('DELETE', 'testdata/limits/subject/certificate');
      const groups = ['onlineSession', 'batchSession', 'invoiceSend', 'invoiceStatus', 'sessionList', 'sessionInvoiceList', 'sessionMisc', 'invoiceMetadata', 'invoiceExport', 'invoiceExportStatus', 'invoiceDownload', 'other'];
      await ok('POST', 'testdata/rate-limits', { rateLimits: Object.fromEntries(groups.map((g) => [g, { perSecond: 1000, perMinute: 10000, perHour: 100000 }])) });
      await ok('POST', 'testdata/rate-limits/production');
      await ok('DELETE', 'testdata/rate-limits');
      await ok('GET', 'peppol/query?pageOffset=0&pageSize=10', undefined, undefined);

      // Grants of every kind, their queries and revocations.
      expect(await granted('permissions/persons/grants', { subjectIdentifier: { type: 'Pesel', value: '85020354321' }, permissions: ['InvoiceWrite'], description: 'Księgowa', subjectDetails: person })).toBe(200);
      expect(await granted('permissions/entities/grants', { subjectIdentifier: { type: 'Nip', value: OTHER_NIP }, permissions: [{ type: 'InvoiceRead', canDelegate: true }], description: 'Biuro rachunkowe', subjectDetails: { fullName: 'Biuro Rachunkowe sp. z o.o.' } })).toBe(200);
      expect(await granted('permissions/authorizations/grants', { subjectIdentifier: { type: 'Nip', value: BUYER_NIP }, permission: 'SelfInvoicing', description: 'Samofakturowanie', subjectDetails: { fullName: 'Nabywca S.A.' } })).toBe(200);
      expect(await granted('permissions/subunits/grants', { subjectIdentifier: { type: 'Pesel', value: '85020354321' }, contextIdentifier: { type: 'InternalId', value: subunit }, description: 'Oddział', subunitName: 'Oddział Kraków', subjectDetails: person })).toBe(200);
      const euAdmin = await selfSignedCertificate({ anonymous: { commonName: 'EU Admin' } }, { keyType: 'EC' });
      const euContext = { type: 'NipVatUe' as const, value: `${SELLER_NIP}-DE123456789` };
      const euDetails = { subjectDetailsType: 'EntityByFingerprint', entityByFp: { fullName: 'EU Admin GmbH', address: 'Berlin' } };
      expect(await granted('permissions/eu-entities/administration/grants', { subjectIdentifier: { type: 'Fingerprint', value: euAdmin.fingerprint }, contextIdentifier: euContext, description: 'Administrator UE', euEntityName: 'EU Admin GmbH, Berlin', subjectDetails: euDetails, euEntityDetails: { fullName: 'EU Admin GmbH', address: 'Berlin' } })).toBe(200);
      const eu = (await signIn(client, euAdmin, euContext, 'certificateFingerprint')).accessToken;
      expect(await granted('permissions/eu-entities/grants', { subjectIdentifier: { type: 'Fingerprint', value: 'AB'.repeat(32) }, permissions: ['InvoiceRead'], description: 'Przedstawiciel', subjectDetails: euDetails }, eu)).toBe(200);
      const officeSeal = await selfSignedCertificate({ seal: { nip: OTHER_NIP } }, { keyType: 'EC' });
      const office = (await signIn(client, officeSeal, { type: 'Nip', value: OTHER_NIP })).accessToken;
      expect(await granted('permissions/indirect/grants', { subjectIdentifier: { type: 'Pesel', value: '85020354321' }, targetIdentifier: { type: 'Nip', value: SELLER_NIP }, permissions: ['InvoiceRead'], description: 'Pracownik biura', subjectDetails: person }, office)).toBe(200);

      const query = <T>(path: string, json: unknown, token = owner) => client.call<T>('POST', `permissions/query/${path}?pageOffset=0&pageSize=10`, { bearer: token, json, expected: 200 });
      await query('personal/grants', {});
      const persons = await query<{ permissions: Array<{ id: string }> }>('persons/grants', { queryType: 'PermissionsGrantedInCurrentContext' });
      await query('subunits/grants', { subunitIdentifier: { type: 'InternalId', value: subunit } });
      await query('entities/grants', {}, office);
      await client.call('GET', 'permissions/query/entities/roles?pageSize=10', { bearer: office, expected: 200 });
      await query('subordinate-entities/roles', {}, office);
      const authorizations = await query<{ authorizationGrants: Array<{ id: string }> }>('authorizations/grants', { queryType: 'Granted' });
      await query('eu-entities/grants', { vatUeIdentifier: 'DE123456789' }, eu);
      await client.call('GET', 'permissions/attachments/status', { bearer: owner, expected: 200 });
      await client.call('DELETE', `permissions/common/grants/${persons.permissions[0].id}`, { bearer: owner, expected: 202 });
      await client.call('DELETE', `permissions/authorizations/grants/${authorizations.authorizationGrants[0].id}`, { bearer: owner, expected: 202 });
      await ok('POST', 'testdata/permissions/revoke', { contextIdentifier: { type: 'Nip', value: SELLER_NIP }, authorizedIdentifier: { type: 'Pesel', value: '90010112345' } }, undefined);
      await ok('POST', 'testdata/person/remove', { nip: BUYER_NIP }, undefined);
      await ok('POST', 'testdata/subject/remove', { subjectNip: OTHER_NIP }, undefined);

      // Errors.
      for (const path of ['subject', 'subject/remove', 'person', 'person/remove', 'permissions', 'permissions/revoke', 'context/block', 'context/unblock']) {
        await raw.post(`testdata/${path}`, { json: { nip: '1' } });
      }
      for (const path of ['testdata/limits/context/session', 'testdata/limits/subject/certificate', 'testdata/rate-limits']) await raw.post(path, { json: { enrollment: { maxEnrollments: -1 } }, ...headers });
      for (const path of ['persons', 'entities', 'authorizations', 'indirect', 'subunits', 'eu-entities/administration']) await raw.post(`permissions/${path}/grants`, { json: {}, ...headers });
      await raw.post('permissions/eu-entities/grants', { json: {}, headers: bearer(eu) });
      await raw.delete('permissions/common/grants/00000000-0000-4000-8000-000000000000', headers);
      await raw.delete('permissions/authorizations/grants/nope', headers);
      await raw.get('permissions/operations/20260101-EG-0000000000-0000000000-00', headers);
      await raw.get('peppol/query?pageSize=5');
      for (const path of ['personal/grants', 'persons/grants', 'subunits/grants', 'entities/grants', 'subordinate-entities/roles', 'authorizations/grants', 'eu-entities/grants']) {
        await raw.post(`permissions/query/${path}?pageSize=5`, { json: {}, headers: bearer(path.startsWith('eu') ? eu : owner) });
      }
      await raw.get('permissions/query/entities/roles?pageSize=5', headers);
      expect((await raw.post('permissions/persons/grants', { json: {}, headers: bearer(eu) })).statusCode).toBe(403);
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

    it('covered all 78 operations of open-api.json with a success, and 400/401/403/410/429 answers', () => {
      expect(OPERATIONS).toHaveLength(78);
      const seen = contract().seen;
      const succeeded = new Set(seen.filter((e) => e.status < 300).map((e) => `${e.method} ${e.path}`));
      expect(OPERATIONS.filter((op) => !succeeded.has(op))).toEqual([]);
      const statuses = new Set(seen.map((e) => e.status));
      for (const status of [400, 401, 403, 410, 429]) expect(statuses).toContain(status);
      const failedOps = new Set(seen.filter((e) => e.status === 400).map((e) => `${e.method} ${e.path}`));
      expect(OPERATIONS.filter((op) => !failedOps.has(op) && !WITHOUT_400.includes(op))).toEqual([]);
    });
  });
});
