import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { environmentNames } from '../../platform/config';
import { compiledEntryPoints } from '../../scripts/build/entry-points';
import { dynamicConfigFile, FRONTEND_SERVER_NAME, schemaScript, serverConfigFile } from '../../scripts/dev/temporal-cluster';
import { temporalCliPath } from '../../harness/temporal';

/**
 * docker-compose.yml against the code: the Compose schema itself is checked by dclint in
 * `npm run lint`; this checks that the services, ports and variables are the ones the code uses,
 * and that its Temporal cluster is the one `npm run cluster` runs (versions, configuration files,
 * variables, search attributes), since no Docker engine runs where the tests do.
 */
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  restart?: string;
  depends_on?: Partial<Record<string, { condition: string }>>;
  deploy?: { replicas?: number };
  volumes?: string[];
}
const root = fileURLToPath(new URL('../../', import.meta.url));
const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const { services } = compose;

const versions = Object.fromEntries(
  readFileSync(new URL('../../cluster/versions.env', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => line.split('=') as [string, string]),
);
const temporalServiceNames = ['temporal-frontend', 'temporal-history', 'temporal-matching', 'temporal-worker'];
/** `{{ env "NAME" }}` references in a template, and whether each has a default. */
function templateVariables(file: string): { name: string; defaulted: boolean }[] {
  const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
  return [...text.matchAll(/\{\{-?\s*(.*?)\s*-?\}\}/g)].flatMap(([, expression = '']) =>
    [...expression.matchAll(/env "([A-Z0-9_]+)"/g)].map(([, name = '']) => ({ name, defaulted: /default/.test(expression) })),
  );
}

describe('the production stack (docker-compose.yml)', () => {
  it('runs Temporal as four services on PostgreSQL with a schema job, its Web UI, a setup step, the API, a scalable worker and the codec server', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'codec', 'postgresql', 'setup', 'temporal-frontend', 'temporal-history', 'temporal-matching', 'temporal-schema', 'temporal-ui', 'temporal-worker', 'worker']);
    for (const name of temporalServiceNames) {
      expect(services[name]!.environment).toMatchObject({ TEMPORAL_SERVICES: name.replace('temporal-', ''), POSTGRES_SEEDS: 'postgresql' });
    }
    expect(services.worker!.deploy?.replicas).toBeGreaterThan(1);
  });

  it('runs the compiled entry points, from the project image', () => {
    for (const name of ['api', 'worker', 'setup', 'codec']) expect(services[name]!.build).toBe('.');
    const source = { api: 'api/main.ts', worker: 'worker/main.ts', setup: 'scripts/ops/register-search-attributes.ts', codec: 'codec/main.ts' };
    for (const [name, entry] of Object.entries(source)) {
      expect(services[name]!.command, name).toEqual(['node', `dist/${compiledEntryPoints[entry]}`]);
    }
  });

  it('requires payload encryption in every process of ours, and an operator credential at the codec server the UI calls', () => {
    for (const name of ['api', 'worker', 'setup', 'codec']) {
      expect(services[name]!.environment, name).toMatchObject({ PAYLOAD_KEYS_FILE: '/run/secrets/payload-keys', PAYLOAD_ENCRYPTION: 'required' });
      expect((services[name] as { secrets?: string[] }).secrets, name).toContain('payload-keys');
    }
    const codec = services.codec!.environment!;
    expect(codec).toMatchObject({ CODEC_AUTH: 'token', CODEC_PORT: '8081', CODEC_TOKENS: expect.stringMatching(/^\$\{CODEC_TOKENS:\?/) });
    const ui = services['temporal-ui']!.environment!;
    expect(ui).toMatchObject({ TEMPORAL_CODEC_ENDPOINT: 'http://localhost:8081', TEMPORAL_CODEC_INCLUDE_CREDENTIALS: 'true' });
    // The browser that loads the UI is the origin the codec server lets in.
    expect(codec.CODEC_CORS_ORIGINS!.split(',')).toContain(ui.TEMPORAL_UI_ORIGIN);
    expect(services.codec!.ports).toEqual(['127.0.0.1:8081:8081']);
  });

  it('signs deliveries: the worker and the API read the signing key from a secret, and nothing else of ours gets it', () => {
    for (const name of ['api', 'worker']) {
      expect(services[name]!.environment, name).toMatchObject({ WEBHOOK_SIGNING_KEY_FILE: '/run/secrets/signing-key' });
      expect((services[name] as { secrets?: string[] }).secrets, name).toContain('signing-key');
    }
    for (const name of ['setup', 'codec']) {
      expect(services[name]!.environment, name).not.toHaveProperty('WEBHOOK_SIGNING_KEY_FILE');
      expect((services[name] as { secrets?: string[] }).secrets ?? [], name).not.toContain('signing-key');
    }
  });

  it('builds the image from every source folder the processes import, and ships only the build', () => {
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
    const stages = dockerfile.split(/^FROM /m).slice(1);
    const copied = (stage: string) => [...stage.matchAll(/^COPY (?!--from)(\S+) \.\/\S+$/gm)].map(([, dir]) => dir);
    // Top-level folders with TypeScript in them, but for tests, benchmarks and fault scenarios.
    const sources = readdirSync(root, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && !['node_modules', 'test', 'bench', 'chaos', 'harness', 'test-results', 'docs', 'cluster', 'dist'].includes(entry.name))
      .filter((entry) => readdirSync(resolve(root, entry.name)).some((file) => file.endsWith('.ts')))
      .map((entry) => entry.name);
    expect(sources).toContain('codec');
    for (const dir of sources) expect(copied(stages[0]!), `the build stage copies ${dir}`).toContain(dir);
    // Of scripts/, the build needs the build and what it compiles (scripts/ops/).
    expect(copied(stages[0]!).filter((dir) => dir?.startsWith('scripts')).sort()).toEqual(['scripts/build', 'scripts/ops']);
    expect(stages[0]).toMatch(/^RUN npm run build$/m);
    // The runtime stage: production dependencies and dist/, no source folder, no TypeScript loader.
    expect(copied(stages[1]!).filter((file) => !file?.startsWith('package'))).toEqual([]);
    expect(stages[1]).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(stages[1]).toMatch(/npm ci --omit=dev/);
    expect(stages[1]).not.toMatch(/tsx/);
    for (const stage of stages) expect(stage).toMatch(/^node:24-bookworm-slim/);
  });

  it('configures the project only through variables the code reads', () => {
    for (const name of ['api', 'worker', 'setup', 'codec']) {
      for (const variable of Object.keys(services[name]!.environment ?? {})) expect(environmentNames, `${name}: ${variable}`).toContain(variable);
    }
    expect(services.api!.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal-frontend:7233', API_HOST: '0.0.0.0', API_PORT: '8080' });
    expect(services.api!.ports).toEqual(['0.0.0.0:8080:8080']);
  });

  it('has health checks on the probes the processes serve, and restart policies', () => {
    expect(services.api!.healthcheck!.test.join(' ')).toContain('127.0.0.1:8080/readyz');
    expect(services.worker!.healthcheck!.test.join(' ')).toContain('127.0.0.1:9464/readyz');
    for (const name of ['postgresql', ...temporalServiceNames, 'temporal-ui', 'api', 'worker']) expect(services[name]!.restart).toBe('unless-stopped');
    expect(services.api!.depends_on?.setup?.condition).toBe('service_completed_successfully');
    expect(services['temporal-history']!.depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');
  });

  it('starts matching and the worker service after the search attributes are registered, as npm run cluster does', () => {
    // Each Temporal service caches the search attributes for a minute from its first use.
    for (const name of ['temporal-matching', 'temporal-worker']) {
      expect(services[name]!.depends_on?.setup?.condition, name).toBe('service_completed_successfully');
      expect(services[name]!.depends_on?.['temporal-schema']?.condition, name).toBe('service_completed_successfully');
    }
    for (const name of ['temporal-history', 'temporal-frontend']) expect(services[name]!.depends_on?.setup, name).toBeUndefined();
    const dynamicConfig = readFileSync(new URL('../../cluster/temporal/dynamicconfig.yaml', import.meta.url), 'utf8');
    expect(dynamicConfig).not.toMatch(/^system\.forceSearchAttributesCacheRefreshOnRead:/m);
  });
});

describe('parity between docker-compose.yml and npm run cluster', () => {
  it('pins the server version of the dev server every test runs, and the same UI version', () => {
    // The dev server says which server it embeds: "temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)".
    const devServer = execFileSync(temporalCliPath, ['--version'], { encoding: 'utf8' });
    expect(devServer).toContain(`Server ${versions.TEMPORAL_SERVER_VERSION}`);
    for (const name of temporalServiceNames) expect(services[name]!.image).toBe(`temporalio/server:${versions.TEMPORAL_SERVER_VERSION}`);
    expect(services['temporal-schema']!.image).toBe(`temporalio/admin-tools:${versions.TEMPORAL_SERVER_VERSION}`);
    expect(services['temporal-ui']!.image).toBe(`temporalio/ui:${versions.TEMPORAL_UI_VERSION}`);
  });

  it('mounts the configuration files npm run cluster runs with, and nothing else', () => {
    const mounted = (service: string, inside: string) => {
      const volume = services[service]!.volumes?.find((entry) => inside.startsWith(entry.split(':')[1]!));
      expect(volume, `${service} mounts something at ${inside}`).toBeDefined();
      const [host = '', at = ''] = volume!.split(':');
      return resolve(root, host, relative(at, inside));
    };
    for (const name of temporalServiceNames) {
      const env = services[name]!.environment!;
      expect(mounted(name, env.TEMPORAL_SERVER_CONFIG_FILE_PATH!)).toBe(serverConfigFile);
      expect(mounted(name, env.DYNAMIC_CONFIG_FILE_PATH!)).toBe(dynamicConfigFile);
    }
    const schemaJob = services['temporal-schema']!;
    expect(mounted('temporal-schema', schemaJob.command![1]!)).toBe(schemaScript);
    expect(mounted('temporal-ui', '/home/ui-server/config/docker.yaml')).toBe(resolve(root, 'cluster/ui/docker.yaml'));
  });

  it("sets every variable the server's and the UI's configuration need, and requires mTLS on the frontend", () => {
    for (const name of temporalServiceNames) {
      const env = services[name]!.environment!;
      for (const variable of templateVariables('cluster/temporal/server.yaml')) {
        // Set by the image's entrypoint from the container's address.
        if (variable.defaulted || ['TEMPORAL_BROADCAST_ADDRESS', 'BIND_ON_IP'].includes(variable.name)) continue;
        expect(env, `${name}: ${variable.name}`).toHaveProperty(variable.name);
      }
    }
    const ui = services['temporal-ui']!.environment!;
    for (const variable of templateVariables('cluster/ui/docker.yaml')) if (!variable.defaulted) expect(ui, `temporal-ui: ${variable.name}`).toHaveProperty(variable.name);
    expect(readFileSync(serverConfigFile, 'utf8')).toMatch(/frontend:\s*\n\s*server:[\s\S]*requireClientAuth: true/);
    for (const name of ['api', 'worker', 'setup']) {
      expect(services[name]!.environment).toMatchObject({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/run/secrets/temporal-client.crt', TEMPORAL_TLS_SERVER_NAME: FRONTEND_SERVER_NAME });
    }
  });

  it('registers the same namespace and search attributes: the setup step runs the code npm run cluster runs', () => {
    const setup = readFileSync(new URL('../../scripts/ops/register-search-attributes.ts', import.meta.url), 'utf8');
    const cluster = readFileSync(new URL('../../scripts/dev/temporal-cluster.ts', import.meta.url), 'utf8');
    expect(setup).toMatch(/import \{ setUpNamespace \} from '\.\/temporal-setup'/);
    expect(cluster).toMatch(/import \{ setUpNamespace \} from '\.\.\/ops\/temporal-setup'/);
    expect(services.setup!.environment).toMatchObject({ TEMPORAL_NAMESPACE: 'default' });
  });
});
