import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * (Uses node:net and node:dns: for the API and the activities, never for workflows.)
 *
 * Which endpoint URLs a subscription may have. HTTPS only (unless WEBHOOK_ALLOW_HTTP), no
 * user-info, and no loopback, private, link-local, carrier-grade NAT, multicast or cloud metadata
 * address written into the URL (unless WEBHOOK_ALLOW_PRIVATE_NETWORKS).
 */
export const MAX_ENDPOINT_URL_LENGTH = 2_048;

export interface EndpointPolicy {
  allowHttp: boolean;
  allowPrivateNetworks: boolean;
}

const privateAddresses = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  privateAddresses.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  privateAddresses.addSubnet(network, prefix, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return privateAddresses.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Why the URL is refused, or null when it is acceptable. */
export function endpointProblem(raw: string, policy: EndpointPolicy): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a valid URL';
  }
  if (raw.length > MAX_ENDPOINT_URL_LENGTH) return `the URL is longer than ${MAX_ENDPOINT_URL_LENGTH} characters`;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    return policy.allowHttp ? 'the URL must be http or https' : 'the URL must be https';
  }
  if (url.username || url.password) return 'the URL must not carry user-info';
  if (!policy.allowPrivateNetworks) {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host)) {
      return 'the URL points at a loopback, private or otherwise reserved address';
    }
  }
  return null;
}

/** Resolves a hostname to all its addresses, as `dns.lookup` with `all: true` does. */
export type Resolver = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const systemResolver: Resolver = (hostname, options, callback) => dnsLookup(hostname, options, callback);

export class PrivateAddressError extends Error {
  readonly code = 'EPRIVATEADDRESS';
}

/**
 * A `lookup` for net/tls.connect that drops loopback, private and reserved addresses (unless
 * allowed), so the address actually connected is the one checked: a DNS answer that changes
 * between the check and the connection (DNS rebinding) cannot slip through.
 */
export function guardedLookup(policy: EndpointPolicy, resolve: Resolver = systemResolver): LookupFunction {
  return ((hostname: string, options: { all?: boolean; family?: number }, callback: (...args: unknown[]) => void) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err);
      const usable = policy.allowPrivateNetworks ? addresses : addresses.filter((a) => !isPrivateAddress(a.address));
      if (usable.length === 0) {
        const listed = addresses.map((a) => a.address).join(', ') || 'nothing';
        return callback(new PrivateAddressError(`${hostname} resolves to ${listed}: loopback, private or reserved addresses are refused`));
      }
      if (options.all) return callback(null, usable);
      return callback(null, usable[0]!.address, usable[0]!.family);
    });
  }) as LookupFunction;
}

/** Resolves a URL's host and says why it is refused (a private address), or null. For saving a subscription. */
export async function resolvedEndpointProblem(raw: string, policy: EndpointPolicy, resolve: Resolver = systemResolver): Promise<string | null> {
  const problem = endpointProblem(raw, policy);
  if (problem || policy.allowPrivateNetworks) return problem;
  const host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return null;
  const addresses = await new Promise<LookupAddress[] | Error>((done) =>
    resolve(host, { all: true }, (err, found) => done(err ?? found)),
  );
  if (addresses instanceof Error) return `the host ${host} does not resolve`;
  const blocked = addresses.find((a) => isPrivateAddress(a.address));
  return blocked ? `the host ${host} resolves to ${blocked.address}, a loopback, private or reserved address` : null;
}
