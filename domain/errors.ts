/**
 * What the stores (stores/) and services throw when a request cannot be met. They name the
 * situation, not a protocol: the API's root error handler (api/app.ts) is the one place that turns
 * them into problem+json with a status, and an activity decides on them by kind.
 */
export interface FieldError {
  /** Where in the request: `body.delivery.url`, `cursor`, … */
  path: string;
  message: string;
}

/** The thing asked for does not exist (or no longer does). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** The thing exists but its state forbids the request: a redelivery of a batch that did not fail. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

/** The request names something that cannot be valid, whatever the state: a cursor of another listing. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  constructor(
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
}
