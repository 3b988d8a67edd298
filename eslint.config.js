import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Node built-ins and I/O modules a workflow must never import: workflow code must replay deterministically. */
const workflowForbiddenImports = {
  patterns: [
    { group: ['node:*'], message: 'workflows/ must be deterministic: do I/O in activities/.' },
    { group: ['undici', 'hono', 'hono/*', '@hono/*', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'workflows/ may not do I/O: use an activity.' },
    { group: ['../activities', '../activities/*', '../api/*', '../worker/*', '../stores/*'], allowTypeImports: true, message: 'workflows/ import activity types only.' },
    { group: ['../platform/*'], allowTypeImports: true, message: 'workflows/ may not do I/O: platform/ is the processes\' I/O.' },
    // Whatever a workflow imports is evaluated in its sandbox: zod there cost a third of the bundle.
    { group: ['zod', 'zod/*', '../domain/schema'], allowTypeImports: true, message: 'workflows/ import schema types only; limits come from domain/limits.' },
  ],
  paths: ['fs', 'path', 'http', 'https', 'net', 'tls', 'crypto', 'os', 'child_process', 'dns', 'process', 'timers'].map((name) => ({
    name,
    message: 'workflows/ must be deterministic: do I/O in activities/.',
  })),
};

/** Node's modules that touch the world: domain/ holds pure rules, so it may not import them. */
const ioModules = ['fs', 'fs/promises', 'dns', 'dns/promises', 'http', 'https', 'http2', 'tls', 'dgram', 'child_process', 'worker_threads', 'cluster', 'readline', 'os', 'path', 'process', 'timers', 'timers/promises'];
const domainForbiddenImports = {
  patterns: [{ group: ['../*', '!../domain'], message: 'domain/ is the bottom layer: it imports nothing of the project outside domain/.' }],
  paths: [
    ...ioModules.flatMap((name) => [name, `node:${name}`]).map((name) => ({ name, message: 'domain/ is pure: do I/O in platform/, stores/ or activities/.' })),
    // node:net lends domain/ its address parsing (BlockList, isIP); its sockets stay out.
    ...['net', 'node:net'].map((name) => ({ name, importNames: ['connect', 'createConnection', 'createServer', 'Server', 'Socket'], message: 'domain/ is pure: sockets belong in platform/ or activities/.' })),
  ],
};

/** api/ is the HTTP front end: nothing beside or below it imports it. */
const apiFence = {
  patterns: [{ group: ['../api', '../api/*', '../../api', '../../api/*'], message: 'only api/ and its tests import api/: shared code lives in platform/, stores/ or domain/.' }],
};

export default tseslint.config(
  { ignores: ['node_modules/', '.temporal/', '.data/', 'dist/', 'bench/results/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', workflowForbiddenImports] },
  },
  {
    files: ['domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', domainForbiddenImports],
      'no-restricted-globals': ['error', { name: 'process', message: 'domain/ is pure: configuration reaches it as arguments (platform/config.ts).' }],
    },
  },
  {
    files: ['activities/**/*.ts', 'codec/**/*.ts', 'worker/**/*.ts', 'stores/**/*.ts', 'platform/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts', 'chaos/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', apiFence] },
  },
  {
    // Tests read JSON answers as the contract shapes them; strict any-tracking adds noise, not safety.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
