import dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where webhook deliveries may go. Never to addresses no receiver has: link-local (169.254.0.0/16 holds the
 * clouds' instance-metadata services, fe80::/10), unspecified, multicast, reserved. Private and loopback
 * addresses are allowed by default, since a self-hosted server's receivers often live on its own network;
 * `WEBHOOK_PRIVATE_ADDRESSES=deny` refuses them too. Checked on the addresses a host name resolves to at
 * each attempt, so that a name cannot be pointed somewhere else after the subscription was accepted.
 */
export type PrivateAddresses = 'allow' | 'deny';

const never = new BlockList();
never.addSubnet('0.0.0.0', 8);
never.addSubnet('169.254.0.0', 16);
never.addSubnet('224.0.0.0', 4);
never.addSubnet('240.0.0.0', 4);
never.addAddress('::', 'ipv6');
never.addSubnet('fe80::', 10, 'ipv6');
never.addSubnet('ff00::', 8, 'ipv6');

const privateRanges = new BlockList();
privateRanges.addSubnet('127.0.0.0', 8);
privateRanges.addSubnet('10.0.0.0', 8);
privateRanges.addSubnet('172.16.0.0', 12);
privateRanges.addSubnet('192.168.0.0', 16);
privateRanges.addSubnet('100.64.0.0', 10);
privateRanges.addAddress('::1', 'ipv6');
privateRanges.addSubnet('fc00::', 7, 'ipv6');

/** Why a delivery may not go to `address` (an IP), or null when it may. */
export function addressRefusal(address: string, policy: PrivateAddresses): string | null {
  // An IPv4 address written as IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const ip = mapped ?? address;
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  if (never.check(ip, family)) return `${address} is a link-local, unspecified, multicast or reserved address`;
  if (policy === 'deny' && privateRanges.check(ip, family)) return `${address} is a private or loopback address (WEBHOOK_PRIVATE_ADDRESSES=deny)`;
  return null;
}

/** The refusal for a URL whose host is an IP literal; null for a host name (judged when it resolves). */
export function literalRefusal(url: URL, policy: PrivateAddresses): string | null {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? addressRefusal(host, policy) : null;
}

/** dns.lookup that fails when any address the name resolves to is refused (for the HTTP client's `lookup`). */
export function guardedLookup(policy: PrivateAddresses): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.map((a) => addressRefusal(a.address, policy)).find((r) => r !== null);
      if (refused) {
        const error = Object.assign(new Error(`${hostname} resolves to ${refused}`), { code: 'EADDRREFUSED' });
        return callback(error, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
