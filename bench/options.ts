/**
 * The benchmark's command line, parsed once into one typed object: which mode runs, and with what.
 * A pure function of argv (bench/run.ts passes `process.argv.slice(2)`), so that its rules have a
 * unit test (test/unit/bench-options.test.ts). What it refuses, it refuses in one line
 * (BenchOptionsError): an unknown flag, a malformed value, a flag the chosen mode would ignore, and
 * two modes at once, except the two pairs that run together (`--hand-overs` with `--against`,
 * `--restarts` with `--compare-env`).
 */
import type { TemporalKind } from '../harness/stack';
import { COMPARISON_LOADS, PEER_CASE_KEYS, SCENARIO_NAMES, SHEDDING_START, type ComparisonLoads } from './scenarios';

/** The two sides of an A/B comparison on alternating stacks (bench/modes/compare.ts). */
export type Comparison =
  /** `--encryption=compare`: payload encryption off and on. */
  | { kind: 'encryption' }
  /** `--catalog=compare`: the load's event type without a catalog entry, and with a JSON Schema. */
  | { kind: 'catalog' }
  /** `--against=<revision>`: that revision's worker and API beside the working tree's. */
  | { kind: 'revision'; against: string }
  /** `--compare-env=NAME=value[,…]`: the working tree with these settings beside its defaults. */
  | { kind: 'env'; env: Record<string, string> };

export type BenchMode =
  /** No mode flag: every scenario (`--quick`: its fixed load only, 5 s steps). */
  | { name: 'full' }
  /** `--profile`: the hot scenario's fixed load, the worker and the API under --cpu-prof. */
  | { name: 'profile' }
  | { name: 'compare'; comparison: Comparison }
  /** `--hand-overs[=N]`: N runs of one hot subscription across its continue-as-new, at `--rate=`. */
  | { name: 'hand-overs'; runs: number; rate: number; against?: string }
  /** `--restarts`: the worker killed with a backlog; with `--compare-env`, once with each side. */
  | { name: 'restarts'; compareEnv?: Record<string, string> }
  /** `--shedding`: the highest sustained load of one subscription, then twice it. */
  | { name: 'shedding' }
  /** `--neighbours`: one healthy partner beside partners whose endpoints refuse connections. */
  | { name: 'neighbours' }
  /** `--peer=svix`: the same load through Svix's server, one system at a time. */
  | { name: 'peer'; peer: 'svix' }
  /** `--startup`: the API and the worker started compiled and from the sources, alternately: time to ready, memory. */
  | { name: 'startup' };

export interface BenchOptions {
  mode: BenchMode;
  /** `--quick`: shorter steps (5 s) and lighter loads where a mode has them. */
  quick: boolean;
  /** `--temporal=cluster`: the cluster of `npm run cluster` instead of the dev server. */
  temporal: TemporalKind;
  /** `--scenario=a,b`: only these scenarios (peer cases by key with `--peer`); all when missing. */
  scenarios?: string[];
  /** A comparison's loads per scenario: COMPARISON_LOADS with `--loads=` over them. */
  loads: ComparisonLoads;
}

/** The options of one mode, for the function that runs it. */
export type OptionsOf<Name extends BenchMode['name']> = BenchOptions & { mode: Extract<BenchMode, { name: Name }> };

export class BenchOptionsError extends Error {}

const FLAGS = ['quick', 'profile', 'scenario', 'temporal', 'encryption', 'catalog', 'against', 'compare-env', 'loads', 'hand-overs', 'rate', 'restarts', 'shedding', 'neighbours', 'peer', 'startup'] as const;
type Flag = (typeof FLAGS)[number];
/** Flags that take no value, and flags whose value is optional; the rest need `=value`. */
const SWITCHES = new Set<Flag>(['quick', 'profile', 'restarts', 'shedding', 'neighbours', 'startup']);
const OPTIONAL_VALUE = new Set<Flag>(['hand-overs']);

/** Flags that choose a mode. */
const MODE_FLAGS: Flag[] = ['profile', 'encryption', 'catalog', 'against', 'compare-env', 'hand-overs', 'restarts', 'shedding', 'neighbours', 'peer', 'startup'];
/** Two mode flags that run as one: hand-overs of two revisions, and restarts with each side of a setting. */
const PAIRS: [Flag, Flag][] = [
  ['hand-overs', 'against'],
  ['restarts', 'compare-env'],
];

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const given = new Map<Flag, string | undefined>();
  for (const arg of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    const flag = FLAGS.find((known) => known === match?.[1]);
    if (!match || !flag) throw new BenchOptionsError(`unknown argument ${arg} (known: ${FLAGS.map((f) => `--${f}`).join(', ')})`);
    if (given.has(flag)) throw new BenchOptionsError(`--${flag} is given twice`);
    const value = match[2];
    if (SWITCHES.has(flag) && value !== undefined) throw new BenchOptionsError(`--${flag} takes no value, not ${arg}`);
    if (!SWITCHES.has(flag) && !OPTIONAL_VALUE.has(flag) && !value) throw new BenchOptionsError(`--${flag} needs a value: --${flag}=…`);
    given.set(flag, value);
  }
  const value = (flag: Flag) => given.get(flag);

  const modeFlags = MODE_FLAGS.filter((flag) => given.has(flag));
  const paired = modeFlags.length === 2 && PAIRS.some(([a, b]) => modeFlags.includes(a) && modeFlags.includes(b));
  if (modeFlags.length > 1 && !paired) {
    throw new BenchOptionsError(`one mode at a time: ${modeFlags.map((f) => `--${f}`).join(' and ')} do not run together (the pairs that do: --hand-overs with --against, --restarts with --compare-env)`);
  }

  const mode = modeOf(given);
  const temporal = temporalOf(value('temporal'));
  if (temporal === 'cluster' && (mode.name === 'restarts' || mode.name === 'neighbours')) {
    throw new BenchOptionsError(`--${mode.name} runs on the dev server only (it kills and restarts processes of the stack), not with --temporal=cluster`);
  }
  if (given.has('rate') && mode.name !== 'hand-overs') throw new BenchOptionsError('--rate applies to --hand-overs only');
  if (given.has('loads') && mode.name !== 'compare') throw new BenchOptionsError('--loads applies to a comparison only (--against, --compare-env, --encryption=compare, --catalog=compare)');
  const loads = { ...COMPARISON_LOADS, ...parseLoads(value('loads')) };
  const scenarios = given.has('scenario') ? scenariosOf(value('scenario')!, mode, loads) : undefined;

  return { mode, quick: given.has('quick'), temporal, ...(scenarios ? { scenarios } : {}), loads };
}

function modeOf(given: Map<Flag, string | undefined>): BenchMode {
  const value = (flag: Flag) => given.get(flag);
  const against = value('against');
  const compareEnv = given.has('compare-env') ? parseCompareEnv(value('compare-env')!) : undefined;
  if (given.has('profile')) return { name: 'profile' };
  if (given.has('hand-overs')) {
    return { name: 'hand-overs', runs: positiveInteger('hand-overs', value('hand-overs') ?? '20'), rate: positiveNumber('rate', value('rate') ?? '600'), ...(against ? { against } : {}) };
  }
  if (given.has('restarts')) return { name: 'restarts', ...(compareEnv ? { compareEnv } : {}) };
  for (const feature of ['encryption', 'catalog'] as const) {
    if (!given.has(feature)) continue;
    if (value(feature) !== 'compare') throw new BenchOptionsError(`--${feature}: only --${feature}=compare is known, not --${feature}=${value(feature)}`);
    return { name: 'compare', comparison: { kind: feature } };
  }
  if (against) return { name: 'compare', comparison: { kind: 'revision', against } };
  if (compareEnv) return { name: 'compare', comparison: { kind: 'env', env: compareEnv } };
  if (given.has('shedding')) return { name: 'shedding' };
  if (given.has('neighbours')) return { name: 'neighbours' };
  if (given.has('startup')) return { name: 'startup' };
  if (given.has('peer')) {
    if (value('peer') !== 'svix') throw new BenchOptionsError(`--peer: only svix is known, not ${value('peer')}`);
    return { name: 'peer', peer: 'svix' };
  }
  return { name: 'full' };
}

function temporalOf(raw: string | undefined): TemporalKind {
  if (raw === undefined || raw === 'dev') return 'dev';
  if (raw === 'cluster') return 'cluster';
  throw new BenchOptionsError(`--temporal: dev or cluster, not ${raw}`);
}

/** `--scenario=`: names the chosen mode knows (peer cases by key); a comparison needs each one's loads. */
function scenariosOf(raw: string, mode: BenchMode, loads: ComparisonLoads): string[] {
  const names = raw.split(',');
  const known: Partial<Record<BenchMode['name'], [string, string[]]>> = {
    full: ['scenarios', SCENARIO_NAMES],
    compare: ['scenarios', SCENARIO_NAMES],
    shedding: ['scenarios of --shedding', Object.keys(SHEDDING_START)],
    peer: ['cases of --peer', PEER_CASE_KEYS],
  };
  const entry = known[mode.name];
  if (!entry) throw new BenchOptionsError(`--scenario does not apply to --${mode.name}${mode.name === 'profile' ? ' (it runs the hot scenario)' : ''}`);
  const [noun, allowed] = entry;
  const unknown = names.filter((name) => !allowed.includes(name));
  if (unknown.length) throw new BenchOptionsError(`--scenario: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not among the ${noun} (${allowed.join(', ')})`);
  if (mode.name === 'compare') {
    const withoutLoads = names.filter((name) => !(name in loads));
    if (withoutLoads.length) throw new BenchOptionsError(`--scenario: a comparison has no loads for ${withoutLoads.join(', ')}: give them, e.g. --loads=${withoutLoads[0]}:moderate/overload`);
  }
  return names;
}

/** `--loads=shared:60/180,sparse:15/45`: a comparison's moderate and overload rates per scenario. */
function parseLoads(arg: string | undefined): ComparisonLoads {
  if (arg === undefined) return {};
  return Object.fromEntries(
    arg.split(',').map((entry) => {
      const match = /^([a-z-]+):(\d+)\/(\d+)$/.exec(entry);
      if (!match) throw new BenchOptionsError(`--loads: scenario:moderate/overload, not ${entry}`);
      if (!SCENARIO_NAMES.includes(match[1]!)) throw new BenchOptionsError(`--loads: no scenario is named ${match[1]} (known: ${SCENARIO_NAMES.join(', ')})`);
      return [match[1]!, { moderate: Number(match[2]), overload: Number(match[3]) }];
    }),
  );
}

/** `--compare-env=NAME=value[,NAME=value]`. */
function parseCompareEnv(arg: string): Record<string, string> {
  const pairs: string[][] = arg.split(',').map((pair) => pair.split('='));
  if (pairs.some((pair) => pair.length !== 2 || !/^[A-Z][A-Z0-9_]*$/.test(pair[0]!))) {
    throw new BenchOptionsError(`--compare-env takes NAME=value pairs separated by commas, not ${JSON.stringify(arg)}`);
  }
  return Object.fromEntries(pairs.map(([name, value]) => [name!, value!]));
}

function positiveInteger(flag: Flag, raw: string): number {
  const number = Number(raw);
  if (!Number.isInteger(number) || number < 1) throw new BenchOptionsError(`--${flag}: a whole number of 1 or more, not ${raw}`);
  return number;
}

function positiveNumber(flag: Flag, raw: string): number {
  const number = Number(raw);
  if (!Number.isFinite(number) || number <= 0) throw new BenchOptionsError(`--${flag}: a positive number, not ${raw}`);
  return number;
}

/**
 * The results file's name before its timestamp, as scripts/tools/capacity.ts and the docs know them:
 * `full`, `quick`, `profile`, `encryption`, `catalog`, `against-<revision>`, `env`,
 * `hand-overs[-against-<revision>]`, `restarts`, `shedding`, `neighbours`, `peer-svix`; `-cluster`
 * after it on the cluster.
 */
export function resultsPrefix({ mode, quick, temporal }: BenchOptions): string {
  const kind = (() => {
    switch (mode.name) {
      case 'full':
        return quick ? 'quick' : 'full';
      case 'compare': {
        const { comparison } = mode;
        return comparison.kind === 'revision' ? `against-${comparison.against}` : comparison.kind;
      }
      case 'hand-overs':
        return `hand-overs${mode.against ? `-against-${mode.against}` : ''}`;
      case 'peer':
        return `peer-${mode.peer}`;
      default:
        return mode.name;
    }
  })();
  return `${kind}${temporal === 'cluster' ? '-cluster' : ''}`;
}
