import { describe, expect, it } from 'vitest';
import { checkInvariants, violations, type ReceivedBody } from '../../chaos/checker';
import { buildPayloadBody } from '../../domain/payload';

const rule = { maxEvents: 3, windowMs: 1000 };
const rules = new Map([['s1', rule]]);
const orderOf = (data: unknown) => {
  const { producer, n } = data as { producer?: string; n?: number };
  return producer === undefined || n === undefined ? undefined : ([producer, n] as [string, number]);
};

/** A batch body as the worker builds it, events given as [id, producer position]. */
function batch(batchId: string, at: number, events: [string, number][]): ReceivedBody {
  const body = buildPayloadBody(
    batchId,
    new Date(at).toISOString(),
    events.map(([id, n]) => ({ id, createdAt: new Date(at).toISOString(), type: 't', data: { producer: 'p', n } })),
  );
  return { body, subscription: 's1' };
}

const check = (acknowledged: string[], received: ReceivedBody[]) =>
  checkInvariants({ acknowledged: new Map([['s1', acknowledged]]), received, rules, orderOf });

describe('the invariant checker', () => {
  it('passes a clean run, counting a repeated delivery of the same bytes as allowed', () => {
    const first = batch('b1', 0, [['e1', 1], ['e2', 2], ['e3', 3]]);
    const second = batch('b2', 1500, [['e4', 4]]);
    const verdict = check(['e1', 'e2', 'e3', 'e4'], [first, second, first]);
    expect(violations(verdict)).toBe(0);
    expect(verdict).toMatchObject({ repeatedDeliveries: 1, deliveredEvents: 4, batches: 2, acknowledgedEvents: 4 });
  });

  it('counts an acknowledged event that never arrived', () => {
    const verdict = check(['e1', 'e2'], [batch('b1', 0, [['e1', 1]])]);
    expect(verdict.undelivered).toBe(1);
    expect(verdict.examples.join()).toContain('e2');
  });

  it('counts an event delivered under two batch ids', () => {
    const verdict = check(['e1', 'e2'], [batch('b1', 0, [['e1', 1]]), batch('b2', 2000, [['e1', 1], ['e2', 2]])]);
    expect(verdict.splitEvents).toBe(1);
  });

  it('counts a batch id that arrived with two different bodies', () => {
    const verdict = check(['e1', 'e2'], [batch('b1', 0, [['e1', 1]]), batch('b1', 0, [['e1', 1], ['e2', 2]])]);
    expect(verdict.changedBatches).toBe(1);
  });

  it('counts batches that break the rule: too many events, cut early, a wrong count, empty', () => {
    const tooMany = batch('b1', 0, [['e1', 1], ['e2', 2], ['e3', 3], ['e4', 4]]);
    const early = batch('b2', 400, [['e5', 5]]);
    const wrongCount = { body: batch('b3', 5000, [['e6', 6]]).body.replace('"count":1', '"count":2'), subscription: 's1' };
    const empty = batch('b4', 9000, []);
    const verdict = check(['e1', 'e2', 'e3', 'e4', 'e5', 'e6'], [tooMany, early, wrongCount, empty]);
    expect(verdict.ruleViolations).toBe(4);
  });

  it('allows a full batch right after another, and several batches cut at the same instant', () => {
    const verdict = check(
      ['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7'],
      [batch('b1', 0, [['e1', 1], ['e2', 2], ['e3', 3]]), batch('b2', 10, [['e4', 4], ['e5', 5], ['e6', 6]]), batch('b3', 10, [['e7', 7]])],
    );
    expect(violations(verdict)).toBe(0);
  });

  it('counts events out of their producer order, within a batch and across batches', () => {
    const within = check(['e1', 'e2'], [batch('b1', 0, [['e2', 2], ['e1', 1]])]);
    expect(within.ruleViolations).toBe(1);
    const across = check(['e1', 'e2'], [batch('b1', 0, [['e2', 2]]), batch('b2', 2000, [['e1', 1]])]);
    expect(across.ruleViolations).toBe(1);
  });
});

describe('the invariant checker, with refused requests', () => {
  it('counts an event as delivered only once a request of its batch was answered 2xx', () => {
    const refused = { ...batch('b1', 0, [['e1', 1]]), accepted: false };
    expect(check(['e1'], [refused]).undelivered).toBe(1);
    const verdict = check(['e1'], [refused, batch('b1', 0, [['e1', 1]])]);
    expect(violations(verdict)).toBe(0);
    expect(verdict.repeatedDeliveries).toBe(0);
  });

  it('still compares the bytes of a refused request with the later ones', () => {
    const refused = { ...batch('b1', 0, [['e1', 1], ['e2', 2]]), accepted: false };
    expect(check(['e1'], [refused, batch('b1', 0, [['e1', 1]])]).changedBatches).toBe(1);
  });
});
