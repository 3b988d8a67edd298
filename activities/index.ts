import type { Config } from '../domain/config';
import type { Resolver } from '../domain/endpoint-policy';
import { createDeliveryActivities } from './delivery';
import { DeliveryAgent, DEFAULT_TIMEOUTS, type AttemptTimeouts } from './http-agent';

export interface ActivityOptions {
  timeouts?: AttemptTimeouts;
  resolver?: Resolver;
}

/** All activities of the worker, built from its configuration (the only place with I/O). */
export function createActivities(config: Config, { timeouts = DEFAULT_TIMEOUTS, resolver }: ActivityOptions = {}) {
  const agent = new DeliveryAgent({ delivery: config.delivery, timeouts, resolver, log: (message) => console.warn(message) });
  return createDeliveryActivities({ agent, policy: config.delivery, backoffScale: config.delivery.backoffScale });
}

export type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;
