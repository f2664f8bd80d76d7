import { createHash, createPrivateKey, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { x509 } from '../../src/sandbox/util/x509.js';
import { authTokenRequestXml, AuthTokenRequestFields } from '../../src/xades/auth-token-request.js';
import { signEnveloped, XadesOptions } from '../../src/xades/sign.js';

/**
 * Self-signed certificates of the kinds KSeF TEST accepts for XAdES sign-in (auth/podpis-xades.md,
 * the official clients' test builders), made with @peculiar/x509, and signed `AuthTokenRequest`s.
 */

export type CertificateHolder =
  /** A company seal: organizationIdentifier `VATPL-{nip}`, no given name or surname. */
  | { seal: { nip: string; organizationName?: string } }
  /** A person: serialNumber `PNOPL-{pesel}` or `TINPL-{nip}`. */
  | { person: { pesel?: string; nip?: string; givenName?: string; surname?: string } }
  /** A certificate naming no NIP or PESEL (only `certificateFingerprint` can use it). */
  | { anonymous: { commonName: string } };

export interface CertificateOptions {
  keyType?: 'RSA' | 'EC';
  rsaBits?: number;
  notBefore?: Date;
  notAfter?: Date;
  keyUsage?: x509.KeyUsageFlags;
}

export interface TestCertificate {
  certificatePem: string;
  certificateDer: Buffer;
  privateKey: KeyObject;
  /** SHA-256 of the DER, upper-case hex: the `Fingerprint` identifier. */
  fingerprint: string;
}

const utf8 = (value: string) => [{ utf8String: value }];
const printable = (value: string) => [{ printableString: value }];

function subjectOf(holder: CertificateHolder): ConstructorParameters<typeof x509.Name>[0] {
  if ('seal' in holder) {
    const { nip, organizationName = `Firma testowa ${nip}` } = holder.seal;
    return [{ '2.5.4.3': utf8(organizationName) }, { '2.5.4.10': utf8(organizationName) }, { '2.5.4.97': utf8(`VATPL-${nip}`) }, { '2.5.4.6': printable('PL') }];
  }
  if ('person' in holder) {
    const { pesel, nip, givenName = 'Jan', surname = 'Kowalski' } = holder.person;
    const serial = pesel ? `PNOPL-${pesel}` : `TINPL-${nip}`;
    return [
      { '2.5.4.3': utf8(`${givenName} ${surname}`) },
      { '2.5.4.42': utf8(givenName) },
      { '2.5.4.4': utf8(surname) },
      { '2.5.4.5': printable(serial) },
      { '2.5.4.6': printable('PL') },
    ];
  }
  return [{ '2.5.4.3': utf8(holder.anonymous.commonName) }, { '2.5.4.6': printable('PL') }];
}

const HOUR = 3_600_000;

export async function selfSignedCertificate(holder: CertificateHolder, options: CertificateOptions = {}): Promise<TestCertificate> {
  const algorithm =
    options.keyType === 'EC'
      ? { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
      : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: options.rsaBits ?? 2048, publicExponent: new Uint8Array([1, 0, 1]) };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: `01${randomBytes(8).toString('hex')}`,
    name: new x509.Name(subjectOf(holder)),
    notBefore: options.notBefore ?? new Date(Date.now() - HOUR),
    notAfter: options.notAfter ?? new Date(Date.now() + 365 * 24 * HOUR),
    keys,
    signingAlgorithm: algorithm,
    extensions: [new x509.KeyUsagesExtension(options.keyUsage ?? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true)],
  });
  const der = Buffer.from(certificate.rawData);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    certificatePem: certificate.toString('pem'),
    certificateDer: der,
    privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }),
    fingerprint: createHash('sha256').update(der).digest('hex').toUpperCase(),
  };
}

/** An `AuthTokenRequest` with these fields, signed (enveloped XAdES-BES) with the certificate's key. */
export function signedAuthTokenRequest(
  fields: AuthTokenRequestFields,
  signer: { certificate: Buffer | string; privateKey: KeyObject | string },
  options?: XadesOptions,
): Promise<string> {
  return signEnveloped(authTokenRequestXml(fields), signer, options);
}

export const signerOf = (cert: TestCertificate) => ({ certificate: cert.certificateDer, privateKey: cert.privateKey });
