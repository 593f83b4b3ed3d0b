import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarString, fullString, isValidRepositoryName, isValidTag, parseReference, withDefaultTag } from './reference.js';

test('normalises short names like docker', () => {
  const cases: [string, string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['user/app:1.0', 'docker.io/user/app:1.0', 'user/app:1.0'],
    ['index.docker.io/library/alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
    ['localhost:5000/team/app:v1', 'localhost:5000/team/app:v1', 'localhost:5000/team/app:v1'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['docker.io/alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
    ['[::1]:5000/app', '[::1]:5000/app:latest', '[::1]:5000/app:latest'],
  ];
  for (const [input, full, familiar] of cases) {
    const ref = withDefaultTag(parseReference(input));
    assert.equal(fullString(ref), full, input);
    assert.equal(familiarString(ref), familiar, input);
  }
});

test('keeps digests and does not add a tag to them', () => {
  const d = `sha256:${'a'.repeat(64)}`;
  const ref = withDefaultTag(parseReference(`busybox@${d}`));
  assert.equal(ref.tag, undefined);
  assert.equal(familiarString(ref), `busybox@${d}`);
});

test('rejects bad references with docker wording', () => {
  assert.throws(() => parseReference('Busybox'), /must be lowercase/);
  assert.throws(() => parseReference('busy box'), /invalid reference format/);
  assert.throws(() => parseReference('a'.repeat(64)), /cannot specify 64-byte hexadecimal strings/);
  assert.throws(() => parseReference('app:-bad'), /invalid reference format/);
  assert.throws(() => parseReference(''), /invalid reference format/);
  assert.throws(() => parseReference(`x/${'a'.repeat(260)}`), /must not be more than 255/);
});

test('repository names as a registry sees them: lowercase components, no domain, 255 at most', () => {
  for (const ok of ['busybox', 'library/busybox', 'a/b/c', 'my-app', 'my__app', 'my.app', 'a--b', 'x'.repeat(255)]) assert.ok(isValidRepositoryName(ok), ok);
  for (const bad of ['', 'UPPER/case', 'a/../b', 'a//b', '-lead', 'trail-', '/abs', 'a/', 'a___b', 'a b', 'x'.repeat(256), 'localhost:5000/app']) {
    assert.ok(!isValidRepositoryName(bad), bad);
  }
});

test('tags: a word character first, then up to 127 of word, dot and dash', () => {
  for (const ok of ['latest', 'v1.0', '_x', 'A-b_c.d', 'x'.repeat(128)]) assert.ok(isValidTag(ok), ok);
  for (const bad of ['', '.x', '-x', 'a:b', 'a/b', 'x'.repeat(129), `sha256:${'a'.repeat(64)}`]) assert.ok(!isValidTag(bad), bad);
});
