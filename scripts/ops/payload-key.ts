/**
 * `npm run payload-key -- [id]`: prints a new payload key ring entry (`id:base64`, 32 random bytes).
 * To rotate, put it at the head of PAYLOAD_KEYS (or PAYLOAD_KEYS_FILE) and keep the old entries
 * below it for as long as payloads written under them may be read (docs/security.md).
 */
import { newKeyEntry } from '../../codec/key-ring';

const id = process.argv[2] ?? `key-${new Date().toISOString().slice(0, 10)}`;
try {
  console.log(newKeyEntry(id));
} catch (err) {
  console.error(`payload-key: ${(err as Error).message}`);
  process.exit(2);
}
