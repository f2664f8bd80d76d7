import type { Request } from 'express';
import { SandboxState } from '../state.js';
import { hmacSha256 } from '../util/crypto.js';
import { ksefDateTimeSeconds } from '../util/time.js';

/**
 * Pre-signed storage links in the style of Azure SAS (`sv`, `se`, `sr`, `sp`, `sig`): absolute, usable
 * without a bearer, valid until `se`. Used for UPO downloads, batch part uploads and export parts.
 */

export type Permission = 'r' | 'w';

export interface PresignedLink {
  url: string;
  expiresAt: Date;
  /** The expiry as KSeF reports it (`downloadUrlExpirationDate` and friends). */
  expiration: string;
}

/** Where the client reaches the sandbox: configured publicBaseUrl, the listening address, or the Host header. */
export function baseUrl(state: SandboxState, req: Request): string {
  return state.options.publicBaseUrl ?? state.listenUrl ?? `${req.protocol}://${req.get('host')}`;
}

const signature = (state: SandboxState, permission: Permission, path: string, se: string) =>
  hmacSha256(state.urlSecret, `${permission}\n${path}\n${se}`).toString('base64');

export function presign(state: SandboxState, req: Request, path: string, permission: Permission, expiresAt: Date): PresignedLink {
  const whole = new Date(Math.floor(expiresAt.getTime() / 1000) * 1000);
  const se = `${whole.toISOString().slice(0, 19)}Z`;
  const sig = signature(state, permission, path, se);
  const query = `sv=2025-01-05&se=${encodeURIComponent(se)}&sr=b&sp=${permission}&sig=${encodeURIComponent(sig)}`;
  return { url: `${baseUrl(state, req)}${path}?${query}`, expiresAt: whole, expiration: ksefDateTimeSeconds(whole) };
}

export type LinkCheck = 'ok' | 'invalid' | 'expired';

export function checkPresigned(state: SandboxState, req: Request, permission: Permission): LinkCheck {
  const path = req.originalUrl.split('?')[0];
  const { se, sp, sig } = req.query;
  if (typeof se !== 'string' || typeof sig !== 'string' || sp !== permission) return 'invalid';
  if (signature(state, permission, path, se) !== sig) return 'invalid';
  const expires = Date.parse(se);
  if (!Number.isFinite(expires)) return 'invalid';
  return state.now().getTime() >= expires ? 'expired' : 'ok';
}

/** Download links live three days, like KSeF's. */
export const DOWNLOAD_LINK_TTL_MS = 3 * 24 * 3_600_000;
