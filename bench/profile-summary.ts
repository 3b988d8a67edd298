/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and says where the main thread's time went:
 * by package (or project folder) and by function, self time only. Used by `npm run bench -- --profile`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  /** Wall time the profile covers, in seconds. */
  wallSeconds: number;
  /** Main-thread time that was not idle, in seconds. */
  busySeconds: number;
  byGroup: { group: string; seconds: number; share: number }[];
  topFunctions: { name: string; where: string; seconds: number; share: number }[];
}

/** Which package or project folder a script belongs to: `@temporalio/worker`, `undici`, `api/`, `node:internal`, … */
export function groupOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith('node:')) return 'node:internal';
  const project = /\/(api|activities|workflows|worker|domain|bench|scripts)\//.exec(url);
  return project ? `${project[1]}/` : url.replace(/^file:\/\//, '');
}

export function summarizeProfile(file: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const groups = new Map<string, number>();
  const functions = new Map<string, { where: string; micros: number }>();
  let busy = 0;
  for (const [id, micros] of selfMicros) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    busy += micros;
    const group = groupOf(url, functionName);
    groups.set(group, (groups.get(group) ?? 0) + micros);
    const key = `${functionName || '(anonymous)'} ${url}:${lineNumber}`;
    const entry = functions.get(key) ?? { where: `${group} ${url.split('/').pop() ?? ''}:${lineNumber + 1}`, micros: 0 };
    entry.micros += micros;
    functions.set(key, entry);
  }
  const share = (micros: number) => Math.round((micros / Math.max(1, busy)) * 1000) / 10;
  return {
    wallSeconds: (profile.endTime - profile.startTime) / 1e6,
    busySeconds: busy / 1e6,
    byGroup: [...groups].sort((a, b) => b[1] - a[1]).slice(0, top).map(([group, micros]) => ({ group, seconds: micros / 1e6, share: share(micros) })),
    topFunctions: [...functions]
      .sort((a, b) => b[1].micros - a[1].micros)
      .slice(0, top)
      .map(([key, { where, micros }]) => ({ name: key.split(' ')[0]!, where, seconds: micros / 1e6, share: share(micros) })),
  };
}

/**
 * Every thread's profile a process wrote to `dir` (file names end in `.{pid}.{thread}.{seq}.cpuprofile`):
 * the main thread (0), tsx's module-loader thread, and for a worker its workflow threads.
 */
export function threadProfiles(dir: string): { thread: string; summary: ProfileSummary }[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .sort()
    .map((name) => ({ thread: /\.(\d+)\.\d+\.cpuprofile$/.exec(name)?.[1] ?? name, summary: summarizeProfile(join(dir, name)) }));
}
