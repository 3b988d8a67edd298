import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { z } from 'zod';
import { KeyRing } from '../codec/key-ring';
import { EncryptionCodec } from '../codec/payload-codec';
import { compiledBuild } from './build-info';
import { temporalConnection, type TemporalConnection } from './temporal-connection';
import type { SetCurrentPolicy } from './worker-deployment';

/**
 * The whole configuration, parsed once from the environment (names fixed by the contract).
 * Nothing else in the project reads `process.env`.
 */
const booleanFlag = z
  .enum(['true', 'false', '1', '0', ''])
  .default('false')
  .transform((value) => value === 'true' || value === '1');

const port = z.coerce.number().int().min(0).max(65535);
/** WORKER_STICKY_QUEUE_TIMEOUT_MS's default (the SDK's is 10 s): chosen in docs/performance.md, "Worker restarts". */
export const STICKY_QUEUE_TIMEOUT_MS_DEFAULT = 3_000;

const environmentSchema = z.object({
  // How to reach Temporal: Temporal's own environment configuration (platform/temporal-connection.ts),
  // the same names the Temporal CLI and every SDK read; a temporal.toml profile may set them instead.
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: z.string().optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_CLIENT_CERT_DATA: z.string().optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().optional(),
  TEMPORAL_TLS_CLIENT_KEY_DATA: z.string().optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_PROFILE: z.string().optional(),
  TEMPORAL_CONFIG_FILE: z.string().optional(),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('webhooks'),
  TEMPORAL_UI_PORT: port.default(8233),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(8080),
  API_TOKEN: z.string().min(16, 'API_TOKEN must be at least 16 characters').optional(),
  API_TOKENS: z.string().optional(),
  WEBHOOK_CLIENT_CERT: z.string().min(1).optional(),
  WEBHOOK_CLIENT_KEY: z.string().min(1).optional(),
  WEBHOOK_CA_CERT: z.string().min(1).optional(),
  WEBHOOK_ALLOW_HTTP: booleanFlag,
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: booleanFlag,
  BATCH_MAX_EVENTS_LIMIT: z.coerce.number().int().min(1).max(1000).default(100),
  DELIVERY_BACKOFF_SCALE: z.coerce.number().positive().max(1000).default(1),
  WORKER_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  WORKER_METRICS_PORT: port.default(9464),
  // Worker Versioning (docs/decisions/0011-worker-versioning.md).
  WORKER_VERSIONING: z.enum(['on', 'off']).default('on'),
  WORKER_DEPLOYMENT_NAME: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only').default('webhooks'),
  WORKER_BUILD_ID: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only').optional(),
  WORKER_SET_CURRENT: z.enum(['if-none', 'always', 'never']).default('if-none'),
  // How long a workflow task waits on this worker's own (sticky) queue before Temporal offers it to
  // any worker: after a crash, the pause before a new worker takes the dead one's subscriptions.
  WORKER_STICKY_QUEUE_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(60_000).default(STICKY_QUEUE_TIMEOUT_MS_DEFAULT),
  // Workflow runs kept in memory; 0 or unset: the SDK's default, from the heap size.
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(1_000_000).default(0),
  INGEST_SIGNAL_INTERVAL_MS: z.coerce.number().int().min(0).max(5_000).default(100),
  // 0: no budget.
  INGEST_SIGNALS_PER_SECOND: z.coerce.number().int().min(0).max(100_000).default(0),
  // 0: never refuse events for load.
  INGEST_SHED_AFTER_MS: z.coerce.number().int().min(0).max(60_000).default(500),
  // Admission control (api/ingest/admission.ts): the 202 latency it keeps accepted requests near; 0: off.
  INGEST_ADMISSION_TARGET_MS: z.coerce.number().int().min(0).max(60_000).default(750),
  INGEST_MAX_IN_FLIGHT_EVENTS: z.coerce.number().int().min(1).max(1_000_000).default(20_000),
  UNKNOWN_EVENT_TYPES: z.enum(['allow', 'refuse']).default('allow'),
  WEBHOOK_SIGNING_KEY: z.string().min(1).optional(),
  WEBHOOK_SIGNING_KEY_FILE: z.string().min(1).optional(),
  PORTAL_SECRET: z.string().min(32, 'PORTAL_SECRET must be at least 32 characters').optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  // Payload encryption (codec/): a key ring, newest key first, inline or in a file.
  PAYLOAD_KEYS: z.string().optional(),
  PAYLOAD_KEYS_FILE: z.string().min(1).optional(),
  PAYLOAD_ENCRYPTION: z.enum(['optional', 'required']).default('optional'),
  // The codec server (codec/main.ts) that the Temporal Web UI calls to show payloads decrypted.
  CODEC_HOST: z.string().min(1).default('127.0.0.1'),
  CODEC_PORT: port.default(8081),
  CODEC_AUTH: z.enum(['token', 'none']).default('token'),
  CODEC_TOKENS: z.string().optional(),
  CODEC_CORS_ORIGINS: z.string().optional(),
});

export type Environment = z.input<typeof environmentSchema>;
/** Every environment variable the project reads. */
export const environmentNames = Object.keys(environmentSchema.shape);

export interface Config {
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    uiPort: number;
    /** What `Connection.connect` and `NativeConnection.connect` take: address, TLS, API key, gRPC metadata. */
    connection: TemporalConnection['connection'];
    /** How the connection is secured, for logs (no secret in it). */
    security: string;
    /** For every `Client`, `Worker` and replay: the payload codec (encrypting when the ring has a key). */
    dataConverter: DataConverter;
  };
  encryption: {
    /** The payload keys; empty when encryption is off (payloads then go to Temporal in clear). */
    keyRing: KeyRing;
    /** For logs: "on (key k1, from …)" or "off". */
    describe: string;
  };
  /** The codec server: where it listens, who may call it, which browser origins (the Web UI's) may. */
  codecServer: {
    host: string;
    port: number;
    auth: 'token' | 'none';
    tokens: string[];
    corsOrigins: string[];
  };
  api: {
    host: string;
    port: number;
    /** The admin token (API_TOKEN). */
    token: string | undefined;
    /** More tokens, each with a role (API_TOKENS). */
    extraTokens: ApiToken[];
  };
  delivery: {
    clientCertFile: string | undefined;
    clientKeyFile: string | undefined;
    caCertFile: string | undefined;
    allowHttp: boolean;
    allowPrivateNetworks: boolean;
    backoffScale: number;
  };
  batching: { maxEventsLimit: number };
  /** Signs Depo's sign-in links and sessions; every API process must share it (PORTAL_SECRET). */
  portal: { secret: string | undefined };
  /** Group commit: the least time between two signals to one subscription from one API process. */
  ingest: { signalIntervalMs: number; signalsPerSecond: number; shedAfterMs: number; admissionTargetMs: number; maxInFlightEvents: number };
  /**
   * WEBHOOK_SIGNING_KEY (base64, at least 32 bytes) or WEBHOOK_SIGNING_KEY_FILE: every
   * subscription's signing secret is derived from it (domain/signing.ts). Unset: deliveries go
   * unsigned and subscriptions have no secret.
   */
  signing: { key: Buffer | undefined };
  /** UNKNOWN_EVENT_TYPES: whether events and subscriptions may name types the catalog does not hold. */
  catalog: { unknownTypes: 'allow' | 'refuse' };
  /** Where `npm run dev` and `npm run cluster` keep their data (absolute; DATA_DIR, default .data). */
  dataDir: string;
  worker: {
    /** A workflow bundle built ahead of time (`npm run build` makes one); else workflows/ is bundled at start. */
    workflowBundlePath: string | undefined;
    /**
     * The Worker Deployment Version the worker declares, or undefined with WORKER_VERSIONING=off.
     * Its build id: WORKER_BUILD_ID, else the compiled build's id, else `dev` (run from the sources).
     */
    deployment: { name: string; buildId: string; setCurrent: SetCurrentPolicy } | undefined;
    /** Where the worker serves /metrics, /livez and /readyz (0: not at all). */
    metricsPort: number;
    /** WORKER_STICKY_QUEUE_TIMEOUT_MS. */
    stickyQueueTimeoutMs: number;
    /** WORKER_MAX_CACHED_WORKFLOWS; undefined: the SDK's default. */
    maxCachedWorkflows: number | undefined;
  };
}

export class ConfigError extends Error {}

/** `admin` may use every /v1 route; `producer` may only post events. */
export type ApiRole = 'admin' | 'producer';
export interface ApiToken {
  role: ApiRole;
  token: string;
}

/** `API_TOKENS`: comma-separated `role:token` pairs, e.g. `producer:abc…,admin:def…`. */
function parseTokens(raw: string | undefined): ApiToken[] {
  if (!raw?.trim()) return [];
  return raw.split(',').map((entry) => {
    const at = entry.indexOf(':');
    const role = entry.slice(0, at).trim();
    const token = entry.slice(at + 1).trim();
    if (at < 0 || (role !== 'admin' && role !== 'producer')) {
      throw new ConfigError('invalid configuration: API_TOKENS entries are role:token with role admin or producer');
    }
    if (token.length < 16) throw new ConfigError('invalid configuration: every token in API_TOKENS must be at least 16 characters');
    return { role, token };
  });
}

/** PAYLOAD_KEYS, else PAYLOAD_KEYS_FILE, else none (payloads go to Temporal in clear). */
function payloadKeyRing(e: z.output<typeof environmentSchema>): KeyRing {
  if (e.PAYLOAD_KEYS?.trim() && e.PAYLOAD_KEYS_FILE) throw new ConfigError('invalid configuration: set PAYLOAD_KEYS or PAYLOAD_KEYS_FILE, not both');
  let ring: KeyRing;
  try {
    if (e.PAYLOAD_KEYS?.trim()) ring = KeyRing.fromText(e.PAYLOAD_KEYS);
    else if (e.PAYLOAD_KEYS_FILE) ring = KeyRing.fromFile(e.PAYLOAD_KEYS_FILE);
    else ring = KeyRing.empty();
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${(err as Error).message}`, { cause: err });
  }
  if (e.PAYLOAD_ENCRYPTION === 'required' && !ring.current) {
    throw new ConfigError('invalid configuration: PAYLOAD_ENCRYPTION=required, and no payload key is configured: set PAYLOAD_KEYS or PAYLOAD_KEYS_FILE (npm run payload-key makes one)');
  }
  return ring;
}

/** WEBHOOK_SIGNING_KEY, else the file WEBHOOK_SIGNING_KEY_FILE names, else none. */
function signingKey(e: z.output<typeof environmentSchema>): Buffer | undefined {
  if (e.WEBHOOK_SIGNING_KEY && e.WEBHOOK_SIGNING_KEY_FILE) throw new ConfigError('invalid configuration: set WEBHOOK_SIGNING_KEY or WEBHOOK_SIGNING_KEY_FILE, not both');
  let text = e.WEBHOOK_SIGNING_KEY;
  if (e.WEBHOOK_SIGNING_KEY_FILE) {
    try {
      text = readFileSync(e.WEBHOOK_SIGNING_KEY_FILE, 'utf8');
    } catch (err) {
      throw new ConfigError(`invalid configuration: WEBHOOK_SIGNING_KEY_FILE cannot be read: ${(err as Error).message}`, { cause: err });
    }
  }
  if (text === undefined) return undefined;
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length < 32) throw new ConfigError('invalid configuration: WEBHOOK_SIGNING_KEY must be at least 32 bytes, base64 (openssl rand -base64 32)');
  return key;
}

function parseCodecTokens(raw: string | undefined): string[] {
  const tokens = (raw ?? '').split(',').map((token) => token.trim()).filter(Boolean);
  if (tokens.some((token) => token.length < 16)) throw new ConfigError('invalid configuration: every token in CODEC_TOKENS must be at least 16 characters');
  return tokens;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  if (Boolean(e.WEBHOOK_CLIENT_CERT) !== Boolean(e.WEBHOOK_CLIENT_KEY)) {
    throw new ConfigError('invalid configuration: set both WEBHOOK_CLIENT_CERT and WEBHOOK_CLIENT_KEY, or neither');
  }
  let temporal: TemporalConnection;
  try {
    temporal = temporalConnection(env);
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${(err as Error).message}`, { cause: err });
  }
  const keyRing = payloadKeyRing(e);
  const current = keyRing.current;
  return {
    temporal: {
      address: temporal.connection.address,
      dataConverter: { payloadCodecs: [new EncryptionCodec(keyRing)] },
      namespace: temporal.namespace,
      connection: temporal.connection,
      security: temporal.security,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiPort: e.TEMPORAL_UI_PORT,
    },
    api: { host: e.API_HOST, port: e.API_PORT, token: e.API_TOKEN, extraTokens: parseTokens(e.API_TOKENS) },
    delivery: {
      clientCertFile: e.WEBHOOK_CLIENT_CERT,
      clientKeyFile: e.WEBHOOK_CLIENT_KEY,
      caCertFile: e.WEBHOOK_CA_CERT,
      allowHttp: e.WEBHOOK_ALLOW_HTTP,
      allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      backoffScale: e.DELIVERY_BACKOFF_SCALE,
    },
    batching: { maxEventsLimit: e.BATCH_MAX_EVENTS_LIMIT },
    portal: { secret: e.PORTAL_SECRET },
    ingest: { signalIntervalMs: e.INGEST_SIGNAL_INTERVAL_MS, signalsPerSecond: e.INGEST_SIGNALS_PER_SECOND === 0 ? Infinity : e.INGEST_SIGNALS_PER_SECOND, shedAfterMs: e.INGEST_SHED_AFTER_MS === 0 ? Infinity : e.INGEST_SHED_AFTER_MS, admissionTargetMs: e.INGEST_ADMISSION_TARGET_MS === 0 ? Infinity : e.INGEST_ADMISSION_TARGET_MS, maxInFlightEvents: e.INGEST_MAX_IN_FLIGHT_EVENTS },
    catalog: { unknownTypes: e.UNKNOWN_EVENT_TYPES },
    signing: { key: signingKey(e) },
    dataDir: resolve(e.DATA_DIR),
    encryption: { keyRing, describe: current ? `on (encrypting with key ${current.id}, from ${keyRing.source})` : 'off' },
    codecServer: {
      host: e.CODEC_HOST,
      port: e.CODEC_PORT,
      auth: e.CODEC_AUTH,
      tokens: parseCodecTokens(e.CODEC_TOKENS),
      corsOrigins: e.CODEC_CORS_ORIGINS?.trim()
        ? e.CODEC_CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean)
        : [`http://localhost:${e.TEMPORAL_UI_PORT}`, `http://127.0.0.1:${e.TEMPORAL_UI_PORT}`],
    },
    worker: {
      workflowBundlePath: e.WORKER_WORKFLOW_BUNDLE ?? compiledBuild?.workflowBundlePath,
      deployment:
        e.WORKER_VERSIONING === 'off'
          ? undefined
          : { name: e.WORKER_DEPLOYMENT_NAME, buildId: e.WORKER_BUILD_ID ?? compiledBuild?.buildId ?? 'dev', setCurrent: e.WORKER_SET_CURRENT },
      metricsPort: e.WORKER_METRICS_PORT,
      stickyQueueTimeoutMs: e.WORKER_STICKY_QUEUE_TIMEOUT_MS,
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS || undefined,
    },
  };
}

/** Ends a process that failed to start: a configuration mistake in one line (exit 2), anything else with its stack (exit 1). */
export function exitOnStartError(processName: string, err: unknown): never {
  if (err instanceof ConfigError) {
    console.error(`${processName}: ${err.message}`);
    process.exit(2);
  }
  console.error(`${processName}: fatal:`, err);
  process.exit(1);
}

/** `loadConfig()` for a command's entry point: a mistake ends the process as `exitOnStartError` says. */
export function loadConfigOrExit(processName: string): Config {
  try {
    return loadConfig();
  } catch (err) {
    exitOnStartError(processName, err);
  }
}
