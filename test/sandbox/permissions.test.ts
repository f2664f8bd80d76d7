import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { describeWithShared } from '../support/shared.js';
import { selfSignedCertificate, signedAuthTokenRequest, signerOf, TestCertificate } from '../support/xades.js';
import { bearer, exceptionCode, exceptionDetails, json } from './support/http.js';
import { ContextIdentifier, Tokens } from './support/independent-client.js';
import { BUYER_NIP, invoiceVariant, OTHER_NIP, SELLER_NIP, signIn, startTestSandbox, TestSandbox, uniqueNumber } from './support/sandbox.js';

jest.setTimeout(120_000);

const nip = (value: string): ContextIdentifier => ({ type: 'Nip', value });
const PESEL = '90010112345';
const SEND = ['InvoiceWrite', 'PefInvoiceWrite', 'EnforcementOperations'];

/** `NIP-dddd` plus its check digit (Σ digits × 1,3,1,3… mod 10). */
const withCheckDigit = (nipValue: string, four: string) => {
  const digits = nipValue + four;
  const sum = [...digits].reduce((acc, d, i) => acc + Number(d) * (i % 2 ? 3 : 1), 0);
  return `${nipValue}-${four}${sum % 10}`;
};

describeWithShared('sandbox: permissions (/permissions/*), enforced', () => {
  let t: TestSandbox;
  let seller: TestCertificate;
  let office: TestCertificate;
  let person: TestCertificate;
  let owner: Tokens;

  beforeAll(async () => {
    t = await startTestSandbox({ faultsEnabled: true });
    [seller, office, person] = await Promise.all([
      selfSignedCertificate({ seal: { nip: SELLER_NIP } }, { keyType: 'EC' }),
      selfSignedCertificate({ seal: { nip: OTHER_NIP } }, { keyType: 'EC' }),
      selfSignedCertificate({ person: { pesel: PESEL, givenName: 'Anna', surname: 'Nowak' } }, { keyType: 'EC' }),
    ]);
    owner = await signIn(t.client, seller, nip(SELLER_NIP));
  });
  afterAll(() => t.close());

  /** The final status of a sign-in (200 or its failure). */
  async function signInStatus(cert: TestCertificate, context: ContextIdentifier, type: 'certificateSubject' | 'certificateFingerprint' = 'certificateSubject') {
    const challenge = (await t.client.challenge()).challenge;
    const started = await t.client.startXadesAuth(await signedAuthTokenRequest({ challenge, context, subjectIdentifierType: type }, signerOf(cert)));
    return (await t.client.waitForAuth(started.referenceNumber, started.authenticationToken.token)).code;
  }

  /** Posts a grant or revocation (202) and waits for its operation to settle. */
  async function operation(method: 'POST' | 'DELETE', path: string, token: string, body?: unknown) {
    const { referenceNumber } = await t.client.call<{ referenceNumber: string }>(method, path, { bearer: token, json: body, expected: 202 });
    expect(referenceNumber).toMatch(/^\d{8}-EG-[0-9A-F]{10}-[0-9A-F]{10}-[0-9A-F]{2}$/);
    for (let i = 0; i < 200; i++) {
      const { status } = await t.client.call<{ status: { code: number; description: string; details?: string[] } }>('GET', `permissions/operations/${referenceNumber}`, {
        bearer: token,
        expected: 200,
      });
      if (status.code !== 100) return status;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`operation ${referenceNumber} still running`);
  }

  const entityGrant = (subject: string, permissions: Array<{ type: string; canDelegate?: boolean }>) => ({
    subjectIdentifier: { type: 'Nip', value: subject },
    permissions,
    description: 'Biuro rachunkowe',
    subjectDetails: { fullName: 'Biuro Rachunkowe sp. z o.o.' },
  });
  const personDetails = { subjectDetailsType: 'PersonByIdentifier', personById: { firstName: 'Anna', lastName: 'Nowak' } };

  it('refuses to send with a KSeF token created without InvoiceWrite (403 missing-permissions), and lets it read', async () => {
    const created = await t.client.call<{ token: string }>('POST', 'tokens', {
      bearer: owner.accessToken,
      json: { permissions: ['InvoiceRead'], description: 'Tylko odczyt faktur' },
      expected: 202,
    });
    const reader = await t.client.authenticate(created.token, nip(SELLER_NIP));
    const refused = await t.raw.post('sessions/online', { json: {}, headers: bearer(reader.accessToken) });
    expect(refused.statusCode).toBe(403);
    expect(json(refused)).toMatchObject({
      title: 'Forbidden',
      status: 403,
      detail: 'Brak wymaganych uprawnień do wykonania operacji w bieżącym kontekście.',
      reasonCode: 'missing-permissions',
      security: { requiredAnyOfPermissions: SEND, presentPermissions: ['InvoiceRead'] },
    });
    expect((await t.raw.post('invoices/query/metadata', { json: { subjectType: 'Subject1', dateRange: { dateType: 'Invoicing', from: new Date(Date.now() - 3600_000).toISOString() } }, headers: bearer(reader.accessToken) })).statusCode).toBe(200);
    // Managing permissions needs CredentialsManage.
    const manage = await t.raw.post('permissions/persons/grants', { json: {}, headers: bearer(reader.accessToken) });
    expect(json(manage)).toMatchObject({ reasonCode: 'missing-permissions', security: { requiredAnyOfPermissions: ['CredentialsManage'] } });
    // And a token cannot carry what its creator lacks (26001).
    const wider = await t.raw.post('tokens', { json: { permissions: ['InvoiceRead', 'InvoiceWrite'], description: 'Więcej niż mam' }, headers: bearer(reader.accessToken) });
    expect(exceptionCode(wider)).toBe(26001);
    expect(exceptionDetails(wider)).toEqual(['Brakujące uprawnienia: InvoiceWrite.']);
  });

  it('lets a second NIP granted InvoiceRead query, download and export the first NIP’s invoices in its context, and nothing more', async () => {
    // The seller sends an invoice.
    const session = await t.client.openOnlineSession(owner.accessToken);
    const sent = await t.client.sendInvoice(owner.accessToken, session.referenceNumber, session.keys, invoiceVariant('fa3-vat.xml', { number: uniqueNumber('P') }));
    const { ksefNumber } = await t.client.waitForInvoice(owner.accessToken, session.referenceNumber, sent);

    expect(await signInStatus(office, nip(SELLER_NIP))).toBe(415);
    const status = await operation('POST', 'permissions/entities/grants', owner.accessToken, entityGrant(OTHER_NIP, [{ type: 'InvoiceRead' }]));
    expect(status).toEqual({ code: 200, description: 'Operacja zakończona sukcesem' });

    const office1 = await signIn(t.client, office, nip(SELLER_NIP));
    const found = await t.client.queryMetadata(office1.accessToken, { subjectType: 'Subject1', dateRange: { dateType: 'Invoicing', from: new Date(Date.now() - 3600_000).toISOString() } });
    expect(found.invoices.map((i) => i.ksefNumber)).toContain(ksefNumber);
    expect((await t.client.invoice(office1.accessToken, ksefNumber!)).body.length).toBeGreaterThan(0);
    const keys = { key: randomBytes(32), iv: randomBytes(16) };
    await t.client.call('POST', 'invoices/exports', {
      bearer: office1.accessToken,
      json: { encryption: await t.client.encryptionFor(keys), filters: { subjectType: 'Subject1', dateRange: { dateType: 'Invoicing', from: new Date(Date.now() - 3600_000).toISOString() } } },
      expected: 201,
    });
    const send = await t.raw.post('sessions/online', { json: {}, headers: bearer(office1.accessToken) });
    expect(json(send)).toMatchObject({ reasonCode: 'missing-permissions', security: { requiredAnyOfPermissions: SEND, presentPermissions: ['InvoiceRead'] } });

    // Its own view: the personal query in the seller's context, the received grants in its own.
    const personal = await t.client.call<{ permissions: Array<Record<string, unknown>> }>('POST', 'permissions/query/personal/grants', { bearer: office1.accessToken, json: {}, expected: 200 });
    expect(personal.permissions).toEqual([
      expect.objectContaining({ contextIdentifier: nip(SELLER_NIP), permissionScope: 'InvoiceRead', canDelegate: false, permissionState: 'Active', description: 'Biuro rachunkowe' }),
    ]);
    const own = await signIn(t.client, office, nip(OTHER_NIP));
    const received = await t.client.call<{ permissions: Array<Record<string, unknown>>; hasMore: boolean }>('POST', 'permissions/query/entities/grants', {
      bearer: own.accessToken,
      json: { contextIdentifier: nip(SELLER_NIP) },
      expected: 200,
    });
    expect(received).toEqual({ permissions: [expect.objectContaining({ contextIdentifier: nip(SELLER_NIP), permissionScope: 'InvoiceRead', canDelegate: false })], hasMore: false });

    // Revoked: a new sign-in is refused; the access token keeps its permissions until it expires, a refreshed one has none.
    const id = personal.permissions[0].id as string;
    expect((await operation('DELETE', `permissions/common/grants/${id}`, owner.accessToken)).code).toBe(200);
    expect(await signInStatus(office, nip(SELLER_NIP))).toBe(415);
    expect((await t.raw.post('invoices/query/metadata', { json: { subjectType: 'Subject1', dateRange: { dateType: 'Invoicing', from: new Date(Date.now() - 3600_000).toISOString() } }, headers: bearer(office1.accessToken) })).statusCode).toBe(200);
    const refreshed = json(await t.raw.post('auth/token/refresh', { headers: bearer(office1.refreshToken) })).accessToken.token as string;
    expect((await t.raw.get(`invoices/ksef/${ksefNumber}`, { headers: bearer(refreshed) })).statusCode).toBe(403);
    expect(exceptionCode(await t.raw.delete(`permissions/common/grants/${id}`, { headers: bearer(owner.accessToken) }))).toBe(21405);
  });

  it('grants a person permissions by PESEL, lists them for the context, and gates EnforcementOperations by role (430)', async () => {
    expect(await signInStatus(person, nip(SELLER_NIP))).toBe(415);
    const grant = { subjectIdentifier: { type: 'Pesel', value: PESEL }, permissions: ['InvoiceWrite', 'CredentialsRead'], description: 'Księgowa', subjectDetails: personDetails };
    expect((await operation('POST', 'permissions/persons/grants', owner.accessToken, grant)).code).toBe(200);
    const accountant = await signIn(t.client, person, nip(SELLER_NIP));
    expect((await t.client.openOnlineSession(accountant.accessToken)).referenceNumber).toMatch(/-SO-/);
    const listed = await t.client.call<{ permissions: Array<Record<string, unknown>> }>('POST', 'permissions/query/persons/grants', {
      bearer: accountant.accessToken,
      json: { queryType: 'PermissionsInCurrentContext', authorizedIdentifier: { type: 'Pesel', value: PESEL } },
      expected: 200,
    });
    expect(listed.permissions.map((p) => p.permissionScope).sort()).toEqual(['CredentialsRead', 'InvoiceWrite']);
    expect(listed.permissions[0]).toMatchObject({
      authorizedIdentifier: { type: 'Pesel', value: PESEL },
      contextIdentifier: nip(SELLER_NIP),
      authorIdentifier: { type: 'Nip', value: SELLER_NIP },
      subjectPersonDetails: { subjectDetailsType: 'PersonByIdentifier', firstName: 'Anna', lastName: 'Nowak' },
    });
    // CredentialsRead is not CredentialsManage: no granting.
    expect((await t.raw.post('permissions/persons/grants', { json: grant, headers: bearer(accountant.accessToken) })).statusCode).toBe(403);
    // The same grant again changes nothing.
    expect((await operation('POST', 'permissions/persons/grants', owner.accessToken, grant)).code).toBe(200);
    const granted = await t.client.call<{ permissions: unknown[] }>('POST', 'permissions/query/persons/grants', {
      bearer: owner.accessToken,
      json: { queryType: 'PermissionsGrantedInCurrentContext', authorizedIdentifier: { type: 'Pesel', value: PESEL } },
      expected: 200,
    });
    expect(granted.permissions).toHaveLength(2);
    expect(await operation('POST', 'permissions/persons/grants', owner.accessToken, { ...grant, permissions: ['EnforcementOperations'] })).toEqual({
      code: 430,
      description: 'Kontekst identyfikatora nie odpowiada wymaganej roli lub uprawnieniom',
      details: ['Uprawnienie EnforcementOperations wymaga roli EnforcementAuthority lub CourtBailiff kontekstu.'],
    });
    const invalid = await t.raw.post('permissions/persons/grants', {
      json: { ...grant, permissions: ['InvoiceWrite', 'InvoiceWrite'], subjectDetails: { subjectDetailsType: 'PersonByFingerprintWithoutIdentifier' } },
      headers: bearer(owner.accessToken),
    });
    expect(exceptionDetails(invalid)).toEqual([
      'permissions: must not repeat values',
      'subjectDetails.subjectDetailsType: PersonByFingerprintWithoutIdentifier does not describe a subject identified by Pesel',
      'subjectDetails.personByFpNoId: is required',
    ]);
  });

  it('lets an intermediary pass on a delegable grant to its person (indirect), only for the clients who delegated', async () => {
    const delegate = await operation('POST', 'permissions/entities/grants', owner.accessToken, entityGrant(OTHER_NIP, [{ type: 'InvoiceRead', canDelegate: true }]));
    expect(delegate.code).toBe(200);
    const officeOwn = await signIn(t.client, office, nip(OTHER_NIP));
    const clerk = await selfSignedCertificate({ person: { pesel: '85020354321', givenName: 'Jan', surname: 'Kowal' } }, { keyType: 'EC' });
    const indirect = (target?: unknown) => ({
      subjectIdentifier: { type: 'Pesel', value: '85020354321' },
      ...(target ? { targetIdentifier: target } : {}),
      permissions: ['InvoiceRead'],
      description: 'Pracownik biura',
      subjectDetails: { subjectDetailsType: 'PersonByIdentifier', personById: { firstName: 'Jan', lastName: 'Kowal' } },
    });
    expect((await operation('POST', 'permissions/indirect/grants', officeOwn.accessToken, indirect({ type: 'Nip', value: BUYER_NIP }))).code).toBe(440);
    expect((await operation('POST', 'permissions/indirect/grants', officeOwn.accessToken, indirect({ type: 'Nip', value: SELLER_NIP }))).code).toBe(200);
    const clerkInSeller = await signIn(t.client, clerk, nip(SELLER_NIP));
    expect((await t.raw.post('sessions/online', { json: {}, headers: bearer(clerkInSeller.accessToken) })).statusCode).toBe(403);
    // Indirect rights do not apply in the intermediary's own context.
    expect(await signInStatus(clerk, nip(OTHER_NIP))).toBe(415);
    const mine = await t.client.call<{ permissions: Array<Record<string, unknown>> }>('POST', 'permissions/query/persons/grants', {
      bearer: officeOwn.accessToken,
      json: { queryType: 'PermissionsGrantedInCurrentContext' },
      expected: 200,
    });
    expect(mine.permissions).toEqual([expect.objectContaining({ targetIdentifier: nip(SELLER_NIP), permissionScope: 'InvoiceRead', authorizedIdentifier: { type: 'Pesel', value: '85020354321' } })]);
  });

  it('appoints subunit administrators (CredentialsManage in the InternalId), checking the InternalId check digit', async () => {
    const subunit = withCheckDigit(SELLER_NIP, '1234');
    const wrong = subunit.slice(0, -1) + String((Number(subunit.slice(-1)) + 1) % 10);
    expect(exceptionDetails(await t.raw.post('permissions/subunits/grants', {
      json: { subjectIdentifier: { type: 'Pesel', value: PESEL }, contextIdentifier: { type: 'InternalId', value: wrong }, description: 'Oddział', subunitName: 'Oddział Kraków', subjectDetails: personDetails },
      headers: bearer(owner.accessToken),
    }))).toEqual(['contextIdentifier.value: has a wrong check digit (the 5th digit of the suffix)']);
    const grant = { subjectIdentifier: { type: 'Pesel', value: PESEL }, contextIdentifier: { type: 'InternalId', value: subunit }, description: 'Oddział', subunitName: 'Oddział Kraków', subjectDetails: personDetails };
    expect((await operation('POST', 'permissions/subunits/grants', owner.accessToken, grant)).code).toBe(200);
    const admin = await signIn(t.client, person, { type: 'InternalId', value: subunit });
    const persons = await t.client.call<{ permissions: Array<Record<string, unknown>> }>('POST', 'permissions/query/persons/grants', {
      bearer: admin.accessToken,
      json: { queryType: 'PermissionsInCurrentContext' },
      expected: 200,
    });
    expect(persons.permissions).toEqual([expect.objectContaining({ permissionScope: 'CredentialsManage', contextIdentifier: { type: 'InternalId', value: subunit } })]);
    const subunits = await t.client.call<{ permissions: Array<Record<string, unknown>> }>('POST', 'permissions/query/subunits/grants', { bearer: owner.accessToken, json: {}, expected: 200 });
    expect(subunits.permissions).toEqual([expect.objectContaining({ subunitIdentifier: { type: 'InternalId', value: subunit }, subunitName: 'Oddział Kraków', permissionScope: 'CredentialsManage' })]);
    // Another NIP's InternalId is not the caller's to appoint in.
    expect((await operation('POST', 'permissions/subunits/grants', owner.accessToken, { ...grant, contextIdentifier: { type: 'InternalId', value: withCheckDigit(OTHER_NIP, '0000') } })).code).toBe(410);
  });

  it('makes an EU entity administrator (by fingerprint) who signs in to the NipVatUe context and appoints a representative', async () => {
    const euContext = { type: 'NipVatUe' as const, value: `${SELLER_NIP}-DE123456789` };
    const [admin, representative] = await Promise.all([
      selfSignedCertificate({ anonymous: { commonName: 'EU Admin GmbH' } }, { keyType: 'EC' }),
      selfSignedCertificate({ anonymous: { commonName: 'EU Vertreter' } }, { keyType: 'EC' }),
    ]);
    const euDetails = { subjectDetailsType: 'EntityByFingerprint', entityByFp: { fullName: 'EU Admin GmbH', address: 'Berlin' } };
    const granted = await operation('POST', 'permissions/eu-entities/administration/grants', owner.accessToken, {
      subjectIdentifier: { type: 'Fingerprint', value: admin.fingerprint.toLowerCase() },
      contextIdentifier: euContext,
      description: 'Administrator podmiotu unijnego',
      euEntityName: 'EU Admin GmbH, Berlin',
      subjectDetails: euDetails,
      euEntityDetails: { fullName: 'EU Admin GmbH', address: 'Berlin' },
    });
    expect(granted.code).toBe(200);
    const euAdmin = await signIn(t.client, admin, euContext, 'certificateFingerprint');
    expect((await operation('POST', 'permissions/eu-entities/grants', euAdmin.accessToken, {
      subjectIdentifier: { type: 'Fingerprint', value: representative.fingerprint },
      permissions: ['InvoiceWrite'],
      description: 'Przedstawiciel',
      subjectDetails: { subjectDetailsType: 'EntityByFingerprint', entityByFp: { fullName: 'EU Vertreter', address: 'Wien' } },
    })).code).toBe(200);
    const rep = await signIn(t.client, representative, euContext, 'certificateFingerprint');
    expect((await t.client.openOnlineSession(rep.accessToken)).referenceNumber).toMatch(/-SO-/);
    const listed = await t.client.call<{ permissions: Array<Record<string, unknown>> }>('POST', 'permissions/query/eu-entities/grants', {
      bearer: euAdmin.accessToken,
      json: { vatUeIdentifier: 'DE123456789' },
      expected: 200,
    });
    expect(listed.permissions.map((p) => p.permissionScope).sort()).toEqual(['Introspection', 'InvoiceRead', 'InvoiceWrite', 'InvoiceWrite', 'VatUeManage']);
    expect(listed.permissions.find((p) => p.authorizedFingerprintIdentifier === representative.fingerprint)).toMatchObject({ euEntityName: 'EU Admin GmbH, Berlin' });
    // The NIP context sees only the administrators it appointed.
    const fromNip = await t.client.call<{ permissions: unknown[] }>('POST', 'permissions/query/eu-entities/grants', { bearer: owner.accessToken, json: {}, expected: 200 });
    expect(fromNip.permissions).toHaveLength(4);
  });

  it('grants, lists and revokes entity authorizations (self-invoicing and the like)', async () => {
    const status = await operation('POST', 'permissions/authorizations/grants', owner.accessToken, {
      subjectIdentifier: { type: 'Nip', value: BUYER_NIP },
      permission: 'SelfInvoicing',
      description: 'Samofakturowanie',
      subjectDetails: { fullName: 'Nabywca testowy S.A.' },
    });
    expect(status.code).toBe(200);
    const granted = await t.client.call<{ authorizationGrants: Array<Record<string, unknown>> }>('POST', 'permissions/query/authorizations/grants', {
      bearer: owner.accessToken,
      json: { queryType: 'Granted' },
      expected: 200,
    });
    expect(granted.authorizationGrants).toEqual([
      expect.objectContaining({
        authorizedEntityIdentifier: nip(BUYER_NIP),
        authorizingEntityIdentifier: nip(SELLER_NIP),
        authorizationScope: 'SelfInvoicing',
        subjectEntityDetails: { subjectDetailsType: 'EntityByIdentifier', fullName: 'Nabywca testowy S.A.' },
      }),
    ]);
    const buyerSeal = await selfSignedCertificate({ seal: { nip: BUYER_NIP } }, { keyType: 'EC' });
    const buyer = await signIn(t.client, buyerSeal, nip(BUYER_NIP));
    const received = await t.client.call<{ authorizationGrants: unknown[] }>('POST', 'permissions/query/authorizations/grants', { bearer: buyer.accessToken, json: { queryType: 'Received' }, expected: 200 });
    expect(received.authorizationGrants).toHaveLength(1);
    const id = granted.authorizationGrants[0].id as string;
    expect(exceptionCode(await t.raw.delete(`permissions/common/grants/${id}`, { headers: bearer(owner.accessToken) }))).toBe(21405);
    expect((await operation('DELETE', `permissions/authorizations/grants/${id}`, owner.accessToken)).code).toBe(200);
    expect((await t.client.call<{ authorizationGrants: unknown[] }>('POST', 'permissions/query/authorizations/grants', { bearer: buyer.accessToken, json: { queryType: 'Received' }, expected: 200 })).authorizationGrants).toEqual([]);
  });

  it('pages the queries (pageSize 10–100, pageOffset a page index), newest first, and filters by permission type', async () => {
    const context = nip(BUYER_NIP);
    const pesels = Array.from({ length: 12 }, (_, i) => `800101${String(10000 + i).slice(1)}0`.slice(0, 11));
    for (const value of pesels) {
      await t.client.call('POST', 'testdata/permissions', {
        json: { contextIdentifier: context, authorizedIdentifier: { type: 'Pesel', value }, permissions: [{ permissionType: 'InvoiceRead', description: 'Z ZAW-FA' }] },
        expected: 200,
      });
    }
    const buyerSeal = await selfSignedCertificate({ seal: { nip: BUYER_NIP } }, { keyType: 'EC' });
    const buyer = await signIn(t.client, buyerSeal, context);
    const page = (query: string, body: Record<string, unknown> = {}) =>
      t.client.call<{ permissions: Array<Record<string, unknown>>; hasMore: boolean }>('POST', `permissions/query/persons/grants${query}`, {
        bearer: buyer.accessToken,
        json: { queryType: 'PermissionsInCurrentContext', ...body },
        expected: 200,
      });
    const first = await page('?pageSize=10');
    const second = await page('?pageSize=10&pageOffset=1');
    expect([first.permissions.length, first.hasMore, second.permissions.length, second.hasMore]).toEqual([10, true, 2, false]);
    expect(new Set([...first.permissions, ...second.permissions].map((p) => (p.authorizedIdentifier as { value: string }).value))).toEqual(new Set(pesels));
    expect(first.permissions[0]).toMatchObject({ authorIdentifier: { type: 'System', value: null }, permissionScope: 'InvoiceRead' });
    expect((await page('', { permissionTypes: ['InvoiceWrite'] })).permissions).toEqual([]);
    expect(exceptionCode(await t.raw.post('permissions/query/persons/grants?pageSize=5', { json: { queryType: 'PermissionsInCurrentContext' }, headers: bearer(buyer.accessToken) }))).toBe(21405);
    // A person granted by test data signs in with it, until the grant is revoked.
    const clerk = await selfSignedCertificate({ person: { pesel: pesels[0] } }, { keyType: 'EC' });
    expect(await signInStatus(clerk, context)).toBe(200);
    await t.client.call('POST', 'testdata/permissions/revoke', { json: { contextIdentifier: context, authorizedIdentifier: { type: 'Pesel', value: pesels[0] } }, expected: 200 });
    expect(await signInStatus(clerk, context)).toBe(415);
  });

  it('answers operation status only to its context, 21405 for unknown ones, and the attachment consent status', async () => {
    const { referenceNumber } = await t.client.call<{ referenceNumber: string }>('POST', 'permissions/entities/grants', {
      bearer: owner.accessToken,
      json: entityGrant(BUYER_NIP, [{ type: 'InvoiceWrite' }]),
      expected: 202,
    });
    const other = await signIn(t.client, office, nip(OTHER_NIP));
    expect(exceptionCode(await t.raw.get(`permissions/operations/${referenceNumber}`, { headers: bearer(other.accessToken) }))).toBe(21405);
    expect(exceptionCode(await t.raw.get('permissions/operations/20260101-EG-0000000000-0000000000-00', { headers: bearer(owner.accessToken) }))).toBe(21405);
    expect(await t.client.call('GET', 'permissions/attachments/status', { bearer: owner.accessToken, expected: 200 })).toEqual({ isAttachmentAllowed: false, revokedDate: null });
    await t.client.call('POST', 'testdata/attachment', { json: { nip: SELLER_NIP }, expected: 200 });
    expect(await t.client.call('GET', 'permissions/attachments/status', { bearer: owner.accessToken, expected: 200 })).toEqual({ isAttachmentAllowed: true, revokedDate: null });
  });

  it('shows a KSeF-token caller only its own token, and a CredentialsRead holder all of the context', async () => {
    const make = async (permissions: string[]) =>
      (await t.client.call<{ referenceNumber: string; token: string }>('POST', 'tokens', { bearer: owner.accessToken, json: { permissions, description: 'Token testowy' }, expected: 202 }));
    const plain = await make(['InvoiceRead']);
    const reader = await make(['CredentialsRead']);
    const plainCaller = await t.client.authenticate(plain.token, nip(SELLER_NIP));
    const readerCaller = await t.client.authenticate(reader.token, nip(SELLER_NIP));
    const list = async (token: string) => (await t.client.call<{ tokens: Array<{ referenceNumber: string }> }>('GET', 'tokens?pageSize=100', { bearer: token, expected: 200 })).tokens.map((x) => x.referenceNumber);
    expect(await list(plainCaller.accessToken)).toEqual([plain.referenceNumber]);
    expect(await list(readerCaller.accessToken)).toEqual(expect.arrayContaining([plain.referenceNumber, reader.referenceNumber]));
    expect(exceptionCode(await t.raw.get(`tokens/${reader.referenceNumber}`, { headers: bearer(plainCaller.accessToken) }))).toBe(21405);
    // The owner signed in with its seal authored them all.
    const tokens = await t.client.call<{ tokens: Array<{ authorIdentifier: unknown }> }>('GET', 'tokens?pageSize=100', { bearer: owner.accessToken, expected: 200 });
    expect(tokens.tokens.length).toBeGreaterThanOrEqual(3);
    expect(tokens.tokens.every((x) => JSON.stringify(x.authorIdentifier) === JSON.stringify({ type: 'Nip', value: SELLER_NIP }))).toBe(true);
  });
});
