import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ServiceError } from '@temporalio/client';

/**
 * Tells "that workflow is gone" apart from everything else. A closed workflow answers an update
 * with a gRPC NOT_FOUND (code 5) or FAILED_PRECONDITION (code 9) rather than WorkflowNotFoundError.
 */
export function isGoneError(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError) return true;
  if (err instanceof WorkflowUpdateFailedError) return isGoneError(err.cause) || err.cause?.message.includes('deleted') === true;
  if (err instanceof ServiceError) {
    const code = (err.cause as { code?: number } | undefined)?.code;
    return code === 5 || (code === 9 && /completed|closed/i.test(err.message));
  }
  return false;
}

/** True when Temporal could not be reached: the API answers 503 and acknowledges nothing. */
export function isUnavailableError(err: unknown): boolean {
  if (err instanceof ServiceError) {
    const code = (err.cause as { code?: number } | undefined)?.code;
    return code === 14 || code === 4;
  }
  return false;
}
