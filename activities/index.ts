import type { Config } from '../platform/config';
import type { Resolver } from '../platform/endpoint-resolver';
import { createDeliveryActivities, type AttemptRecorder } from './delivery';
import { createRecoveryActivities } from './recovery';
import { DeliveryAgent, DEFAULT_TIMEOUTS, type AttemptTimeouts } from './http-agent';

export interface ActivityOptions {
  timeouts?: AttemptTimeouts;
  resolver?: Resolver;
  metrics?: AttemptRecorder;
}

/** All activities of the worker, built from its configuration (the only place with I/O). */
export function createActivities(config: Config, { timeouts = DEFAULT_TIMEOUTS, resolver, metrics }: ActivityOptions = {}) {
  const agent = new DeliveryAgent({ delivery: config.delivery, timeouts, resolver, log: (message) => console.warn(message) });
  return {
    ...createDeliveryActivities({ agent, policy: config.delivery, backoffScale: config.delivery.backoffScale, metrics, signingKey: config.signing.key }),
    ...createRecoveryActivities(config),
  };
}

export type { DeliveryActivities } from './delivery';
export type { RecoveryActivities } from './recovery';
