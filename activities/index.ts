import type { Config } from '../domain/config';
import { createDeliveryActivities } from './delivery';
import { createDeliveryAgent, DEFAULT_TIMEOUTS, type AttemptTimeouts } from './http-agent';

/** All activities of the worker, built from its configuration (the only place with I/O). */
export function createActivities(config: Config, timeouts: AttemptTimeouts = DEFAULT_TIMEOUTS) {
  const dispatcher = createDeliveryAgent(config.delivery, timeouts);
  return createDeliveryActivities({ dispatcher, backoffScale: config.delivery.backoffScale });
}

export type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;
