import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../platform/config';

/**
 * How the processes reach Temporal: Temporal's environment variables and temporal.toml profiles,
 * read by @temporalio/envconfig, with the mistakes it would let through refused at start.
 */
const dir = mkdtempSync(join(tmpdir(), 'webhooks-envconfig-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const cert = file('client.crt', '-----BEGIN CERTIFICATE-----\nnot parsed here\n-----END CERTIFICATE-----\n');
const key = file('client.key', '-----BEGIN PRIVATE KEY-----\nnot parsed here\n-----END PRIVATE KEY-----\n');
const ca = file('ca.crt', '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n');
// No profile file from the machine running the tests: HOME points at an empty folder.
const base = { HOME: dir };
const temporalOf = (env: Record<string, string>) => loadConfig({ ...base, ...env }).temporal;
const refusal = (env: Record<string, string>) => {
  try {
    loadConfig({ ...base, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
};

describe('connecting to Temporal', () => {
  it('defaults to the local dev server, in plain text, namespace default', () => {
    const temporal = temporalOf({});
    expect(temporal.connection).toEqual({ address: '127.0.0.1:7233' });
    expect(temporal).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', security: 'plain' });
  });

  it('keeps TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE', () => {
    expect(temporalOf({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'webhooks' })).toMatchObject({ address: 'temporal:7233', namespace: 'webhooks' });
  });

  it('presents a client certificate and trusts the given CA over mTLS', () => {
    const temporal = temporalOf({
      TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      TEMPORAL_TLS_SERVER_NAME: 'temporal-frontend',
    });
    expect(temporal.security).toBe('mTLS');
    const tls = temporal.connection.tls as { clientCertPair: { crt: Uint8Array; key: Uint8Array }; serverRootCACertificate: Uint8Array; serverNameOverride: string };
    expect(Buffer.from(tls.clientCertPair.crt).toString()).toContain('not parsed here');
    expect(Buffer.from(tls.serverRootCACertificate).toString()).toContain('ca');
    expect(tls.serverNameOverride).toBe('temporal-frontend');
  });

  it('turns TLS on with an API key', () => {
    const temporal = temporalOf({ TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233', TEMPORAL_NAMESPACE: 'my-ns.a1b2c', TEMPORAL_API_KEY: 'secret-key' });
    expect(temporal.connection).toMatchObject({ apiKey: 'secret-key', tls: true });
    expect(temporal.security).toBe('TLS + API key');
    expect(temporal.security).not.toContain('secret-key');
  });

  it('reads a temporal.toml profile, and the environment overrides it', () => {
    const toml = file(
      'temporal.toml',
      `[profile.cloud]\naddress = "my-ns.a1b2c.tmprl.cloud:7233"\nnamespace = "my-ns.a1b2c"\n[profile.cloud.tls]\nclient_cert_path = "${cert}"\nclient_key_path = "${key}"\n`,
    );
    const fromFile = temporalOf({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud' });
    expect(fromFile).toMatchObject({ address: 'my-ns.a1b2c.tmprl.cloud:7233', namespace: 'my-ns.a1b2c', security: 'mTLS, profile cloud' });
    expect(temporalOf({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'other' }).namespace).toBe('other');
  });

  it('refuses a certificate without its key, and a key without its certificate, in one line', () => {
    for (const message of [refusal({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert }), refusal({ TEMPORAL_TLS_CLIENT_KEY_PATH: key })]) {
      expect(message).toMatch(/^invalid configuration: a Temporal client (certificate|key) is set without its (key|certificate)/);
      expect(message).not.toContain('\n');
    }
  });

  it('refuses an unreadable certificate, key, CA or profile file, naming the setting and the path', () => {
    const missing = join(dir, 'missing.pem');
    expect(refusal({ TEMPORAL_TLS_CLIENT_CERT_PATH: missing, TEMPORAL_TLS_CLIENT_KEY_PATH: key })).toBe(
      `invalid configuration: cannot read TEMPORAL_TLS_CLIENT_CERT_PATH ${missing}: ENOENT`,
    );
    expect(refusal({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_KEY_PATH: dir })).toContain('cannot read TEMPORAL_TLS_CLIENT_KEY_PATH');
    expect(refusal({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: missing })).toContain('cannot read TEMPORAL_TLS_SERVER_CA_CERT_PATH');
    expect(refusal({ TEMPORAL_CONFIG_FILE: missing })).toContain(`cannot read TEMPORAL_CONFIG_FILE ${missing}`);
  });

  it('refuses an API key over plain text', () => {
    expect(refusal({ TEMPORAL_API_KEY: 'secret-key', TEMPORAL_TLS: 'false' })).toMatch(/API key is never sent over plain text/);
  });

  it('refuses a profile that is not in the file, and a malformed file', () => {
    const toml = file('one.toml', '[profile.default]\naddress = "localhost:7233"\n');
    expect(refusal({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' })).toContain("Profile 'prod' not found");
    expect(refusal({ TEMPORAL_CONFIG_FILE: file('bad.toml', '[profile.default\naddress=') })).toMatch(/^invalid configuration: Temporal client profile in .*bad\.toml: /);
  });
});
