import { describe, expect, it } from 'vitest';
import { BenchOptionsError, parseBenchOptions, resultsPrefix } from '../../bench/options';
import { COMPARISON_LOADS } from '../../bench/scenarios';

/** `npm run bench -- …`: which mode a command line runs, what its results file is called, and what it refuses. */
describe('the benchmark command line', () => {
  const parse = (line: string) => parseBenchOptions(line.split(' ').filter(Boolean));
  const prefix = (line: string) => resultsPrefix(parse(line));
  const refusal = (line: string) => {
    try {
      parse(line);
    } catch (err) {
      expect(err).toBeInstanceOf(BenchOptionsError);
      return (err as Error).message;
    }
    throw new Error(`${line} was not refused`);
  };

  it('runs every scenario on the dev server when given nothing', () => {
    expect(parse('')).toEqual({ mode: { name: 'full' }, quick: false, temporal: 'dev', loads: COMPARISON_LOADS });
    expect(prefix('')).toBe('full');
    expect(prefix('--quick')).toBe('quick');
    expect(prefix('--temporal=cluster')).toBe('full-cluster');
    expect(prefix('--quick --temporal=cluster')).toBe('quick-cluster');
    expect(parse('--temporal=dev').temporal).toBe('dev');
  });

  it('runs only the scenarios --scenario names, in any mode that has scenarios', () => {
    expect(parse('--scenario=hot').scenarios).toEqual(['hot']);
    expect(parse('--shedding --scenario=hot-array').scenarios).toEqual(['hot-array']);
    expect(parse('--peer=svix --scenario=one,sparse-10k').scenarios).toEqual(['one', 'sparse-10k']);
  });

  it('keeps every command line the docs and package.json give, and names their results files as before', () => {
    const documented: [string, string][] = [
      ['', 'full'],
      ['--quick', 'quick'],
      ['--scenario=hot', 'full'],
      ['--scenario=hot,hot-array', 'full'],
      ['--profile', 'profile'],
      ['--encryption=compare', 'encryption'],
      ['--catalog=compare', 'catalog'],
      ['--against=aa12bf3 --scenario=hot,hot-array,shared,sparse', 'against-aa12bf3'],
      ['--against=aa12bf3 --scenario=shared,sparse --loads=shared:60/180,sparse:15/45', 'against-aa12bf3'],
      ['--against=ef83fc9 --scenario=sparse --loads=sparse:15/45', 'against-ef83fc9'],
      ['--compare-env=BENCH_SIDE=b --temporal=cluster --scenario=hot,shared,sparse --loads=hot:300/600,shared:15/30,sparse:8/15', 'env-cluster'],
      ['--hand-overs', 'hand-overs'],
      ['--hand-overs=20', 'hand-overs'],
      ['--hand-overs=8 --against=aa12bf3 --rate=1000', 'hand-overs-against-aa12bf3'],
      ['--restarts', 'restarts'],
      ['--restarts --compare-env=WORKER_STICKY_QUEUE_TIMEOUT_MS=10000', 'restarts'],
      ['--neighbours', 'neighbours'],
      ['--shedding', 'shedding'],
      ['--startup --quick', 'startup'],
      ['--peer=svix', 'peer-svix'],
      ['--peer=svix --temporal=cluster --scenario=one,spread,sparse-1k,sparse-10k', 'peer-svix-cluster'],
    ];
    for (const [line, name] of documented) expect(prefix(line), line).toBe(name);
  });

  it('reads each mode’s settings into its own part of the options', () => {
    expect(parse('--hand-overs').mode).toEqual({ name: 'hand-overs', runs: 20, rate: 600 });
    expect(parse('--hand-overs=5 --rate=900 --against=HEAD~1').mode).toEqual({ name: 'hand-overs', runs: 5, rate: 900, against: 'HEAD~1' });
    expect(parse('--restarts --compare-env=A=1,B_2=x').mode).toEqual({ name: 'restarts', compareEnv: { A: '1', B_2: 'x' } });
    expect(parse('--compare-env=INGEST_SIGNAL_INTERVAL_MS=200').mode).toEqual({ name: 'compare', comparison: { kind: 'env', env: { INGEST_SIGNAL_INTERVAL_MS: '200' } } });
    expect(parse('--against=c6d14bb').mode).toEqual({ name: 'compare', comparison: { kind: 'revision', against: 'c6d14bb' } });
    expect(parse('--encryption=compare').mode).toEqual({ name: 'compare', comparison: { kind: 'encryption' } });
    expect(parse('--peer=svix').mode).toEqual({ name: 'peer', peer: 'svix' });
  });

  it('lays --loads over the default loads of a comparison', () => {
    const { loads } = parse('--against=HEAD --loads=shared:60/180,failing:100/300');
    expect(loads.shared).toEqual({ moderate: 60, overload: 180 });
    expect(loads.failing).toEqual({ moderate: 100, overload: 300 });
    expect(loads.hot).toEqual(COMPARISON_LOADS.hot);
    // With its loads given, a scenario the defaults leave out can be compared.
    expect(parse('--against=HEAD --scenario=failing --loads=failing:100/300').scenarios).toEqual(['failing']);
  });

  it('refuses an unknown flag, a stray word and a flag given twice', () => {
    expect(refusal('--fast')).toMatch(/^unknown argument --fast \(known: --quick, /);
    expect(refusal('quick')).toMatch(/^unknown argument quick/);
    expect(refusal('--scenario=hot --scenario=shared')).toBe('--scenario is given twice');
  });

  it('refuses malformed values', () => {
    expect(refusal('--quick=yes')).toBe('--quick takes no value, not --quick=yes');
    expect(refusal('--against')).toBe('--against needs a value: --against=…');
    expect(refusal('--scenario=')).toBe('--scenario needs a value: --scenario=…');
    expect(refusal('--temporal=k8s')).toBe('--temporal: dev or cluster, not k8s');
    expect(refusal('--encryption=on')).toBe('--encryption: only --encryption=compare is known, not --encryption=on');
    expect(refusal('--peer=hookdeck')).toBe('--peer: only svix is known, not hookdeck');
    expect(refusal('--hand-overs=0')).toMatch(/^--hand-overs: a whole number/);
    expect(refusal('--hand-overs=')).toMatch(/^--hand-overs: a whole number/);
    expect(refusal('--hand-overs --rate=fast')).toBe('--rate: a positive number, not fast');
    expect(refusal('--compare-env=lower=1')).toMatch(/^--compare-env takes NAME=value pairs/);
    expect(refusal('--against=HEAD --loads=shared:60')).toBe('--loads: scenario:moderate/overload, not shared:60');
    expect(refusal('--against=HEAD --loads=bursty:1/2')).toMatch(/^--loads: no scenario is named bursty/);
  });

  it('refuses two modes at once, but for hand-overs against a revision and restarts with a setting', () => {
    expect(refusal('--profile --shedding')).toMatch(/^one mode at a time: --profile and --shedding do not run together/);
    expect(refusal('--against=HEAD --compare-env=A=1')).toMatch(/^one mode at a time: --against and --compare-env/);
    expect(refusal('--encryption=compare --catalog=compare')).toMatch(/^one mode at a time/);
    expect(refusal('--hand-overs --against=HEAD --restarts')).toMatch(/^one mode at a time/);
    expect(refusal('--peer=svix --neighbours')).toMatch(/^one mode at a time/);
    expect(refusal('--startup --shedding')).toMatch(/^one mode at a time/);
    expect(refusal('--startup=yes')).toMatch(/^--startup takes no value/);
  });

  it('refuses a flag the chosen mode would ignore', () => {
    expect(refusal('--rate=900')).toBe('--rate applies to --hand-overs only');
    expect(refusal('--loads=shared:60/180')).toMatch(/^--loads applies to a comparison only/);
    expect(refusal('--restarts --compare-env=A=1 --loads=shared:60/180')).toMatch(/^--loads applies to a comparison only/);
    expect(refusal('--profile --scenario=shared')).toBe('--scenario does not apply to --profile (it runs the hot scenario)');
    expect(refusal('--hand-overs --scenario=hot')).toBe('--scenario does not apply to --hand-overs');
    expect(refusal('--restarts --temporal=cluster')).toMatch(/^--restarts runs on the dev server only/);
    expect(refusal('--neighbours --temporal=cluster')).toMatch(/^--neighbours runs on the dev server only/);
  });

  it('refuses a scenario the mode does not know, or a comparison without its loads', () => {
    expect(refusal('--scenario=hott')).toBe('--scenario: hott is not among the scenarios (hot, hot-array, shared, sparse, failing)');
    expect(refusal('--shedding --scenario=shared')).toBe('--scenario: shared is not among the scenarios of --shedding (hot, hot-array)');
    expect(refusal('--peer=svix --scenario=hot')).toBe('--scenario: hot is not among the cases of --peer (one, spread, failing, sparse-1k, sparse-10k)');
    expect(refusal('--against=HEAD --scenario=failing')).toBe('--scenario: a comparison has no loads for failing: give them, e.g. --loads=failing:moderate/overload');
  });

  it('says each refusal in one line', () => {
    for (const line of ['--fast', '--profile --shedding', '--scenario=hott', '--against=HEAD --scenario=failing']) expect(refusal(line)).not.toContain('\n');
  });
});
