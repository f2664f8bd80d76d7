import { constants, KeyObject, sign } from 'node:crypto';
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { id_ecdsaWithSHA256 } from '@peculiar/asn1-ecc';
import { id_md5WithRSAEncryption, id_mgf1, id_RSASSA_PSS, id_sha256, id_sha256WithRSAEncryption, RsaSaPssParams } from '@peculiar/asn1-rsa';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Name, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { SUBJECT_ATTRIBUTES } from '../../../src/sandbox/certificates/subject.js';
import { x509 } from '../../../src/sandbox/util/x509.js';

/**
 * PKCS#10 certificate requests (RFC 2986) built the way a KSeF client builds them from
 * `GET /certificates/enrollments/data`, with @peculiar's ASN.1 schemas and node:crypto signatures.
 */

const sha256 = () => new AlgorithmIdentifier({ algorithm: id_sha256, parameters: null });

export const SIGNATURE_ALGORITHMS = {
  sha256WithRsa: new AlgorithmIdentifier({ algorithm: id_sha256WithRSAEncryption, parameters: null }),
  ecdsaWithSha256: new AlgorithmIdentifier({ algorithm: id_ecdsaWithSHA256 }),
  /** RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (RFC 4055). */
  rsaPssSha256: new AlgorithmIdentifier({
    algorithm: id_RSASSA_PSS,
    parameters: AsnConvert.serialize(
      new RsaSaPssParams({
        hashAlgorithm: sha256(),
        maskGenAlgorithm: new AlgorithmIdentifier({ algorithm: id_mgf1, parameters: AsnConvert.serialize(sha256()) }),
        saltLength: 32,
      }),
    ),
  }),
  md5WithRsa: new AlgorithmIdentifier({ algorithm: id_md5WithRSAEncryption, parameters: null }),
};

/** A Name with one attribute per RDN in the order given; countryName and serialNumber as PrintableString (X.520). */
export function x500Name(fields: Record<string, string | null | undefined>): Buffer {
  const rdns = Object.entries(fields)
    .filter((e): e is [string, string] => typeof e[1] === 'string')
    .map(([field, value]) => {
      const oid = (SUBJECT_ATTRIBUTES as Record<string, string>)[field];
      if (!oid) throw new Error(`unknown subject field ${field}`);
      return { [oid]: [field === 'countryName' || field === 'serialNumber' ? { printableString: value } : { utf8String: value }] };
    });
  return Buffer.from(new x509.Name(rdns).toArrayBuffer());
}

export interface CsrOptions {
  /** Sign with RSA-PSS (RSA keys only). */
  pss?: boolean;
  /** Declare this signature algorithm whatever the signature really is. */
  declaredAlgorithm?: AlgorithmIdentifier;
  /** Flip one bit of the signature. */
  tamper?: boolean;
}

/** DER of a CSR for the subject and key pair, signed with SHA-256 (PKCS#1 v1.5, PSS or ECDSA by key type; Ed25519 as itself). */
export function buildCsr(subject: Record<string, string | null | undefined>, keys: { publicKey: KeyObject; privateKey: KeyObject }, options: CsrOptions = {}): Buffer {
  const info = new CertificationRequestInfo({
    version: 0,
    subject: AsnConvert.parse(x500Name(subject), Name),
    subjectPKInfo: AsnConvert.parse(keys.publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo),
    // attributes: none (an empty [0])
  });
  const toBeSigned = Buffer.from(AsnConvert.serialize(info));
  const ec = keys.privateKey.asymmetricKeyType === 'ec';
  // Ed25519 hashes internally (node:crypto takes no digest for it).
  const digest = keys.privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  const signature = options.pss
    ? sign(digest, toBeSigned, { key: keys.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
    : sign(digest, toBeSigned, keys.privateKey);
  if (options.tamper) signature[signature.length - 1] ^= 0x01;
  const signatureAlgorithm =
    options.declaredAlgorithm ?? (ec ? SIGNATURE_ALGORITHMS.ecdsaWithSha256 : options.pss ? SIGNATURE_ALGORITHMS.rsaPssSha256 : SIGNATURE_ALGORITHMS.sha256WithRsa);
  return Buffer.from(AsnConvert.serialize(new CertificationRequest({ certificationRequestInfo: info, signatureAlgorithm, signature: new Uint8Array(signature).buffer })));
}
