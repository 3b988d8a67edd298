import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyRing, newKeyEntry, parseKeyRing } from '../../codec/key-ring';
import { ENCRYPTED_ENCODING, EncryptionCodec, KEY_ID_METADATA } from '../../codec/payload-codec';
import { loadConfig } from '../../platform/config';

const marker = 'marker-7f3a9c-personal-data';
const plain = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const text = (payload: Payload): string => Buffer.from(payload.data ?? []).toString('latin1') + JSON.stringify(payload.metadata);
const valueOf = (payload: Payload): unknown => defaultPayloadConverter.fromPayload(payload);

describe('the payload codec', () => {
  const dir = mkdtempSync(join(tmpdir(), 'payload-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('encrypts every payload under the ring\'s first key and gives back exactly what went in', async () => {
    const codec = new EncryptionCodec(KeyRing.fromText(`${newKeyEntry('k2')},${newKeyEntry('k1')}`));
    const inputs = [plain({ data: { email: marker } }), plain(`https://partner.example/hook?token=${marker}`), plain(undefined)];
    const encoded = await codec.encode(inputs);
    expect(encoded).toHaveLength(3);
    for (const payload of encoded) {
      expect(Buffer.from(payload.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
      expect(Buffer.from(payload.metadata![KEY_ID_METADATA]!).toString()).toBe('k2');
      expect(text(payload)).not.toContain(marker);
      expect(text(payload)).not.toContain('json/plain');
    }
    // A fresh IV every time: the same value never encrypts to the same bytes.
    const again = await codec.encode([inputs[0]!]);
    expect(Buffer.from(again[0]!.data!).equals(Buffer.from(encoded[0]!.data!))).toBe(false);
    const decoded = await codec.decode(encoded);
    expect(decoded.map(valueOf)).toEqual([{ data: { email: marker } }, `https://partner.example/hook?token=${marker}`, undefined]);
  });

  it('decodes payloads written before encryption was turned on, and under retired keys still in the ring', async () => {
    const old = newKeyEntry('2026-01');
    const before = await new EncryptionCodec(KeyRing.fromText(old)).encode([plain({ n: 1 })]);
    const rotated = new EncryptionCodec(KeyRing.fromText(`${newKeyEntry('2026-02')}\n${old}`));
    expect((await rotated.decode([plain({ n: 0 }), ...before])).map(valueOf)).toEqual([{ n: 0 }, { n: 1 }]);
    const after = await rotated.encode([plain({ n: 2 })]);
    expect(Buffer.from(after[0]!.metadata![KEY_ID_METADATA]!).toString()).toBe('2026-02');
  });

  it('passes payloads through untouched when no key is configured, and says which key is missing when one is needed', async () => {
    const off = new EncryptionCodec(KeyRing.empty());
    const payload = plain({ n: 1 });
    expect(await off.encode([payload])).toEqual([payload]);
    const encrypted = await new EncryptionCodec(KeyRing.fromText(newKeyEntry('only-here'))).encode([payload]);
    await expect(off.decode(encrypted)).rejects.toThrow(/encrypted with key only-here, and no payload keys are configured: set PAYLOAD_KEYS or PAYLOAD_KEYS_FILE/);
    const other = new EncryptionCodec(KeyRing.fromText(newKeyEntry('another')));
    await expect(other.decode(encrypted)).rejects.toThrow('a payload is encrypted with key only-here, which is not in the key ring (PAYLOAD_KEYS: another)');
  });

  it('refuses a payload altered at rest, or passed off as written under another key', async () => {
    const a = newKeyEntry('a');
    const codec = new EncryptionCodec(KeyRing.fromText(`${a},${newKeyEntry('b')}`));
    const [encrypted] = await codec.encode([plain({ amount: 100 })]);
    const flipped = Buffer.from(encrypted!.data!);
    flipped[20]! ^= 1;
    await expect(codec.decode([{ ...encrypted!, data: flipped }])).rejects.toThrow(/does not decrypt with the key of that id.*altered/);
    const relabelled = { ...encrypted!, metadata: { ...encrypted!.metadata, [KEY_ID_METADATA]: Buffer.from('b') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/under key b does not decrypt/);
  });

  it('follows PAYLOAD_KEYS_FILE: a key put at its head encrypts, and an unknown key id rereads it at once', async () => {
    const file = join(dir, 'ring');
    const first = newKeyEntry('first');
    writeFileSync(file, `# the payload key ring, newest first\n${first}\n`);
    const ring = KeyRing.fromFile(file, 0);
    const reader = new EncryptionCodec(KeyRing.fromFile(file, 60_000));
    const writer = new EncryptionCodec(ring);
    writeFileSync(file, `${newKeyEntry('second')}\n${first}\n`);
    const [rotated] = await writer.encode([plain('after rotation')]);
    expect(Buffer.from(rotated!.metadata![KEY_ID_METADATA]!).toString()).toBe('second');
    // The reader checks its file only once a minute, but a key it does not know makes it look now.
    expect((await reader.decode([rotated!])).map(valueOf)).toEqual(['after rotation']);
  });

  it('refuses a malformed ring in one line that names the entry, never a key', () => {
    expect(() => parseKeyRing('k1:c2hvcnQ=', 'PAYLOAD_KEYS')).toThrow('PAYLOAD_KEYS: key k1 is 5 bytes; AES-256 keys are 32 bytes of base64');
    expect(() => parseKeyRing('no-colon-here', 'PAYLOAD_KEYS')).toThrow('PAYLOAD_KEYS: entry 1 is not id:base64');
    const entry = newKeyEntry('twice');
    expect(() => parseKeyRing(`${entry},${entry}`, 'PAYLOAD_KEYS')).toThrow('key id twice appears twice');
    expect(() => loadConfig({ PAYLOAD_KEYS_FILE: join(dir, 'missing') })).toThrow(/cannot read PAYLOAD_KEYS_FILE .*missing: ENOENT/);
    expect(() => loadConfig({ PAYLOAD_ENCRYPTION: 'required' })).toThrow(/PAYLOAD_ENCRYPTION=required, and no payload key is configured/);
    expect(() => loadConfig({ PAYLOAD_KEYS: entry, PAYLOAD_KEYS_FILE: join(dir, 'ring') })).toThrow('set PAYLOAD_KEYS or PAYLOAD_KEYS_FILE, not both');
    expect(loadConfig({ PAYLOAD_KEYS: entry, PAYLOAD_ENCRYPTION: 'required' }).encryption.describe).toBe('on (encrypting with key twice, from PAYLOAD_KEYS)');
  });
});
