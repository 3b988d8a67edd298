import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/**
 * The payload keys: a key ring written as `id:base64` entries (32-byte AES-256 keys), newest
 * first. The first key encrypts; every key decrypts, so a payload written under a retired key
 * stays readable for as long as its key stays in the ring.
 *
 * From PAYLOAD_KEYS the ring is fixed for the life of the process. From PAYLOAD_KEYS_FILE it
 * follows the file: a process sees a key put at the head of the file within `checkEveryMs`, and
 * at once when it meets a payload under a key it does not know yet, so a rotation needs no restart.
 */
export interface PayloadKey {
  id: string;
  key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const KEY_BYTES = 32;

/** Parses a ring; throws one line naming `source` and the entry at fault (never a key's bytes). */
export function parseKeyRing(text: string, source: string): PayloadKey[] {
  const entries = text
    .split('\n')
    .flatMap((line) => line.replace(/#.*$/, '').split(','))
    .map((entry) => entry.trim())
    .filter(Boolean);
  const keys: PayloadKey[] = [];
  for (const [index, entry] of entries.entries()) {
    const at = entry.indexOf(':');
    const id = entry.slice(0, at);
    if (at < 0 || !KEY_ID.test(id)) {
      throw new Error(`${source}: entry ${index + 1} is not id:base64 with an id of letters, digits, '.', '_' or '-' (at most 64)`);
    }
    const key = Buffer.from(entry.slice(at + 1), 'base64');
    if (key.length !== KEY_BYTES) throw new Error(`${source}: key ${id} is ${key.length} bytes; AES-256 keys are ${KEY_BYTES} bytes of base64`);
    if (keys.some((known) => known.id === id)) throw new Error(`${source}: key id ${id} appears twice`);
    keys.push({ id, key });
  }
  return keys;
}

/** A new ring entry for `id`, for `npm run payload-key` and the key `npm run dev` makes. */
export function newKeyEntry(id: string): string {
  if (!KEY_ID.test(id)) throw new Error(`a key id is letters, digits, '.', '_' or '-' (at most 64): ${id}`);
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

export class KeyRing {
  private keys: PayloadKey[];
  private fileVersion: string | undefined;
  private checkedAt = Date.now();

  private constructor(
    keys: PayloadKey[],
    /** Where the keys come from, for messages: `PAYLOAD_KEYS` or the file's path. */
    readonly source: string,
    private readonly file: string | undefined,
    private readonly checkEveryMs: number,
  ) {
    this.keys = keys;
    this.fileVersion = file ? versionOf(file) : undefined;
  }

  static fromText(text: string): KeyRing {
    return new KeyRing(parseKeyRing(text, 'PAYLOAD_KEYS'), 'PAYLOAD_KEYS', undefined, 0);
  }

  static fromFile(path: string, checkEveryMs = 5_000): KeyRing {
    return new KeyRing(readRing(path), path, path, checkEveryMs);
  }

  static empty(): KeyRing {
    return new KeyRing([], 'no key ring', undefined, 0);
  }

  /** The key that encrypts (the ring's first), or undefined when the ring is empty. */
  get current(): PayloadKey | undefined {
    if (this.file && Date.now() - this.checkedAt >= this.checkEveryMs) this.reload();
    return this.keys[0];
  }

  get ids(): string[] {
    return this.keys.map((key) => key.id);
  }

  /** The key with this id; a file-backed ring rereads its file once before saying there is none. */
  find(id: string): PayloadKey | undefined {
    const found = this.keys.find((key) => key.id === id);
    if (found || !this.file) return found;
    this.reload();
    return this.keys.find((key) => key.id === id);
  }

  /** Rereads the file if it changed. A file that no longer parses keeps the ring as it was. */
  private reload(): void {
    this.checkedAt = Date.now();
    const version = versionOf(this.file!);
    if (version === this.fileVersion) return;
    try {
      const keys = readRing(this.file!);
      if (keys.length > 0) this.keys = keys;
      this.fileVersion = version;
    } catch {
      // Half-written or broken: the keys already known go on working; the next check tries again.
    }
  }
}

function readRing(path: string): PayloadKey[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read PAYLOAD_KEYS_FILE ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  return parseKeyRing(text, `PAYLOAD_KEYS_FILE ${path}`);
}

function versionOf(path: string): string {
  try {
    const stat = statSync(path);
    return `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
  } catch {
    return 'missing';
  }
}
