import { ServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';

const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_NOT_FOUND = 5;
const GRPC_FAILED_PRECONDITION = 9;
const GRPC_UNAVAILABLE = 14;

/** The gRPC status code of an error, whether the SDK wrapped it in a ServiceError or not (fetchHistory does not). */
function grpcCode(err: unknown): number | undefined {
  const source = err instanceof ServiceError ? err.cause : err;
  const code = (source as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Tells "that workflow is gone" apart from everything else. A closed workflow answers an update
 * with NOT_FOUND or FAILED_PRECONDITION rather than WorkflowNotFoundError.
 */
export function isGoneError(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError) return true;
  if (err instanceof WorkflowUpdateFailedError) {
    return isGoneError(err.cause) || err.cause?.message.includes('deleted') === true;
  }
  const code = grpcCode(err);
  if (code === GRPC_NOT_FOUND) return true;
  return code === GRPC_FAILED_PRECONDITION && err instanceof Error && /completed|closed/i.test(err.message);
}

/** True when Temporal could not be reached: the API answers 503 and acknowledges nothing. */
export function isUnavailableError(err: unknown): boolean {
  const code = grpcCode(err);
  return code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED;
}
