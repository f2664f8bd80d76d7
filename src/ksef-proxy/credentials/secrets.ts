import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../logger.js';

/**
 * Encryption at rest of KSeF secrets (KSeF tokens, access/refresh tokens, session keys, offline private
 * keys), and of webhook signing secrets: AES-256-GCM, a fresh 12-byte nonce per value, stored as `version ‖ nonce ‖ tag ‖ ciphertext`.
 * The key comes from KSEF_SECRETS_KEY; without it (development) one is generated into the data directory.
 */
const VERSION = 1;

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): SecretBox {
    if (key.length !== 32) throw new Error('KSEF_SECRETS_KEY must be 32 bytes (64 hex characters or 44 Base64 characters)');
    return new SecretBox(key);
  }

  /** KSEF_SECRETS_KEY, else `<dataDir>/ksef-secrets.key` (created with mode 0600 when missing). */
  static load(configured: string | undefined, dataDir: string, logger: Logger): SecretBox {
    if (configured) return SecretBox.fromKey(parseKey(configured));
    const file = path.join(dataDir, 'ksef-secrets.key');
    if (!fs.existsSync(file)) {
      fs.mkdirSync(dataDir, { recursive: true });
      try {
        fs.writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
        logger.warn({ file }, 'KSEF_SECRETS_KEY is not set: generated a key for KSeF secrets');
      } catch (err) {
        // Another process created it first: use theirs.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    return SecretBox.fromKey(parseKey(fs.readFileSync(file, 'utf8').trim()));
  }

  seal(plaintext: string | Buffer): Buffer {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), nonce, cipher.getAuthTag(), body]);
  }

  open(sealed: Buffer): Buffer {
    if (sealed[0] !== VERSION || sealed.length < 29) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(1, 13));
    decipher.setAuthTag(sealed.subarray(13, 29));
    return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]);
  }

  openString(sealed: Buffer): string {
    return this.open(sealed).toString('utf8');
  }
}

function parseKey(text: string): Buffer {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  return Buffer.from(text, 'base64');
}
