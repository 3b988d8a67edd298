import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { EndpointHealth, EndpointReport } from '../domain/endpoint-gate';
import type { SigningState } from '../domain/signing-state';
import type { SubscriptionConfig, SubscriptionConfigPatch, WebhookEvent } from '../domain/schema';

export type { EndpointHealth, EndpointReport } from '../domain/endpoint-gate';

/**
 * Message definitions of the subscription workflow, shared with those that send them: the API and
 * Depo (events, configure, delete, state), the delivery activity (endpoint); and the release
 * signal the subscription sends to a held batch's delivery workflow.
 */

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
  /** False while delivery is disabled: new events are not routed to it (automatically, or by PATCH). */
  enabled: boolean;
  endpointHealth: EndpointHealth;
  /** Which secret generation signs deliveries, and until when the previous one signs too (never a secret). */
  signing: SigningState;
}

/** Events routed to this subscription, in acceptance order. Duplicated ids are dropped. */
export const eventsSignal = defineSignal<[EventsSignalInput]>('events');
/** Changes url, event types or batching (from the next batch), or enables or disables delivery. Answers the new view. */
export const configureUpdate = defineUpdate<SubscriptionView, [SubscriptionConfigPatch]>('configure');
/** Cuts the pending events into a last batch, then ends the subscription. Answers once the last batch is cut. */
export const deleteUpdate = defineUpdate<void, []>('delete');
export const stateQuery = defineQuery<SubscriptionView>('state');
/** Sent by delivery attempts when the endpoint starts or stops failing (see EndpointHealth). */
export const endpointSignal = defineSignal<[EndpointReport]>('endpoint');
/** Makes the next signing secret generation; the previous one signs beside it for 24 hours. Answers the new state. */
export const rotateSecretUpdate = defineUpdate<SigningState>('rotateSecret');
/** Sent by the subscription to a held batch: attempt now. */
export const releaseSignal = defineSignal('release');

/** The memo on a subscription workflow: enough for listing and routing without a query. */
export type SubscriptionMemo = {
  /** `enabled` and `endpointHealth` are missing from memos written before the endpoint gate, `signing` from those before signatures. */
  subscription: Omit<SubscriptionView, 'pendingEvents' | 'status' | 'enabled' | 'endpointHealth' | 'signing'> &
    Partial<Pick<SubscriptionView, 'enabled' | 'endpointHealth' | 'signing'>>;
};
