import { generateKeyPair, KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { sha256Base64 } from './util/crypto.js';
import { basicConstraints, keyUsage, rsaSigningKey, x509 } from './util/x509.js';

export type KeyUsage = 'KsefTokenEncryption' | 'SymmetricKeyEncryption';

export interface PublicKeyEntry {
  usage: KeyUsage;
  certificateDer: Buffer;
  /** Base64(SHA-256(certificate DER)). */
  certificateId: string;
  /** Base64(SHA-256(SubjectPublicKeyInfo DER)). */
  publicKeyId: string;
  validFrom: Date;
  validTo: Date;
  privateKey: KeyObject;
}

/** The sandbox's certification authority: it signs the KSeF certificates (Authentication, Offline) it issues. */
export interface CertificateAuthority {
  certificateDer: Buffer;
  /** Its subject, the issuer of every certificate it signs. */
  name: x509.Name;
  /** Subject key identifier (hex), the authority key identifier of what it signs. */
  keyIdentifier: string;
  publicKey: KeyObject;
  signingKey: CryptoKey;
}

/**
 * The sandbox's own "Ministry of Finance" keys: one RSA-2048 pair and self-signed certificate per usage,
 * and the CA of KSeF certificates.
 */
export class KeyStore {
  constructor(
    readonly entries: readonly PublicKeyEntry[],
    readonly authority: CertificateAuthority,
  ) {}

  forUsage(usage: KeyUsage): PublicKeyEntry {
    const entry = this.entries.find((e) => e.usage === usage);
    if (!entry) throw new Error(`no key for ${usage}`);
    return entry;
  }

  /** The key with that id when it serves the usage; undefined for unknown ids (KSeF: 21470). */
  find(publicKeyId: string, usage: KeyUsage): PublicKeyEntry | undefined {
    return this.entries.find((e) => e.publicKeyId === publicKeyId && e.usage === usage);
  }
}

const generateRsa = promisify(generateKeyPair);

const YEAR_MS = 365 * 24 * 3_600_000;

function sandboxName(commonName: string): x509.Name {
  return new x509.Name([
    { '2.5.4.6': [{ printableString: 'PL' }] },
    { '2.5.4.10': [{ utf8String: 'Fast KSeF sandbox (not the Ministry of Finance)' }] },
    { '2.5.4.3': [{ utf8String: commonName }] },
  ]);
}

/** Whole seconds (what X.509 validity can say), an hour back so that a slightly slow client clock still sees it valid. */
const validFromAt = (now: Date) => new Date(Math.floor(now.getTime() / 1000) * 1000 - 3_600_000);

async function createEntry(usage: KeyUsage, now: Date, serial: Buffer): Promise<PublicKeyEntry> {
  const { publicKey, privateKey } = await generateRsa('rsa', { modulusLength: 2048 });
  const validFrom = validFromAt(now);
  const validTo = new Date(validFrom.getTime() + 2 * YEAR_MS);
  const subject = sandboxName(`KSeF sandbox ${usage}`);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    issuer: subject,
    subject,
    notBefore: validFrom,
    notAfter: validTo,
    publicKey: spki,
    signingKey: await rsaSigningKey(privateKey),
    extensions: [
      basicConstraints(false),
      // These keys only ever decrypt.
      keyUsage(x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.dataEncipherment),
    ],
  });
  const certificateDer = Buffer.from(certificate.rawData);
  return {
    usage,
    certificateDer,
    certificateId: sha256Base64(certificateDer),
    publicKeyId: sha256Base64(spki),
    validFrom,
    validTo,
    privateKey,
  };
}

async function createAuthority(now: Date, serial: Buffer): Promise<CertificateAuthority> {
  const { publicKey, privateKey } = await generateRsa('rsa', { modulusLength: 2048 });
  const validFrom = validFromAt(now);
  const subject = sandboxName('KSeF sandbox CA');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits.
  const keyIdentifier = Buffer.from(await new x509.PublicKey(spki).getKeyIdentifier()).toString('hex');
  const signingKey = await rsaSigningKey(privateKey);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    issuer: subject,
    subject,
    notBefore: validFrom,
    // Outlives every certificate it signs (2 years from a validFrom the client may put ahead).
    notAfter: new Date(validFrom.getTime() + 10 * YEAR_MS),
    publicKey: spki,
    signingKey,
    extensions: [
      basicConstraints(true),
      keyUsage(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign),
      new x509.SubjectKeyIdentifierExtension(keyIdentifier),
      new x509.AuthorityKeyIdentifierExtension(keyIdentifier),
    ],
  });
  return { certificateDer: Buffer.from(certificate.rawData), name: subject, keyIdentifier, publicKey, signingKey };
}

export async function createKeyStore(now: Date, random: (bytes: number) => Buffer): Promise<KeyStore> {
  const serial = () => Buffer.concat([Buffer.from([0x01]), random(8)]);
  const [tokenKey, symmetricKey, authority] = await Promise.all([
    createEntry('KsefTokenEncryption', now, serial()),
    createEntry('SymmetricKeyEncryption', now, serial()),
    createAuthority(now, serial()),
  ]);
  return new KeyStore([tokenKey, symmetricKey], authority);
}
