import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseChmod } from './chmod.js';

test('--chmod: octal sets the mode, symbolic changes each entry\'s own', () => {
  assert.equal(parseChmod('0755')(0o600, false), 0o755);
  assert.equal(parseChmod('640')(0o777, true), 0o640);
  assert.equal(parseChmod('u+x')(0o644, false), 0o744);
  assert.equal(parseChmod('a=r')(0o755, false), 0o444);
  assert.equal(parseChmod('go-w,u+x')(0o666, false), 0o744);
  assert.equal(parseChmod('+x')(0o600, false), 0o711);
  assert.equal(parseChmod('a+X')(0o644, false), 0o644);
  assert.equal(parseChmod('a+X')(0o644, true), 0o755);
  assert.equal(parseChmod('g=u')(0o740, false), 0o770);
  assert.equal(parseChmod('u+s')(0o755, false), 0o4755);
  assert.throws(() => parseChmod('u+q'), /invalid chmod parameter: u\+q/);
  assert.throws(() => parseChmod('9999'), /invalid chmod parameter/);
});
