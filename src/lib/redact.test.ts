import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactSecrets } from './redact.js';

test('credentials in mount options are blanked, other options kept', () => {
  assert.equal(redactSecrets('username=bob,password=hunter2,vers=3.0'), 'username=bob,password=********,vers=3.0');
  assert.equal(redactSecrets('mount -t cifs -o user=a,pass=x //h/s /mnt'), 'mount -t cifs -o user=a,pass=******** //h/s /mnt');
  assert.equal(redactSecrets('name=admin,secret=AQD9=='), 'name=admin,secret=********');
  assert.equal(redactSecrets('error="o=PASSWORD=abc"'), 'error="o=PASSWORD=********"');
  assert.equal(redactSecrets('lowerdir=/a:/b,upperdir=/c,nopassword=1'), 'lowerdir=/a:/b,upperdir=/c,nopassword=1');
});
