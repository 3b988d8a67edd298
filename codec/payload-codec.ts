import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { KeyRing } from './key-ring';

// @temporalio/proto is CommonJS without named exports that Node's ESM loader can see.
const { Payload: PayloadMessage } = proto.temporal.api.common.v1;

/**
 * Encrypts every payload before it leaves the process for Temporal, and decrypts what comes back.
 * Clients and workers run it outside the workflow sandbox, so workflow code sees plain values.
 *
 * An encrypted payload's data is IV (12 bytes) ‖ AES-256-GCM ciphertext ‖ tag (16 bytes) of the
 * whole original payload (its metadata too: the encoding says nothing about the contents); its
 * metadata names the encoding and the key id. The key id is the associated data, so a payload
 * cannot be passed off as written under another key. A payload without this encoding (written
 * before encryption was turned on) passes through untouched.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const encodingOf = (payload: Payload): string | undefined => {
  const encoding = payload.metadata?.encoding;
  return encoding ? Buffer.from(encoding).toString() : undefined;
};

/** Thrown when a payload cannot be decrypted: names the key and where keys come from, never key bytes. */
export class PayloadKeyError extends Error {
  override name = 'PayloadKeyError';
}

export class EncryptionCodec implements PayloadCodec {
  constructor(readonly ring: KeyRing) {}

  // The work is synchronous; the interface is not. A throw in the executor rejects the promise.
  encode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(this.encrypt(payloads)));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(payloads.map((payload) => (encodingOf(payload) === ENCRYPTED_ENCODING ? this.decrypt(payload) : payload))));
  }

  private encrypt(payloads: Payload[]): Payload[] {
    const key = this.ring.current;
    if (!key) return payloads;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(CIPHER, key.key, iv);
      cipher.setAAD(Buffer.from(key.id));
      const plain = PayloadMessage.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(key.id) },
        data,
      };
    });
  }

  private decrypt(payload: Payload): Payload {
    const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
    const keyId = keyIdBytes ? Buffer.from(keyIdBytes).toString() : '(none)';
    const key = this.ring.find(keyId);
    if (!key) {
      const known = this.ring.ids;
      throw new PayloadKeyError(
        known.length === 0
          ? `a payload is encrypted with key ${keyId}, and no payload keys are configured: set PAYLOAD_KEYS or PAYLOAD_KEYS_FILE to a ring that holds it (npm run dev and npm run cluster keep theirs in DATA_DIR/payload-keys)`
          : `a payload is encrypted with key ${keyId}, which is not in the key ring (${this.ring.source}: ${known.join(', ')})`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadKeyError(`a payload under key ${keyId} is too short to be encrypted data`);
    const decipher = createDecipheriv(CIPHER, key.key, data.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(keyId));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch (err) {
      throw new PayloadKeyError(`a payload under key ${keyId} does not decrypt with the key of that id in ${this.ring.source}: the key differs, or the payload was altered`, { cause: err });
    }
    const decoded = PayloadMessage.decode(plain);
    return { metadata: decoded.metadata, data: decoded.data };
  }
}

/**
 * One payload read from a raw history (which the client hands over as stored), decoded as the
 * SDK decodes what it reads: the codecs in reverse order, then the default payload converter.
 */
export async function decodePayload<T>(dataConverter: DataConverter, payload: Payload): Promise<T> {
  let decoded = [payload];
  for (const codec of [...(dataConverter.payloadCodecs ?? [])].reverse()) decoded = await codec.decode(decoded);
  return defaultPayloadConverter.fromPayload<T>(decoded[0]!);
}
