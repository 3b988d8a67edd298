import { z } from 'zod';

/**
 * The whole configuration, parsed once from the environment (names fixed by the contract).
 * Nothing else in the project reads `process.env`.
 */
const booleanFlag = z
  .enum(['true', 'false', '1', '0', ''])
  .default('false')
  .transform((value) => value === 'true' || value === '1');

const port = z.coerce.number().int().min(0).max(65535);

const environmentSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('webhooks'),
  TEMPORAL_UI_PORT: port.default(8233),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(8080),
  API_TOKEN: z.string().min(16, 'API_TOKEN must be at least 16 characters').optional(),
  WEBHOOK_CLIENT_CERT: z.string().min(1).optional(),
  WEBHOOK_CLIENT_KEY: z.string().min(1).optional(),
  WEBHOOK_CA_CERT: z.string().min(1).optional(),
  WEBHOOK_ALLOW_HTTP: booleanFlag,
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: booleanFlag,
  BATCH_MAX_EVENTS_LIMIT: z.coerce.number().int().min(1).max(1000).default(100),
  DELIVERY_BACKOFF_SCALE: z.coerce.number().positive().max(1000).default(1),
  INGEST_SIGNAL_INTERVAL_MS: z.coerce.number().int().min(0).max(5_000).default(25),
});

export type Environment = z.input<typeof environmentSchema>;

export interface Config {
  temporal: { address: string; namespace: string; taskQueue: string; uiPort: number };
  api: { host: string; port: number; token: string | undefined };
  delivery: {
    clientCertFile: string | undefined;
    clientKeyFile: string | undefined;
    caCertFile: string | undefined;
    allowHttp: boolean;
    allowPrivateNetworks: boolean;
    backoffScale: number;
  };
  batching: { maxEventsLimit: number };
  /** Group commit: the least time between two signals to one subscription from one API process. */
  ingest: { signalIntervalMs: number };
}

export class ConfigError extends Error {}

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
  return {
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiPort: e.TEMPORAL_UI_PORT,
    },
    api: { host: e.API_HOST, port: e.API_PORT, token: e.API_TOKEN },
    delivery: {
      clientCertFile: e.WEBHOOK_CLIENT_CERT,
      clientKeyFile: e.WEBHOOK_CLIENT_KEY,
      caCertFile: e.WEBHOOK_CA_CERT,
      allowHttp: e.WEBHOOK_ALLOW_HTTP,
      allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      backoffScale: e.DELIVERY_BACKOFF_SCALE,
    },
    batching: { maxEventsLimit: e.BATCH_MAX_EVENTS_LIMIT },
    ingest: { signalIntervalMs: e.INGEST_SIGNAL_INTERVAL_MS },
  };
}
