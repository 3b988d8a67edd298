import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import { changeEventTypeUpdate, eventTypeQuery, type EventTypeDefinition, type EventTypeMemo, type EventTypePatch, type eventTypeWorkflow } from '../workflows/event-type';
import { eventTypeWorkflowId } from '../workflows/ids';
import { ConflictError, NotFoundError } from '../domain/errors';
import { isGoneError } from './temporal-errors';

/**
 * Event types live in Temporal like everything else: one workflow each (decision 0007). This
 * store starts them, lists them (visibility, memo), reads them (query) and changes them (update).
 */
export class EventTypeStore {
  constructor(
    private readonly client: Client,
    private readonly config: Config,
  ) {}

  async create(definition: EventTypeDefinition): Promise<EventTypeDefinition> {
    try {
      await this.client.workflow.start<typeof eventTypeWorkflow>('eventTypeWorkflow', {
        workflowId: eventTypeWorkflowId(definition.name),
        taskQueue: this.config.temporal.taskQueue,
        args: [definition],
        // A name is taken for good: an archived type is archived, not deleted and made again.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        memo: { eventType: definition } satisfies EventTypeMemo,
        staticSummary: `Event type ${definition.name}`,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new ConflictError(`event type ${definition.name} exists; change it with PATCH`);
      throw err;
    }
    return definition;
  }

  /** Every event type, archived ones too, by name; from visibility: eventually consistent (about a second). */
  async list(): Promise<EventTypeDefinition[]> {
    const found: EventTypeDefinition[] = [];
    for await (const execution of this.client.workflow.list({ query: "WorkflowType = 'eventTypeWorkflow' AND ExecutionStatus = 'Running'" })) {
      const memo = execution.memo as Partial<EventTypeMemo> | undefined;
      if (memo?.eventType) found.push(memo.eventType);
    }
    return found.sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<EventTypeDefinition> {
    return this.handle(name)
      .query(eventTypeQuery)
      .catch((err: unknown) => this.rethrow(err, name));
  }

  async change(name: string, patch: EventTypePatch, expectedVersion: number): Promise<EventTypeDefinition> {
    return this.handle(name)
      .executeUpdate(changeEventTypeUpdate, { args: [{ patch, expectedVersion, at: new Date().toISOString() }] })
      .catch((err: unknown) => {
        if (err instanceof WorkflowUpdateFailedError && err.cause?.message.includes('changed since version')) throw new ConflictError(err.cause.message);
        return this.rethrow(err, name);
      });
  }

  private handle(name: string) {
    return this.client.workflow.getHandle(eventTypeWorkflowId(name));
  }

  private rethrow(err: unknown, name: string): never {
    throw isGoneError(err) ? new NotFoundError(`there is no event type ${name}`) : err;
  }
}
