/**
 * `npm run build`: compiles the production entry points (scripts/build/entry-points.ts) to dist/,
 * one self-contained ES module each: our code bundled by esbuild, packages left to node_modules,
 * no TypeScript loader at run time. Beside them: the workflow bundle, built ahead of time so that
 * a worker starts without webpack, and build.json with the build's id.
 *
 * The build id is a hash of everything the build wrote: the same sources give the same id, and
 * any change to the code a worker runs gives a new one. A worker announces it as its Worker
 * Deployment Version (docs/decisions/0011-worker-versioning.md).
 *
 *   npm run build [-- <outdir>]     default dist/
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { workflowsPath } from '../../worker/worker';
import { buildInfoFile, compiledEntryPoints, workflowBundleFile } from './entry-points';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outdir = resolve(root, process.argv[2] ?? 'dist');

const started = Date.now();
const { code: workflowBundle } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger() });

const options = (buildId: string): BuildOptions & { write: false; metafile: true } => ({
  absWorkingDir: root,
  entryPoints: Object.entries(compiledEntryPoints).map(([source, out]) => ({ in: source, out: out.replace(/\.js$/, '') })),
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  packages: 'external',
  sourcemap: 'linked',
  // platform/build-info.ts reads this: the compiled build's identity.
  define: { WEBHOOKS_BUILD: JSON.stringify({ buildId }) },
  logLevel: 'warning',
  write: false,
  metafile: true,
});

// Once with a placeholder id to hash what the code is, then again with that hash as the id.
const draft = await build(options('0'.repeat(12)));
const hash = createHash('sha256').update(workflowBundle);
for (const file of [...draft.outputFiles].sort((a, b) => a.path.localeCompare(b.path))) hash.update(file.path.slice(outdir.length)).update(file.contents);
const buildId = hash.digest('hex').slice(0, 12);
const final = await build(options(buildId));
refuseUnshippedImports(final.metafile);

// File by file, each replaced at once (written beside, then renamed): a process starting meanwhile
// from the old build reads whole files, old or new.
mkdirSync(outdir, { recursive: true });
const written = new Map<string, string | Uint8Array>([
  ...final.outputFiles.map((file) => [file.path, file.contents] as const),
  [join(outdir, workflowBundleFile), workflowBundle],
  [join(outdir, buildInfoFile), `${JSON.stringify({ buildId }, null, 2)}\n`],
]);
for (const [path, contents] of written) {
  writeFileSync(`${path}.${process.pid}.tmp`, contents);
  renameSync(`${path}.${process.pid}.tmp`, path);
}
for (const file of readdirSync(outdir)) if (!written.has(join(outdir, file)) && !file.endsWith('.tmp')) rmSync(join(outdir, file), { force: true });
console.log(`build ${buildId}: ${Object.values(compiledEntryPoints).join(', ')} and ${workflowBundleFile} in ${outdir} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

/**
 * The image installs `dependencies` only: a compiled entry point that imports a development
 * package, or a package's file by a name Node does not resolve (a deep import without its
 * extension), would start here and fail there. Refuses the build instead, naming the import.
 */
function refuseUnshippedImports(metafile: Metafile): void {
  const { dependencies = {} } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const problems = new Set<string>();
  const specifiers = new Set<string>();
  for (const [file, output] of Object.entries(metafile.outputs)) {
    for (const { path, external } of output.imports) {
      if (!external || isBuiltin(path)) continue;
      specifiers.add(path);
      const name = path.startsWith('@') ? path.split('/').slice(0, 2).join('/') : path.split('/')[0]!;
      if (!(name in dependencies)) problems.add(`${file} imports ${path}, but ${name} is not among package.json's dependencies`);
    }
  }
  // Resolved by plain Node, as the image runs them (no loader guessing extensions), to a file that is there.
  const resolve = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', "import { existsSync } from 'node:fs'; const failed = JSON.parse(process.argv[1]).filter((s) => { try { return !existsSync(new URL(import.meta.resolve(s))); } catch { return true; } }); console.log(JSON.stringify(failed));", JSON.stringify([...specifiers])],
    { cwd: root, encoding: 'utf8' },
  );
  const unresolved = JSON.parse(resolve.stdout || '[]') as string[];
  for (const specifier of unresolved) problems.add(`${specifier} does not resolve in Node as imported (a package's file needs its extension: ${specifier}.js?)`);
  if (resolve.status !== 0) problems.add(`could not check the imports: ${resolve.stderr}`);
  if (problems.size) {
    console.error(`build: refused:\n${[...problems].map((problem) => `  ${problem}`).join('\n')}`);
    process.exit(1);
  }
}

function quietLogger() {
  const ignore = () => {};
  return { log: ignore, trace: ignore, debug: ignore, info: ignore, warn: ignore, error: (message: string, meta?: unknown) => console.error(message, meta) };
}
