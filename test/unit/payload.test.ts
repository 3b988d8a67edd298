import { describe, expect, it } from 'vitest';
import { buildPayloadBody, eventBytes, eventsThatFit, PAYLOAD_ENVELOPE_BYTES, utf8Length } from '../../domain/payload';
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

  it('measures UTF-8 bytes as Node does', () => {
    for (const text of ['', 'plain', 'Zoë', '€uro', '🚀 launch', 'mixed ü 🚀 中文']) {
      expect(utf8Length(text)).toBe(Buffer.byteLength(text));
    }
    expect(eventBytes(events[0]!)).toBe(Buffer.byteLength(JSON.stringify({ id: 'e1', createdAt: events[0]!.createdAt, type: 'user.created', data: { a: 1 } })));
  });

  it('counts how many events fit in one payload, never fewer than one', () => {
    const limit = PAYLOAD_ENVELOPE_BYTES + 3 * 101;
    expect(eventsThatFit([100, 100, 100, 100], limit)).toBe(3);
    expect(eventsThatFit([100, 100], limit)).toBe(2);
    expect(eventsThatFit([10_000], limit)).toBe(1);
    const body = buildPayloadBody('00000000-0000-4000-8000-000000000000', '2024-03-21T10:00:02.000Z', events);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(PAYLOAD_ENVELOPE_BYTES + events.map(eventBytes).reduce((a, b) => a + b + 1, 0));
  });
});
