import { createHash, KeyObject, sign } from 'node:crypto';
import * as der from './der.js';
import { children, readBitStringBytes, readDer } from './der-reader.js';

/** X.509 v3 certificates signed by one of the sandbox's RSA keys (RFC 5280). */

const SHA256_WITH_RSA = der.sequence(der.oid('1.2.840.113549.1.1.11'), der.nullValue());

/** Extension with its criticality flag (DER leaves out a false one). */
export function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.oid(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/** Value of a keyUsage extension from its first byte (digitalSignature 0x80, nonRepudiation 0x40, …). */
export function keyUsage(bits: number): Buffer {
  let unused = 0;
  while (unused < 7 && !(bits & (1 << unused))) unused++;
  return der.tlv(0x03, Buffer.from([unused, bits]));
}

/** basicConstraints: a CA (may sign certificates) or an end entity. */
export const basicConstraints = (ca: boolean) => (ca ? der.sequence(der.boolean(true)) : der.sequence());

/** Key identifier of RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(spki: Buffer): Buffer {
  const [, key] = children(readDer(spki));
  return createHash('sha1').update(readBitStringBytes(key)).digest();
}

export const subjectKeyIdentifier = (id: Buffer) => der.octetString(id);
export const authorityKeyIdentifier = (id: Buffer) => der.sequence(der.tlv(0x80, id));

/** A Name with one attribute per RDN, in order; values already encoded (UTF8String, PrintableString, …). */
export function name(attributes: ReadonlyArray<readonly [oid: string, value: Buffer]>): Buffer {
  return der.sequence(...attributes.map(([oid, value]) => der.set(der.sequence(der.oid(oid), value))));
}

export interface CertificateFields {
  /** Big-endian serial number bytes. */
  serial: Buffer;
  issuer: Buffer;
  subject: Buffer;
  validFrom: Date;
  validTo: Date;
  /** SubjectPublicKeyInfo DER of the certified key. */
  spki: Buffer;
  extensions: Buffer[];
}

/** The certificate DER, signed with sha256WithRSAEncryption by `issuerKey` (an RSA private key). */
export function rsaSignedCertificate(fields: CertificateFields, issuerKey: KeyObject): Buffer {
  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)),
    der.unsignedInteger(fields.serial),
    SHA256_WITH_RSA,
    fields.issuer,
    der.sequence(der.time(fields.validFrom), der.time(fields.validTo)),
    fields.subject,
    fields.spki,
    der.explicit(3, der.sequence(...fields.extensions)),
  );
  return der.sequence(tbs, SHA256_WITH_RSA, der.bitString(sign('sha256', tbs, issuerKey)));
}
