/**
 * Enveloped XAdES-BES signatures as KSeF takes them at `POST /auth/xades-signature` (auth/podpis-xades.md),
 * made by xadesjs on Node's WebCrypto in the layout of the official clients: SignedInfo in C14N 1.0; a
 * `Reference URI=""` with the enveloped-signature and exclusive C14N transforms; a reference to the
 * SignedProperties, which carry the SigningTime and the SigningCertificate (SHA-256 CertDigest and
 * IssuerSerial); the certificate in KeyInfo; the signature appended as the root's last child.
 *
 * RSA keys sign with PKCS#1 v1.5, EC keys with ECDSA (SignatureValue R‖S, as KSeF wants). RSA-PSS is not
 * offered: xmldsigjs writes it only as the parameterised `xmldsig-more#rsa-pss`, which KSeF does not list,
 * and KSeF TEST rejected PSS signatures KSeF does list (CIRFMF/ksef-api #162).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createPrivateKey, createPublicKey, KeyObject, webcrypto, X509Certificate } from 'node:crypto';
import { DOMImplementation, DOMParser, XMLSerializer } from '@xmldom/xmldom';
import * as xadesjs from 'xadesjs';

export type XadesHash = 'SHA-256' | 'SHA-384' | 'SHA-512';

export interface XadesSigningKey {
  /** The signer's certificate: DER bytes, or PEM text. */
  certificate: Buffer | string;
  /** Its private key: a KeyObject, or PEM text (PKCS#8, PKCS#1 or SEC 1). */
  privateKey: KeyObject | string;
}

export interface XadesOptions {
  /** Digest of the references, of the certificate and of the signature itself; default SHA-256. */
  hash?: XadesHash;
  /** Default: now. The official client backdates it a minute for clock skew. */
  signingTime?: Date;
}

interface XmlCoreModule {
  setNodeDependencies(deps: Record<string, unknown>): void;
}

const require = createRequire(import.meta.url);

/**
 * xml-core keeps the DOM implementation it parses and serialises with in a per-module registry, and npm
 * installs one copy of it under xadesjs and another under xmldsigjs: each copy is registered, found the way
 * those packages' own imports find it.
 */
async function xmlCoreCopies(): Promise<XmlCoreModule[]> {
  const copies: XmlCoreModule[] = [];
  for (const owner of ['xadesjs', 'xmldsigjs']) {
    const manifest = createRequire(require.resolve(`${owner}/package.json`)).resolve('xml-core/package.json');
    const entry = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { exports: { '.': { import: string } } }).exports['.'].import;
    copies.push((await import(pathToFileURL(path.join(path.dirname(manifest), entry)).href)) as XmlCoreModule);
  }
  return copies;
}

let environment: Promise<void> | undefined;

function ready(): Promise<void> {
  environment ??= (async () => {
    for (const copy of await xmlCoreCopies()) copy.setNodeDependencies({ DOMParser, XMLSerializer, DOMImplementation });
    xadesjs.Application.setEngine('NodeJS', webcrypto as unknown as Crypto);
  })();
  return environment;
}

const NAMED_CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/** The WebCrypto algorithm that signs with this key. */
function signingAlgorithm(key: KeyObject, hash: XadesHash): RsaHashedImportParams | EcKeyImportParams & { hash: XadesHash } {
  if (key.asymmetricKeyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash };
  if (key.asymmetricKeyType === 'ec') {
    const curve = NAMED_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!curve) throw new Error(`EC curve ${key.asymmetricKeyDetails?.namedCurve} is not one of P-256, P-384, P-521`);
    return { name: 'ECDSA', namedCurve: curve, hash };
  }
  throw new Error(`a ${key.asymmetricKeyType} key cannot make a XAdES signature KSeF accepts (RSA or EC only)`);
}

const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });

/**
 * `xml` (a whole document) with an enveloped XAdES-BES signature by `key` as its root's last child. Throws
 * when the key does not belong to the certificate or is of a kind KSeF does not take.
 */
export async function signEnveloped(xml: string, key: XadesSigningKey, options: XadesOptions = {}): Promise<string> {
  await ready();
  const certificate = new X509Certificate(key.certificate);
  const privateKey = typeof key.privateKey === 'string' ? createPrivateKey(key.privateKey) : key.privateKey;
  if (!spki(createPublicKey(privateKey)).equals(spki(certificate.publicKey))) throw new Error('the private key does not belong to the certificate');
  const hash = options.hash ?? 'SHA-256';
  const algorithm = signingAlgorithm(privateKey, hash);
  const signingKey = await webcrypto.subtle.importKey('pkcs8', privateKey.export({ type: 'pkcs8', format: 'der' }), algorithm, false, ['sign']);
  const certificateBase64 = certificate.raw.toString('base64');
  const signed = new xadesjs.SignedXml();
  await signed.Sign(algorithm, signingKey as CryptoKey, xadesjs.Parse(xml), {
    x509: [certificateBase64],
    signingCertificate: { certificate: certificateBase64, digestAlgorithm: hash },
    references: [{ uri: '', hash, transforms: ['enveloped', 'exc-c14n'] }],
    signingTime: { value: options.signingTime ?? new Date() },
  });
  return signed.toString();
}
