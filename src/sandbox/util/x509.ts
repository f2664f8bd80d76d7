// tsyringe, the registry @peculiar/x509 keeps its algorithms in, needs the Reflect metadata API before it loads.
import 'reflect-metadata';
import { KeyObject, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** @peculiar/x509 running on Node's WebCrypto; the sandbox takes it from here so that it is always set up. */
x509.cryptoProvider.set(webcrypto as Crypto);

export { x509 };

/** An RSA private key as the WebCrypto key that signs certificates with sha256WithRSAEncryption. */
export async function rsaSigningKey(privateKey: KeyObject): Promise<CryptoKey> {
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  return (await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign'])) as CryptoKey;
}

/** Both critical in every certificate the sandbox signs. */
export const basicConstraints = (ca: boolean) => new x509.BasicConstraintsExtension(ca, undefined, true);
export const keyUsage = (usages: x509.KeyUsageFlags) => new x509.KeyUsagesExtension(usages, true);
