import { type Decipher, X509Certificate, constants, createCipheriv, createDecipheriv, createHash, publicEncrypt, randomBytes } from 'node:crypto';

/** KSeF's cryptography (PROTOCOL.md §2.2, §4.1): RSA-OAEP-SHA256 under MF's certificates, AES-256-CBC per session. */

export const sha256Base64 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('base64');

/** RSA-OAEP with SHA-256 and MGF1-SHA-256 under the public key of a DER certificate (Base64, as KSeF lists it). */
export function rsaOaepEncrypt(certificateBase64: string, plaintext: Buffer): Buffer {
  const key = new X509Certificate(Buffer.from(certificateBase64, 'base64')).publicKey;
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plaintext);
}

export interface SessionKey {
  key: Buffer;
  iv: Buffer;
}

export const newSessionKey = (): SessionKey => ({ key: randomBytes(32), iv: randomBytes(16) });

/** AES-256-CBC with PKCS#7, no IV prefix (PROTOCOL.md §14.1). */
export function aesEncrypt({ key, iv }: SessionKey, plaintext: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]);
}

/** A streaming AES-256-CBC/PKCS#7 decryption (an export part: one per part, each padded separately). */
export const aesDecipher = ({ key, iv }: SessionKey): Decipher => createDecipheriv('aes-256-cbc', key, iv);
