import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newEcdsaKeyPem } from './ca.js';
import { requestPem } from './csr.js';
import { run } from '../../lib/exec.js';

test('a request made in-process is one openssl verifies, for the key it was made with', async () => {
  const keyPem = await newEcdsaKeyPem();
  const csr = requestPem(keyPem);
  if (!csr) return assert.fail('no request for an EC key');
  assert.ok(csr.startsWith('-----BEGIN CERTIFICATE REQUEST-----\n'));
  const dir = await mkdtemp(join(tmpdir(), 'berth-csr-test-'));
  try {
    await writeFile(join(dir, 'request.csr'), csr);
    await writeFile(join(dir, 'key.pem'), keyPem, { mode: 0o600 });
    const verified = await run('openssl', ['req', '-in', 'request.csr', '-noout', '-verify', '-subject'], { cwd: dir });
    assert.match(`${verified.stdout}${verified.stderr}`, /verify OK/i);
    assert.match(verified.stdout, /subject=CN ?= ?csr/);
    const fromReq = await run('openssl', ['req', '-in', 'request.csr', '-noout', '-pubkey'], { cwd: dir });
    const fromKey = await run('openssl', ['pkey', '-in', 'key.pem', '-pubout'], { cwd: dir });
    assert.equal(fromReq.stdout, fromKey.stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a key it cannot sign with is left to openssl', () => {
  assert.equal(requestPem('not a key'), undefined);
});
