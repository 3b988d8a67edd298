/**
 * The production entry points and the file each compiles to in dist/ (`npm run build`). All sit
 * at dist/'s top level, beside the workflow bundle, so that every one finds it at the same place.
 */
export const compiledEntryPoints: Readonly<Record<string, string>> = {
  'api/main.ts': 'api.js',
  'worker/main.ts': 'worker.js',
  'codec/main.ts': 'codec.js',
  'scripts/ops/register-search-attributes.ts': 'register-search-attributes.js',
  'scripts/ops/replay.ts': 'replay.js',
  'scripts/ops/payload-key.ts': 'payload-key.js',
};

/** The workflow bundle's file name in dist/. */
export const workflowBundleFile = 'workflow-bundle.js';

/** What the build writes beside them: `{ "buildId": "…" }`. */
export const buildInfoFile = 'build.json';
