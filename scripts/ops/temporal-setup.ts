/**
 * What a Temporal cluster needs before the worker and the API use it: the namespace, and the
 * custom search attributes operators find subscriptions and batches by. Both idempotent. The dev
 * server gets them from its flags instead (scripts/dev/temporal-dev-server.ts).
 */
import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { searchAttributeFlags } from '../../workflows/search-attributes';

const { IndexedValueType } = proto.temporal.api.enums.v1;
const typeOf: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

/** How long Temporal keeps a closed workflow's history (a delivered or failed batch) for operators. */
export const RETENTION_DAYS = 7;
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;

/** Registers `namespace` if it does not exist; answers whether it was new. */
export async function ensureNamespace(connection: Connection, namespace: string): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return false;
  } catch (err) {
    if ((err as { code?: number }).code !== NOT_FOUND) throw err;
  }
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(`${RETENTION_DAYS} days`) });
    return true;
  } catch (err) {
    // Another setup (a second `docker compose up`, a parallel start) registered it first.
    if ((err as { code?: number }).code === ALREADY_EXISTS) return false;
    throw err;
  }
}

/** The project's search attributes, by name, as the operator service takes them. */
export function searchAttributeTypes(): Record<string, proto.temporal.api.enums.v1.IndexedValueType> {
  return Object.fromEntries(
    searchAttributeFlags.map((flag) => {
      const [name = '', type = ''] = flag.split('=');
      return [name, typeOf[type]!];
    }),
  );
}

/** Adds the project's search attributes that `namespace` lacks; answers their names. */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.fromEntries(Object.entries(searchAttributeTypes()).filter(([name]) => !(name in (existing.customAttributes ?? {}))));
  if (Object.keys(missing).length > 0) await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  return Object.keys(missing);
}

/**
 * Both, retrying while a new namespace reaches every service's cache (seconds on a new cluster);
 * then waits until the frontend takes a query naming every search attribute. The operator service
 * answers from the database at once, but the frontend validates a workflow's search attributes
 * against its namespace cache, which learns of new ones seconds later: a worker or an API started
 * in between had its first workflow refused ("no mapping defined for search attribute").
 */
export async function setUpNamespace(connection: Connection, namespace: string, timeoutMs = 60_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await ensureNamespace(connection, namespace);
      const added = await registerSearchAttributes(connection, namespace);
      await connection.workflowService.countWorkflowExecutions({ namespace, query: searchableQuery() });
      return added;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** A visibility query that names each of the project's search attributes, with a value of its type. */
export function searchableQuery(): string {
  const literal: Record<string, string> = { Keyword: "''", KeywordList: "''", Int: '0', Datetime: "'2000-01-01T00:00:00Z'" };
  return searchAttributeFlags
    .map((flag) => {
      const [name = '', type = ''] = flag.split('=');
      return `${name} ${type === 'Datetime' ? '>' : '!='} ${literal[type]}`;
    })
    .join(' OR ');
}
