import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';

/** A problem with the offline certificate a caller gave, naming the field at fault. */
export class OfflineCertificateError extends Error {
  constructor(
    readonly field: 'certificatePem' | 'privateKeyPem',
    message: string,
  ) {
    super(message);
  }
}

export interface OfflineCertificateInfo {
  serialNumber: string;
  subject: string;
  validFrom: Date;
  validTo: Date;
}

/**
 * Checks a KSeF `Offline` certificate and its private key (PEM): the key must be RSA ≥ 2048 bits or EC
 * P-256 (what KOD II may be signed with, FA3.md §4.2) and must belong to the certificate.
 */
export function parseOfflineCertificate(certificatePem: string, privateKeyPem: string): OfflineCertificateInfo {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificatePem);
  } catch (err) {
    throw new OfflineCertificateError('certificatePem', `not a PEM X.509 certificate (${(err as Error).message})`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (err) {
    throw new OfflineCertificateError('privateKeyPem', `not an unencrypted PEM private key (${(err as Error).message})`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  const rsa = key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss';
  if (rsa ? (details.modulusLength ?? 0) < 2048 : key.asymmetricKeyType !== 'ec' || details.namedCurve !== 'prime256v1') {
    throw new OfflineCertificateError('privateKeyPem', 'must be an RSA key of at least 2048 bits or an EC P-256 key (KOD II signatures)');
  }
  if (!cert.checkPrivateKey(key)) {
    throw new OfflineCertificateError('privateKeyPem', 'does not belong to the certificate (its public key does not match)');
  }
  return {
    serialNumber: cert.serialNumber.toUpperCase(),
    subject: cert.subject.split('\n').join(', '),
    validFrom: new Date(cert.validFrom),
    validTo: new Date(cert.validTo),
  };
}
