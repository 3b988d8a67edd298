/**
 * The sides of an A/B comparison: which code runs, with which settings, and what is prepared on
 * each fresh stack. Used by a comparison (bench/modes/compare.ts), by hand-overs against a revision
 * and by restarts with each side of a setting.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { root } from '../harness/processes';
import { HARNESS_TOKEN } from '../harness/token';
import type { LoadStack } from '../harness/stack';
import type { Comparison } from './options';

/** One side of an A/B comparison: which code, and how its stacks are started and prepared. */
export interface Variant {
  name: string;
  env: Record<string, string>;
  /** A checkout of another revision whose worker and API run instead of this tree's. */
  root?: string;
  /** Runs on each fresh stack before the subscriptions are created. */
  prepare?: (stack: LoadStack) => Promise<void>;
}

/** A comparison's two sides, A then B. */
export function variantsOf(comparison: Comparison): [Variant, Variant] {
  switch (comparison.kind) {
    case 'encryption':
      return encryptionVariants();
    case 'catalog':
      return catalogVariants();
    case 'revision':
      return revisionVariants(comparison.against);
    case 'env':
      return envVariants(comparison.env);
  }
}

/** `--encryption=compare`: payload encryption off and on. PAYLOAD_KEYS empty: off whatever the caller's environment says. */
function encryptionVariants(): [Variant, Variant] {
  const key = `bench:${randomBytes(32).toString('base64')}`;
  return [
    { name: 'off', env: { PAYLOAD_KEYS: '' } },
    { name: 'on', env: { PAYLOAD_KEYS: key } },
  ];
}

/**
 * `--catalog=compare`: the load's event type without a catalog entry, and with one whose JSON
 * Schema every event is checked against (the shape the load client sends, no other property).
 */
function catalogVariants(): [Variant, Variant] {
  const schema = {
    type: 'object',
    properties: { client: { type: 'integer', minimum: 0 }, seq: { type: 'integer', minimum: 0 }, sentAt: { type: 'integer' } },
    required: ['client', 'seq', 'sentAt'],
    additionalProperties: false,
  };
  const addType = async (stack: LoadStack) => {
    const response = await fetch(`${stack.apiUrl}/v1/event-types`, {
      method: 'POST',
      headers: { authorization: `Bearer ${HARNESS_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'page.viewed', description: 'A page was viewed (benchmark load)', schema, example: { client: 0, seq: 0, sentAt: 0 } }),
    });
    if (response.status !== 201) throw new Error(`creating the event type answered ${response.status}: ${await response.text()}`);
  };
  return [
    { name: 'none', env: {} },
    { name: 'schema', env: {}, prepare: addType },
  ];
}

/**
 * `--against=<revision>`: that revision's worker and API beside this working tree's. Its files come
 * from `git archive` into a cache folder outside the tree; its dependencies are this tree's when
 * its package-lock.json is the same, otherwise installed there with `npm ci`.
 */
export function revisionVariants(revision: string): [Variant, Variant] {
  const commit = execFileSync('git', ['rev-parse', '--short', `${revision}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
  const dir = join(homedir(), '.cache/webhooks/bench-revisions', commit);
  if (!existsSync(join(dir, 'package.json'))) {
    mkdirSync(dir, { recursive: true });
    execSync(`git archive ${commit} | tar -x -C ${JSON.stringify(dir)}`, { cwd: root, stdio: 'inherit' });
  }
  if (!existsSync(join(dir, 'node_modules'))) {
    const sameLock = readFileSync(join(dir, 'package-lock.json'), 'utf8') === readFileSync(join(root, 'package-lock.json'), 'utf8');
    if (sameLock) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    else execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, stdio: 'inherit' });
  }
  return [
    { name: commit, env: {}, root: dir },
    { name: 'working tree', env: {} },
  ];
}

/** `--compare-env=NAME=value[,…]`: the working tree with these settings (A) beside its defaults (B). */
export function envVariants(env: Record<string, string>): [Variant, Variant] {
  return [
    { name: Object.entries(env).map(([name, value]) => `${name}=${value}`).join(','), env },
    { name: 'defaults', env: {} },
  ];
}
