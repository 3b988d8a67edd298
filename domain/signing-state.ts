/**
 * A subscription's signing state (decision 0008): plain data the subscription workflow keeps and
 * carries across continue-as-new. The secrets themselves are derived outside workflows
 * (domain/signing.ts).
 */
/** A subscription's signing state: no secret in it, only which generation signs and until when the one before it does too. */
export interface SigningState {
  generation: number;
  /** Until this time the previous generation's secret signs too (a second signature). */
  previousUntil: string | null;
}

/** How long a rotated-out secret keeps signing beside the new one. */
export const PREVIOUS_SECRET_MS = 24 * 60 * 60 * 1000;

export const INITIAL_SIGNING: SigningState = { generation: 1, previousUntil: null };

/** The state after a rotation at `at`. */
export function rotated(signing: SigningState, at: Date): SigningState {
  return { generation: signing.generation + 1, previousUntil: new Date(at.getTime() + PREVIOUS_SECRET_MS).toISOString() };
}
