/**
 * Once before the suite: `npm run build`, so that every test that starts our processes runs them
 * compiled (dist/), as production does, from the working tree's sources of this very run.
 */
import { execFileSync } from 'node:child_process';
import { root } from '../harness/processes';

export default function setup(): void {
  // Each vitest project inherits this setup, and all run in vitest's one main process: build once.
  if (process.env.WEBHOOKS_TEST_BUILD_DONE) return;
  process.env.WEBHOOKS_TEST_BUILD_DONE = '1';
  console.log(`tests: Node.js ${process.version}`);
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build/build.ts'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}
