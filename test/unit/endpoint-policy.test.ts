import { describe, expect, it } from 'vitest';
import { endpointProblem } from '../../domain/endpoint-policy';
import { guardedLookup, type Resolver } from '../../platform/endpoint-resolver';

const strict = { allowHttp: false, allowPrivateNetworks: false };

describe('the endpoint policy', () => {
  it('accepts a public https URL', () => {
    expect(endpointProblem('https://hooks.example.com/in?x=1', strict)).toBeNull();
  });

  it('refuses http unless WEBHOOK_ALLOW_HTTP', () => {
    expect(endpointProblem('http://hooks.example.com/', strict)).toMatch(/https/);
    expect(endpointProblem('http://hooks.example.com/', { ...strict, allowHttp: true })).toBeNull();
    expect(endpointProblem('ftp://hooks.example.com/', { ...strict, allowHttp: true })).toMatch(/http/);
  });

  it('refuses a URL longer than 2,048 characters', () => {
    expect(endpointProblem(`https://hooks.example.com/${'a'.repeat(2_048)}`, strict)).toMatch(/longer than 2048/);
  });

  it('refuses user-info in the URL', () => {
    expect(endpointProblem('https://user:pw@hooks.example.com/', strict)).toMatch(/user-info/);
  });

  it.each([
    'https://127.0.0.1/',
    'https://localhost:8443/',
    'https://10.1.2.3/',
    'https://172.20.0.1/',
    'https://192.168.1.1/',
    'https://169.254.169.254/latest/meta-data',
    'https://100.64.0.1/',
    'https://224.0.0.1/',
    'https://[::1]/',
    'https://[fd00::1]/',
    'https://[fe80::1]/',
    'https://[::ffff:127.0.0.1]/',
  ])('refuses %s unless WEBHOOK_ALLOW_PRIVATE_NETWORKS', (url) => {
    expect(endpointProblem(url, strict)).toMatch(/private|loopback/);
    expect(endpointProblem(url, { ...strict, allowPrivateNetworks: true })).toBeNull();
  });
});

describe('the guarded DNS lookup', () => {
  const resolver = (addresses: string[]) => ((_host: string, _options: unknown, callback: (err: null, found: { address: string; family: number }[]) => void) =>
    callback(null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })))) as Resolver;
  const lookup = (addresses: string[], allowPrivateNetworks: boolean, all = true) =>
    new Promise<{ err: (Error & { code?: string }) | null; result: unknown }>((resolve) =>
      (guardedLookup({ allowHttp: false, allowPrivateNetworks }, resolver(addresses)) as any)('h.example', { all }, (err: any, result: unknown) =>
        resolve({ err, result }),
      ),
    );

  it('refuses a name that resolves only to private addresses, IPv4 or IPv6', async () => {
    for (const addresses of [['127.0.0.1'], ['10.0.0.1', '192.168.0.1'], ['::1'], ['fd00::1'], ['169.254.169.254'], ['100.64.1.1']]) {
      const { err } = await lookup(addresses, false);
      expect(err?.code, addresses.join()).toBe('EPRIVATEADDRESS');
    }
  });

  it('connects only to the public addresses of a name that mixes both', async () => {
    expect((await lookup(['127.0.0.1', '203.0.113.7'], false)).result).toEqual([{ address: '203.0.113.7', family: 4 }]);
  });

  it('answers in the single-address form when not asked for all', async () => {
    const single = await new Promise<unknown[]>((resolve) =>
      (guardedLookup({ allowHttp: false, allowPrivateNetworks: false }, resolver(['203.0.113.7'])) as any)('h', {}, (...args: unknown[]) => resolve(args)),
    );
    expect(single).toEqual([null, '203.0.113.7', 4]);
  });

  it('allows private addresses when WEBHOOK_ALLOW_PRIVATE_NETWORKS is set', async () => {
    expect((await lookup(['127.0.0.1'], true)).err).toBeNull();
  });
});
