import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes: how operators find subscriptions and batches in the Temporal Web UI.
 * They must be registered on the server (the dev command and the production stack's setup do it).
 */
export const partnerIdKey = defineSearchAttributeKey('WebhookPartnerId', SearchAttributeType.KEYWORD);
export const subscriptionIdKey = defineSearchAttributeKey('WebhookSubscriptionId', SearchAttributeType.KEYWORD);
export const batchIdKey = defineSearchAttributeKey('WebhookBatchId', SearchAttributeType.KEYWORD);
export const eventCountKey = defineSearchAttributeKey('WebhookEventCount', SearchAttributeType.INT);
/** Distinct event types in a batch. A search attribute value is limited (2 KB by default), so the list is capped. */
export const eventTypesKey = defineSearchAttributeKey('WebhookEventTypes', SearchAttributeType.KEYWORD_LIST);

/**
 * When a subscription's routes last changed (created, event types changed, enabled or disabled):
 * the API's routing table reads only the subscriptions changed since its last reading.
 */
export const routesChangedAtKey = defineSearchAttributeKey('WebhookRoutesChangedAt', SearchAttributeType.DATETIME);

export const searchAttributeKeys = [partnerIdKey, subscriptionIdKey, batchIdKey, eventCountKey, eventTypesKey, routesChangedAtKey];

/** `Name=Type` pairs in the form `temporal server start-dev --search-attribute` and `temporal operator` take. */
export const searchAttributeFlags: string[] = [
  'WebhookPartnerId=Keyword',
  'WebhookSubscriptionId=Keyword',
  'WebhookBatchId=Keyword',
  'WebhookEventCount=Int',
  'WebhookEventTypes=KeywordList',
  'WebhookRoutesChangedAt=Datetime',
];

const EVENT_TYPES_VALUE_BUDGET = 1_800;

/** The distinct event types of a batch, in first-seen order, cut to fit a search attribute value. */
export function eventTypesForSearch(types: readonly string[]): string[] {
  const distinct = [...new Set(types)];
  const kept: string[] = [];
  let size = 2;
  for (const type of distinct) {
    size += type.length + 3;
    if (size > EVENT_TYPES_VALUE_BUDGET) break;
    kept.push(type);
  }
  return kept;
}
