import { jest } from '@jest/globals';
import { describeWithShared } from '../support/shared.js';
import { selfSignedCertificate, signedAuthTokenRequest, signerOf, TestCertificate } from '../support/xades.js';
import { bearer, exceptionCode, exceptionDetails, json } from './support/http.js';
import { ContextIdentifier, Tokens } from './support/independent-client.js';
import { BUYER_NIP, FakeClock, invoiceVariant, openModeToken, OTHER_NIP, SELLER_NIP, signIn, startTestSandbox, TestSandbox, uniqueNumber } from './support/sandbox.js';

jest.setTimeout(120_000);

const nip = (value: string): ContextIdentifier => ({ type: 'Nip', value });
const JST_NIP = '1111111111';
const MEMBER_NIP = '2222222222';
const PESEL = '75010112345';

describeWithShared('sandbox: test data (/testdata/*) and the limits they set', () => {
  const clock = new FakeClock(new Date());
  let t: TestSandbox;
  let seller: TestCertificate;
  let owner: Tokens;

  beforeAll(async () => {
    // The clock moves by hours and days: access tokens must outlive it.
    t = await startTestSandbox({ now: clock.now, accessTokenTtlSeconds: 30 * 24 * 3600 });
    seller = await selfSignedCertificate({ seal: { nip: SELLER_NIP } }, { keyType: 'EC' });
    owner = await signIn(t.client, seller, nip(SELLER_NIP));
  });
  afterAll(() => t.close());

  const post = (path: string, body: unknown, token?: string) => t.raw.post(`testdata/${path}`, { json: body as never, ...(token ? { headers: bearer(token) } : {}) });
  const ok = async (path: string, body: unknown, token?: string) => {
    const response = await post(path, body, token);
    expect([path, response.statusCode, response.body.length]).toEqual([path, 200, 0]);
  };
  async function status(cert: TestCertificate, context: ContextIdentifier) {
    const challenge = (await t.client.challenge()).challenge;
    const started = await t.client.startXadesAuth(await signedAuthTokenRequest({ challenge, context, subjectIdentifierType: 'certificateSubject' }, signerOf(cert)));
    return t.client.waitForAuth(started.referenceNumber, started.authenticationToken.token);
  }
  const canMakeToken = async (token: string, permission: string) =>
    (await t.raw.post('tokens', { json: { permissions: [permission], description: 'Sprawdzenie uprawnień' }, headers: bearer(token) })).statusCode === 202;

  it('creates a local government unit with members: their roles, the subordinate list, and subunit administrators for members only', async () => {
    await ok('subject', { subjectNip: JST_NIP, subjectType: 'jst', description: 'Gmina testowa', subunits: [{ subjectNip: MEMBER_NIP, description: 'Szkoła gminna' }] });
    expect(exceptionCode(await post('subject', { subjectNip: JST_NIP, subjectType: 'JST', description: 'Gmina testowa' }))).toBe(30001);
    const jstSeal = await selfSignedCertificate({ seal: { nip: JST_NIP } }, { keyType: 'EC' });
    const jst = await signIn(t.client, jstSeal, nip(JST_NIP));
    const roles = await t.client.call<{ roles: Array<Record<string, unknown>> }>('GET', 'permissions/query/entities/roles', { bearer: jst.accessToken, expected: 200 });
    expect(roles.roles).toEqual([expect.objectContaining({ role: 'LocalGovernmentUnit', parentEntityIdentifier: null, description: 'Gmina testowa' })]);
    const memberSeal = await selfSignedCertificate({ seal: { nip: MEMBER_NIP } }, { keyType: 'EC' });
    const member = await signIn(t.client, memberSeal, nip(MEMBER_NIP));
    expect((await t.client.call<{ roles: unknown[] }>('GET', 'permissions/query/entities/roles', { bearer: member.accessToken, expected: 200 })).roles).toEqual([
      expect.objectContaining({ role: 'LocalGovernmentSubUnit', parentEntityIdentifier: nip(JST_NIP), description: 'Szkoła gminna' }),
    ]);
    const subordinates = await t.client.call<{ roles: unknown[] }>('POST', 'permissions/query/subordinate-entities/roles', { bearer: jst.accessToken, json: {}, expected: 200 });
    expect(subordinates.roles).toEqual([expect.objectContaining({ subordinateEntityIdentifier: nip(MEMBER_NIP), role: 'LocalGovernmentSubUnit' })]);

    const appoint = async (subunit: string) => {
      const { referenceNumber } = await t.client.call<{ referenceNumber: string }>('POST', 'permissions/subunits/grants', {
        bearer: jst.accessToken,
        json: {
          subjectIdentifier: { type: 'Pesel', value: PESEL },
          contextIdentifier: nip(subunit),
          description: 'Dyrektor szkoły',
          subjectDetails: { subjectDetailsType: 'PersonByIdentifier', personById: { firstName: 'Ewa', lastName: 'Lis' } },
        },
        expected: 202,
      });
      await new Promise((r) => setTimeout(r, 20));
      return (await t.client.call<{ status: { code: number } }>('GET', `permissions/operations/${referenceNumber}`, { bearer: jst.accessToken, expected: 200 })).status.code;
    };
    expect(await appoint(MEMBER_NIP)).toBe(200);
    expect(await appoint(OTHER_NIP)).toBe(430);
    const director = await selfSignedCertificate({ person: { pesel: PESEL } }, { keyType: 'EC' });
    const directorTokens = await signIn(t.client, director, nip(MEMBER_NIP));
    expect(await canMakeToken(directorTokens.accessToken, 'CredentialsManage')).toBe(true);

    await ok('subject/remove', { subjectNip: JST_NIP });
    expect((await t.client.call<{ roles: unknown[] }>('GET', 'permissions/query/entities/roles', { bearer: member.accessToken, expected: 200 })).roles).toEqual([]);
    expect(exceptionCode(await post('subject/remove', { subjectNip: JST_NIP }))).toBe(21405);
  });

  it('gives an EnforcementAuthority’s Owner EnforcementOperations, which it may then grant', async () => {
    await ok('subject', { subjectNip: BUYER_NIP, subjectType: 'EnforcementAuthority', description: 'Organ egzekucyjny' });
    const authority = await signIn(t.client, await selfSignedCertificate({ seal: { nip: BUYER_NIP } }, { keyType: 'EC' }), nip(BUYER_NIP));
    expect(await canMakeToken(authority.accessToken, 'EnforcementOperations')).toBe(true);
    expect(await canMakeToken(owner.accessToken, 'EnforcementOperations')).toBe(false);
  });

  it('binds a person’s PESEL to a NIP as its Owner (bailiff: EnforcementOperations; deceased: 470) until removed', async () => {
    const person = await selfSignedCertificate({ person: { pesel: PESEL } }, { keyType: 'EC' });
    expect((await status(person, nip(SELLER_NIP))).code).toBe(415);
    await ok('person', { nip: SELLER_NIP, pesel: PESEL, isBailiff: true, description: 'Właściciel i komornik' });
    expect(exceptionCode(await post('person', { nip: SELLER_NIP, pesel: PESEL, isBailiff: false, description: 'Jeszcze raz' }))).toBe(30001);
    const tokens = await signIn(t.client, person, nip(SELLER_NIP));
    expect((await t.client.openOnlineSession(tokens.accessToken)).referenceNumber).toMatch(/-SO-/);
    expect(await canMakeToken(tokens.accessToken, 'EnforcementOperations')).toBe(true);
    const roles = await t.client.call<{ roles: unknown[] }>('GET', 'permissions/query/entities/roles', { bearer: tokens.accessToken, expected: 200 });
    expect(roles.roles).toEqual([expect.objectContaining({ role: 'CourtBailiff' })]);
    await ok('person/remove', { nip: SELLER_NIP });
    expect((await status(person, nip(SELLER_NIP))).code).toBe(415);

    await ok('person', { nip: OTHER_NIP, pesel: PESEL, isBailiff: false, isDeceased: true, description: 'Osoba zmarła' });
    expect(await status(person, nip(OTHER_NIP))).toEqual({
      code: 470,
      description: 'Uwierzytelnianie zakończone niepowodzeniem',
      details: ['Próba wykorzystania metod autoryzacyjnych osoby zmarłej'],
    });
    await ok('person/remove', { nip: OTHER_NIP });
    expect(exceptionDetails(await post('person', { nip: SELLER_NIP, pesel: '75130112345', isBailiff: false, description: 'Zły PESEL' }))).toEqual(['pesel: has an invalid format']);
  });

  it('blocks a context: every sign-in there ends with 480 until unblocked', async () => {
    await ok('context/block', { contextIdentifier: { type: 'nip', value: SELLER_NIP } });
    expect(await status(seller, nip(SELLER_NIP))).toMatchObject({ code: 480, description: 'Uwierzytelnienie zablokowane' });
    const started = await t.client.startTokenAuth(openModeToken(SELLER_NIP), nip(SELLER_NIP));
    expect((await t.client.waitForAuth(started.referenceNumber, started.authenticationToken.token)).code).toBe(480);
    await ok('context/unblock', { contextIdentifier: nip(SELLER_NIP) });
    expect((await status(seller, nip(SELLER_NIP))).code).toBe(200);
    expect(exceptionCode(await post('context/block', { contextIdentifier: { type: 'Nip', value: '123' } }))).toBe(21405);
  });

  it('overrides the context’s session limits (GET /limits/context and the sessions follow), and restores them', async () => {
    const limits = { maxInvoiceSizeInMB: 1, maxInvoiceWithAttachmentSizeInMB: 2, maxInvoices: 1 };
    await ok('limits/context/session', { onlineSession: limits, batchSession: { ...limits, maxInvoices: 5 } }, owner.accessToken);
    expect(await t.client.call('GET', 'limits/context', { bearer: owner.accessToken, expected: 200 })).toEqual({ onlineSession: limits, batchSession: { ...limits, maxInvoices: 5 } });
    const session = await t.client.openOnlineSession(owner.accessToken);
    await t.client.sendInvoice(owner.accessToken, session.referenceNumber, session.keys, invoiceVariant('fa3-vat.xml', { number: uniqueNumber('L') }));
    const second = await t.raw.post(`sessions/online/${session.referenceNumber}/invoices`, {
      json: (await import('./support/independent-client.js')).sendInvoiceRequest(session.keys, invoiceVariant('fa3-vat.xml', { number: uniqueNumber('L') })) as never,
      headers: bearer(owner.accessToken),
    });
    expect(exceptionCode(second)).toBe(21155);
    const del = await t.raw.delete('testdata/limits/context/session', { headers: bearer(owner.accessToken) });
    expect(del.statusCode).toBe(200);
    expect(await t.client.call('GET', 'limits/context', { bearer: owner.accessToken, expected: 200 })).toEqual({
      onlineSession: { maxInvoiceSizeInMB: 1, maxInvoiceWithAttachmentSizeInMB: 3, maxInvoices: 10000 },
      batchSession: { maxInvoiceSizeInMB: 1, maxInvoiceWithAttachmentSizeInMB: 3, maxInvoices: 10000 },
    });
    expect(exceptionDetails(await post('limits/context/session', { onlineSession: { ...limits, maxInvoiceSizeInMB: 6 }, batchSession: limits }, owner.accessToken))).toEqual([
      'onlineSession.maxInvoiceSizeInMB: must be at most 5',
    ]);
  });

  it('overrides the signed-in subject’s certificate limits (GET /limits/subject, /certificates/limits), by subject type', async () => {
    const defaults = await t.client.call('GET', 'limits/subject', { bearer: owner.accessToken, expected: 200 });
    expect(defaults).toEqual({ enrollment: { maxEnrollments: 300 }, certificate: { maxCertificates: 100 } });
    await ok('limits/subject/certificate', { subjectIdentifierType: 'Nip', enrollment: { maxEnrollments: 2 }, certificate: { maxCertificates: 1 } }, owner.accessToken);
    expect(await t.client.call('GET', 'limits/subject', { bearer: owner.accessToken, expected: 200 })).toEqual({ enrollment: { maxEnrollments: 2 }, certificate: { maxCertificates: 1 } });
    expect(await t.client.call('GET', 'certificates/limits', { bearer: owner.accessToken, expected: 200 })).toEqual({
      canRequest: true,
      enrollment: { remaining: 2, limit: 2 },
      certificate: { remaining: 1, limit: 1 },
    });
    expect(exceptionDetails(await post('limits/subject/certificate', { subjectIdentifierType: 'Pesel' }, owner.accessToken))).toEqual([
      'subjectIdentifierType: the authenticated subject is identified by Nip',
    ]);
    expect((await t.raw.delete('testdata/limits/subject/certificate', { headers: bearer(owner.accessToken) })).statusCode).toBe(200);
    expect(await t.client.call('GET', 'limits/subject', { bearer: owner.accessToken, expected: 200 })).toEqual(defaults);
    // A PESEL's limits are KSeF's 12 requests and 6 certificates.
    await ok('person', { nip: OTHER_NIP, pesel: PESEL, isBailiff: false, description: 'Właściciel' });
    const person = await signIn(t.client, await selfSignedCertificate({ person: { pesel: PESEL } }, { keyType: 'EC' }), nip(OTHER_NIP));
    expect(await t.client.call('GET', 'limits/subject', { bearer: person.accessToken, expected: 200 })).toEqual({ enrollment: { maxEnrollments: 12 }, certificate: { maxCertificates: 6 } });
  });

  it('sets the context’s own rate limits, which GET /rate-limits reports and the API applies; production and default profiles', async () => {
    const groups = ['onlineSession', 'batchSession', 'invoiceSend', 'invoiceStatus', 'sessionList', 'sessionInvoiceList', 'sessionMisc', 'invoiceMetadata', 'invoiceExport', 'invoiceExportStatus', 'invoiceDownload', 'other'];
    const table = Object.fromEntries(groups.map((g) => [g, { perSecond: 100, perMinute: 1000, perHour: 10000 }]));
    table.other = { perSecond: 3, perMinute: 100, perHour: 1000 };
    await ok('rate-limits', { rateLimits: table }, owner.accessToken);
    expect(await t.client.call('GET', 'rate-limits', { bearer: owner.accessToken, expected: 200 })).toEqual(table);
    // The clock stands still: the 4th request in this second is one too many for "other" (3 per second).
    for (let i = 0; i < 2; i++) expect((await t.raw.get('rate-limits', { headers: bearer(owner.accessToken) })).statusCode).toBe(200);
    const limited = await t.raw.get('rate-limits', { headers: bearer(owner.accessToken) });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    clock.advance(2000);
    // Another context keeps the common limits (off here).
    const other = await t.client.authenticate(openModeToken(OTHER_NIP), nip(OTHER_NIP));
    expect((await t.client.call<{ other: { perSecond: number } }>('GET', 'rate-limits', { bearer: other.accessToken, expected: 200 })).other.perSecond).toBe(1_000_000);

    expect((await t.raw.post('testdata/rate-limits/production', { headers: bearer(owner.accessToken) })).statusCode).toBe(200);
    expect((await t.client.call<{ invoiceMetadata: unknown }>('GET', 'rate-limits', { bearer: owner.accessToken, expected: 200 })).invoiceMetadata).toEqual({ perSecond: 8, perMinute: 16, perHour: 20 });
    clock.advance(3_600_000);
    expect((await t.raw.delete('testdata/rate-limits', { headers: bearer(owner.accessToken) })).statusCode).toBe(200);
    expect((await t.client.call<{ other: { perSecond: number } }>('GET', 'rate-limits', { bearer: owner.accessToken, expected: 200 })).other.perSecond).toBe(1_000_000);
    const { other: _, ...incomplete } = table;
    expect(exceptionDetails(await post('rate-limits', { rateLimits: incomplete }, owner.accessToken))).toEqual(['rateLimits.other: is required']);
  });

  it('revokes attachment consent at once, or from an expected end date on', async () => {
    await ok('attachment', { nip: SELLER_NIP });
    const tomorrow = new Date(clock.now().getTime() + 2 * 86_400_000).toISOString().slice(0, 10);
    await ok('attachment/revoke', { nip: SELLER_NIP, expectedEndDate: tomorrow });
    const pending = await t.client.call<{ isAttachmentAllowed: boolean; revokedDate: string }>('GET', 'permissions/attachments/status', { bearer: owner.accessToken, expected: 200 });
    expect(pending.isAttachmentAllowed).toBe(true);
    // From the start of that day in Warsaw.
    expect(new Date(pending.revokedDate).toLocaleString('sv-SE', { timeZone: 'Europe/Warsaw' })).toBe(`${tomorrow} 00:00:00`);
    clock.advance(3 * 86_400_000);
    expect((await t.client.call<{ isAttachmentAllowed: boolean }>('GET', 'permissions/attachments/status', { bearer: owner.accessToken, expected: 200 })).isAttachmentAllowed).toBe(false);
    await ok('attachment/revoke', { nip: SELLER_NIP });
    expect(await t.client.call('GET', 'permissions/attachments/status', { bearer: owner.accessToken, expected: 200 })).toEqual({ isAttachmentAllowed: false, revokedDate: null });
  });

  it('lists no Peppol providers (an empty, valid page)', async () => {
    expect(json(await t.raw.get('peppol/query?pageSize=20'))).toEqual({ peppolProviders: [], hasMore: false });
    expect(exceptionCode(await t.raw.get('peppol/query?pageSize=5'))).toBe(21405);
  });
});
