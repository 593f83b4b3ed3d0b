import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_KEY_FILE, loadDataKey, newDataKey, openValue, requireDataKey, saveDataKey, sealValue } from './data-key.js';

const plaintext = Buffer.from('s3cr3t-pässword\n');

test('a sealed value opens with the same key and id, and carries no plaintext', () => {
  const key = newDataKey();
  const sealed = sealValue(key, plaintext, 'secretid1');
  assert.ok(!sealed.includes('s3cr3t'));
  assert.ok(!Buffer.from(sealed).includes(plaintext));
  assert.deepEqual(openValue(key, sealed, 'secretid1'), plaintext);
  assert.notEqual(sealValue(key, plaintext, 'secretid1'), sealed, 'a fresh IV each time');
});

test('a tampered ciphertext, tag or IV is refused', () => {
  const key = newDataKey();
  const env = JSON.parse(sealValue(key, plaintext, 'x')) as Record<string, string>;
  for (const field of ['data', 'tag', 'iv']) {
    const b = Buffer.from(env[field]!, 'base64');
    b[0] = b[0]! ^ 1;
    const bad = JSON.stringify({ ...env, [field]: b.toString('base64') });
    assert.throws(() => openValue(key, bad, 'x'), (e: Error & { code?: string }) => e.code === 'swarm.secret_undecryptable', field);
  }
  assert.throws(() => openValue(key, 'not json', 'x'), /not an encrypted envelope/);
});

test('a value moved to another secret id, or opened with another key, is refused', () => {
  const key = newDataKey();
  const sealed = sealValue(key, plaintext, 'a');
  assert.throws(() => openValue(key, sealed, 'b'), /failed authentication/);
  assert.throws(() => openValue(newDataKey(), sealed, 'a'), /encrypted with another data key/);
  assert.throws(() => sealValue(Buffer.alloc(16), plaintext, 'a'), /must be 32 bytes/);
});

test('the key file is 0600 and reads back; no file = no key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'datakey-'));
  try {
    assert.equal(await loadDataKey(dir), undefined);
    await assert.rejects(requireDataKey(dir), (e: Error & { code?: string }) => e.code === 'swarm.data_key_missing');
    const key = newDataKey();
    await saveDataKey(dir, key);
    assert.equal((await stat(join(dir, DATA_KEY_FILE))).mode & 0o777, 0o600);
    assert.deepEqual(await loadDataKey(dir), key);
    assert.equal((await readFile(join(dir, DATA_KEY_FILE), 'utf8')).trim(), key.toString('base64'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the key is saved into a certificate directory that does not exist yet (init writes it beside the CA, at once)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-datakey-'));
  try {
    const dir = join(root, 'certificates');
    const key = newDataKey();
    await saveDataKey(dir, key);
    assert.deepEqual(await loadDataKey(dir), key);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
