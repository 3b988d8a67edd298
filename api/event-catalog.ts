import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FieldError } from '../platform/problem';
import { RefreshingSnapshot } from './ingest/refreshing-snapshot';
import type { EventTypeDefinition } from '../workflows/event-type';

// ajv-formats is CommonJS: its function is the default export's default under ESM.
const addFormats = (addFormatsModule as unknown as { default: typeof addFormatsModule }).default ?? addFormatsModule;

/** How often the catalog is read again from Temporal's visibility store, in the background. */
export const CATALOG_REFRESH_MS = 2_000;

/** What the catalog says about types it does not hold (UNKNOWN_EVENT_TYPES). */
export type UnknownTypes = 'allow' | 'refuse';

/** The largest JSON Schema an event type may have, as JSON. */
export const MAX_SCHEMA_BYTES = 64 * 1024;

/**
 * The event-type catalog as an API process sees it: every type's definition, loaded from the
 * event type workflows' memos and refreshed in the background like the routing table, with the
 * compiled validator of each type's current version. Changes made through this process apply at once.
 */
export class EventCatalog {
  private readonly snapshot: RefreshingSnapshot<Map<string, EventTypeDefinition>>;
  /** Definitions saved through this process; kept until the listing shows that version or a newer one. */
  private readonly local = new Map<string, EventTypeDefinition>();
  /** The compiled validator of each type's latest version seen here. */
  private readonly validators = new Map<string, { version: number; validate: ValidateFunction }>();

  constructor(
    listAll: () => Promise<EventTypeDefinition[]>,
    readonly unknownTypes: UnknownTypes,
    now: () => number = Date.now,
    onRefreshError: (err: unknown) => void = () => {},
  ) {
    this.snapshot = new RefreshingSnapshot(async () => new Map((await listAll()).map((type) => [type.name, type])), CATALOG_REFRESH_MS, now, onRefreshError);
  }

  /** The definition of `name`, or undefined when the catalog does not hold it. */
  async lookup(name: string): Promise<EventTypeDefinition | undefined> {
    return this.definitionIn(await this.snapshot.get(), name);
  }

  /** A type's definition in the listed catalog, or the newer one saved through this process. */
  private definitionIn(listedTypes: Map<string, EventTypeDefinition>, name: string): EventTypeDefinition | undefined {
    const listed = listedTypes.get(name);
    const local = this.local.get(name);
    if (!local) return listed;
    if (listed && listed.version >= local.version) {
      this.local.delete(name);
      return listed;
    }
    return local;
  }

  noteSaved(definition: EventTypeDefinition): void {
    this.local.set(definition.name, definition);
  }

  /**
   * Checks posted events against the catalog: with UNKNOWN_EVENT_TYPES=refuse, a type it does not
   * hold; for a type with a schema, `data` against it. Answers every problem, each at its path
   * (`body.data.amount`, or `body.3.data.amount` in an array).
   */
  async checkEvents(events: readonly { type: string; data: unknown }[], inArray: boolean): Promise<FieldError[]> {
    const problems: FieldError[] = [];
    // One read of the catalog per request, not per event: this runs on every event post.
    const listed = await this.snapshot.get();
    for (const [index, event] of events.entries()) {
      const at = inArray ? `body.${index}` : 'body';
      const definition = this.definitionIn(listed, event.type);
      if (!definition) {
        if (this.unknownTypes === 'refuse') problems.push({ path: `${at}.type`, message: `${event.type} is not in the event-type catalog` });
        continue;
      }
      if (!definition.schema) continue;
      const validate = this.validatorFor(definition);
      if (validate(event.data)) continue;
      for (const error of validate.errors ?? []) problems.push({ path: `${at}.data${jsonPointerToPath(error.instancePath)}`, message: describe(error, definition) });
    }
    return problems;
  }

  /**
   * Event types a subscription may not name: with UNKNOWN_EVENT_TYPES=refuse, those the catalog
   * does not hold and archived ones. Answers one line per type, or nothing.
   */
  async unsubscribable(types: readonly string[]): Promise<string[]> {
    if (this.unknownTypes === 'allow') return [];
    const refused: string[] = [];
    const listed = await this.snapshot.get();
    for (const type of types) {
      const definition = this.definitionIn(listed, type);
      if (!definition) refused.push(`${type} is not in the event-type catalog`);
      else if (definition.archived) refused.push(`${type} is archived`);
    }
    return refused;
  }

  /** Every type (archived too), by name: what Depo offers. */
  async list(): Promise<EventTypeDefinition[]> {
    const listed = await this.snapshot.get();
    const found = [...new Set([...listed.keys(), ...this.local.keys()])].map((name) => this.definitionIn(listed, name));
    return found.filter((type): type is EventTypeDefinition => type !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  }

  private validatorFor(definition: EventTypeDefinition): ValidateFunction {
    const cached = this.validators.get(definition.name);
    if (cached?.version === definition.version) return cached.validate;
    const validate = compileSchema(definition.schema!);
    this.validators.set(definition.name, { version: definition.version, validate });
    return validate;
  }
}

/**
 * Compiles a JSON Schema (draft 2020-12, with the standard formats); throws with Ajv's message
 * when it is not a valid one. One Ajv instance per schema: two types' schemas may use the same `$id`.
 */
export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

/** Whether `schema` is a valid JSON Schema (draft 2020-12): undefined, or what is wrong with it. */
export function schemaProblem(schema: Record<string, unknown>): string | undefined {
  if (Buffer.byteLength(JSON.stringify(schema)) > MAX_SCHEMA_BYTES) return `the schema is larger than ${MAX_SCHEMA_BYTES} bytes as JSON`;
  try {
    compileSchema(schema);
    return undefined;
  } catch (err) {
    return `not a valid JSON Schema (draft 2020-12): ${(err as Error).message}`;
  }
}

/** What is wrong with `data` under `schema`, one problem per failing path; empty when it satisfies it. */
export function dataProblems(schema: Record<string, unknown>, data: unknown, at: string): FieldError[] {
  const validate = compileSchema(schema);
  if (validate(data)) return [];
  return (validate.errors ?? []).map((error) => ({ path: `${at}${jsonPointerToPath(error.instancePath)}`, message: error.message ?? 'is not valid' }));
}

function describe(error: ErrorObject, definition: EventTypeDefinition): string {
  return `${error.message ?? 'is not valid'} (schema of ${definition.name}, version ${definition.version})`;
}

/** `/items/0/amount` as `.items.0.amount`, the API's field path style. */
function jsonPointerToPath(pointer: string): string {
  if (!pointer) return '';
  return pointer
    .split('/')
    .slice(1)
    .map((part) => `.${part.replace(/~1/g, '/').replace(/~0/g, '~')}`)
    .join('');
}
