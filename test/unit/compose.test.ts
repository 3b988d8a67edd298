import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { environmentNames } from '../../domain/config';

/**
 * docker-compose.yml against the code: the Compose schema itself is checked by dclint in
 * `npm run lint`; this checks that the services, ports and variables are the ones the code uses.
 */
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
}
const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const { services } = compose;

describe('the production stack (docker-compose.yml)', () => {
  it('has Temporal on PostgreSQL, its Web UI, a setup step, the API and a scalable worker', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'postgresql', 'setup', 'temporal', 'temporal-ui', 'worker']);
    expect(services.temporal!.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(services.worker!.deploy?.replicas).toBeGreaterThan(1);
  });

  it('runs the entry points that exist, from the project image', () => {
    expect(services.api!.command).toEqual(['node', '--import', 'tsx', 'api/main.ts']);
    expect(services.worker!.command).toEqual(['node', '--import', 'tsx', 'worker/main.ts']);
    expect(services.setup!.command).toEqual(['node', '--import', 'tsx', 'scripts/register-search-attributes.ts']);
    for (const name of ['api', 'worker', 'setup']) expect(services[name]!.build).toBe('.');
  });

  it('configures the project only through variables the code reads', () => {
    for (const name of ['api', 'worker', 'setup']) {
      for (const variable of Object.keys(services[name]!.environment ?? {})) expect(environmentNames, `${name}: ${variable}`).toContain(variable);
    }
    expect(services.api!.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', API_HOST: '0.0.0.0', API_PORT: '8080' });
    expect(services.api!.ports).toEqual(['0.0.0.0:8080:8080']);
  });

  it('has health checks on the probes the processes serve, and restart policies', () => {
    expect(services.api!.healthcheck!.test.join(' ')).toContain('127.0.0.1:8080/readyz');
    expect(services.worker!.healthcheck!.test.join(' ')).toContain('127.0.0.1:9464/readyz');
    for (const name of ['postgresql', 'temporal', 'temporal-ui', 'api', 'worker']) expect(services[name]!.restart).toBe('unless-stopped');
    expect(services.api!.depends_on?.setup?.condition).toBe('service_completed_successfully');
  });
});
