import { constants, createCipheriv, createDecipheriv, createHash, createHmac, KeyObject, privateDecrypt } from 'node:crypto';

export const sha256 = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest();

export const sha256Base64 = (data: Buffer | string): string => sha256(data).toString('base64');

export const hmacSha256 = (secret: Buffer, data: string): Buffer => createHmac('sha256', secret).update(data).digest();

/** AES-256-CBC with PKCS#7, no IV prefix (PROTOCOL.md §4.1). Throws on a bad key, IV or padding. */
export function aesDecrypt(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([decipher.update(data), decipher.final()]);
}

export function aesEncrypt(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** RSA-OAEP with SHA-256 and MGF1-SHA-256, empty label. Throws when the ciphertext is not for this key. */
export function rsaOaepDecrypt(privateKey: KeyObject, data: Buffer): Buffer {
  return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, data);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard Base64 with padding, as every OpenAPI `format: byte` value is. */
export const isBase64 = (value: string): boolean => BASE64.test(value);

export const base64Url = (data: Buffer): string => data.toString('base64url');
