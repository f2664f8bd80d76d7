import { generateKeyPair, KeyObject, sign } from 'node:crypto';
import { promisify } from 'node:util';
import * as der from './util/der';
import { sha256Base64 } from './util/crypto';

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

/** The sandbox's own "Ministry of Finance" keys: one RSA-2048 pair and self-signed certificate per usage. */
export class KeyStore {
  constructor(readonly entries: readonly PublicKeyEntry[]) {}

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

const SHA256_WITH_RSA = der.sequence(der.oid('1.2.840.113549.1.1.11'), der.nullValue());

function name(commonName: string): Buffer {
  const attribute = (type: string, value: Buffer) => der.set(der.sequence(der.oid(type), value));
  return der.sequence(
    attribute('2.5.4.6', der.printableString('PL')),
    attribute('2.5.4.10', der.utf8String('Fast KSeF sandbox (not the Ministry of Finance)')),
    attribute('2.5.4.3', der.utf8String(commonName)),
  );
}

/** A self-signed X.509 v3 certificate (RSA key encipherment) for the key pair. */
function selfSigned(publicKey: KeyObject, privateKey: KeyObject, commonName: string, serial: Buffer, validFrom: Date, validTo: Date): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const extensions = der.explicit(
    3,
    der.sequence(
      der.sequence(der.oid('2.5.29.19'), der.boolean(true), der.octetString(der.sequence())),
      // keyUsage: keyEncipherment (bit 2) + dataEncipherment (bit 3) -> 0b0011_0000, 4 unused bits.
      der.sequence(der.oid('2.5.29.15'), der.boolean(true), der.octetString(der.tlv(0x03, Buffer.from([4, 0x30])))),
    ),
  );
  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)),
    der.unsignedInteger(serial),
    SHA256_WITH_RSA,
    name(commonName),
    der.sequence(der.time(validFrom), der.time(validTo)),
    name(commonName),
    spki,
    extensions,
  );
  return der.sequence(tbs, SHA256_WITH_RSA, der.bitString(sign('sha256', tbs, privateKey)));
}

async function createEntry(usage: KeyUsage, now: Date, serial: Buffer): Promise<PublicKeyEntry> {
  const { publicKey, privateKey } = await generateRsa('rsa', { modulusLength: 2048 });
  const validFrom = new Date(Math.floor(now.getTime() / 1000) * 1000 - 3_600_000);
  const validTo = new Date(validFrom.getTime() + 2 * 365 * 24 * 3_600_000);
  const certificateDer = selfSigned(publicKey, privateKey, `KSeF sandbox ${usage}`, serial, validFrom, validTo);
  return {
    usage,
    certificateDer,
    certificateId: sha256Base64(certificateDer),
    publicKeyId: sha256Base64(publicKey.export({ type: 'spki', format: 'der' })),
    validFrom,
    validTo,
    privateKey,
  };
}

export async function createKeyStore(now: Date, random: (bytes: number) => Buffer): Promise<KeyStore> {
  const serial = () => Buffer.concat([Buffer.from([0x01]), random(8)]);
  const entries = await Promise.all([
    createEntry('KsefTokenEncryption', now, serial()),
    createEntry('SymmetricKeyEncryption', now, serial()),
  ]);
  return new KeyStore(entries);
}
