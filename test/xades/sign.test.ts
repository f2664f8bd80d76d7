import { createHash, KeyObject, verify, X509Certificate } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { authTokenRequestXml } from '../../src/xades/auth-token-request.js';
import { signEnveloped } from '../../src/xades/sign.js';
import { describeWithShared } from '../support/shared.js';
import { officialAuthXsdErrors } from '../support/xmllint.js';
import { selfSignedCertificate, signerOf, TestCertificate } from '../support/xades.js';

const XMLDSIG = 'http://www.w3.org/2000/09/xmldsig#';
const XADES = 'http://uri.etsi.org/01903/v1.3.2#';
const CHALLENGE = '20260101-CR-0123456789-ABCDEF0123-45';

/** xml-crypto has no ECDSA: SignatureValue is R‖S (IEEE P1363), as KSeF wants. */
class EcdsaSha256 {
  getSignature = () => {
    throw new Error('verification only');
  };
  verifySignature = (material: string, key: KeyObject, value: string) =>
    verify('sha256', Buffer.from(material), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(value, 'base64'));
  getAlgorithmName = () => 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';
}

/** Checks with xml-crypto, a library independent of xadesjs: references and signature value. */
function xmlCryptoVerifies(xml: string, cert: TestCertificate): boolean {
  const verifier = new SignedXml({ publicCert: new X509Certificate(cert.certificateDer).publicKey, getCertFromKeyInfo: () => null });
  verifier.SignatureAlgorithms['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256'] = EcdsaSha256;
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  verifier.loadSignature(doc.getElementsByTagNameNS(XMLDSIG, 'Signature')[0] as unknown as Node);
  return verifier.checkSignature(xml);
}

describeWithShared('XAdES signing of AuthTokenRequest (src/xades)', () => {
  let rsa: TestCertificate;
  let ec: TestCertificate;

  beforeAll(async () => {
    [rsa, ec] = await Promise.all([selfSignedCertificate({ seal: { nip: '5265877635' } }), selfSignedCertificate({ person: { pesel: '90010112345' } }, { keyType: 'EC' })]);
  });

  it('builds an AuthTokenRequest the official XSD accepts, with the context, subject type and IP policy given', async () => {
    const xml = authTokenRequestXml({
      challenge: CHALLENGE,
      context: { type: 'InternalId', value: '5265877635-12343' },
      subjectIdentifierType: 'certificateFingerprint',
      allowedIps: { addresses: ['10.0.0.1'], ranges: ['10.0.0.1-10.0.0.9'], masks: ['10.0.0.0/8'] },
      version: '2.1',
    });
    expect(await officialAuthXsdErrors(xml)).toEqual([]);
    expect(xml).toContain('<ContextIdentifier><InternalId>5265877635-12343</InternalId></ContextIdentifier>');
    expect(await officialAuthXsdErrors(xml.replace('<Challenge>', '<Challenge>X'))).not.toEqual([]);
  });

  it.each([
    ['RSA (rsa-sha256)', () => rsa, 'SHA-256', 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'],
    ['RSA (rsa-sha512)', () => rsa, 'SHA-512', 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512'],
    ['EC P-256 (ecdsa-sha256)', () => ec, 'SHA-256', 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256'],
  ] as const)('signs enveloped XAdES-BES with %s that another library verifies', async (_label, cert, hash, method) => {
    const unsigned = authTokenRequestXml({ challenge: CHALLENGE, context: { type: 'Nip', value: '5265877635' }, subjectIdentifierType: 'certificateSubject' });
    const signingTime = new Date('2026-01-02T03:04:05.000Z');
    const xml = await signEnveloped(unsigned, signerOf(cert()), { hash, signingTime });
    expect(xmlCryptoVerifies(xml, cert())).toBe(true);
    expect(await officialAuthXsdErrors(xml)).toEqual([]);

    const doc = new DOMParser().parseFromString(xml, 'text/xml');
    const root = doc.documentElement!;
    const signature = root.lastChild as unknown as Element;
    expect([signature.namespaceURI, signature.localName]).toEqual([XMLDSIG, 'Signature']);
    expect(signature.getElementsByTagNameNS(XMLDSIG, 'SignatureMethod')[0].getAttribute('Algorithm')).toBe(method);
    const references = [...(signature.getElementsByTagNameNS(XMLDSIG, 'Reference') as unknown as Element[])];
    expect(references.map((r) => r.getAttribute('URI'))[0]).toBe('');
    const propertiesId = (signature.getElementsByTagNameNS(XADES, 'SignedProperties')[0] as Element).getAttribute('Id');
    expect(references[1].getAttribute('URI')).toBe(`#${propertiesId}`);
    expect(references[1].getAttribute('Type')).toBe('http://uri.etsi.org/01903#SignedProperties');
    const certDigest = signature.getElementsByTagNameNS(XADES, 'CertDigest')[0] as Element;
    const expectedDigest = createHash(hash.replace('-', '').toLowerCase()).update(cert().certificateDer).digest('base64');
    expect(certDigest.getElementsByTagNameNS(XMLDSIG, 'DigestValue')[0].textContent).toBe(expectedDigest);
    expect(signature.getElementsByTagNameNS(XMLDSIG, 'X509SerialNumber')[0].textContent).toBe(BigInt(`0x${new X509Certificate(cert().certificateDer).serialNumber}`).toString());
    expect(signature.getElementsByTagNameNS(XADES, 'SigningTime')[0].textContent).toBe('2026-01-02T03:04:05.000Z');
    expect(signature.getElementsByTagNameNS(XMLDSIG, 'X509Certificate')[0].textContent).toBe(cert().certificateDer.toString('base64'));

    // Any change to the signed content breaks it.
    expect(xmlCryptoVerifies(xml.replace('5265877635', '7352765225'), cert())).toBe(false);
  });

  it('takes PEM text as well, and refuses a key that is not the certificate’s', async () => {
    const unsigned = authTokenRequestXml({ challenge: CHALLENGE, context: { type: 'Nip', value: '5265877635' }, subjectIdentifierType: 'certificateSubject' });
    const pem = { certificate: ec.certificatePem, privateKey: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
    expect(xmlCryptoVerifies(await signEnveloped(unsigned, pem), ec)).toBe(true);
    await expect(signEnveloped(unsigned, { certificate: rsa.certificateDer, privateKey: ec.privateKey })).rejects.toThrow('the private key does not belong to the certificate');
  });
});
