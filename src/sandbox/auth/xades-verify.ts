import { constants, createHash, KeyObject, verify, X509Certificate } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { KsefError } from '../http/errors.js';
import { attributeValue, XmlElement } from '../../xml/tree.js';
import { AuthTokenRequest, descendants, signatureError, XMLDSIG } from './auth-token-request.js';

/**
 * Verification of the XAdES signature on an `AuthTokenRequest` (auth/podpis-xades.md). xml-crypto checks
 * the digest of every reference and the signature value over the canonical SignedInfo; around it this
 * module enforces what KSeF adds: its lists of algorithms, RSA keys of at least 2048 bits and EC curves of
 * at least 256, a `Reference URI=""` over the whole document, and the XAdES qualifying properties — a
 * signed SignedProperties whose SigningCertificate digest is the certificate in KeyInfo.
 */

const XADES = 'http://uri.etsi.org/01903/v1.3.2#';
const SIGNED_PROPERTIES_TYPE = 'http://uri.etsi.org/01903#SignedProperties';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/** DigestMethod of references and of CertDigest: the URI and the node:crypto hash. */
const DIGESTS: Record<string, string> = {
  'http://www.w3.org/2000/09/xmldsig#sha1': 'sha1',
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
  'http://www.w3.org/2007/05/xmldsig-more#sha3-256': 'sha3-256',
  'http://www.w3.org/2007/05/xmldsig-more#sha3-384': 'sha3-384',
  'http://www.w3.org/2007/05/xmldsig-more#sha3-512': 'sha3-512',
};

type Scheme = 'pkcs1' | 'pss' | 'ecdsa';

const SIGNATURE_METHODS: Record<string, { scheme: Scheme; hash: string }> = {
  'http://www.w3.org/2000/09/xmldsig#rsa-sha1': { scheme: 'pkcs1', hash: 'sha1' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256': { scheme: 'pkcs1', hash: 'sha256' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384': { scheme: 'pkcs1', hash: 'sha384' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512': { scheme: 'pkcs1', hash: 'sha512' },
  'http://www.w3.org/2007/05/xmldsig-more#sha1-rsa-MGF1': { scheme: 'pss', hash: 'sha1' },
  'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1': { scheme: 'pss', hash: 'sha256' },
  'http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1': { scheme: 'pss', hash: 'sha384' },
  'http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1': { scheme: 'pss', hash: 'sha512' },
  'http://www.w3.org/2007/05/xmldsig-more#sha3-256-rsa-MGF1': { scheme: 'pss', hash: 'sha3-256' },
  'http://www.w3.org/2007/05/xmldsig-more#sha3-384-rsa-MGF1': { scheme: 'pss', hash: 'sha3-384' },
  'http://www.w3.org/2007/05/xmldsig-more#sha3-512-rsa-MGF1': { scheme: 'pss', hash: 'sha3-512' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1': { scheme: 'ecdsa', hash: 'sha1' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256': { scheme: 'ecdsa', hash: 'sha256' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384': { scheme: 'ecdsa', hash: 'sha384' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512': { scheme: 'ecdsa', hash: 'sha512' },
  'http://www.w3.org/2021/04/xmldsig-more#ecdsa-sha3-256': { scheme: 'ecdsa', hash: 'sha3-256' },
  'http://www.w3.org/2021/04/xmldsig-more#ecdsa-sha3-384': { scheme: 'ecdsa', hash: 'sha3-384' },
  'http://www.w3.org/2021/04/xmldsig-more#ecdsa-sha3-512': { scheme: 'ecdsa', hash: 'sha3-512' },
};

/** The transforms and canonicalisations of KSeF's list that xml-crypto implements. */
const TRANSFORMS = [
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments',
  'http://www.w3.org/2001/10/xml-exc-c14n#',
  'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
  ENVELOPED,
];
/** On KSeF's list too, but not implemented by xml-crypto: refused with a message saying so. */
const KSEF_ONLY_TRANSFORMS = [
  'http://www.w3.org/TR/1999/REC-xpath-19991116',
  'http://www.w3.org/2002/06/xmldsig-filter2',
  'http://www.w3.org/2000/09/xmldsig#base64',
  'http://www.w3.org/2006/12/xml-c14n11',
  'http://www.w3.org/2006/12/xml-c14n11#WithComments',
];

const EC_CURVES = ['prime256v1', 'secp384r1', 'secp521r1'];

const UNSUPPORTED = 'Podpis złożony z użyciem niewspieranego algorytmu kryptograficznego.';
const PROFILE = 'Format podpisu niezgodny z akceptowanymi profilami XAdES.';
const NEGATIVE = 'Podpis zweryfikowany negatywnie.';

const invalidCertificate = (detail: string) => new KsefError(21115, 'Nieprawidłowy certyfikat.', [detail]);

const dsig = (el: XmlElement | undefined, local: string) => el?.children.filter((c) => c.local === local && c.ns === XMLDSIG) ?? [];
const xades = (el: XmlElement | undefined, local: string) => el?.children.filter((c) => c.local === local && c.ns === XADES) ?? [];
const algorithmOf = (el: XmlElement | undefined) => (el ? attributeValue(el, 'Algorithm') : undefined);

/** An xml-crypto digest class over a node:crypto hash. */
const digestClass = (uri: string, hash: string) =>
  class {
    getHash = (xml: string) => createHash(hash).update(xml, 'utf8').digest('base64');
    getAlgorithmName = () => uri;
  };

/** An xml-crypto signature class that only verifies (the sandbox never signs XML). */
const signatureClass = (uri: string, { scheme, hash }: { scheme: Scheme; hash: string }) =>
  class {
    getSignature = () => {
      throw new Error('verification only');
    };
    verifySignature = (material: string, key: KeyObject, signatureValue: string) =>
      verify(
        hash,
        Buffer.from(material, 'utf8'),
        scheme === 'pss'
          ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: createHash(hash).digest().length }
          : scheme === 'ecdsa'
            ? { key, dsaEncoding: 'ieee-p1363' }
            : key,
        Buffer.from(signatureValue.replace(/\s+/g, ''), 'base64'),
      );
    getAlgorithmName = () => uri;
  };

const DIGEST_CLASSES = Object.fromEntries(Object.entries(DIGESTS).map(([uri, hash]) => [uri, digestClass(uri, hash)]));
const SIGNATURE_CLASSES = Object.fromEntries(Object.entries(SIGNATURE_METHODS).map(([uri, m]) => [uri, signatureClass(uri, m)]));

function requireAlgorithm(uri: string | undefined, allowed: readonly string[], what: string): string {
  if (uri !== undefined && allowed.includes(uri)) return uri;
  const note = uri && KSEF_ONLY_TRANSFORMS.includes(uri) ? ' (na liście KSeF, ale sandbox go nie obsługuje)' : '';
  throw signatureError([UNSUPPORTED, `${what}: ${uri ?? 'brak atrybutu Algorithm'}${note}.`]);
}

function signingKeyProblem(key: KeyObject, scheme: Scheme): string | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  if (scheme === 'ecdsa') {
    if (key.asymmetricKeyType !== 'ec') return `Algorytm ECDSA wymaga klucza EC, certyfikat ma klucz ${key.asymmetricKeyType}.`;
    if (!EC_CURVES.includes(details.namedCurve ?? '')) return `Krzywa ${details.namedCurve} jest niedozwolona (wymagana co najmniej 256-bitowa krzywa NIST).`;
    return undefined;
  }
  if (key.asymmetricKeyType !== 'rsa') return `Algorytm RSA wymaga klucza RSA, certyfikat ma klucz ${key.asymmetricKeyType}.`;
  if ((details.modulusLength ?? 0) < 2048) return `Klucz RSA musi mieć co najmniej 2048 bitów (ma ${details.modulusLength}).`;
  return undefined;
}

/** The certificate in KeyInfo (the first of its X509Data; others may complete a chain). */
function keyInfoCertificate(signature: XmlElement): { der: Buffer; certificate: X509Certificate } {
  const encoded = dsig(dsig(dsig(signature, 'KeyInfo')[0], 'X509Data')[0], 'X509Certificate')[0]?.text.replace(/\s+/g, '');
  if (!encoded) throw invalidCertificate('Brak certyfikatu w ds:KeyInfo/ds:X509Data/ds:X509Certificate.');
  const der = Buffer.from(encoded, 'base64');
  try {
    return { der, certificate: new X509Certificate(der) };
  } catch {
    throw invalidCertificate('Zawartość ds:X509Certificate nie jest certyfikatem X.509 (DER w Base64).');
  }
}

/** The SignedProperties this signature's QualifyingProperties target, with a check that SignedInfo references it. */
function signedProperties(signature: XmlElement, referenceUris: (string | undefined)[]): XmlElement {
  const signatureId = attributeValue(signature, 'Id');
  const qualifying = dsig(signature, 'Object')
    .flatMap((o) => xades(o, 'QualifyingProperties'))
    .filter((q) => signatureId !== undefined && attributeValue(q, 'Target') === `#${signatureId}`);
  if (qualifying.length !== 1) {
    throw signatureError([PROFILE, 'Brak jednoznacznych xades:QualifyingProperties wskazujących ds:Signature (atrybut Target = #Id podpisu).']);
  }
  const properties = xades(qualifying[0], 'SignedProperties');
  const id = properties.length === 1 ? attributeValue(properties[0], 'Id') : undefined;
  if (id === undefined) throw signatureError([PROFILE, 'Brak xades:SignedProperties z atrybutem Id.']);
  if (!referenceUris.includes(`#${id}`)) throw signatureError([PROFILE, 'ds:SignedInfo nie zawiera referencji do xades:SignedProperties.']);
  return properties[0];
}

/** SigningCertificate (or V2) must name the KeyInfo certificate by its digest (and serial number, when given). */
function checkSigningCertificate(properties: XmlElement, der: Buffer, certificate: X509Certificate): void {
  const signatureProperties = xades(properties, 'SignedSignatureProperties')[0];
  const certs = [...xades(signatureProperties, 'SigningCertificate'), ...xades(signatureProperties, 'SigningCertificateV2')].flatMap((s) => xades(s, 'Cert'));
  if (!certs.length) throw signatureError([PROFILE, 'Brak xades:SigningCertificate w xades:SignedSignatureProperties.']);
  const matching = certs.find((cert) => {
    const digest = xades(cert, 'CertDigest')[0];
    const uri = requireAlgorithm(algorithmOf(dsig(digest, 'DigestMethod')[0]), Object.keys(DIGESTS), 'CertDigest/DigestMethod');
    return createHash(DIGESTS[uri]).update(der).digest('base64') === dsig(digest, 'DigestValue')[0]?.text.replace(/\s+/g, '');
  });
  if (!matching) throw signatureError([NEGATIVE, 'Skrót certyfikatu (xades:CertDigest) nie odpowiada certyfikatowi z ds:KeyInfo.']);
  const serial = dsig(xades(matching, 'IssuerSerial')[0], 'X509SerialNumber')[0]?.text.trim();
  if (serial !== undefined && (!/^\d+$/.test(serial) || BigInt(serial) !== BigInt(`0x${certificate.serialNumber}`))) {
    throw signatureError([NEGATIVE, 'Numer seryjny w xades:IssuerSerial nie odpowiada certyfikatowi z ds:KeyInfo.']);
  }
}

export interface VerifiedSignature {
  /** The signing certificate, DER. */
  der: Buffer;
  certificate: X509Certificate;
}

/** The signing certificate when the signature holds, else 9105 (21115 when KeyInfo carries no certificate). */
export function verifyXadesSignature(request: AuthTokenRequest): VerifiedSignature {
  const signature = request.signature;
  const signedInfo = dsig(signature, 'SignedInfo');
  if (signedInfo.length !== 1) throw signatureError([NEGATIVE, 'ds:Signature musi zawierać dokładnie jeden ds:SignedInfo.']);
  requireAlgorithm(algorithmOf(dsig(signedInfo[0], 'CanonicalizationMethod')[0]), TRANSFORMS.slice(0, 4), 'CanonicalizationMethod');
  const method = SIGNATURE_METHODS[requireAlgorithm(algorithmOf(dsig(signedInfo[0], 'SignatureMethod')[0]), Object.keys(SIGNATURE_METHODS), 'SignatureMethod')];
  const references = dsig(signedInfo[0], 'Reference');
  for (const reference of references) {
    for (const transform of dsig(dsig(reference, 'Transforms')[0], 'Transform')) requireAlgorithm(algorithmOf(transform), TRANSFORMS, 'Transform');
    requireAlgorithm(algorithmOf(dsig(reference, 'DigestMethod')[0]), Object.keys(DIGESTS), 'DigestMethod');
  }
  const uris = references.map((r) => attributeValue(r, 'URI'));
  if (uris.includes(undefined)) throw signatureError([NEGATIVE, 'Każda ds:Reference musi mieć atrybut URI.']);
  const external = uris.find((u) => u !== '' && !u!.startsWith('#'));
  if (external !== undefined) throw signatureError([NEGATIVE, `Podpis zewnętrzny (detached) nie jest akceptowany: referencja "${external}".`]);
  const whole = references.filter((r) => attributeValue(r, 'URI') === '');
  const enveloped = whole.length === 1 && dsig(dsig(whole[0], 'Transforms')[0], 'Transform').some((t) => algorithmOf(t) === ENVELOPED);
  if (!enveloped) throw signatureError([NEGATIVE, 'Podpis musi obejmować cały dokument: jedna ds:Reference URI="" z transformacją enveloped-signature.']);

  const properties = signedProperties(signature, uris);
  const typed = references.find((r) => attributeValue(r, 'URI') === `#${attributeValue(properties, 'Id')}`)!;
  const type = attributeValue(typed, 'Type');
  if (type !== undefined && type !== SIGNED_PROPERTIES_TYPE) throw signatureError([PROFILE, `Referencja do xades:SignedProperties ma Type "${type}".`]);

  const { der, certificate } = keyInfoCertificate(signature);
  const keyProblem = signingKeyProblem(certificate.publicKey, method.scheme);
  if (keyProblem) throw signatureError([UNSUPPORTED, keyProblem]);
  checkSigningCertificate(properties, der, certificate);

  // References resolve by Id: a second element with the same Id could stand in for the signed one.
  const ids = descendants(request.root).flatMap((e) => e.attributes.filter((a) => a.ns === null && /^(Id|ID|id)$/.test(a.local)).map((a) => a.value));
  if (new Set(ids).size !== ids.length) throw signatureError([NEGATIVE, 'Identyfikatory (atrybuty Id) elementów dokumentu nie są unikalne.']);
  const verifier = new SignedXml({ publicCert: certificate.publicKey, getCertFromKeyInfo: () => null });
  verifier.SignatureAlgorithms = SIGNATURE_CLASSES;
  verifier.HashAlgorithms = DIGEST_CLASSES;
  const dom = new DOMParser().parseFromString(request.text, 'text/xml');
  let valid: boolean;
  try {
    verifier.loadSignature(dom.getElementsByTagNameNS(XMLDSIG, 'Signature')[0] as unknown as Node);
    valid = verifier.checkSignature(request.text);
  } catch (err) {
    const message = (err as Error).message;
    throw signatureError([NEGATIVE, ...(message.startsWith('invalid signature: the signature value') ? [] : [message])]);
  }
  if (!valid) {
    const failed = verifier.getReferences().find((r) => r.validationError);
    throw signatureError([`Nieprawidłowa wartość skrótu dla referencji wskazującej na element '${failed?.uri ?? ''}'.`]);
  }
  return { der, certificate };
}
