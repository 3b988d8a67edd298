import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMIT, parseDuration, parseReplayArgs, recentQueries, ReplayUsageError, USAGE, workflowIdQuery, workflowTypes } from '../../scripts/ops/replay-options';

/** `npm run replay -- …`: what a command line replays, the queries that find the runs, and what it refuses in one line. */
describe('the replay command line', () => {
  const parse = (line: string) => parseReplayArgs(line.split(' ').filter(Boolean));
  const refusal = (run: () => unknown) => {
    try {
      run();
    } catch (err) {
      expect(err).toBeInstanceOf(ReplayUsageError);
      expect((err as Error).message).not.toContain('\n');
      return (err as Error).message;
    }
    throw new Error('not refused');
  };

  it('reads a window as a whole number and one unit: seconds, minutes, hours or days', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('90m')).toBe(90 * 60_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('366d')).toBe(366 * 86_400_000);
  });

  it('refuses a window without a unit, with a fraction, a sign, zero, or beyond a year', () => {
    for (const bad of ['24', 'h', '1.5h', '-1h', '+1h', '0h', '0d', '24H', '1w', '24 h', '', '367d', '99999999999999999999d']) {
      expect(refusal(() => parseDuration(bad)), bad).toMatch(/^replay: --recent takes a window/);
    }
  });

  it('keeps the modes it had: a workflow id, or a visibility query', () => {
    expect(parse('subscription:acme:s1')).toEqual({ mode: 'workflow', workflowId: 'subscription:acme:s1' });
    expect(parseReplayArgs(['--query', "WebhookPartnerId = 'acme'"])).toEqual({ mode: 'query', query: "WebhookPartnerId = 'acme'" });
    expect(parseReplayArgs(["--query=WebhookPartnerId = 'acme'"])).toEqual({ mode: 'query', query: "WebhookPartnerId = 'acme'" });
  });

  it('runs the gate with --recent, 100 runs per workflow type unless --limit says otherwise', () => {
    expect(parse('--recent 24h')).toEqual({ mode: 'recent', window: '24h', windowMs: 86_400_000, limit: DEFAULT_LIMIT });
    expect(DEFAULT_LIMIT).toBe(100);
    expect(parse('--recent 1h --limit 5')).toEqual({ mode: 'recent', window: '1h', windowMs: 3_600_000, limit: 5 });
    expect(parse('--limit=10000 --recent=7d')).toMatchObject({ windowMs: 7 * 86_400_000, limit: 10_000 });
  });

  it('replays against other workflow code only when --workflows names it, in any mode', () => {
    expect(parse('--recent 1h --workflows test/replay/changed-workflows/index.ts')).toMatchObject({ mode: 'recent', workflows: 'test/replay/changed-workflows/index.ts' });
    expect(parse('--workflows ../old/workflows/index.ts batch:b1')).toEqual({ mode: 'workflow', workflowId: 'batch:b1', workflows: '../old/workflows/index.ts' });
    expect(parse('--recent 1h')).not.toHaveProperty('workflows');
  });

  it('refuses bad limits, flags it does not know, missing values and mixed modes, each in one line', () => {
    for (const bad of ['0', '-1', '1.5', 'ten', '10001', '1e3']) {
      expect(refusal(() => parse(`--recent 1h --limit ${bad}`)), bad).toMatch(/^replay: --limit takes a whole number of runs per workflow type from 1 to 10000/);
    }
    expect(refusal(() => parse(''))).toBe(USAGE);
    expect(refusal(() => parse('--limit 5 some-id'))).toBe('replay: --limit goes with --recent (a workflow id or --query replays every run it finds)');
    expect(refusal(() => parse('--recent'))).toMatch(/^replay: --recent needs a value/);
    expect(refusal(() => parse('--recent 1h --recent 2h'))).toBe('replay: --recent is given twice');
    expect(refusal(() => parse('--since 1h'))).toMatch(/^replay: unknown option --since; usage: npm run replay -- /);
    expect(refusal(() => parse('--recent 1h some-id'))).toMatch(/^replay: give one of a workflow id, --query or --recent/);
    expect(refusal(() => parseReplayArgs(['--query', 'x', '--recent', '1h']))).toMatch(/^replay: give one of/);
    expect(refusal(() => parse('one two'))).toMatch(/^replay: give one of/);
    expect(refusal(() => parse('--workflows x.ts'))).toMatch(/^replay: give one of/);
  });

  it('names every workflow type the worker runs', () => {
    expect([...workflowTypes].sort()).toEqual(['deliveryWorkflow', 'eventTypeWorkflow', 'recoveryWorkflow', 'subscriptionWorkflow']);
  });

  it('asks visibility for a type’s open runs, then for those closed since the window began', () => {
    const since = new Date('2026-11-30T08:00:00.000Z');
    expect(recentQueries('deliveryWorkflow', since)).toEqual([
      "WorkflowType = 'deliveryWorkflow' AND ExecutionStatus = 'Running'",
      "WorkflowType = 'deliveryWorkflow' AND ExecutionStatus != 'Running' AND CloseTime >= '2026-11-30T08:00:00.000Z'",
    ]);
  });

  it('quotes a workflow id so that a quote in it stays inside the string', () => {
    expect(workflowIdQuery('subscription:acme:s1')).toBe("WorkflowId = 'subscription:acme:s1'");
    expect(workflowIdQuery("it's")).toBe("WorkflowId = 'it\\'s'");
    expect(workflowIdQuery('a\\')).toBe("WorkflowId = 'a\\\\'");
  });
});
