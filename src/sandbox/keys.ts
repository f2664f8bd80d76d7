import { generateKeyPair, KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import * as der from './util/der.js';
import { sha256Base64 } from './util/crypto.js';
import {
  authorityKeyIdentifier,
  basicConstraints,
  extension,
  keyIdentifier,
  keyUsage,
  name,
  rsaSignedCertificate,
  subjectKeyIdentifier,
} from './util/x509.js';

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
  name: Buffer;
  /** Subject key identifier, the authority key identifier of what it signs. */
  keyIdentifier: Buffer;
  publicKey: KeyObject;
  privateKey: KeyObject;
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

function sandboxName(commonName: string): Buffer {
  return name([
    ['2.5.4.6', der.printableString('PL')],
    ['2.5.4.10', der.utf8String('Fast KSeF sandbox (not the Ministry of Finance)')],
    ['2.5.4.3', der.utf8String(commonName)],
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
  const certificateDer = rsaSignedCertificate(
    {
      serial,
      issuer: subject,
      subject,
      validFrom,
      validTo,
      spki,
      extensions: [
        extension('2.5.29.19', true, basicConstraints(false)),
        // keyEncipherment + dataEncipherment: these keys only ever decrypt.
        extension('2.5.29.15', true, keyUsage(0x30)),
      ],
    },
    privateKey,
  );
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
  const id = keyIdentifier(spki);
  const certificateDer = rsaSignedCertificate(
    {
      serial,
      issuer: subject,
      subject,
      validFrom,
      // Outlives every certificate it signs (2 years from a validFrom the client may put ahead).
      validTo: new Date(validFrom.getTime() + 10 * YEAR_MS),
      spki,
      extensions: [
        extension('2.5.29.19', true, basicConstraints(true)),
        // keyCertSign + cRLSign.
        extension('2.5.29.15', true, keyUsage(0x06)),
        extension('2.5.29.14', false, subjectKeyIdentifier(id)),
        extension('2.5.29.35', false, authorityKeyIdentifier(id)),
      ],
    },
    privateKey,
  );
  return { certificateDer, name: subject, keyIdentifier: id, publicKey, privateKey };
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
