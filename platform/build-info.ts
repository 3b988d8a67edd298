import { fileURLToPath } from 'node:url';

/** Defined by `npm run build` (scripts/build/build.ts) in the compiled entry points; absent from the sources. */
declare const WEBHOOKS_BUILD: { buildId: string } | undefined;

/**
 * The compiled build this process runs from, or undefined when it runs from the sources (tsx).
 * A compiled entry point sits at dist/'s top level beside the workflow bundle it runs.
 */
export const compiledBuild =
  typeof WEBHOOKS_BUILD === 'undefined'
    ? undefined
    : { buildId: WEBHOOKS_BUILD.buildId, workflowBundlePath: fileURLToPath(new URL('./workflow-bundle.js', import.meta.url)) };
