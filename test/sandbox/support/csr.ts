import { constants, KeyObject, sign } from 'node:crypto';
import { SUBJECT_ATTRIBUTES } from '../../../src/sandbox/certificates/subject.js';
import * as der from '../../../src/sandbox/util/der.js';

/**
 * PKCS#10 certificate requests (RFC 2986) built the way a KSeF client builds them from
 * `GET /certificates/enrollments/data`, with the sandbox's DER writer and node:crypto signatures.
 */

export const SIGNATURE_ALGORITHMS = {
  sha256WithRsa: der.sequence(der.oid('1.2.840.113549.1.1.11'), der.nullValue()),
  ecdsaWithSha256: der.sequence(der.oid('1.2.840.10045.4.3.2')),
  /** RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (RFC 4055). */
  rsaPssSha256: der.sequence(
    der.oid('1.2.840.113549.1.1.10'),
    der.sequence(
      der.explicit(0, der.sequence(der.oid('2.16.840.1.101.3.4.2.1'), der.nullValue())),
      der.explicit(1, der.sequence(der.oid('1.2.840.113549.1.1.8'), der.sequence(der.oid('2.16.840.1.101.3.4.2.1'), der.nullValue()))),
      der.explicit(2, der.smallInteger(32)),
    ),
  ),
  md5WithRsa: der.sequence(der.oid('1.2.840.113549.1.1.4'), der.nullValue()),
};

/** A Name with one attribute per RDN in the order given; countryName and serialNumber as PrintableString (X.520). */
export function x500Name(fields: Record<string, string | null | undefined>): Buffer {
  const rdns = Object.entries(fields)
    .filter((e): e is [string, string] => typeof e[1] === 'string')
    .map(([field, value]) => {
      const oid = (SUBJECT_ATTRIBUTES as Record<string, string>)[field];
      if (!oid) throw new Error(`unknown subject field ${field}`);
      const encoded = field === 'countryName' || field === 'serialNumber' ? der.printableString(value) : der.utf8String(value);
      return der.set(der.sequence(der.oid(oid), encoded));
    });
  return der.sequence(...rdns);
}

export interface CsrOptions {
  /** Sign with RSA-PSS (RSA keys only). */
  pss?: boolean;
  /** Declare this signature algorithm whatever the signature really is. */
  declaredAlgorithm?: Buffer;
  /** Flip one bit of the signature. */
  tamper?: boolean;
}

/** DER of a CSR for the subject and key pair, signed with SHA-256 (PKCS#1 v1.5, PSS or ECDSA by key type; Ed25519 as itself). */
export function buildCsr(subject: Record<string, string | null | undefined>, keys: { publicKey: KeyObject; privateKey: KeyObject }, options: CsrOptions = {}): Buffer {
  const info = der.sequence(
    der.smallInteger(0),
    x500Name(subject),
    keys.publicKey.export({ type: 'spki', format: 'der' }),
    der.explicit(0, Buffer.alloc(0)), // no attributes
  );
  const ec = keys.privateKey.asymmetricKeyType === 'ec';
  // Ed25519 hashes internally (node:crypto takes no digest for it).
  const digest = keys.privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  const signature = options.pss
    ? sign(digest, info, { key: keys.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
    : sign(digest, info, keys.privateKey);
  if (options.tamper) signature[signature.length - 1] ^= 0x01;
  const algorithm =
    options.declaredAlgorithm ?? (ec ? SIGNATURE_ALGORITHMS.ecdsaWithSha256 : options.pss ? SIGNATURE_ALGORITHMS.rsaPssSha256 : SIGNATURE_ALGORITHMS.sha256WithRsa);
  return der.sequence(info, algorithm, der.bitString(signature));
}
