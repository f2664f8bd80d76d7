import { constants, createPublicKey, KeyObject, verify } from 'node:crypto';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { id_ecdsaWithSHA1, id_ecdsaWithSHA256, id_ecdsaWithSHA384, id_ecdsaWithSHA512, id_ecPublicKey } from '@peculiar/asn1-ecc';
import {
  id_mgf1,
  id_rsaEncryption,
  id_RSASSA_PSS,
  id_sha1,
  id_sha1WithRSAEncryption,
  id_sha256,
  id_sha256WithRSAEncryption,
  id_sha384,
  id_sha384WithRSAEncryption,
  id_sha512,
  id_sha512WithRSAEncryption,
  RsaSaPssParams,
} from '@peculiar/asn1-rsa';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, AttributeValue } from '@peculiar/asn1-x509';
import { ksef } from '../http/errors.js';
import { SubjectAttribute } from './subject.js';

/**
 * PKCS#10 certificate requests (RFC 2986) as `POST /certificates/enrollments` takes them, checked against
 * what open-api.json allows: RSA-2048 or EC P-256 keys (else 25010); RSA PKCS#1 v1.5, RSA-PSS or ECDSA
 * signatures with SHA-1/256/384/512 (else 25011); a well-formed request whose self-signature verifies
 * (else 25004).
 */

export interface CertificateRequest {
  /** The subject Name DER as sent. */
  subject: Buffer;
  attributes: SubjectAttribute[];
  /** SubjectPublicKeyInfo DER. */
  spki: Buffer;
  publicKey: KeyObject;
}

/** A request that is not well-formed DER PKCS#10 (KSeF: 25004). */
class MalformedRequest extends Error {}

type KeyKind = 'rsa' | 'ec';

const HASHES: Record<string, string> = { [id_sha1]: 'sha1', [id_sha256]: 'sha256', [id_sha384]: 'sha384', [id_sha512]: 'sha512' };

/** Signature algorithms without parameters (PKCS#1 v1.5 ones carry NULL), by OID. */
const PLAIN_SIGNATURES: Record<string, { key: KeyKind; hash: string }> = {
  [id_sha1WithRSAEncryption]: { key: 'rsa', hash: 'sha1' },
  [id_sha256WithRSAEncryption]: { key: 'rsa', hash: 'sha256' },
  [id_sha384WithRSAEncryption]: { key: 'rsa', hash: 'sha384' },
  [id_sha512WithRSAEncryption]: { key: 'rsa', hash: 'sha512' },
  [id_ecdsaWithSHA1]: { key: 'ec', hash: 'sha1' },
  [id_ecdsaWithSHA256]: { key: 'ec', hash: 'sha256' },
  [id_ecdsaWithSHA384]: { key: 'ec', hash: 'sha384' },
  [id_ecdsaWithSHA512]: { key: 'ec', hash: 'sha512' },
};

interface SignatureScheme {
  key: KeyKind;
  hash: string;
  pssSaltLength?: number;
}

function parsed<T>(der: BufferSource, type: new () => T, what: string): T {
  try {
    return AsnConvert.parse(der, type);
  } catch (err) {
    throw new MalformedRequest(`malformed ${what} (${(err as Error).message})`);
  }
}

/**
 * The parser reads BER. DER has a single encoding of every value, so a request that does not encode back
 * to the very bytes sent is not DER: indefinite or non-minimal lengths, trailing bytes, unused bits…
 */
function parse(csr: Buffer): CertificationRequest {
  const request = parsed(new Uint8Array(csr), CertificationRequest, 'CertificationRequest');
  if (!Buffer.from(AsnConvert.serialize(request)).equals(csr)) throw new MalformedRequest('not DER (or trailing bytes)');
  if (request.certificationRequestInfo.version !== 0) throw new MalformedRequest('only version 0 (v1) requests exist');
  return request;
}

/** The text of the string types X.500 names use (UTF8String, PrintableString, IA5String, BMPString). */
function stringOf(value: AttributeValue): string {
  if (value.utf8String !== undefined) return value.utf8String;
  if (value.bmpString !== undefined) return value.bmpString;
  if (value.printableString !== undefined) {
    if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value.printableString)) throw new MalformedRequest('invalid PrintableString');
    return value.printableString;
  }
  if (value.ia5String !== undefined) {
    if (!/^[\x00-\x7f]*$/.test(value.ia5String)) throw new MalformedRequest('invalid IA5String');
    return value.ia5String;
  }
  throw new MalformedRequest('unsupported string type in the subject');
}

function subjectAttributes(request: CertificationRequest): SubjectAttribute[] {
  return request.certificationRequestInfo.subject.flatMap((rdn) => rdn.map((pair) => ({ oid: pair.type, value: stringOf(pair.value) })));
}

/** An AlgorithmIdentifier of a hash (parameters absent or NULL). */
const hashOf = (algorithm: AlgorithmIdentifier): string | undefined => (algorithm.parameters == null ? HASHES[algorithm.algorithm] : undefined);

/** RSASSA-PSS-params (RFC 4055), absent ones at their defaults: Node's PSS uses MGF1 with the message hash, so the two must agree. */
function pssScheme(encoded: ArrayBuffer | null | undefined): SignatureScheme {
  if (encoded === null) throw new MalformedRequest('RSASSA-PSS parameters must be a SEQUENCE');
  const params = encoded === undefined ? new RsaSaPssParams() : parsed(encoded, RsaSaPssParams, 'RSASSA-PSS parameters');
  const hash = hashOf(params.hashAlgorithm);
  if (!hash) throw ksef.csrSignatureAlgorithm('RSA-PSS: niedozwolona funkcja skrótu.');
  const mgf = params.maskGenAlgorithm;
  const mgfHash = mgf.algorithm === id_mgf1 && mgf.parameters ? hashOf(parsed(mgf.parameters, AlgorithmIdentifier, 'MGF1 parameters')) : undefined;
  if (!mgfHash) throw ksef.csrSignatureAlgorithm('RSA-PSS: dozwolona jest tylko funkcja MGF1 z SHA-1/256/384/512.');
  if (params.trailerField !== 1) throw ksef.csrSignatureAlgorithm('RSA-PSS: trailerField musi mieć wartość 1.');
  if (mgfHash !== hash) throw ksef.csrSignatureAlgorithm('RSA-PSS: funkcja skrótu MGF1 musi być taka sama jak funkcja skrótu podpisu.');
  return { key: 'rsa', hash, pssSaltLength: params.saltLength };
}

function signatureScheme(algorithm: AlgorithmIdentifier): SignatureScheme {
  const oid = algorithm.algorithm;
  if (oid === id_RSASSA_PSS) return pssScheme(algorithm.parameters);
  const plain = PLAIN_SIGNATURES[oid];
  if (!plain) throw ksef.csrSignatureAlgorithm(`Algorytm podpisu ${oid} nie jest dozwolony (RSA PKCS#1 v1.5, RSA-PSS, ECDSA; SHA-1/256/384/512).`);
  // RFC 4055: PKCS#1 v1.5 identifiers carry NULL; RFC 5758: ECDSA ones carry nothing.
  if (algorithm.parameters !== undefined && !(plain.key === 'rsa' && algorithm.parameters === null)) {
    throw new MalformedRequest('unexpected signature algorithm parameters');
  }
  return plain;
}

/** The key, when it is one KSeF certifies: RSA of exactly 2048 bits or EC on P-256. */
function acceptedKey(spki: Buffer, algorithm: string): { key: KeyObject; kind: KeyKind } {
  if (algorithm !== id_rsaEncryption && algorithm !== id_ecPublicKey) {
    throw ksef.csrKey(`Klucz typu ${algorithm}: dozwolone są RSA (${id_rsaEncryption}) i EC (${id_ecPublicKey}).`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (err) {
    throw ksef.csrInvalid(`Nieprawidłowy klucz publiczny w CSR (${(err as Error).message}).`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (algorithm === id_rsaEncryption) {
    if (details.modulusLength !== 2048) throw ksef.csrKey(`Klucz RSA musi mieć 2048 bitów (ma ${details.modulusLength}).`);
    return { key, kind: 'rsa' };
  }
  if (details.namedCurve !== 'prime256v1') throw ksef.csrKey(`Klucz EC musi leżeć na krzywej P-256 (secp256r1), nie ${details.namedCurve ?? 'nieznanej'}.`);
  return { key, kind: 'ec' };
}

/**
 * With node:crypto rather than WebCrypto (@peculiar/x509's verify): synchronously, so that the route still
 * checks the limits and registers the request in one turn of the event loop.
 */
function signatureValid(request: CertificationRequest, key: KeyObject, scheme: SignatureScheme): boolean {
  const options =
    scheme.pssSaltLength === undefined ? key : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.pssSaltLength };
  try {
    return verify(scheme.hash, Buffer.from(request.certificationRequestInfoRaw!), options, Buffer.from(request.signature));
  } catch {
    return false; // e.g. an ECDSA signature that is not a DER SEQUENCE of two INTEGERs
  }
}

/** The request's subject and key once every check passed; throws KSeF's 25004/25010/25011 otherwise. */
export function readCertificateRequest(csr: Buffer): CertificateRequest {
  let request: CertificationRequest;
  let attributes: SubjectAttribute[];
  try {
    request = parse(csr);
    attributes = subjectAttributes(request);
  } catch (err) {
    if (err instanceof MalformedRequest) throw ksef.csrInvalid(`CSR nie jest poprawnym żądaniem PKCS#10 w DER: ${err.message}.`);
    throw err;
  }
  const info = request.certificationRequestInfo;
  const spki = Buffer.from(AsnConvert.serialize(info.subjectPKInfo));
  const { key, kind } = acceptedKey(spki, info.subjectPKInfo.algorithm.algorithm);
  let scheme: SignatureScheme;
  try {
    scheme = signatureScheme(request.signatureAlgorithm);
  } catch (err) {
    if (err instanceof MalformedRequest) throw ksef.csrInvalid(`Nieprawidłowy identyfikator algorytmu podpisu: ${err.message}.`);
    throw err;
  }
  if (scheme.key !== kind) throw ksef.csrSignatureAlgorithm(`Algorytm podpisu nie pasuje do klucza ${kind.toUpperCase()}.`);
  if (!signatureValid(request, key, scheme)) throw ksef.csrInvalid('Podpis CSR nie zgadza się z kluczem publicznym i treścią żądania.');
  return { subject: Buffer.from(AsnConvert.serialize(info.subject)), attributes, spki, publicKey: key };
}
