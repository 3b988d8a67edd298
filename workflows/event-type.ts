import { allHandlersFinished, ApplicationFailure, condition, defineQuery, defineUpdate, makeContinueAsNewFunc, setHandler, setWorkflowOptions, upsertMemo } from '@temporalio/workflow';
import { versioningBehavior } from './versioning';

/**
 * One workflow per event type of the catalog (decision 0007): ID `event-type:{name}`, idle but
 * for the changes an admin makes. Its memo holds the whole definition, so one visibility listing
 * gives every API process the catalog, schemas included.
 */
export interface EventTypeDefinition {
  name: string;
  description: string;
  /** A JSON Schema (draft 2020-12) for the events' `data`, checked as a schema by the API before it is saved. */
  schema: Record<string, unknown> | null;
  /** An example `data`; it satisfies `schema`. */
  example: Record<string, unknown> | null;
  /** Archived: not offered to new subscriptions; events of the type are still accepted and checked. */
  archived: boolean;
  /** 1 when created, bumped by every change: validators are cached per name and version. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface EventTypePatch {
  description?: string;
  schema?: Record<string, unknown> | null;
  example?: Record<string, unknown> | null;
  archived?: boolean;
}

export interface EventTypeChange {
  patch: EventTypePatch;
  /** The version the change was checked against (the example against the schema): another change in between is a conflict. */
  expectedVersion: number;
  at: string;
}

export interface EventTypeMemo {
  eventType: EventTypeDefinition;
}

export const eventTypeQuery = defineQuery<EventTypeDefinition>('definition');
/** Answers the new definition; refused (VersionConflict) when the type changed since `expectedVersion`. */
export const changeEventTypeUpdate = defineUpdate<EventTypeDefinition, [EventTypeChange]>('change');

/** Changes a run takes before it hands over to a new one. */
const CHANGES_PER_RUN = 500;

// Lives as long as its event type: it moves to each new current version (docs/decisions/0011-worker-versioning.md).
setWorkflowOptions(versioningBehavior('AUTO_UPGRADE'), eventTypeWorkflow);

export async function eventTypeWorkflow(definition: EventTypeDefinition): Promise<void> {
  let current = definition;
  let changes = 0;
  setHandler(eventTypeQuery, () => current);
  setHandler(
    changeEventTypeUpdate,
    ({ patch, at }) => {
      current = { ...current, ...patch, version: current.version + 1, updatedAt: at };
      changes++;
      upsertMemo({ eventType: current } satisfies EventTypeMemo);
      return current;
    },
    {
      validator: ({ expectedVersion }) => {
        if (expectedVersion !== current.version) {
          throw ApplicationFailure.nonRetryable(`event type ${current.name} changed since version ${expectedVersion} (now ${current.version}); read it again`, 'VersionConflict');
        }
      },
    },
  );
  await condition(() => changes >= CHANGES_PER_RUN);
  await condition(allHandlersFinished);
  await makeContinueAsNewFunc<typeof eventTypeWorkflow>({ memo: { eventType: current } satisfies EventTypeMemo })(current);
}
