/**
 * `npx tsx bench/compact-results.ts [file …]`: rewrites results files in their compact form
 * (bench/compact.ts), every bench/results/*.json by default, and says what each weighed before and
 * after. Files already compact are left as they are.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { root } from '../harness/processes';
import { compactReport } from './compact';

const RESULTS = join(root, 'bench/results');
const files = process.argv.length > 2 ? process.argv.slice(2) : readdirSync(RESULTS).filter((name) => name.endsWith('.json')).sort().map((name) => join(RESULTS, name));
let before = 0;
let after = 0;
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const compact = JSON.stringify(compactReport(JSON.parse(text) as Record<string, unknown>), null, 2) + '\n';
  before += statSync(file).size;
  after += Buffer.byteLength(compact);
  if (compact === text) continue;
  writeFileSync(file, compact);
  console.log(`${relative(root, file)}: ${kb(Buffer.byteLength(text))} → ${kb(Buffer.byteLength(compact))}`);
}
console.log(`${files.length} files: ${kb(before)} → ${kb(after)}`);

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}
