import fs from 'node:fs';
import { constants, createPrivateKey, generateKeyPairSync, KeyObject, sign, verify, X509Certificate } from 'node:crypto';
import { readCertificateRequest } from '../../src/sandbox/certificates/csr.js';
import { subjectDifferences } from '../../src/sandbox/certificates/subject.js';
import { KsefError } from '../../src/sandbox/http/errors.js';
import { x509 } from '../../src/sandbox/util/x509.js';
import { describeWithShared, sharedPath } from '../support/shared.js';
import { selfSignedCertificate, signedAuthTokenRequest, TestCertificate } from '../support/xades.js';
import { buildCsr, SIGNATURE_ALGORITHMS } from './support/csr.js';
import { bearer, exceptionCode, exceptionDetails, json } from './support/http.js';
import { Tokens } from './support/independent-client.js';
import { FakeClock, openModeToken, OTHER_NIP, SELLER_NIP, signIn, startTestSandbox, TestSandbox } from './support/sandbox.js';

type KeyPair = ReturnType<typeof generateKeyPairSync>;
type Data = Record<string, string>;

interface EnrollmentStatus {
  requestDate: string;
  status: { code: number; description: string; details?: string[] | null };
  certificateSerialNumber?: string;
}

interface ListItem {
  certificateSerialNumber: string;
  name: string;
  type: string;
  commonName: string;
  status: string;
  subjectIdentifier: { type: string; value: string };
  validFrom: string;
  validTo: string;
  requestDate: string;
}

const rsaKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ecKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

/** The certificate's keyUsage extension: its criticality and DER value (a BIT STRING). */
function keyUsageOf(certificateDer: Buffer): { critical: boolean; value: Buffer } | undefined {
  const extension = new x509.X509Certificate(new Uint8Array(certificateDer)).getExtension(x509.KeyUsagesExtension);
  return extension ? { critical: extension.critical, value: Buffer.from(extension.value) } : undefined;
}

const DIGITAL_SIGNATURE = { critical: true, value: Buffer.from([0x03, 0x02, 0x07, 0x80]) };
const NON_REPUDIATION = { critical: true, value: Buffer.from([0x03, 0x02, 0x06, 0x40]) };

const spkiOf = (key: { export(o: { type: 'spki'; format: 'der' }): Buffer }) => key.export({ type: 'spki', format: 'der' });

/** The subject of an X509Certificate as (unordered) `name=value` lines. */
const subjectLines = (cert: X509Certificate) => cert.subject.split('\n').sort();
const expectedLines = (data: Data) =>
  [`CN=${data.commonName}`, `C=${data.countryName}`, `O=${data.organizationName}`, `organizationIdentifier=${data.organizationIdentifier}`].sort();

/** The seal the admin API certifies for a NIP (the sandbox knows no company names). */
const ADMIN_SEAL_DATA = {
  commonName: `Podmiot ${SELLER_NIP}`,
  countryName: 'PL',
  organizationName: `Podmiot testowy ${SELLER_NIP} (sandbox)`,
  organizationIdentifier: SELLER_NIP,
};

const nipContext = (value: string) => ({ type: 'Nip' as const, value });
const internalContext = (value: string) => ({ type: 'InternalId' as const, value });

function certificateHelpers(get: () => { t: TestSandbox; token: string }) {
  const enroll = async (csr: Buffer, type: 'Offline' | 'Authentication' = 'Offline', extra: Record<string, unknown> = {}, token = get().token) =>
    (
      await get().t.client.call<{ referenceNumber: string; timestamp: string }>('POST', 'certificates/enrollments', {
        bearer: token,
        json: { certificateName: `Certyfikat ${type}`, certificateType: type, csr: csr.toString('base64'), ...extra },
        expected: 202,
      })
    ).referenceNumber;
  const refuse = (csr: Buffer, token = get().token) =>
    get().t.raw.post('certificates/enrollments', {
      json: { certificateName: 'Odrzucany certyfikat', certificateType: 'Offline', csr: csr.toString('base64') },
      headers: bearer(token),
    });
  const enrollmentStatus = (ref: string, token = get().token) =>
    get().t.client.call<EnrollmentStatus>('GET', `certificates/enrollments/${ref}`, { bearer: token, expected: 200 });
  async function waitForEnrollment(ref: string, token = get().token): Promise<EnrollmentStatus> {
    for (let i = 0; i < 200; i++) {
      const status = await enrollmentStatus(ref, token);
      if (status.status.code !== 100) return status;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`enrollment ${ref} still processing`);
  }
  const retrieve = async (serials: string[], token = get().token) =>
    (
      await get().t.client.call<{ certificates: Array<{ certificate: string; certificateName: string; certificateSerialNumber: string; certificateType: string }> }>(
        'POST',
        'certificates/retrieve',
        { bearer: token, json: { certificateSerialNumbers: serials }, expected: 200 },
      )
    ).certificates;
  const list = (filters: Record<string, unknown> = {}, page = '', token = get().token) =>
    get().t.client.call<{ certificates: ListItem[]; hasMore: boolean }>('POST', `certificates/query${page}`, { bearer: token, json: filters, expected: 200 });
  const limits = (token = get().token) =>
    get().t.client.call<{ canRequest: boolean; enrollment: { remaining: number; limit: number }; certificate: { remaining: number; limit: number } }>(
      'GET',
      'certificates/limits',
      { bearer: token, expected: 200 },
    );
  const revoke = (serial: string, token = get().token) => get().t.raw.post(`certificates/${serial}/revoke`, { json: { revocationReason: 'KeyCompromise' }, headers: bearer(token) });
  return { enroll, refuse, enrollmentStatus, waitForEnrollment, retrieve, list, limits, revoke };
}

describeWithShared('sandbox: KSeF certificates (/certificates)', () => {
  const clock = new FakeClock(new Date());
  let t: TestSandbox;
  let seal: TestCertificate;
  let otherSeal: TestCertificate;
  let tokens: Tokens;
  let data: Data;
  const h = certificateHelpers(() => ({ t, token: tokens.accessToken }));
  const authority = () => t.sandbox.state.keys!.authority;

  beforeAll(async () => {
    t = await startTestSandbox({ now: clock.now, faultsEnabled: true, accessTokenTtlSeconds: 3 * 365 * 24 * 3600 });
    [seal, otherSeal] = await Promise.all([
      selfSignedCertificate({ seal: { nip: SELLER_NIP, organizationName: 'Sprzedawca testowy sp. z o.o.' } }, { keyType: 'EC' }),
      selfSignedCertificate({ seal: { nip: OTHER_NIP } }, { keyType: 'EC' }),
    ]);
    tokens = await signIn(t.client, seal, nipContext(SELLER_NIP));
    data = await t.client.call<Data>('GET', 'certificates/enrollments/data', { bearer: tokens.accessToken, expected: 200 });
  });
  afterAll(() => t.close());

  it('answers the enrollment data of the signed-in subject: the attributes of the seal it signed with, the same in its InternalId contexts', async () => {
    expect(data).toEqual({
      commonName: 'Sprzedawca testowy sp. z o.o.',
      countryName: 'PL',
      organizationName: 'Sprzedawca testowy sp. z o.o.',
      organizationIdentifier: `VATPL-${SELLER_NIP}`,
    });
    const internal = await signIn(t.client, seal, internalContext(`${SELLER_NIP}-00001`));
    expect(await t.client.call('GET', 'certificates/enrollments/data', { bearer: internal.accessToken, expected: 200 })).toEqual(data);
    expect(await h.limits()).toEqual({ canRequest: true, enrollment: { remaining: 300, limit: 300 }, certificate: { remaining: 100, limit: 100 } });
  });

  it.each([
    ['RSA-2048, sha256WithRSAEncryption', rsaKeys, false],
    ['RSA-2048, RSASSA-PSS', generateKeyPairSync('rsa', { modulusLength: 2048 }), true],
    ['EC P-256, ecdsa-with-SHA256', ecKeys, false],
  ] as Array<[string, KeyPair, boolean]>)('issues an Offline certificate for a CSR with %s, signed by the sandbox CA', async (_label, keys, pss) => {
    clock.advance(1000); // distinct request dates: the list below is ordered by them
    const ref = await h.enroll(buildCsr(data, keys, { pss }));
    expect(ref).toMatch(/^\d{8}-EH-[0-9A-F]{10}-[0-9A-F]{10}-[0-9A-F]{2}$/);
    const status = await h.waitForEnrollment(ref);
    expect(status.status).toEqual({ code: 200, description: 'Wniosek obsłużony (certyfikat wygenerowany)' });
    const serial = status.certificateSerialNumber!;
    expect(serial).toMatch(/^[0-9A-F]{16}$/);

    const [retrieved] = await h.retrieve([serial]);
    expect(retrieved).toMatchObject({ certificateName: 'Certyfikat Offline', certificateSerialNumber: serial, certificateType: 'Offline' });
    const der = Buffer.from(retrieved.certificate, 'base64');
    const cert = new X509Certificate(der);
    expect(cert.verify(authority().publicKey)).toBe(true);
    expect(cert.checkIssued(new X509Certificate(authority().certificateDer))).toBe(true);
    expect(cert.serialNumber.toUpperCase()).toBe(serial);
    expect(spkiOf(cert.publicKey).equals(spkiOf(keys.publicKey))).toBe(true);
    expect(subjectLines(cert)).toEqual(expectedLines(data));
    expect(cert.ca).toBe(false);
    expect(keyUsageOf(der)).toEqual(NON_REPUDIATION);
    // Valid from the moment of issuing (whole seconds) for two years.
    const validFrom = new Date(cert.validFrom);
    expect(Math.abs(validFrom.getTime() - clock.now().getTime())).toBeLessThan(1000);
    const twoYearsLater = new Date(validFrom);
    twoYearsLater.setUTCFullYear(twoYearsLater.getUTCFullYear() + 2);
    expect(new Date(cert.validTo).getTime()).toBe(twoYearsLater.getTime());
  });

  it('gives an Authentication certificate digitalSignature and starts it at the validFrom requested', async () => {
    clock.advance(1000);
    const from = new Date(Math.floor(clock.now().getTime() / 1000) * 1000 + 3 * 24 * 3600_000);
    const ref = await h.enroll(buildCsr(data, ecKeys), 'Authentication', { validFrom: from.toISOString() });
    const serial = (await h.waitForEnrollment(ref)).certificateSerialNumber!;
    const [retrieved] = await h.retrieve([serial]);
    const der = Buffer.from(retrieved.certificate, 'base64');
    expect(retrieved.certificateType).toBe('Authentication');
    expect(keyUsageOf(der)).toEqual(DIGITAL_SIGNATURE);
    expect(new Date(new X509Certificate(der).validFrom).getTime()).toBe(from.getTime());
    const [item] = (await h.list({ certificateSerialNumber: serial })).certificates;
    expect(item).toMatchObject({ type: 'Authentication', status: 'Active', validFrom: from.toISOString().replace('Z', '0000+00:00') });
  });

  it('refuses a CSR with a broken signature, another subject, a refused key or signature algorithm, with KSeF codes', async () => {
    const broken = await h.refuse(buildCsr(data, rsaKeys, { tamper: true }));
    expect(broken.statusCode).toBe(400);
    expect(exceptionCode(broken)).toBe(25004);
    expect(json(broken).exception.exceptionDetailList[0].exceptionDescription).toBe('Niepoprawny format CSR lub niepoprawny podpis CSR.');
    expect(exceptionCode(await h.refuse(buildCsr(data, ecKeys, { tamper: true })))).toBe(25004);
    expect(exceptionCode(await h.refuse(Buffer.from('not a certificate request')))).toBe(25004);
    expect(exceptionCode(await h.refuse(Buffer.concat([buildCsr(data, ecKeys), Buffer.from([0])])))).toBe(25004);

    const renamed = await h.refuse(buildCsr({ ...data, commonName: 'Ktoś inny' }, ecKeys));
    expect(exceptionCode(renamed)).toBe(25003);
    expect(exceptionDetails(renamed)).toEqual([`commonName: "Ktoś inny" zamiast "${data.commonName}"`]);
    const { organizationIdentifier: _, ...withoutNip } = data;
    expect(exceptionDetails(await h.refuse(buildCsr({ ...withoutNip, serialNumber: SELLER_NIP }, ecKeys)))).toEqual([
      `organizationIdentifier: brak atrybutu (oczekiwano "${data.organizationIdentifier}")`,
      `serialNumber: nieoczekiwany atrybut ("${SELLER_NIP}")`,
    ]);
    const otherData = await t.client.call<Data>('GET', 'certificates/enrollments/data', {
      bearer: (await signIn(t.client, otherSeal, nipContext(OTHER_NIP))).accessToken,
      expected: 200,
    });
    expect(exceptionCode(await h.refuse(buildCsr(otherData, ecKeys)))).toBe(25003);

    const weakRsa = await h.refuse(buildCsr(data, generateKeyPairSync('rsa', { modulusLength: 1024 })));
    expect(exceptionCode(weakRsa)).toBe(25010);
    expect(exceptionDetails(weakRsa)).toEqual(['Klucz RSA musi mieć 2048 bitów (ma 1024).']);
    expect(exceptionCode(await h.refuse(buildCsr(data, generateKeyPairSync('ec', { namedCurve: 'secp384r1' }))))).toBe(25010);
    expect(exceptionDetails(await h.refuse(buildCsr(data, generateKeyPairSync('ed25519'))))[0]).toMatch(/^Klucz typu 1\.3\.101\.112: dozwolone są RSA/);

    expect(exceptionCode(await h.refuse(buildCsr(data, rsaKeys, { declaredAlgorithm: SIGNATURE_ALGORITHMS.ecdsaWithSha256 })))).toBe(25011);
    expect(exceptionCode(await h.refuse(buildCsr(data, rsaKeys, { declaredAlgorithm: SIGNATURE_ALGORITHMS.md5WithRsa })))).toBe(25011);

    const invalid = await t.raw.post('certificates/enrollments', {
      json: { certificateName: 'abc', certificateType: 'Both', csr: 'not base64!' },
      headers: bearer(tokens.accessToken),
    });
    expect(exceptionCode(invalid)).toBe(21405);
    expect(exceptionDetails(invalid)).toEqual([
      'certificateName: must be at least 5 characters',
      'certificateType: must be one of Authentication, Offline',
      'csr: must be standard Base64 with padding',
    ]);
    // None of the refused requests used up the enrollment limit.
    expect((await h.limits()).enrollment.remaining).toBe(300 - 4);
  });

  it('rejects, while processing, a key already certified for another subject (status 400)', async () => {
    const other = await signIn(t.client, otherSeal, nipContext(OTHER_NIP));
    const otherData = await t.client.call<Data>('GET', 'certificates/enrollments/data', { bearer: other.accessToken, expected: 200 });
    const ref = await h.enroll(buildCsr(otherData, rsaKeys), 'Offline', {}, other.accessToken);
    expect((await h.waitForEnrollment(ref, other.accessToken)).status).toEqual({
      code: 400,
      description: 'Wniosek odrzucony',
      details: ['Klucz publiczny został już certyfikowany przez inny podmiot.'],
    });
    // A request is visible only to its subject.
    const foreign = await t.raw.get(`certificates/enrollments/${ref}`, { headers: bearer(tokens.accessToken) });
    expect(exceptionCode(foreign)).toBe(25005);
  });

  it('lists the subject’s certificates newest first with filters and pages, from any of its contexts', async () => {
    const internal = await signIn(t.client, seal, internalContext(`${SELLER_NIP}-00002`));
    const all = await h.list({}, '', internal.accessToken);
    expect(all.certificates).toHaveLength(4);
    expect(all.hasMore).toBe(false);
    expect(all.certificates.map((c) => c.type)).toEqual(['Authentication', 'Offline', 'Offline', 'Offline']);
    expect(all.certificates[0]).toMatchObject({ commonName: data.commonName, status: 'Active', subjectIdentifier: { type: 'Nip', value: SELLER_NIP } });
    expect((await h.list({ type: 'Offline' })).certificates).toHaveLength(3);
    expect((await h.list({ name: 'authentication' })).certificates.map((c) => c.name)).toEqual(['Certyfikat Authentication']);
    expect((await h.list({ status: 'Revoked' })).certificates).toEqual([]);
    const serial = all.certificates[2].certificateSerialNumber;
    expect((await h.list({ certificateSerialNumber: serial })).certificates.map((c) => c.certificateSerialNumber)).toEqual([serial]);
    expect((await h.list({ expiresAfter: new Date(clock.now().getTime() + 3 * 365 * 24 * 3600_000).toISOString() })).certificates).toEqual([]);

    // Pages of pageSize (10..50), pageOffset a page index; 11 certificates for OTHER_NIP, a second apart.
    for (let i = 0; i < 11; i++) {
      clock.advance(1000);
      expect((await t.admin.post('certificates', { json: { nip: OTHER_NIP, keyType: 'EC', certificateName: `Seria ${i}` } })).statusCode).toBe(201);
    }
    const other = await t.client.authenticate(openModeToken(OTHER_NIP), { type: 'Nip', value: OTHER_NIP });
    const first = await h.list({}, '?pageSize=10', other.accessToken);
    const second = await h.list({}, '?pageSize=10&pageOffset=1', other.accessToken);
    expect([first.hasMore, second.hasMore]).toEqual([true, false]);
    expect([...first.certificates, ...second.certificates].map((c) => c.name)).toEqual(Array.from({ length: 11 }, (_, i) => `Seria ${10 - i}`));
    expect(exceptionCode(await t.raw.post('certificates/query?pageSize=5', { json: {}, headers: bearer(tokens.accessToken) }))).toBe(21405);
  });

  it('revokes the subject’s own active certificate once: status Revoked, then 25009; others’ and unknown ones are 25008', async () => {
    const ref = await h.enroll(buildCsr(data, generateKeyPairSync('ec', { namedCurve: 'prime256v1' })));
    const serial = (await h.waitForEnrollment(ref)).certificateSerialNumber!;
    const before = (await h.limits()).certificate.remaining;
    const revoked = await h.revoke(serial);
    expect(revoked.statusCode).toBe(204);
    expect(revoked.body.length).toBe(0);
    expect((await h.list({ certificateSerialNumber: serial })).certificates[0].status).toBe('Revoked');
    expect((await h.list({ status: 'Revoked' })).certificates.map((c) => c.certificateSerialNumber)).toEqual([serial]);
    expect((await h.limits()).certificate.remaining).toBe(before + 1);
    const again = await h.revoke(serial);
    expect(exceptionCode(again)).toBe(25009);
    expect(exceptionDetails(again)).toEqual([`Certyfikat ${serial} ma status Revoked.`]);

    expect(exceptionCode(await h.revoke('0123456789ABCDEF'))).toBe(25008);
    const foreign = (await t.admin.post('certificates', { json: { nip: OTHER_NIP, keyType: 'EC' } })).body.serialNumber as string;
    expect(exceptionCode(await h.revoke(foreign))).toBe(25008);
    expect(await h.retrieve([foreign, serial])).toHaveLength(1); // another subject's certificate is not served either
    expect(exceptionCode(await h.revoke('not-a-serial'))).toBe(21405);
  });

  it('requires an access token on every certificate route (401)', async () => {
    const routes: Array<['get' | 'post', string]> = [
      ['get', 'certificates/limits'],
      ['get', 'certificates/enrollments/data'],
      ['post', 'certificates/enrollments'],
      ['get', 'certificates/enrollments/20260101-EH-0000000000-0000000000-00'],
      ['post', 'certificates/retrieve'],
      ['post', 'certificates/query'],
      ['post', 'certificates/0123456789ABCDEF/revoke'],
    ];
    for (const [method, path] of routes) {
      const body = method === 'post' ? { json: {} } : {};
      const anonymous = await t.raw[method](path, body);
      expect([path, anonymous.statusCode]).toEqual([path, 401]);
      expect(json(anonymous)).toMatchObject({ title: 'Unauthorized', status: 401 });
      expect((await t.raw[method](path, { ...body, headers: bearer(tokens.refreshToken) })).statusCode).toBe(401);
    }
  });

  it('issues a key pair and its certificate in one admin call (RSA and EC) that signs KOD II and verifies with the certificate', async () => {
    for (const keyType of ['RSA', 'EC'] as const) {
      const issued = await t.admin.post('certificates', { json: { nip: SELLER_NIP, keyType } });
      expect(issued.statusCode).toBe(201);
      const { certificatePem, privateKeyPem, serialNumber, validFrom, validTo } = issued.body;
      expect(Object.keys(issued.body).sort()).toEqual(['certificatePem', 'privateKeyPem', 'serialNumber', 'validFrom', 'validTo']);
      const cert = new X509Certificate(certificatePem);
      const privateKey = createPrivateKey(privateKeyPem);
      expect(privateKey.asymmetricKeyType).toBe(keyType === 'RSA' ? 'rsa' : 'ec');
      expect(cert.verify(authority().publicKey)).toBe(true);
      expect(cert.serialNumber.toUpperCase()).toBe(serialNumber);
      expect(new Date(cert.validFrom).getTime()).toBe(Date.parse(validFrom));
      expect(new Date(cert.validTo).getTime()).toBe(Date.parse(validTo));
      expect(subjectLines(cert)).toEqual(expectedLines(ADMIN_SEAL_DATA));
      expect(keyUsageOf(cert.raw)).toEqual(NON_REPUDIATION);

      // KOD II signs the link without https:// (PROTOCOL.md §10): RSA-PSS/SHA-256 salt 32, or ECDSA P-256 r‖s.
      const link = Buffer.from(`qr-test.ksef.mf.gov.pl/certificate/Nip/${SELLER_NIP}/${SELLER_NIP}/${serialNumber}/UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE`);
      const options =
        keyType === 'RSA'
          ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
          : { dsaEncoding: 'ieee-p1363' as const };
      const signature = sign('sha256', link, { key: privateKey, ...options });
      expect(verify('sha256', link, { key: cert.publicKey, ...options }, signature)).toBe(true);
      expect(verify('sha256', Buffer.concat([link, Buffer.from('x')]), { key: cert.publicKey, ...options }, signature)).toBe(false);

      // Registered as if requested: the subject lists and retrieves it.
      const [item] = (await h.list({ certificateSerialNumber: serialNumber })).certificates;
      expect(item).toMatchObject({ type: 'Offline', status: 'Active', name: 'Certyfikat Offline z sandboxa' });
      expect(Buffer.from((await h.retrieve([serialNumber]))[0].certificate, 'base64').equals(cert.raw)).toBe(true);
    }
    const bad = await t.admin.post('certificates', { json: { nip: SELLER_NIP, keyType: 'DSA' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toEqual({ error: "keyType must be 'RSA' or 'EC'" });
    expect((await t.admin.post('certificates', { json: { nip: '123' } })).body).toEqual({ error: 'nip must be a valid NIP' });
  });

  it('keeps a request’s status for 30 days (then 410) and lets certificates expire after two years', async () => {
    const ref = await h.enroll(buildCsr(data, generateKeyPairSync('ec', { namedCurve: 'prime256v1' })));
    const serial = (await h.waitForEnrollment(ref)).certificateSerialNumber!;
    clock.advance(30 * 24 * 3600_000 + 1000);
    const gone = await t.raw.get(`certificates/enrollments/${ref}`, { headers: bearer(tokens.accessToken) });
    expect(gone.statusCode).toBe(410);
    expect(json(gone)).toMatchObject({ title: 'Gone', status: 410 });
    expect(exceptionCode(await t.raw.get('certificates/enrollments/20260101-EH-0000000000-0000000000-00', { headers: bearer(tokens.accessToken) }))).toBe(25005);

    clock.advance(2 * 366 * 24 * 3600_000);
    expect((await h.list({ certificateSerialNumber: serial })).certificates[0].status).toBe('Expired');
    expect(exceptionDetails(await h.revoke(serial))).toEqual([`Certyfikat ${serial} ma status Expired.`]);
    expect((await h.limits()).certificate.remaining).toBe(100);
  });
});

describeWithShared('sandbox: signing in with KSeF certificates, and certificates for KSeF-token callers', () => {
  let t: TestSandbox;
  let seal: TestCertificate;
  let tokens: Tokens;
  let data: Data;
  const h = certificateHelpers(() => ({ t, token: tokens.accessToken }));

  beforeAll(async () => {
    t = await startTestSandbox({ faultsEnabled: true });
    seal = await selfSignedCertificate({ seal: { nip: SELLER_NIP } });
    tokens = await signIn(t.client, seal, nipContext(SELLER_NIP));
    data = await t.client.call<Data>('GET', 'certificates/enrollments/data', { bearer: tokens.accessToken, expected: 200 });
  });
  afterAll(() => t.close());

  /** The final status of a XAdES sign-in with this certificate and key. */
  async function signInStatus(certificate: Buffer | string, privateKey: KeyObject | string) {
    const challenge = (await t.client.challenge()).challenge;
    const xml = await signedAuthTokenRequest({ challenge, context: nipContext(SELLER_NIP), subjectIdentifierType: 'certificateSubject' }, { certificate, privateKey });
    const started = await t.client.startXadesAuth(xml);
    return t.client.waitForAuth(started.referenceNumber, started.authenticationToken.token);
  }

  it('signs in with an Authentication certificate it requested, as the same subject (InternalCertificate), until it is revoked', async () => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const serial = (await h.waitForEnrollment(await h.enroll(buildCsr(data, keys), 'Authentication'))).certificateSerialNumber!;
    const der = Buffer.from((await h.retrieve([serial]))[0].certificate, 'base64');

    const viaCertificate = await signIn(t.client, { certificate: der, privateKey: keys.privateKey }, nipContext(SELLER_NIP));
    const sessions = await t.client.call<{ items: Array<Record<string, unknown>> }>('GET', 'auth/sessions', { bearer: viaCertificate.accessToken, expected: 200 });
    expect(sessions.items.find((i) => i.isCurrent)).toMatchObject({
      authenticationMethod: 'InternalCertificate',
      authenticationMethodInfo: { category: 'XadesSignature', code: 'xades.ksef-certificate' },
    });
    // The same subject: the same enrollment data and the same certificates.
    expect(await t.client.call('GET', 'certificates/enrollments/data', { bearer: viaCertificate.accessToken, expected: 200 })).toEqual(data);
    expect((await h.list({}, '', viaCertificate.accessToken)).certificates.map((c) => c.certificateSerialNumber)).toContain(serial);

    expect((await h.revoke(serial)).statusCode).toBe(204);
    expect(await signInStatus(der, keys.privateKey)).toEqual({
      code: 460,
      description: 'Uwierzytelnianie zakończone niepowodzeniem z powodu błędu certyfikatu',
      details: ['Certyfikat odwołany.'],
    });
  });

  it('signs in with an Authentication certificate of the admin API, and never with an Offline one (460 "Niepoprawny certyfikat.")', async () => {
    const authentication = (await t.admin.post('certificates', { json: { nip: SELLER_NIP, keyType: 'RSA', certificateType: 'Authentication' } })).body;
    expect((await signInStatus(authentication.certificatePem, authentication.privateKeyPem)).code).toBe(200);
    const offline = (await t.admin.post('certificates', { json: { nip: SELLER_NIP, keyType: 'EC' } })).body;
    expect(await signInStatus(offline.certificatePem, offline.privateKeyPem)).toMatchObject({ code: 460, details: ['Niepoprawny certyfikat.'] });
  });

  it('refuses a KSeF-token caller enrollment data (25001), requests (25002) and revocation (403), and shows it its NIP’s certificates', async () => {
    const token = (await t.client.authenticate(openModeToken(SELLER_NIP), nipContext(SELLER_NIP))).accessToken;
    const noData = await t.raw.get('certificates/enrollments/data', { headers: bearer(token) });
    expect(exceptionCode(noData)).toBe(25001);
    expect(exceptionDetails(noData)).toEqual(['Wniosek o certyfikat KSeF wymaga uwierzytelnienia podpisem (XAdES), nie tokenem KSeF.']);
    expect(exceptionCode(await h.refuse(buildCsr(data, ecKeys), token))).toBe(25002);
    const serial = (await h.list({ type: 'Authentication', status: 'Active' }, '', token)).certificates[0].certificateSerialNumber;
    const revoke = await h.revoke(serial, token);
    expect(revoke.statusCode).toBe(403);
    expect(json(revoke)).toMatchObject({ reasonCode: 'auth-method-not-allowed', security: { authenticationMethodCategory: 'Token' } });
    expect((await h.limits(token)).enrollment.limit).toBe(300);
  });
});

describeWithShared('sandbox: certificate limits (with certificatesWithTokenAuth, a token caller acting as its NIP’s seal)', () => {
  let t: TestSandbox;
  let tokens: Tokens;
  let data: Data;
  const h = certificateHelpers(() => ({ t, token: tokens.accessToken }));

  beforeAll(async () => {
    // Processing takes 300 ms so that two requests can be accepted before either is issued.
    t = await startTestSandbox({ maxCertificateEnrollments: 3, maxActiveCertificates: 1, processingDelayMs: 300, certificatesWithTokenAuth: true });
    tokens = await t.client.authenticate(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
    data = await t.client.call<Data>('GET', 'certificates/enrollments/data', { bearer: tokens.accessToken, expected: 200 });
  });
  afterAll(() => t.close());

  it('makes up the seal’s enrollment data from the NIP', () => {
    expect(data).toEqual(ADMIN_SEAL_DATA);
  });

  it('enforces the certificate limit when a request arrives and when it is processed, and the request limit for good', async () => {
    const first = await h.enroll(buildCsr(data, ecKeys));
    expect((await h.enrollmentStatus(first)).status).toEqual({ code: 100, description: 'Wniosek przyjęty do realizacji' });
    const serial = (await h.waitForEnrollment(first)).certificateSerialNumber!;
    expect(await h.limits()).toEqual({ canRequest: false, enrollment: { remaining: 2, limit: 3 }, certificate: { remaining: 0, limit: 1 } });
    expect(exceptionCode(await h.refuse(buildCsr(data, ecKeys)))).toBe(25007);

    expect((await h.revoke(serial)).statusCode).toBe(204);
    expect((await h.limits()).canRequest).toBe(true);
    // Both accepted while no certificate is active; the second processed finds the limit reached.
    const second = await h.enroll(buildCsr(data, ecKeys));
    const third = await h.enroll(buildCsr(data, rsaKeys));
    expect((await h.waitForEnrollment(second)).status.code).toBe(200);
    expect((await h.waitForEnrollment(third)).status).toEqual({
      code: 400,
      description: 'Wniosek odrzucony',
      details: ['Osiągnięto dopuszczalny limit posiadanych certyfikatów.'],
    });
    expect(await h.limits()).toEqual({ canRequest: false, enrollment: { remaining: 0, limit: 3 }, certificate: { remaining: 0, limit: 1 } });
    const exhausted = await h.refuse(buildCsr(data, ecKeys));
    expect(exceptionCode(exhausted)).toBe(25006);
    expect(json(exhausted).exception.exceptionDetailList[0].exceptionDescription).toBe('Osiągnięto limit możliwych do złożenia wniosków certyfikacyjnych.');
  });
});

describeWithShared('sandbox: reading certificate requests', () => {
  const refusalOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err as KsefError;
    }
    return undefined;
  };
  const codeOf = (fn: () => unknown) => refusalOf(fn)?.code;
  const spec = JSON.parse(fs.readFileSync(sharedPath('ksef', 'official', 'open-api.json'), 'utf8'));

  it('accepts the official example CSR (RSA-2048, RSA-PSS) and finds in it exactly the official example enrollment data', () => {
    const csr = Buffer.from(spec.paths['/certificates/enrollments'].post.requestBody.content['application/json'].example.csr, 'base64');
    const example = spec.paths['/certificates/enrollments/data'].get.responses['200'].content['application/json'].example;
    const request = readCertificateRequest(csr);
    expect(request.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(request.attributes).toHaveLength(6);
    expect(subjectDifferences(example, request.attributes)).toEqual([]);
    expect(subjectDifferences({ ...example, commonName: 'Inna nazwa' }, request.attributes)).toEqual([
      `commonName: "${example.commonName}" zamiast "Inna nazwa"`,
    ]);
    // One changed byte of the subject breaks the self-signature.
    const forged = Buffer.from(csr);
    forged[forged.indexOf(Buffer.from('Kowalski'))] ^= 0x20;
    expect(codeOf(() => readCertificateRequest(forged))).toBe(25004);
  });

  it('reads only strict DER, and subject values only in the string types of X.500 names', () => {
    const data = { commonName: 'Podmiot 5265877635', countryName: 'PL' };
    const csr = buildCsr(data, rsaKeys);
    expect(csr.subarray(0, 2)).toEqual(Buffer.from([0x30, 0x82])); // a two-byte length follows
    const body = csr.subarray(4);
    expect(codeOf(() => readCertificateRequest(csr))).toBeUndefined();
    const notDer = [
      Buffer.concat([Buffer.from([0x30, 0x80]), body, Buffer.from([0, 0])]), // indefinite length
      Buffer.concat([Buffer.from([0x30, 0x83, 0x00]), csr.subarray(2)]), // non-minimal length
      csr.subarray(0, -1), // truncated
      Buffer.concat([csr, Buffer.from([0])]), // trailing bytes
    ];
    for (const bytes of notDer) {
      const refusal = refusalOf(() => readCertificateRequest(bytes));
      expect(refusal?.code).toBe(25004);
      expect(refusal?.details[0]).toMatch(/^CSR nie jest poprawnym żądaniem PKCS#10 w DER: /);
    }
    // '@' is no PrintableString character (countryName is one).
    const refusal = refusalOf(() => readCertificateRequest(buildCsr({ ...data, countryName: 'P@' }, rsaKeys)));
    expect(refusal?.code).toBe(25004);
    expect(refusal?.details).toEqual(['CSR nie jest poprawnym żądaniem PKCS#10 w DER: invalid PrintableString.']);
  });
});
