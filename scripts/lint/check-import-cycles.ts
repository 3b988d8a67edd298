/**
 * `npm run lint` runs this: fails, naming the files, when the project's own imports form a cycle.
 * Type-only imports count too: a cycle of types still ties the files into one unit that cannot be
 * read, tested or moved apart. Reads every tracked .ts/.tsx file's imports with TypeScript's own
 * preprocessor (no type-checking), so it takes about a second.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { findCycles } from './import-graph';

const root = join(import.meta.dirname, '..', '..');
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.tsx'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((file) => file && existsSync(join(root, file)));

/** The project file a relative specifier names, as the bundler resolution in tsconfig.json finds it. */
function resolveLocal(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = join(dirname(join(root, from)), specifier);
  const candidates = [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')];
  const found = candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
  return found ? relative(root, found) : undefined;
}

const imports = new Map<string, string[]>();
for (const file of files) {
  const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
  const targets = importedFiles.map((imported) => resolveLocal(file, imported.fileName)).filter((target): target is string => target !== undefined);
  imports.set(file, [...new Set(targets)]);
}

const cycles = findCycles(imports);
if (cycles.length > 0) {
  console.error(`import cycles: ${cycles.length}`);
  for (const cycle of cycles) console.error(`  ${[...cycle, cycle[0]].join(' -> ')}`);
  process.exit(1);
}
console.log(`import cycles: none among ${files.length} files`);
