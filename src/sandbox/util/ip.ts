import type { Request } from 'express';
import { AllowedIps } from '../model.js';

/** The address KSeF "sees": the socket peer, IPv4-mapped IPv6 unwrapped. */
export function clientIp(req: Request): string {
  const raw = req.socket.remoteAddress ?? '0.0.0.0';
  return raw.startsWith('::ffff:') ? raw.slice(7) : raw;
}

const toNumber = (ip: string): number | undefined => {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
};

export function parseAllowedIps(addresses: string[] = [], ranges: string[] = [], masks: string[] = []): AllowedIps {
  return {
    addresses,
    ranges: ranges.map((r) => {
      const [from, to] = r.split('-').map(toNumber);
      return [from ?? 0, to ?? 0];
    }),
    masks: masks.map((m) => {
      const [base, bits] = m.split('/');
      const size = 2 ** (32 - Number(bits));
      const start = Math.floor((toNumber(base) ?? 0) / size) * size;
      return [start, start + size - 1];
    }),
  };
}

/** An empty policy allows everyone; IPv6 peers only match when the policy is empty. */
export function ipAllowed(ip: string, policy: AllowedIps): boolean {
  if (!policy.addresses.length && !policy.ranges.length && !policy.masks.length) return true;
  if (policy.addresses.includes(ip)) return true;
  const n = toNumber(ip);
  if (n === undefined) return false;
  return [...policy.ranges, ...policy.masks].some(([from, to]) => n >= from && n <= to);
}
