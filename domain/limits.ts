/**
 * The contract's bounds and this implementation's size limits, without zod: workflows import
 * these, and everything a workflow imports is evaluated in its sandbox.
 */
export const PARTNER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const WINDOW_MS_MIN = 1_000;
export const WINDOW_MS_MAX = 60_000;
export const WINDOW_MS_DEFAULT = 1_000;
export const MAX_EVENTS_PER_REQUEST = 1_000;
export const MAX_EVENT_TYPES = 100;
export const MAX_URL_LENGTH = 2_048;
/** One event's serialized size limit (413 over it). */
export const MAX_EVENT_BYTES = 16 * 1024;
/** The most event bytes one signal carries; concurrent requests' events are merged up to it. */
export const MAX_SIGNAL_BYTES = 256 * 1024;
/**
 * A batch is cut before its payload would pass this many bytes, whatever `maxEvents` says:
 * well under Temporal's 2 MB payload limit (and its 512 KB warning) for the delivery input.
 */
export const MAX_BATCH_BYTES = 384 * 1024;
