// Where a tenant's runbooks may send requests: only under the URL prefixes of its tenant
// entry (`webhooks:`), and a listed host name never reaches an internal address: a name must
// resolve to public addresses only (checked on every connection, so DNS cannot be switched
// under an approved name). To call an internal service, list its address itself
// (http://10.0.0.5:8080/hooks/), or localhost: that is an explicit allowance.
import { BlockList, isIP } from 'node:net';

/** The allow-list as the node knows it (the tenant registry, or the node config in tests). */
export interface DestinationPolicy {
  /** URL prefixes this tenant may call; empty: none */
  allowed(tenant: string): readonly string[];
}

/**
 * The allow-list entry `url` falls under, or undefined: same scheme, host and port, and a path
 * under the entry's path at a segment boundary (`/hooks` admits `/hooks/x`, not `/hooksx`).
 * A URL with credentials falls under none.
 */
export function allowedBy(prefixes: readonly string[], url: string): string | undefined {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return undefined;
  }
  if (target.username !== '' || target.password !== '') return undefined;
  for (const entry of prefixes) {
    let a: URL;
    try {
      a = new URL(entry);
    } catch {
      continue;
    }
    if (a.protocol !== target.protocol || a.host !== target.host) continue;
    const dir = a.pathname.endsWith('/') ? a.pathname : `${a.pathname}/`;
    if (target.pathname === a.pathname || target.pathname.startsWith(dir)) return entry;
  }
  return undefined;
}

// Addresses a name from the allow-list must not resolve to: loopback, private, link-local
// (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast, unspecified, reserved,
// and their IPv6 forms (mapped IPv4 is unwrapped before the check).
const INTERNAL = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) INTERNAL.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) {
  INTERNAL.addSubnet(net, bits, 'ipv6');
}

/** Is this IP address internal (not reachable on the public internet)? */
export function isInternalAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped ? mapped[1]! : address;
  const family = isIP(ip);
  if (family === 0) return true; // not an address at all: refuse
  return INTERNAL.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * May a connection to `host` (from an allowed URL) go to `address` (what it resolved to)?
 * A host written as an address or `localhost` was allowed as such; a name only to public addresses.
 */
export function addressAllowed(host: string, address: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) !== 0 || bare.toLowerCase() === 'localhost') return true;
  return !isInternalAddress(address);
}
