import { describe, expect, it } from 'vitest';
import { endpointProblem } from '../../domain/endpoint-policy';

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
