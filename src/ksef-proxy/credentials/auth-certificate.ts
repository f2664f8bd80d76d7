import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import forge from 'node-forge';

/**
 * The certificate ksef-proxy signs its XAdES sign-ins with (PROTOCOL.md §2.6): a qualified seal or signature,
 * a KSeF `Authentication` certificate, or on TEST a self-signed equivalent. Given as PEM or as PKCS#12.
 */
export type AuthCertificateInput =
  | { certificatePem: string; privateKeyPem: string }
  | { pkcs12Base64: string; password: string };

export type AuthCertificateField = 'certificatePem' | 'privateKeyPem' | 'pkcs12Base64' | 'password' | 'subjectIdentifierType';

/** A problem with the authentication certificate a caller gave, naming the field at fault. */
export class AuthCertificateError extends Error {
  constructor(
    readonly field: AuthCertificateField,
    message: string,
  ) {
    super(message);
  }
}

/** Who KSeF takes the signer for (auth/podpis-xades.md): the NIP or PESEL the certificate names, else none. */
export type CertificateIdentifier = { type: 'Nip' | 'Pesel'; value: string };

export interface AuthCertificateInfo {
  serialNumber: string;
  subject: string;
  validFrom: Date;
  validTo: Date;
  /** SHA-256 of the certificate (DER), upper-case hex: KSeF's `Fingerprint` identifier. */
  fingerprint: string;
  identifier: CertificateIdentifier | null;
}

/** A usable pair: the certificate and its private key as PEM (the key always PKCS#8), with what it says. */
export interface AuthCertificate extends AuthCertificateInfo {
  certificatePem: string;
  privateKeyPem: string;
}

const ORGANIZATION_IDENTIFIER = '2.5.4.97';
const SERIAL_NUMBER = '2.5.4.5';

/**
 * The identifier KSeF reads from the subject (podpis-xades.md): a seal's organizationIdentifier `VATPL-{nip}`
 * (a KSeF-issued certificate holds the bare NIP), a person's serialNumber `PNOPL-{pesel}` / `TINPL-{nip}`.
 */
export function certificateIdentifier(certificate: X509Certificate): CertificateIdentifier | null {
  let subject: Certificate['tbsCertificate']['subject'];
  try {
    subject = AsnConvert.parse(certificate.raw, Certificate).tbsCertificate.subject;
  } catch {
    return null; // Node reads it, the stricter ASN.1 schema does not: it names no one we can tell
  }
  const attributes = subject.flatMap((rdn) => rdn.map((pair) => ({ oid: pair.type, value: pair.value.toString() })));
  const value = (oid: string) => attributes.find((a) => a.oid === oid)?.value ?? '';
  const organization = /^(?:VATPL-?)?(\d{10})$/.exec(value(ORGANIZATION_IDENTIFIER).trim());
  if (organization) return { type: 'Nip', value: organization[1] };
  const serial = value(SERIAL_NUMBER);
  const pesel = /(?:PNOPL|PESEL)\D*?(\d{11})/.exec(serial);
  if (pesel) return { type: 'Pesel', value: pesel[1] };
  const nip = /(?:TINPL|NIP)\D*?(\d{10})/.exec(serial);
  return nip ? { type: 'Nip', value: nip[1] } : null;
}

/** The certificate and the key out of a PKCS#12 file; node-forge decrypts it (legacy 3DES/RC2 and PBES2/AES alike). */
function fromPkcs12(pkcs12Base64: string, password: string): { certificate: Buffer; key: KeyObject } {
  const der = Buffer.from(pkcs12Base64, 'base64');
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary'))), false, password);
  } catch (err) {
    const message = (err as Error).message;
    if (/MAC could not be verified|Invalid password/i.test(message)) throw new AuthCertificateError('password', 'does not open the PKCS#12 file (its integrity check fails with this password)');
    throw new AuthCertificateError('pkcs12Base64', `is not a Base64 PKCS#12 (.p12/.pfx) file (${message})`);
  }
  const bags = (type: string) => p12.getBags({ bagType: type })[type] ?? [];
  const keyBags = [...bags(forge.pki.oids.pkcs8ShroudedKeyBag), ...bags(forge.pki.oids.keyBag)];
  const certBags = bags(forge.pki.oids.certBag);
  if (keyBags.length !== 1) throw new AuthCertificateError('pkcs12Base64', `must hold exactly one private key (it holds ${keyBags.length})`);
  // forge parses RSA itself and leaves any other kind (EC) as the decrypted PrivateKeyInfo.
  const keyBag = keyBags[0] as forge.pkcs12.Bag & { asn1?: forge.asn1.Asn1 };
  const keyInfo = keyBag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keyBag.key)) : keyBag.asn1;
  if (!keyInfo) throw new AuthCertificateError('pkcs12Base64', 'holds a private key that cannot be read');
  const key = createPrivateKey({ key: Buffer.from(forge.asn1.toDer(keyInfo).getBytes(), 'binary'), format: 'der', type: 'pkcs8' });
  const certificates = certBags.map((bag) => {
    const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : (bag as forge.pkcs12.Bag & { asn1?: forge.asn1.Asn1 }).asn1;
    return asn1 ? new X509Certificate(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary')) : null;
  });
  // Issuer certificates may travel along: the one to sign with is the key's own.
  const own = certificates.find((c) => c?.checkPrivateKey(key));
  if (!own) throw new AuthCertificateError('pkcs12Base64', 'holds no certificate of its private key');
  return { certificate: own.raw, key };
}

function fromPem(certificatePem: string, privateKeyPem: string): { certificate: Buffer; key: KeyObject } {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch (err) {
    throw new AuthCertificateError('certificatePem', `is not a PEM X.509 certificate (${(err as Error).message})`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (err) {
    throw new AuthCertificateError('privateKeyPem', `is not an unencrypted PEM private key (${(err as Error).message})`);
  }
  return { certificate: certificate.raw, key };
}

const CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

/**
 * Checks the pair as KSeF will (podpis-xades.md): RSA of at least 2048 bits or EC on P-256/384/521, the key
 * belonging to the certificate, and the certificate valid now (an expired one could only end in status 460).
 */
export function parseAuthCertificate(input: AuthCertificateInput, now = new Date()): AuthCertificate {
  const pkcs12 = 'pkcs12Base64' in input;
  const { certificate: der, key } = pkcs12 ? fromPkcs12(input.pkcs12Base64, input.password) : fromPem(input.certificatePem, input.privateKeyPem);
  const keyField: AuthCertificateField = pkcs12 ? 'pkcs12Base64' : 'privateKeyPem';
  const certificateField: AuthCertificateField = pkcs12 ? 'pkcs12Base64' : 'certificatePem';
  const certificate = new X509Certificate(der);
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' ? (details.modulusLength ?? 0) < 2048 : key.asymmetricKeyType !== 'ec' || !CURVES.has(details.namedCurve ?? '')) {
    throw new AuthCertificateError(keyField, 'must be an RSA key of at least 2048 bits or an EC key on P-256, P-384 or P-521 (what KSeF accepts for XAdES)');
  }
  if (!certificate.checkPrivateKey(key)) throw new AuthCertificateError(keyField, 'does not belong to the certificate (its public key does not match)');
  const validFrom = new Date(certificate.validFrom);
  const validTo = new Date(certificate.validTo);
  if (validTo <= now) throw new AuthCertificateError(certificateField, `expired on ${validTo.toISOString()}: KSeF refuses sign-ins with it (status 460)`);
  if (validFrom > now) throw new AuthCertificateError(certificateField, `is not valid before ${validFrom.toISOString()}`);
  return {
    certificatePem: certificate.toString(),
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    serialNumber: certificate.serialNumber.toUpperCase(),
    subject: certificate.subject.split('\n').join(', '),
    validFrom,
    validTo,
    fingerprint: createHash('sha256').update(der).digest('hex').toUpperCase(),
    identifier: certificateIdentifier(certificate),
  };
}
