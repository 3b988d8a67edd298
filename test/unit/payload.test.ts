import { describe, expect, it } from 'vitest';
import { buildPayloadBody } from '../../domain/payload';
import type { WebhookEvent } from '../../domain/schema';

describe('the payload builder', () => {
  const events = [
    { type: 'user.created', data: { a: 1 }, createdAt: '2024-03-21T10:00:00.000Z', id: 'e1' },
    { id: 'e2', createdAt: '2024-03-21T10:00:01.000Z', type: 'user.updated', data: { nested: { b: [1, 2] } } },
  ];

  it('writes the contract fields in the contract order, count equal to the number of events', () => {
    const body = buildPayloadBody('b1', '2024-03-21T10:00:02.000Z', events);
    expect(body).toBe(
      '{"batch_id":"b1","timestamp":"2024-03-21T10:00:02.000Z","count":2,"events":[' +
        '{"id":"e1","createdAt":"2024-03-21T10:00:00.000Z","type":"user.created","data":{"a":1}},' +
        '{"id":"e2","createdAt":"2024-03-21T10:00:01.000Z","type":"user.updated","data":{"nested":{"b":[1,2]}}}]}',
    );
  });

  it('keeps nothing but the four event fields', () => {
    const withExtra: WebhookEvent[] = [Object.assign({ secret: 'x' }, events[0]!)];
    const parsed = JSON.parse(buildPayloadBody('b2', '2024-03-21T10:00:02.000Z', withExtra)) as { events: object[] };
    expect(Object.keys(parsed.events[0]!)).toEqual(['id', 'createdAt', 'type', 'data']);
  });
});
