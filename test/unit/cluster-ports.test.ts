import { describe, expect, it } from 'vitest';
import { ClusterPortError, defaultPorts } from '../../scripts/dev/temporal-cluster';

/** `npm run cluster` derives every port of the cluster from TEMPORAL_ADDRESS's port (scripts/dev/cluster.ts). */
describe("the cluster's ports", () => {
  const membership = (ports: ReturnType<typeof defaultPorts>) => [ports.frontendMembership, ports.historyMembership, ports.matchingMembership, ports.workerMembership];

  it("keeps Temporal's usual ports for a frontend on 7233", () => {
    expect(defaultPorts(7233, 8233)).toEqual({
      frontend: 7233, frontendHttp: 7243, history: 7234, matching: 7235, worker: 7239,
      frontendMembership: 6933, historyMembership: 6934, matchingMembership: 6935, workerMembership: 6939,
      postgres: 7433, ui: 8233,
    });
  });

  it('moves every port along with the frontend while the membership ports stay under 32768', () => {
    const ports = defaultPorts(21_000, 22_000);
    expect(ports).toMatchObject({ history: 21_001, postgres: 21_200, frontendMembership: 20_700, workerMembership: 20_706 });
  });

  it.each([33_062, 40_000, 50_123, 65_335])('keeps the membership ports a PostgreSQL smallint holds with the frontend on %i, apart from every other port', (frontend) => {
    const ports = defaultPorts(frontend, 8233);
    for (const port of membership(ports)) {
      expect(port).toBeGreaterThanOrEqual(1024);
      expect(port).toBeLessThanOrEqual(32_767);
    }
    const all = Object.values(ports);
    expect(new Set(all).size).toBe(all.length);
    for (const port of all) expect(port).toBeLessThanOrEqual(65_535);
  });

  it('refuses, naming the variable, a frontend port whose neighbours would not be ports', () => {
    expect(() => defaultPorts(65_400, 8233)).toThrow(ClusterPortError);
    expect(() => defaultPorts(65_400, 8233)).toThrow(/^TEMPORAL_ADDRESS: /);
    expect(() => defaultPorts(80, 8233)).toThrow(/^TEMPORAL_ADDRESS: /);
    expect(() => defaultPorts(7233, 70_000)).toThrow(/^TEMPORAL_UI_PORT: /);
  });
});
