import { serve } from '@hono/node-server';
import { isIP } from 'node:net';
import { exitOnStartError, loadConfig, ConfigError } from '../platform/config';
import { logJson } from '../platform/log';
import { createCodecApp } from './app';
import { EncryptionCodec } from './payload-codec';

/**
 * The codec server process (`npm run codec`): decrypts payloads for the Temporal Web UI and the
 * CLI. It holds the key ring, so it refuses to run without a credential check unless it listens on
 * loopback only, and refuses to run without keys at all (there would be nothing to decode).
 */
function main(): void {
  const config = loadConfig();
  const { host, port, auth, tokens, corsOrigins } = config.codecServer;
  if (auth === 'none' && !isLoopback(host)) {
    throw new ConfigError(`invalid configuration: CODEC_AUTH=none is only allowed on a loopback CODEC_HOST (not ${host}): set CODEC_TOKENS and CODEC_AUTH=token`);
  }
  if (auth === 'token' && tokens.length === 0) throw new ConfigError('invalid configuration: CODEC_AUTH=token needs at least one operator token in CODEC_TOKENS');
  if (!config.encryption.keyRing.current) throw new ConfigError('invalid configuration: the codec server needs the payload key ring: set PAYLOAD_KEYS or PAYLOAD_KEYS_FILE');
  const app = createCodecApp({ codec: new EncryptionCodec(config.encryption.keyRing), auth, tokens, corsOrigins });
  const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
    logJson('info', 'codec: listening', { url: `http://${info.address}:${info.port}`, auth, corsOrigins, keys: config.encryption.keyRing.ids });
  });
  const stop = () => {
    server.close(() => process.exit(0));
    (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

try {
  main();
} catch (err) {
  exitOnStartError('codec', err);
}
