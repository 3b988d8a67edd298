import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { searchAttributeFlags } from '../../workflows/search-attributes';

export const temporalCli = fileURLToPath(new URL('../../.temporal/bin/temporal', import.meta.url));

export interface DevServerOptions {
  ip: string;
  port: number;
  uiPort?: number;
  dbFile: string;
  namespace?: string;
  headless?: boolean;
  /** Where the Web UI asks to decode payloads (the codec server). */
  codecEndpoint?: string;
}

/**
 * `temporal server start-dev` as this project runs it: SQLite on disk with a write-ahead log (its
 * single connection serialises all persistence; WAL keeps that fast), the project's search attributes.
 */
export function devServerArgs({ ip, port, uiPort, dbFile, namespace = 'default', headless, codecEndpoint }: DevServerOptions): string[] {
  return [
    'server', 'start-dev',
    '--ip', ip,
    '--port', String(port),
    ...(headless ? ['--headless'] : ['--ui-port', String(uiPort ?? port + 1000), '--ui-disable-news-fetch']),
    '--db-filename', dbFile,
    '--sqlite-pragma', 'journal_mode=WAL',
    '--sqlite-pragma', 'synchronous=NORMAL',
    '--log-level', 'error',
    ...searchAttributeFlags.flatMap((flag) => ['--search-attribute', flag]),
    ...(namespace === 'default' ? [] : ['--namespace', namespace]),
    ...(codecEndpoint && !headless ? ['--ui-codec-endpoint', codecEndpoint] : []),
  ];
}

export function startDevServerProcess(options: DevServerOptions, spawnOptions: SpawnOptions = {}): ChildProcess {
  return spawn(temporalCli, devServerArgs(options), spawnOptions);
}
