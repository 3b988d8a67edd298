import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/**
 * The replay corpus on disk: test/replay/histories/<commit>/<scenario>.json (or .json.gz for a
 * large one, byte for byte), and manifest.json beside them, which says of each history what
 * recorded it and what it pins. replay.test.ts replays them; record-histories.ts adds to them.
 */
export const historiesDir = fileURLToPath(new URL('./histories/', import.meta.url));
export const manifestPath = join(historiesDir, 'manifest.json');

export interface ExportedHistory {
  events: {
    workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } };
    markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, { payloads?: { data?: string }[] }> };
  }[];
}

export interface ManifestEntry {
  /** `<commit>/<scenario>.json[.gz]`, under histories/. */
  file: string;
  /** The commit whose workflow code recorded it (the folder's name). */
  recordedFrom: string;
  recordedOn: string;
  sdk: string;
  server: string;
  workflow: string;
  /** The patch markers the history holds, in order of first appearance. */
  patches: string[];
  /** The behaviour the history pins. */
  pins: string;
  /** Why this version was recorded: the change it guards. */
  why: string;
}

export interface Manifest {
  about: string;
  histories: ManifestEntry[];
}

/** What each scenario's history pins, by its file name: the manifest's `pins`. */
export const SCENARIO_PINS: Record<string, string> = {
  'delivery-failed': 'a batch whose endpoint never answers 2xx: 26 attempts on the retry schedule, then the workflow fails (BatchDeliveryFailed)',
  'delivery-retried': 'a batch delivered on its third attempt after two 503s',
  'delivery-signed': 'a batch delivered at once with Standard Webhooks signature headers',
  'delivery-held-released': "a batch started held behind a failing endpoint, released by the subscription's signal, then delivered",
  'delivery-probe-recovered': 'the probe batch of a failing endpoint, delivered once the endpoint recovers; it reports its end to the subscription',
  'event-type-changed': 'an event type created, then changed by its update',
  'recovery-done': 'a bulk recovery that finds failed batches, redelivers them and counts how they ended',
  'subscription-count-cut': 'batches cut when maxEvents pending events are reached',
  'subscription-window-cut': 'a batch cut when the window passes since the last batch',
  'subscription-continued-as-new': 'a run that continues as new at its limits, carrying pending events over',
  'subscription-continued-as-new-after-child-start': 'a continue-as-new right after a child start settled',
  'subscription-shorter-run': 'a run continuing as new at 2,000 history events (the shorter-run limit)',
  'subscription-burst-cut-before-hand-over': 'a ~1.7 MB burst met by a run due to continue as new: it cuts the backlog into batches, bounded per workflow task, before carrying over',
  'subscription-gate-released': 'the endpoint gate: a failing endpoint holds later batches behind a probe, and its recovery releases them',
  'subscription-gate-disabled-and-enabled': 'the endpoint gate exhausting its attempts: the subscription disabled, then enabled by a PATCH',
  'subscription-updated-and-deleted': 'the configure update (url, event types, batching) and the delete update ending the run',
  'subscription-secret-rotated': 'the rotate-secret update: a new signing generation, the previous one valid 24 h',
};

/** Every history file, as `<commit>/<file>`, in name order. */
export function historyFiles(): string[] {
  return (readdirSync(historiesDir, { recursive: true }) as string[]).filter((file) => /\.json(\.gz)?$/.test(file) && file.includes('/')).sort();
}

export function readHistory(file: string): ExportedHistory {
  const bytes = readFileSync(join(historiesDir, file));
  return JSON.parse((file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')) as ExportedHistory;
}

export function readManifest(): Manifest {
  return JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
}

/** The ids of the patch markers in a history, in order of first appearance. */
export function patchesIn(history: ExportedHistory): string[] {
  const ids = history.events
    .map((event) => event.markerRecordedEventAttributes)
    .filter((marker) => marker?.markerName === 'core_patch')
    .map((marker) => {
      const data = marker!.details?.['patch-data']?.payloads?.[0]?.data;
      if (!data) throw new Error('a core_patch marker without patch-data: is this a history the Temporal CLI exported?');
      return (JSON.parse(Buffer.from(data, 'base64').toString()) as { id: string }).id;
    });
  return [...new Set(ids)];
}

export function workflowTypeOf(history: ExportedHistory): string | undefined {
  return history.events.find((event) => event.workflowExecutionStartedEventAttributes)?.workflowExecutionStartedEventAttributes?.workflowType?.name;
}
