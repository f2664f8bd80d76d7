import { createHmac, randomBytes } from 'node:crypto';

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (spec: WebhookEvent); during a secret
 * rotation one `v1` per valid secret, the newest first.
 */
export const SIGNATURE_HEADER = 'X-FastKSeF-Signature';
/** The event's id: the same on every attempt, so a receiver can drop what it already has. */
export const EVENT_ID_HEADER = 'X-FastKSeF-Event-Id';

/** A new signing secret: 32 random bytes, `whsec_` so that one pasted where it should not be is recognisable. */
export const newSigningSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

/** The signature header's value for `body` (the exact bytes sent) at `at`; each key is the secret string as UTF-8. */
export function signatureHeader(secrets: readonly string[], body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return [`t=${t}`, ...secrets.map((secret) => `v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`)].join(',');
}
