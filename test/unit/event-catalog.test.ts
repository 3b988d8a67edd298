import { describe, expect, it } from 'vitest';
import { CATALOG_REFRESH_MS, EventCatalog, schemaProblem } from '../../api/event-catalog';
import type { EventTypeDefinition } from '../../workflows/event-type';

const type = (name: string, version: number, schema: Record<string, unknown> | null = null, archived = false): EventTypeDefinition => ({
  name,
  description: '',
  schema,
  example: null,
  archived,
  version,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});
const integerN = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };
const stringN = { type: 'object', properties: { n: { type: 'string' } }, required: ['n'] };

describe('the event-type catalog of an API process', () => {
  function setup(listed: EventTypeDefinition[], unknownTypes: 'allow' | 'refuse' = 'allow') {
    let now = 0;
    let listings = 0;
    const catalog = new EventCatalog(
      async () => {
        listings++;
        return listed;
      },
      unknownTypes,
      () => now,
    );
    return { catalog, listed, advance: (ms: number) => (now += ms), listings: () => listings };
  }

  it('checks data against the schema of the version it holds, and names each failing path', async () => {
    const { catalog } = setup([type('a.b', 1, integerN)]);
    expect(await catalog.checkEvents([{ type: 'a.b', data: { n: 1 } }], false)).toEqual([]);
    expect(await catalog.checkEvents([{ type: 'a.b', data: { n: 'x' } }], false)).toEqual([{ path: 'body.data.n', message: 'must be integer (schema of a.b, version 1)' }]);
    expect(await catalog.checkEvents([{ type: 'free', data: {} }, { type: 'a.b', data: {} }], true)).toEqual([
      { path: 'body.1.data', message: "must have required property 'n' (schema of a.b, version 1)" },
    ]);
  });

  it('uses a version saved through this process at once, and the listing once it shows that version or a newer one', async () => {
    const { catalog, listed, advance } = setup([type('a.b', 1, integerN)]);
    expect(await catalog.checkEvents([{ type: 'a.b', data: { n: 'x' } }], false)).toHaveLength(1);
    catalog.noteSaved(type('a.b', 2, stringN));
    expect(await catalog.checkEvents([{ type: 'a.b', data: { n: 'x' } }], false)).toEqual([]);
    // The listing still shows version 1: the local version 2 wins.
    advance(CATALOG_REFRESH_MS + 1);
    await catalog.lookup('a.b');
    await Promise.resolve();
    expect((await catalog.lookup('a.b'))?.version).toBe(2);
    // Another process saves version 3; once listed, it replaces the local one.
    listed[0] = type('a.b', 3, integerN);
    advance(CATALOG_REFRESH_MS + 1);
    await catalog.lookup('a.b');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect((await catalog.lookup('a.b'))?.version).toBe(3);
    expect(await catalog.checkEvents([{ type: 'a.b', data: { n: 'x' } }], false)).toHaveLength(1);
  });

  it('allows unknown types by default; with refuse, refuses them for events, and unknown or archived ones for subscriptions', async () => {
    const allowing = setup([type('old', 1, null, true)]).catalog;
    expect(await allowing.checkEvents([{ type: 'nope', data: {} }], false)).toEqual([]);
    expect(await allowing.unsubscribable(['nope', 'old'])).toEqual([]);
    const refusing = setup([type('old', 1, null, true), type('known', 1)], 'refuse').catalog;
    expect(await refusing.checkEvents([{ type: 'nope', data: {} }, { type: 'old', data: {} }], true)).toEqual([{ path: 'body.0.type', message: 'nope is not in the event-type catalog' }]);
    expect(await refusing.unsubscribable(['known', 'nope', 'old'])).toEqual(['nope is not in the event-type catalog', 'old is archived']);
  });

  it('lists what it holds with local saves, by name', async () => {
    const { catalog } = setup([type('b', 1), type('a', 1)]);
    catalog.noteSaved(type('c', 1));
    expect((await catalog.list()).map((t) => t.name)).toEqual(['a', 'b', 'c']);
  });

  it('tells a valid JSON Schema from an invalid or oversized one', () => {
    expect(schemaProblem(integerN)).toBeUndefined();
    expect(schemaProblem({ type: 'object', properties: { n: { minimum: 'zero' } } })).toMatch(/not a valid JSON Schema/);
    expect(schemaProblem({ description: 'x'.repeat(70_000) })).toMatch(/larger than 65536 bytes/);
  });
});
