import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { HtpasswdAccess } from './auth.js';

const dir = mkdtempSync('/tmp/berth-htpasswd-');
after(() => rmSync(dir, { recursive: true, force: true }));
const basic = (creds: string) => `Basic ${Buffer.from(creds).toString('base64')}`;

test('htpasswd: unknown users cost a bcrypt compare too (against a dummy hash of the same cost), so timing does not tell who exists', async () => {
  const file = join(dir, 'htpasswd');
  writeFileSync(file, `alice:${bcrypt.hashSync('wonderland', 6).replace(/^\$2b\$/, '$2y$')}\n`);
  const compared: string[] = [];
  const access = await HtpasswdAccess.load(file, 'test', async (plain, hash) => {
    compared.push(hash);
    return bcrypt.compare(plain, hash);
  });
  await assert.rejects(access.check(basic('mallory:wonderland')), { code: 'UNAUTHORIZED' });
  await assert.rejects(access.check(basic('mallory')), { code: 'UNAUTHORIZED' });
  await assert.rejects(access.check(basic('alice:rabbit')), { code: 'UNAUTHORIZED' });
  assert.equal(compared.length, 3);
  const [dummy, dummyToo, real] = compared as [string, string, string];
  assert.equal(dummy, dummyToo);
  assert.notEqual(dummy, real);
  assert.equal(dummy.slice(0, 7), '$2b$06$', 'the dummy has the cost of the real hashes');
  assert.equal(await access.check(basic('alice:wonderland')), 'alice');
  assert.equal(await access.check(basic('alice:wonderland')), 'alice');
  assert.equal(compared.length, 4, 'good credentials are remembered');
});

test('htpasswd: a file without bcrypt hashes stops start-up', async () => {
  const file = join(dir, 'plain');
  writeFileSync(file, 'bob:{SHA}abc\n');
  await assert.rejects(HtpasswdAccess.load(file), /user bob has no bcrypt hash/);
});
