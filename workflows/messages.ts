import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SubscriptionConfig, SubscriptionConfigPatch, WebhookEvent } from '../domain/schema';

/** Message definitions of the subscription workflow, shared with the API that sends them. */

export interface EventsSignalInput {
  events: WebhookEvent[];
}

export interface SubscriptionView {
  id: string;
  partnerId: string;
  url: string;
  eventTypes: string[];
  batching: SubscriptionConfig['batching'];
  createdAt: string;
  updatedAt: string;
  status: 'active' | 'deleted';
  pendingEvents: number;
}

/** Events routed to this subscription, in acceptance order. Duplicated ids are dropped. */
export const eventsSignal = defineSignal<[EventsSignalInput]>('events');
/** Changes url, event types or batching; applies from the next batch. Answers the new view. */
export const configureUpdate = defineUpdate<SubscriptionView, [SubscriptionConfigPatch]>('configure');
/** Cuts the pending events into a last batch, then ends the subscription. Answers once the last batch is cut. */
export const deleteUpdate = defineUpdate<void, []>('delete');
export const stateQuery = defineQuery<SubscriptionView>('state');

/** The memo on a subscription workflow: enough for listing and routing without a query. */
export type SubscriptionMemo = {
  subscription: Omit<SubscriptionView, 'pendingEvents' | 'status'>;
};
