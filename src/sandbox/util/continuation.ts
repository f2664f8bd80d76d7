import { ksef } from '../http/errors.js';
import { hmacSha256 } from './crypto.js';

export type CursorKey = ReadonlyArray<string | number>;

/**
 * Opaque `x-continuation-token`s: Base64 JSON of the sort key of the last item served, signed so that a
 * tampered or foreign token is refused with 21418. Keyset paging keeps pages stable while data grows.
 */
export class Cursors {
  constructor(private readonly secret: Buffer) {}

  private sign(kind: string, key: CursorKey) {
    return hmacSha256(this.secret, JSON.stringify([kind, key])).subarray(0, 12).toString('base64url');
  }

  encode(kind: string, key: CursorKey): string {
    return Buffer.from(JSON.stringify({ k: kind, a: key, s: this.sign(kind, key) })).toString('base64');
  }

  /** The key of the last item served; undefined when no token was sent. Throws 21418 when malformed. */
  decode(kind: string, token: string | undefined): CursorKey | undefined {
    if (token === undefined || token === '') return undefined;
    try {
      const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { k?: unknown; a?: unknown; s?: unknown };
      const key = parsed.a;
      if (
        parsed.k === kind &&
        Array.isArray(key) &&
        key.every((x) => typeof x === 'string' || typeof x === 'number') &&
        parsed.s === this.sign(kind, key as CursorKey)
      ) {
        return key as CursorKey;
      }
    } catch {
      // fall through: any decoding problem is a malformed token
    }
    throw ksef.badContinuationToken();
  }
}

/** Compares sort keys element-wise (numbers numerically, strings lexicographically). */
export function compareKeys(a: CursorKey, b: CursorKey): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}
