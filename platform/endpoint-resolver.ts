import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { endpointProblem, isPrivateAddress, type EndpointPolicy } from '../domain/endpoint-policy';

/**
 * The endpoint policy (domain/endpoint-policy.ts) where a name is resolved: when a subscription is
 * saved (the API) and when a delivery connects (the activities' agent). Never for workflows.
 */
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
