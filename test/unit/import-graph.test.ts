import { describe, expect, it } from 'vitest';
import { findCycles } from '../../scripts/lint/import-graph';

const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges));

describe('import cycles (the lint check)', () => {
  it('finds none in a graph without cycles', () => {
    expect(findCycles(graph({ 'a.ts': ['b.ts', 'c.ts'], 'b.ts': ['c.ts'], 'c.ts': [] }))).toEqual([]);
  });

  it('names each cycle as a path from its first file in name order', () => {
    const cycles = findCycles(graph({ 'd.ts': ['b.ts'], 'b.ts': ['c.ts'], 'c.ts': ['d.ts', 'e.ts'], 'e.ts': [] }));
    expect(cycles).toEqual([['b.ts', 'c.ts', 'd.ts']]);
  });

  it('reports separate cycles apart, and a file that imports itself', () => {
    const cycles = findCycles(graph({ 'a.ts': ['b.ts'], 'b.ts': ['a.ts'], 'x.ts': ['y.ts'], 'y.ts': ['x.ts'], 's.ts': ['s.ts'] }));
    expect(cycles).toEqual([['a.ts', 'b.ts'], ['s.ts'], ['x.ts', 'y.ts']]);
  });
});
