import type { CreateEventTypeInput, EventTypePatchInput } from '../../domain/schema';
import type { EventTypeDefinition } from '../../workflows/event-type';
import { dataProblems, schemaProblem, type EventCatalog } from '../event-catalog';
import type { EventTypeStore } from '../../stores/event-type-store';
import { badRequest } from '../../platform/problem';

/** What the routes need from the event-type catalog; tests give the routes an in-memory one. */
export interface EventTypeService {
  /** 409 when the name is taken (archived types too). */
  create(input: CreateEventTypeInput): Promise<EventTypeDefinition>;
  /** Every type, archived ones too, by name. */
  list(): Promise<EventTypeDefinition[]>;
  get(name: string): Promise<EventTypeDefinition>;
  /** 409 when another change came in between. */
  update(name: string, patch: EventTypePatchInput): Promise<EventTypeDefinition>;
  archive(name: string): Promise<EventTypeDefinition>;
}

/**
 * The catalog's admin side: a schema is checked as a JSON Schema and the example against it
 * before anything is saved; a save applies at once to this process's catalog.
 */
export class EventTypes implements EventTypeService {
  constructor(
    private readonly store: EventTypeStore,
    private readonly catalog: EventCatalog,
  ) {}

  async create(input: CreateEventTypeInput): Promise<EventTypeDefinition> {
    const now = new Date().toISOString();
    const definition: EventTypeDefinition = {
      name: input.name,
      description: input.description,
      schema: input.schema ?? null,
      example: input.example ?? null,
      archived: false,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    checkDefinition(definition);
    return this.saved(await this.store.create(definition));
  }

  list(): Promise<EventTypeDefinition[]> {
    return this.store.list();
  }

  get(name: string): Promise<EventTypeDefinition> {
    return this.store.get(name);
  }

  async update(name: string, patch: EventTypePatchInput): Promise<EventTypeDefinition> {
    const current = await this.store.get(name);
    checkDefinition({ ...current, ...patch });
    return this.saved(await this.store.change(name, patch, current.version));
  }

  archive(name: string): Promise<EventTypeDefinition> {
    return this.update(name, { archived: true });
  }

  private saved(definition: EventTypeDefinition): EventTypeDefinition {
    this.catalog.noteSaved(definition);
    return definition;
  }
}

/** A schema must be a valid JSON Schema, and the example must satisfy it: 400 naming the field otherwise. */
function checkDefinition({ schema, example }: Pick<EventTypeDefinition, 'schema' | 'example'>): void {
  if (!schema) return;
  const problem = schemaProblem(schema);
  if (problem) throw badRequest(`body.schema: ${problem}`, [{ path: 'body.schema', message: problem }]);
  if (!example) return;
  const problems = dataProblems(schema, example, 'body.example');
  if (problems.length > 0) throw badRequest(`the example does not satisfy the schema: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
}
