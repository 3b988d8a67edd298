import type { z } from 'zod';
import { ConflictError, InvalidInputError, NotFoundError, type FieldError } from '../domain/errors';

export type { FieldError };

/**
 * RFC 9457 problem details. Every error the API answers is one of these, as
 * `application/problem+json`; the root `onError` in app.ts is the only place that renders them.
 * Below the routes, stores and services throw domain errors (domain/errors.ts); `problemOf` gives
 * each its status here.
 */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    /** Sent as `Retry-After` (seconds) with the problem. */
    readonly retryAfterSeconds?: number,
  ) {
    super(detail);
  }

  toJSON() {
    const slug = this.title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    return {
      type: `urn:problem:webhooks:${slug}`,
      title: this.title,
      status: this.status,
      detail: this.detail,
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

export const badRequest = (detail: string, errors?: FieldError[]) => new ProblemError(400, 'Bad Request', detail, errors);
export const unauthorized = (detail: string) => new ProblemError(401, 'Unauthorized', detail);
export const notFound = (detail: string) => new ProblemError(404, 'Not Found', detail);
export const conflict = (detail: string) => new ProblemError(409, 'Conflict', detail);
export const tooLarge = (detail: string) => new ProblemError(413, 'Payload Too Large', detail);
export const unavailable = (detail: string, retryAfterSeconds?: number) => new ProblemError(503, 'Service Unavailable', detail, undefined, retryAfterSeconds);

export function validationProblem(error: z.ZodError, where = 'body'): ProblemError {
  const errors = error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  return badRequest(`invalid request ${where}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
}

/** The problem an error answers with, if it is one the API knows: a ProblemError or a domain error. */
export function problemOf(err: unknown): ProblemError | undefined {
  if (err instanceof ProblemError) return err;
  if (err instanceof NotFoundError) return notFound(err.message);
  if (err instanceof ConflictError) return conflict(err.message);
  if (err instanceof InvalidInputError) return badRequest(err.message, err.errors.length > 0 ? err.errors : undefined);
  return undefined;
}
