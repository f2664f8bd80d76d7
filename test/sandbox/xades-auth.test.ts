import { createHash } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { jest } from '@jest/globals';
import { authTokenRequestXml } from '../../src/xades/auth-token-request.js';
import { signEnveloped } from '../../src/xades/sign.js';
import { describeWithShared } from '../support/shared.js';
import { officialAuthXsdErrors } from '../support/xmllint.js';
import { selfSignedCertificate, signedAuthTokenRequest, signerOf, TestCertificate } from '../support/xades.js';
import { bearer, exceptionCode, exceptionDetails, json } from './support/http.js';
import { ContextIdentifier } from './support/independent-client.js';
import { FakeClock, invoiceVariant, OTHER_NIP, SELLER_NIP, signIn, startTestSandbox, TestSandbox, uniqueNumber } from './support/sandbox.js';

jest.setTimeout(120_000);

const nip = (value = SELLER_NIP): ContextIdentifier => ({ type: 'Nip', value });

describeWithShared('sandbox: authentication with a XAdES signature (POST /auth/xades-signature)', () => {
  const clock = new FakeClock(new Date());
  let t: TestSandbox;
  let rsaSeal: TestCertificate;
  let ecSeal: TestCertificate;
  let otherSeal: TestCertificate;

  beforeAll(async () => {
    t = await startTestSandbox({ now: clock.now, faultsEnabled: true });
    [rsaSeal, ecSeal, otherSeal] = await Promise.all([
      selfSignedCertificate({ seal: { nip: SELLER_NIP } }),
      selfSignedCertificate({ seal: { nip: SELLER_NIP } }, { keyType: 'EC' }),
      selfSignedCertificate({ seal: { nip: OTHER_NIP } }),
    ]);
  });
  afterAll(() => t.close());

  /** A signed request for a fresh challenge (or the one given), in the context given. */
  async function signedRequest(cert: TestCertificate, context = nip(), extra: { subjectIdentifierType?: 'certificateSubject' | 'certificateFingerprint'; challenge?: string } = {}) {
    const challenge = extra.challenge ?? (await t.client.challenge()).challenge;
    return signedAuthTokenRequest({ challenge, context, subjectIdentifierType: extra.subjectIdentifierType ?? 'certificateSubject' }, signerOf(cert));
  }
  const post = (xml: string | Buffer, query = '', headers: Record<string, string> = { 'content-type': 'application/xml' }) =>
    t.raw.post(`auth/xades-signature${query}`, { body: xml, headers });
  /** The final status of an operation started with this document. */
  async function finalStatus(xml: string, query = '') {
    const started = json(await post(xml, query));
    return t.client.waitForAuth(started.referenceNumber, started.authenticationToken.token);
  }
  const rejection = async (xml: string | Buffer, headers?: Record<string, string>) => {
    const response = await post(xml, '', headers);
    expect(response.statusCode).toBe(400);
    return { code: exceptionCode(response), details: exceptionDetails(response) };
  };

  it.each([
    ['RSA-2048 (rsa-sha256)', () => rsaSeal, 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'],
    ['EC P-256 (ecdsa-sha256, R‖S)', () => ecSeal, 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256'],
  ])('signs in with a self-signed company seal, %s, as the Owner of its NIP', async (_label, cert, method) => {
    const xml = await signedRequest(cert());
    expect(xml).toContain(`<ds:SignatureMethod Algorithm="${method}"/>`);
    const started = json(await post(xml));
    expect(started.referenceNumber).toMatch(/^\d{8}-AU-[0-9A-F]{10}-[0-9A-F]{10}-[0-9A-F]{2}$/);
    const status = await t.client.waitForAuth(started.referenceNumber, started.authenticationToken.token);
    expect(status).toEqual({ code: 200, description: 'Uwierzytelnianie zakończone sukcesem' });
    const op = await t.client.call<Record<string, unknown>>('GET', `auth/${started.referenceNumber}`, { bearer: started.authenticationToken.token, expected: 200 });
    expect(op).toMatchObject({
      authenticationMethod: 'QualifiedSeal',
      authenticationMethodInfo: { category: 'XadesSignature', code: 'xades.qualified-seal', displayName: 'Pieczęć kwalifikowana' },
    });
    const tokens = await t.client.call<{ accessToken: { token: string } }>('POST', 'auth/token/redeem', { bearer: started.authenticationToken.token, expected: 200 });
    // The Owner sends invoices: an online session opens.
    const session = await t.client.openOnlineSession(tokens.accessToken.token);
    expect(session.referenceNumber).toMatch(/-SO-/);
  });

  it('names the signed document by its SHA-256 in the UPO (SkrotDokumentuUwierzytelniajacego) and its subject in the access token', async () => {
    const xml = await signedRequest(ecSeal);
    const started = json(await post(xml));
    await t.client.waitForAuth(started.referenceNumber, started.authenticationToken.token);
    const tokens = await t.client.call<{ accessToken: { token: string } }>('POST', 'auth/token/redeem', { bearer: started.authenticationToken.token, expected: 200 });
    const claims = JSON.parse(Buffer.from(tokens.accessToken.token.split('.')[1], 'base64url').toString('utf8'));
    expect(claims['authentication-method']).toBe('QualifiedSeal');
    expect(JSON.parse(claims['subject-details'])).toEqual({ SubjectIdentifier: { Type: 'Nip', Value: SELLER_NIP } });
    const access = tokens.accessToken.token;
    const session = await t.client.openOnlineSession(access);
    const ref = await t.client.sendInvoice(access, session.referenceNumber, session.keys, invoiceVariant('fa3-vat.xml', { number: uniqueNumber('X') }));
    expect((await t.client.waitForInvoice(access, session.referenceNumber, ref)).status.code).toBe(200);
    const upo = (await t.raw.get(`sessions/${session.referenceNumber}/invoices/${ref}/upo`, { headers: bearer(access) })).body.toString('utf8');
    const hash = createHash('sha256').update(Buffer.from(xml, 'utf8')).digest('base64');
    expect(upo).toContain(`<SkrotDokumentuUwierzytelniajacego>${hash}</SkrotDokumentuUwierzytelniajacego>`);
    expect(upo).not.toContain('NumerReferencyjnyTokenaKSeF');
  });

  it('ends a seal of another NIP with status 415 "Brak przypisanych uprawnień"', async () => {
    expect(await finalStatus(await signedRequest(otherSeal))).toEqual({
      code: 415,
      description: 'Uwierzytelnianie zakończone niepowodzeniem',
      details: ['Brak przypisanych uprawnień'],
    });
  });

  it('ends an expired or not yet valid certificate with status 460 "Nieważny certyfikat."', async () => {
    const hour = 3_600_000;
    const expired = await selfSignedCertificate({ seal: { nip: SELLER_NIP } }, { notBefore: new Date(Date.now() - 48 * hour), notAfter: new Date(Date.now() - 24 * hour) });
    const future = await selfSignedCertificate({ seal: { nip: SELLER_NIP } }, { keyType: 'EC', notBefore: new Date(Date.now() + 24 * hour) });
    for (const cert of [expired, future]) {
      expect(await finalStatus(await signedRequest(cert))).toEqual({
        code: 460,
        description: 'Uwierzytelnianie zakończone niepowodzeniem z powodu błędu certyfikatu',
        details: ['Nieważny certyfikat.'],
      });
    }
  });

  it('refuses a document changed after signing (400 9105), whichever part was changed', async () => {
    const xml = await signedRequest(rsaSeal);
    const otherContext = xml.replace(`<Nip>${SELLER_NIP}</Nip>`, `<Nip>${OTHER_NIP}</Nip>`);
    expect(await rejection(otherContext)).toEqual({ code: 9105, details: ["Nieprawidłowa wartość skrótu dla referencji wskazującej na element ''."] });

    const signingTime = /<xades:SigningTime>([^<]+)<\/xades:SigningTime>/.exec(xml)![1];
    const later = xml.replace(signingTime, new Date(Date.parse(signingTime) + 1000).toISOString());
    const propertiesId = /<xades:SignedProperties Id="([^"]+)"/.exec(xml)![1];
    expect(await rejection(later)).toEqual({ code: 9105, details: [`Nieprawidłowa wartość skrótu dla referencji wskazującej na element '#${propertiesId}'.`] });

    const value = /<ds:SignatureValue>([^<]+)<\/ds:SignatureValue>/.exec(xml)![1];
    const flipped = Buffer.from(value, 'base64');
    flipped[10] ^= 0x01;
    expect(await rejection(xml.replace(value, flipped.toString('base64')))).toEqual({ code: 9105, details: ['Podpis zweryfikowany negatywnie.'] });

    // Another certificate in KeyInfo: the signed CertDigest no longer names it.
    const swapped = xml.replace(/<ds:X509Certificate>[^<]+</, `<ds:X509Certificate>${otherSeal.certificateDer.toString('base64')}<`);
    expect(await rejection(swapped)).toEqual({
      code: 9105,
      details: ['Podpis zweryfikowany negatywnie.', 'Skrót certyfikatu (xades:CertDigest) nie odpowiada certyfikatowi z ds:KeyInfo.'],
    });
  });

  it('keeps the challenge for one use within 10 minutes (21111) and uses it up only on acceptance', async () => {
    const { challenge } = await t.client.challenge();
    const tampered = (await signedRequest(rsaSeal, nip(), { challenge })).replace(`<Nip>${SELLER_NIP}</Nip>`, `<Nip>${OTHER_NIP}</Nip>`);
    expect((await rejection(tampered)).code).toBe(9105);
    const good = await signedRequest(rsaSeal, nip(), { challenge });
    expect((await post(good)).statusCode).toBe(202);
    expect(await rejection(good)).toEqual({ code: 21111, details: ['Wyzwanie zostało już wykorzystane.'] });
    expect((await rejection(await signedRequest(rsaSeal, nip(), { challenge: '20260101-CR-0000000000-0000000000-00' }))).details).toEqual(['Nieznane wyzwanie.']);
    const stale = await signedRequest(rsaSeal);
    clock.advance(10 * 60_000 + 1);
    expect((await rejection(stale)).details).toEqual(['Wyzwanie wygasło.']);
  });

  it('refuses what is not one enveloped signature over a readable AuthTokenRequest with KSeF codes', async () => {
    const { challenge } = await t.client.challenge();
    const unsigned = authTokenRequestXml({ challenge, context: nip(), subjectIdentifierType: 'certificateSubject' });
    expect(await rejection(unsigned)).toEqual({ code: 9102, details: [] });
    const signed = await signedRequest(rsaSeal);
    const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signed)![0];
    expect((await rejection(signed.replace('</AuthTokenRequest>', `${signature}</AuthTokenRequest>`))).code).toBe(9103);
    expect((await rejection('<AuthTokenRequest')).code).toBe(9101);
    expect((await rejection(Buffer.alloc(0))).code).toBe(21001);
    expect((await rejection(signed, { 'content-type': 'text/plain' })).code).toBe(21001);
    expect((await rejection(Buffer.concat([Buffer.from(signed), Buffer.from([0xff, 0xfe])]))).code).toBe(21217);
    expect((await rejection(`<?xml version="1.0" encoding="windows-1250"?>${signed}`)).code).toBe(21217);
    // Enveloped means a child of AuthTokenRequest; detached (a reference to another document) is refused.
    expect((await rejection(signed.replace(signature, '').replace('</ContextIdentifier>', `${signature}</ContextIdentifier>`))).details).toEqual([
      'Podpis otaczany (enveloped) musi być elementem potomnym AuthTokenRequest.',
    ]);
    expect((await rejection(`<Wrapper>${signature}${unsigned.replace(/^<\?xml[^>]*>/, '')}</Wrapper>`)).code).toBe(21401);
    expect(await rejection(signed.replace('<ds:Reference URI="">', '<ds:Reference URI="https://example.com/auth.xml">'))).toEqual({
      code: 9105,
      details: ['Podpis zweryfikowany negatywnie.', 'Podpis zewnętrzny (detached) nie jest akceptowany: referencja "https://example.com/auth.xml".'],
    });
  });

  it('checks the document against the auth XSD without its signature (21401), in namespace 2.0 and 2.1', async () => {
    const { challenge } = await t.client.challenge();
    const key = signerOf(rsaSeal);
    const variant = async (body: string, ns = 'http://ksef.mf.gov.pl/auth/token/2.0') =>
      rejection(await signEnveloped(`<AuthTokenRequest xmlns="${ns}">${body}</AuthTokenRequest>`, key));
    const subject = '<SubjectIdentifierType>certificateSubject</SubjectIdentifierType>';
    const context = `<ContextIdentifier><Nip>${SELLER_NIP}</Nip></ContextIdentifier>`;
    expect(await variant(`${context}<Challenge>${challenge}</Challenge>${subject}`)).toEqual({
      code: 21401,
      details: ['AuthTokenRequest: element Challenge nie jest tu oczekiwany', 'AuthTokenRequest: brak elementu Challenge'],
    });
    expect((await variant(`<Challenge>${challenge}</Challenge><ContextIdentifier><Nip>123</Nip></ContextIdentifier>${subject}`, 'http://ksef.mf.gov.pl/auth/token/2.1')).details).toEqual([
      'AuthTokenRequest/ContextIdentifier/Nip: nieprawidłowa wartość "123"',
    ]);
    expect((await variant(`<Challenge>${challenge}</Challenge>${context}<SubjectIdentifierType>nip</SubjectIdentifierType>`)).details).toEqual([
      'AuthTokenRequest/SubjectIdentifierType: nieprawidłowa wartość "nip"',
    ]);
    expect((await variant(`<Challenge>${challenge}</Challenge>${context}${subject}`, 'urn:other')).code).toBe(21401);
  });

  it('agrees with the official XSD on which documents are valid', async () => {
    const { challenge } = await t.client.challenge();
    const key = signerOf(rsaSeal);
    const base = `<Challenge>${challenge}</Challenge><ContextIdentifier><Nip>${SELLER_NIP}</Nip></ContextIdentifier><SubjectIdentifierType>certificateSubject</SubjectIdentifierType>`;
    const ips = (inner: string) => `${base}<AuthorizationPolicy><AllowedIps>${inner}</AllowedIps></AuthorizationPolicy>`;
    const bodies = [
      base,
      ips(''),
      ips('<Ip4Address>10.0.0.1</Ip4Address><Ip4Range>10.0.0.1-10.0.0.9</Ip4Range><Ip4Mask>10.0.0.0/8</Ip4Mask>'),
      ips('<Ip4Mask>10.0.0.0/8</Ip4Mask><Ip4Address>10.0.0.1</Ip4Address>'),
      ips('<Ip4Address>10.0.0.256</Ip4Address>'),
      ips(Array.from({ length: 11 }, () => '<Ip4Address>10.0.0.1</Ip4Address>').join('')),
      `${base}<AuthorizationPolicy/>`,
      base.replace(`<Nip>${SELLER_NIP}</Nip>`, `<InternalId>${SELLER_NIP}-12343</InternalId>`),
      base.replace(`<Nip>${SELLER_NIP}</Nip>`, `<Nip>${SELLER_NIP}</Nip><Nip>${OTHER_NIP}</Nip>`),
      base.replace(`<Nip>${SELLER_NIP}</Nip>`, `<Nip> ${SELLER_NIP}</Nip>`),
      base.replace(challenge, ` ${challenge} `),
      base.replace('certificateSubject', 'certificateFingerprint'),
      `${base}<Extra/>`,
      base.replace('<Challenge>', '<Challenge x="1">'),
    ];
    for (const body of bodies) {
      const xml = await signEnveloped(`<AuthTokenRequest xmlns="http://ksef.mf.gov.pl/auth/token/2.1">${body}</AuthTokenRequest>`, key);
      const officialValid = (await officialAuthXsdErrors(xml)).length === 0;
      const response = await post(xml);
      const sandboxValid = response.statusCode === 202 || exceptionCode(response) !== 21401;
      expect([body, sandboxValid]).toEqual([body, officialValid]);
    }
  });

  it('takes namespace 2.1 and an IP policy that then guards the access token (403 ip-not-allowed)', async () => {
    const sign = (addresses: string[]) => (challenge: string) =>
      signedAuthTokenRequest({ challenge, context: nip(), subjectIdentifierType: 'certificateSubject', version: '2.1', allowedIps: { addresses } }, signerOf(ecSeal));
    const allowed = await t.client.authenticateWithSignature(sign(['127.0.0.1']));
    expect((await t.raw.get('rate-limits', { headers: bearer(allowed.accessToken) })).statusCode).toBe(200);
    const elsewhere = await t.client.authenticateWithSignature(sign(['10.1.2.3']));
    const refused = await t.raw.get('rate-limits', { headers: bearer(elsewhere.accessToken) });
    expect(refused.statusCode).toBe(403);
    expect(json(refused)).toMatchObject({ reasonCode: 'ip-not-allowed', security: { clientIp: '127.0.0.1' } });
  });

  it('verifies a RSA-PSS signature (sha256-rsa-MGF1) made by another signer, xml-crypto, with its own layout', async () => {
    const { challenge } = await t.client.challenge();
    const unsigned = authTokenRequestXml({ challenge, context: nip(), subjectIdentifierType: 'certificateSubject' });
    const ds = 'http://www.w3.org/2000/09/xmldsig#';
    const der = rsaSeal.certificateDer;
    const properties = [
      `<xades:QualifyingProperties xmlns:xades="http://uri.etsi.org/01903/v1.3.2#" xmlns:ds="${ds}" Target="#Podpis">`,
      '<xades:SignedProperties Id="Wlasciwosci"><xades:SignedSignatureProperties>',
      `<xades:SigningTime>${new Date().toISOString()}</xades:SigningTime>`,
      '<xades:SigningCertificateV2><xades:Cert><xades:CertDigest>',
      `<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha512"/><ds:DigestValue>${createHash('sha512').update(der).digest('base64')}</ds:DigestValue>`,
      '</xades:CertDigest></xades:Cert></xades:SigningCertificateV2>',
      '</xades:SignedSignatureProperties></xades:SignedProperties></xades:QualifyingProperties>',
    ].join('');
    const signer = new SignedXml({
      privateKey: rsaSeal.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      publicCert: rsaSeal.certificatePem,
      signatureAlgorithm: 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
      canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
      objects: [{ content: properties }],
    });
    const exc = 'http://www.w3.org/2001/10/xml-exc-c14n#';
    signer.addReference({ xpath: '/*', transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', exc], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256', isEmptyUri: true });
    signer.addReference({ xpath: "//*[@Id='Wlasciwosci']", transforms: [exc], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha512', type: 'http://uri.etsi.org/01903#SignedProperties' });
    signer.computeSignature(unsigned, { prefix: 'ds', attrs: { Id: 'Podpis' } });
    const xml = signer.getSignedXml();
    expect(xml).toContain('sha256-rsa-MGF1');
    expect(await finalStatus(xml)).toEqual({ code: 200, description: 'Uwierzytelnianie zakończone sukcesem' });
    // Without the qualifying properties it is plain XMLDSig, not XAdES.
    const plain = new SignedXml({ privateKey: rsaSeal.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicCert: rsaSeal.certificatePem, signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', canonicalizationAlgorithm: exc });
    plain.addReference({ xpath: '/*', transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', exc], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256', isEmptyUri: true });
    plain.computeSignature(authTokenRequestXml({ challenge: (await t.client.challenge()).challenge, context: nip(), subjectIdentifierType: 'certificateSubject' }), { prefix: 'ds', attrs: { Id: 'Podpis' } });
    expect((await rejection(plain.getSignedXml())).details[0]).toBe('Format podpisu niezgodny z akceptowanymi profilami XAdES.');
  });

  it('refuses keys and algorithms KSeF does not allow (9105) and certificates that name no subject (21115)', async () => {
    const weak = await selfSignedCertificate({ seal: { nip: SELLER_NIP } }, { rsaBits: 1024 });
    expect(await rejection(await signedRequest(weak))).toEqual({
      code: 9105,
      details: ['Podpis złożony z użyciem niewspieranego algorytmu kryptograficznego.', 'Klucz RSA musi mieć co najmniej 2048 bitów (ma 1024).'],
    });
    const md5 = (await signedRequest(rsaSeal)).replace('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'http://www.w3.org/2001/04/xmldsig-more#rsa-md5');
    expect(await rejection(md5)).toEqual({
      code: 9105,
      details: ['Podpis złożony z użyciem niewspieranego algorytmu kryptograficznego.', 'SignatureMethod: http://www.w3.org/2001/04/xmldsig-more#rsa-md5.'],
    });
    const anonymous = await selfSignedCertificate({ anonymous: { commonName: 'Bez identyfikatora' } }, { keyType: 'EC' });
    expect(await rejection(await signedRequest(anonymous))).toEqual({
      code: 21115,
      details: ['Certyfikat osoby fizycznej nie zawiera atrybutów: givenName, surname, serialNumber.'],
    });
    // By fingerprint it may sign in, but only where that fingerprint holds a permission.
    expect((await finalStatus(await signedRequest(anonymous, nip(), { subjectIdentifierType: 'certificateFingerprint' }))).code).toBe(415);
    expect((await rejection(await signedRequest(rsaSeal, { type: 'NipVatUe', value: `${SELLER_NIP}-DE123456789` }))).code).toBe(21117);
  });

  it('signs in with a person’s certificate naming the NIP (TINPL) as QualifiedSignature', async () => {
    const person = await selfSignedCertificate({ person: { nip: SELLER_NIP } }, { keyType: 'EC' });
    const tokens = await signIn(t.client, person, nip());
    const op = await t.client.call<Record<string, unknown>>('GET', 'auth/sessions', { bearer: tokens.accessToken, expected: 200 });
    expect((op.items as Array<Record<string, unknown>>).find((i) => i.isCurrent)).toMatchObject({
      authenticationMethod: 'QualifiedSignature',
      authenticationMethodInfo: { code: 'xades.qualified-signature' },
    });
  });

  it('ends a self-signed certificate with status 460 when verifyCertificateChain=true, and one without a signing key usage always', async () => {
    expect(await finalStatus(await signedRequest(rsaSeal), '?verifyCertificateChain=true')).toMatchObject({ code: 460, details: ['Niezaufany łańcuch certyfikatów.'] });
    expect((await finalStatus(await signedRequest(rsaSeal), '?verifyCertificateChain=false')).code).toBe(200);
    const encipherOnly = await selfSignedCertificate({ seal: { nip: SELLER_NIP } }, { keyUsage: 0x20 /* keyEncipherment */ });
    expect(await finalStatus(await signedRequest(encipherOnly))).toMatchObject({ code: 460, details: ['Niepoprawny certyfikat.'] });
  });
});
