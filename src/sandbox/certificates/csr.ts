import { constants, createPublicKey, KeyObject, verify } from 'node:crypto';
import { ksef } from '../http/errors.js';
import {
  children,
  contextTag,
  DerError,
  DerNode,
  expectTag,
  readBitStringBytes,
  readDer,
  readOid,
  readSmallInteger,
  readString,
  TAG,
} from '../util/der-reader.js';
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

type KeyKind = 'rsa' | 'ec';

const RSA_KEY = '1.2.840.113549.1.1.1';
const EC_KEY = '1.2.840.10045.2.1';

const HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Signature algorithms without parameters (PKCS#1 v1.5 ones carry NULL), by OID. */
const PLAIN_SIGNATURES: Record<string, { key: KeyKind; hash: string }> = {
  '1.2.840.113549.1.1.5': { key: 'rsa', hash: 'sha1' },
  '1.2.840.113549.1.1.11': { key: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { key: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { key: 'rsa', hash: 'sha512' },
  '1.2.840.10045.4.1': { key: 'ec', hash: 'sha1' },
  '1.2.840.10045.4.3.2': { key: 'ec', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { key: 'ec', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { key: 'ec', hash: 'sha512' },
};

const RSASSA_PSS = '1.2.840.113549.1.1.10';
const MGF1 = '1.2.840.113549.1.1.8';

interface SignatureScheme {
  key: KeyKind;
  hash: string;
  pssSaltLength?: number;
}

interface Parsed {
  info: Buffer;
  subject: DerNode;
  spki: DerNode;
  keyAlgorithm: string;
  signatureAlgorithm: DerNode;
  signature: Buffer;
}

function parse(csr: Buffer): Parsed {
  const [info, signatureAlgorithm, signature, ...extra] = children(readDer(csr), TAG.sequence);
  if (extra.length) throw new DerError('unexpected elements after the signature');
  const [version, subject, spki, attributes, ...rest] = children(expectTag(info, TAG.sequence));
  if (rest.length) throw new DerError('unexpected elements in certificationRequestInfo');
  if (readSmallInteger(version) !== 0) throw new DerError('only version 0 (v1) requests exist');
  expectTag(subject, TAG.sequence);
  expectTag(attributes, contextTag(0));
  const [keyAlgorithm, subjectPublicKey, ...keyRest] = children(spki, TAG.sequence);
  if (!subjectPublicKey || keyRest.length) throw new DerError('malformed SubjectPublicKeyInfo');
  const [keyOid] = children(keyAlgorithm, TAG.sequence);
  expectTag(signatureAlgorithm, TAG.sequence);
  return { info: info.encoded, subject, spki, keyAlgorithm: readOid(keyOid), signatureAlgorithm, signature: readBitStringBytes(signature) };
}

function subjectAttributes(subject: DerNode): SubjectAttribute[] {
  return children(subject).flatMap((rdn) =>
    children(rdn, TAG.set).map((pair) => {
      const [type, value, ...rest] = children(pair, TAG.sequence);
      if (!value || rest.length) throw new DerError('malformed AttributeTypeAndValue');
      return { oid: readOid(type), value: readString(value) };
    }),
  );
}

/** An AlgorithmIdentifier of a hash (parameters absent or NULL). */
function hashOf(node: DerNode): string | undefined {
  const [oid, params, ...rest] = children(node, TAG.sequence);
  if (rest.length || (params && params.tag !== TAG.null)) return undefined;
  return HASHES[readOid(oid)];
}

/** RSASSA-PSS-params (RFC 4055): Node's PSS uses MGF1 with the message hash, so the two must agree. */
function pssScheme(params: DerNode | undefined): SignatureScheme {
  let hash = 'sha1';
  let mgfHash = 'sha1';
  let saltLength = 20;
  for (const field of params ? children(params, TAG.sequence) : []) {
    const [inner, ...rest] = children(field);
    if (!inner || rest.length) throw new DerError('malformed RSASSA-PSS parameters');
    if (field.tag === contextTag(0)) {
      const h = hashOf(inner);
      if (!h) throw ksef.csrSignatureAlgorithm('RSA-PSS: niedozwolona funkcja skrótu.');
      hash = h;
    } else if (field.tag === contextTag(1)) {
      const [mgf, mgfParams] = children(inner, TAG.sequence);
      const h = readOid(mgf) === MGF1 && mgfParams ? hashOf(mgfParams) : undefined;
      if (!h) throw ksef.csrSignatureAlgorithm('RSA-PSS: dozwolona jest tylko funkcja MGF1 z SHA-1/256/384/512.');
      mgfHash = h;
    } else if (field.tag === contextTag(2)) {
      saltLength = readSmallInteger(inner);
    } else if (field.tag === contextTag(3)) {
      if (readSmallInteger(inner) !== 1) throw ksef.csrSignatureAlgorithm('RSA-PSS: trailerField musi mieć wartość 1.');
    } else throw new DerError('unknown RSASSA-PSS parameter');
  }
  if (mgfHash !== hash) throw ksef.csrSignatureAlgorithm('RSA-PSS: funkcja skrótu MGF1 musi być taka sama jak funkcja skrótu podpisu.');
  return { key: 'rsa', hash, pssSaltLength: saltLength };
}

function signatureScheme(algorithm: DerNode): SignatureScheme {
  const [oidNode, params, ...rest] = children(algorithm);
  const oid = readOid(oidNode);
  if (rest.length) throw new DerError('malformed signature AlgorithmIdentifier');
  if (oid === RSASSA_PSS) return pssScheme(params);
  const plain = PLAIN_SIGNATURES[oid];
  if (!plain) throw ksef.csrSignatureAlgorithm(`Algorytm podpisu ${oid} nie jest dozwolony (RSA PKCS#1 v1.5, RSA-PSS, ECDSA; SHA-1/256/384/512).`);
  // RFC 4055: PKCS#1 v1.5 identifiers carry NULL; RFC 5758: ECDSA ones carry nothing.
  if (params && !(plain.key === 'rsa' && params.tag === TAG.null)) throw new DerError('unexpected signature algorithm parameters');
  return plain;
}

/** The key, when it is one KSeF certifies: RSA of exactly 2048 bits or EC on P-256. */
function acceptedKey(spki: Buffer, algorithm: string): { key: KeyObject; kind: KeyKind } {
  if (algorithm !== RSA_KEY && algorithm !== EC_KEY) {
    throw ksef.csrKey(`Klucz typu ${algorithm}: dozwolone są RSA (${RSA_KEY}) i EC (${EC_KEY}).`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (err) {
    throw ksef.csrInvalid(`Nieprawidłowy klucz publiczny w CSR (${(err as Error).message}).`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (algorithm === RSA_KEY) {
    if (details.modulusLength !== 2048) throw ksef.csrKey(`Klucz RSA musi mieć 2048 bitów (ma ${details.modulusLength}).`);
    return { key, kind: 'rsa' };
  }
  if (details.namedCurve !== 'prime256v1') throw ksef.csrKey(`Klucz EC musi leżeć na krzywej P-256 (secp256r1), nie ${details.namedCurve ?? 'nieznanej'}.`);
  return { key, kind: 'ec' };
}

function signatureValid(parsed: Parsed, key: KeyObject, scheme: SignatureScheme): boolean {
  const options =
    scheme.pssSaltLength === undefined ? key : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.pssSaltLength };
  try {
    return verify(scheme.hash, parsed.info, options, parsed.signature);
  } catch {
    return false; // e.g. an ECDSA signature that is not a DER SEQUENCE of two INTEGERs
  }
}

/** The request's subject and key once every check passed; throws KSeF's 25004/25010/25011 otherwise. */
export function readCertificateRequest(csr: Buffer): CertificateRequest {
  let parsed: Parsed;
  let attributes: SubjectAttribute[];
  try {
    parsed = parse(csr);
    attributes = subjectAttributes(parsed.subject);
  } catch (err) {
    if (err instanceof DerError) throw ksef.csrInvalid(`CSR nie jest poprawnym żądaniem PKCS#10 w DER: ${err.message}.`);
    throw err;
  }
  const { key, kind } = acceptedKey(parsed.spki.encoded, parsed.keyAlgorithm);
  let scheme: SignatureScheme;
  try {
    scheme = signatureScheme(parsed.signatureAlgorithm);
  } catch (err) {
    if (err instanceof DerError) throw ksef.csrInvalid(`Nieprawidłowy identyfikator algorytmu podpisu: ${err.message}.`);
    throw err;
  }
  if (scheme.key !== kind) throw ksef.csrSignatureAlgorithm(`Algorytm podpisu nie pasuje do klucza ${kind.toUpperCase()}.`);
  if (!signatureValid(parsed, key, scheme)) throw ksef.csrInvalid('Podpis CSR nie zgadza się z kluczem publicznym i treścią żądania.');
  return { subject: parsed.subject.encoded, attributes, spki: parsed.spki.encoded, publicKey: key };
}
