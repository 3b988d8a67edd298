import { readFileSync } from 'node:fs';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';

/**
 * How every process of the project reaches Temporal: Temporal's environment configuration
 * (`@temporalio/envconfig`), so the variables and `temporal.toml` profiles that the Temporal CLI
 * and every SDK read work here too. Environment variables override the profile's values.
 *
 * `@temporalio/envconfig` quietly drops a client certificate without its key, and sends an API key
 * wherever TLS is off: here both stop the process at start, with one line that names the setting.
 */
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

export interface TemporalConnection {
  namespace: string;
  /** Options for `Connection.connect` (client) and `NativeConnection.connect` (worker). */
  connection: {
    address: string;
    tls?: ReturnType<typeof toClientOptions>['connectionOptions']['tls'];
    apiKey?: string;
    metadata?: Record<string, string>;
  };
  /** "plain", "TLS", "mTLS" or "TLS + API key", plus the profile: for logs, never a secret. */
  security: string;
}

/** Reads the connection from `env` (and the profile file it names); throws an Error with one clear line. */
export function temporalConnection(env: Record<string, string | undefined>): TemporalConnection {
  const vars = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const configFile = vars.TEMPORAL_CONFIG_FILE;
  // envconfig ignores a missing profile file; one named explicitly must exist.
  if (configFile) readable(configFile, 'TEMPORAL_CONFIG_FILE');
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: vars, configFileStrict: true });
  } catch (err) {
    throw new Error(`Temporal client profile${configFile ? ` in ${configFile}` : ''}: ${firstLine(err)}`, { cause: err });
  }
  const tls = profile.tls;
  if (tls && !tls.disabled) {
    if (Boolean(tls.clientCert) !== Boolean(tls.clientKey)) {
      throw new Error(
        tls.clientCert
          ? 'a Temporal client certificate is set without its key: set TEMPORAL_TLS_CLIENT_KEY_PATH (or _DATA, or client_key_path in the profile)'
          : 'a Temporal client key is set without its certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH (or _DATA, or client_cert_path in the profile)',
      );
    }
    checkSource(tls.clientCert, 'TEMPORAL_TLS_CLIENT_CERT_PATH');
    checkSource(tls.clientKey, 'TEMPORAL_TLS_CLIENT_KEY_PATH');
    checkSource(tls.serverCACert, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH');
  }
  if (profile.apiKey && tls?.disabled) {
    throw new Error('TEMPORAL_API_KEY is set but TLS is turned off (TEMPORAL_TLS=false or tls.disabled in the profile): an API key is never sent over plain text');
  }
  const { connectionOptions, namespace } = toClientOptions(profile);
  const secured = connectionOptions.tls !== undefined && connectionOptions.tls !== false;
  const security = !secured ? 'plain' : profile.apiKey ? 'TLS + API key' : tls?.clientCert ? 'mTLS' : 'TLS';
  const profileName = vars.TEMPORAL_PROFILE;
  return {
    namespace: namespace ?? 'default',
    connection: {
      address: connectionOptions.address ?? DEFAULT_TEMPORAL_ADDRESS,
      ...(secured ? { tls: connectionOptions.tls } : {}),
      ...(profile.apiKey ? { apiKey: profile.apiKey } : {}),
      ...(profile.grpcMeta ? { metadata: profile.grpcMeta } : {}),
    },
    security: profileName ? `${security}, profile ${profileName}` : security,
  };
}

function checkSource(source: ConfigDataSource | undefined, name: string): void {
  if (source && 'path' in source) readable(source.path, name);
}

function readable(path: string, name: string): void {
  try {
    readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read ${name} ${path}: ${(err as NodeJS.ErrnoException).code ?? firstLine(err)}`, { cause: err });
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}
