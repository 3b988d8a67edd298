import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../../harness/processes';
import { buildInfoFile, compiledEntryPoints } from '../../scripts/build/entry-points';

/**
 * The compiled entry points (dist/, built by the suite's global setup) under plain Node.js, as the
 * image runs them: every import resolves without a TypeScript loader. Each is started with a
 * configuration it refuses, which it can only say once all its modules have loaded (ES modules
 * load before any code runs).
 */
describe('the compiled build', () => {
  const run = (file: string, args: string[] = [], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [join('dist', file), ...args], { cwd: root, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });

  it.each(Object.entries(compiledEntryPoints).filter(([source]) => !source.endsWith('payload-key.ts')))(
    '%s loads as %s and refuses a configuration without payload keys in one line',
    (_source, file) => {
      const result = run(file, file === 'replay.js' ? ['--recent', '1h'] : [], { PAYLOAD_ENCRYPTION: 'required', TEMPORAL_ADDRESS: '127.0.0.1:1' });
      expect(result.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
      expect(result.stderr.trim()).toMatch(/invalid configuration: PAYLOAD_ENCRYPTION=required, and no payload key is configured/);
      expect(result.status).toBe(2);
    },
  );

  it('runs the payload-key tool and names the build', () => {
    const result = run(compiledEntryPoints['scripts/ops/payload-key.ts']!, ['release-1']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toMatch(/^release-1:[A-Za-z0-9+/]{43}=$/);
    const { buildId } = JSON.parse(readFileSync(join(root, 'dist', buildInfoFile), 'utf8')) as { buildId: string };
    expect(buildId).toMatch(/^[0-9a-f]{12}$/);
    // The id is compiled into the worker, which declares it as its Worker Deployment Version.
    expect(readFileSync(join(root, 'dist', compiledEntryPoints['worker/main.ts']!), 'utf8')).toContain(`buildId: "${buildId}"`);
  });
});
