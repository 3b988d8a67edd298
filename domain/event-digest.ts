/**
 * A 64-bit digest of an event id, as 11 base64url characters: what a subscription remembers of
 * each recent event to drop a re-posted one. Carrying 10,000 of them to the next run
 * (continue-as-new) takes 110 KB instead of the ~390 KB of the ids themselves, and the new run's
 * input is written to its history.
 *
 * Two 32-bit multiply-xorshift lanes over the UTF-16 code units (the mixing of cyrb53), kept whole
 * for 64 bits. Not cryptographic: producers are trusted services, and an id colliding with one of
 * the 10,000 remembered (about 5 × 10⁻¹⁶ per event for distinct random ids) would be dropped as a
 * repeat. Pure and synchronous: workflow code calls it in its sandbox.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/**
 * Taken once when the module loads: inside the workflow sandbox every read of a global such as
 * `Math` goes through the SDK's isolation of globals, and a lookup per multiplication made this
 * function 13% of the workflow thread's time in `npm run bench -- --profile`.
 */
const imul = Math.imul;

/** The length of every digest. */
export const EVENT_DIGEST_LENGTH = 11;

export function eventDigest(id: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < id.length; i++) {
    const unit = id.charCodeAt(i);
    h1 = imul(h1 ^ unit, 2654435761);
    h2 = imul(h2 ^ unit, 1597334677);
  }
  h1 = imul(h1 ^ (h1 >>> 16), 2246822507) ^ imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = imul(h2 ^ (h2 >>> 16), 2246822507) ^ imul(h1 ^ (h1 >>> 13), 3266489909);
  // 64 bits as eleven 6-bit characters: h1's 32 bits, then h2's (the last character holds 4 bits).
  let low = h1 >>> 0;
  let high = h2 >>> 0;
  let digest = '';
  for (let i = 0; i < EVENT_DIGEST_LENGTH; i++) {
    digest += ALPHABET[low & 63];
    low = (low >>> 6) | ((high & 63) << 26);
    high >>>= 6;
  }
  return digest;
}

/** Digests concatenated, oldest first: the carried form. */
export function joinDigests(digests: Iterable<string>): string {
  let joined = '';
  for (const digest of digests) joined += digest;
  return joined;
}

export function splitDigests(joined: string): string[] {
  const digests: string[] = [];
  for (let i = 0; i + EVENT_DIGEST_LENGTH <= joined.length; i += EVENT_DIGEST_LENGTH) digests.push(joined.slice(i, i + EVENT_DIGEST_LENGTH));
  return digests;
}
