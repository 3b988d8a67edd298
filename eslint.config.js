import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Node built-ins and I/O modules a workflow must never import: workflow code must replay deterministically. */
const workflowForbiddenImports = {
  patterns: [
    { group: ['node:*'], message: 'workflows/ must be deterministic: do I/O in activities/.' },
    { group: ['undici', 'hono', 'hono/*', '@hono/*', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'workflows/ may not do I/O: use an activity.' },
    { group: ['../activities', '../activities/*', '../api/*', '../worker/*'], allowTypeImports: true, message: 'workflows/ import activity types only.' },
    // Whatever a workflow imports is evaluated in its sandbox: zod there cost a third of the bundle.
    { group: ['zod', 'zod/*', '../domain/schema', '../domain/config'], allowTypeImports: true, message: 'workflows/ import schema types only; limits come from domain/limits.' },
  ],
  paths: ['fs', 'path', 'http', 'https', 'net', 'tls', 'crypto', 'os', 'child_process', 'dns', 'process', 'timers'].map((name) => ({
    name,
    message: 'workflows/ must be deterministic: do I/O in activities/.',
  })),
};

export default tseslint.config(
  { ignores: ['node_modules/', '.temporal/', '.data/', 'bench/results/', 'test-results/'] },
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
