import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EVENT_DIGEST_LENGTH, eventDigest, joinDigests, splitDigests } from '../../domain/event-digest';

describe('event id digests', () => {
  it('are 11 base64url characters, the same for the same id on every call', () => {
    for (const id of ['', 'a', randomUUID(), 'é✓ non-ASCII', 'x'.repeat(200)]) {
      expect(eventDigest(id)).toMatch(/^[A-Za-z0-9_-]{11}$/);
      expect(eventDigest(id)).toBe(eventDigest(id));
    }
    // Pinned: a carried window written by one version must be read the same by the next.
    expect(eventDigest('2f1d3c7a-8a55-4b0e-9d0e-1f5b3c2a7e10')).toBe('gQuSTOJDzHF');
    expect(eventDigest('order-1')).toBe('ivW2Edg1sjA');
  });

  it('differ for 200,000 random ids and for ids one character apart', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) seen.add(eventDigest(randomUUID()));
    expect(seen.size).toBe(200_000);
    const near = new Set(Array.from({ length: 10_000 }, (_, i) => eventDigest(`order-${i}`)));
    expect(near.size).toBe(10_000);
  });

  it('join and split back in order', () => {
    const digests = ['a', 'b', 'c'].map(eventDigest);
    const joined = joinDigests(digests);
    expect(joined.length).toBe(3 * EVENT_DIGEST_LENGTH);
    expect(splitDigests(joined)).toEqual(digests);
    expect(splitDigests('')).toEqual([]);
  });
});
