import { BlockList, isIP } from 'node:net';

/**
 * Which endpoint URLs a subscription may have. HTTPS only (unless WEBHOOK_ALLOW_HTTP), no
 * user-info, and no loopback, private, link-local, carrier-grade NAT, multicast or cloud metadata
 * address written into the URL (unless WEBHOOK_ALLOW_PRIVATE_NETWORKS). Pure: node:net lends only
 * its address parsing here; resolving a host's name is platform/endpoint-resolver.ts.
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
