import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DockerIgnore, patternRegExp } from './dockerignore.js';

test("Docker's rules: globs, **, directories, ! exceptions, last match wins", () => {
  const ig = new DockerIgnore('# comment\n*.log\n!keep.log\nnode_modules\n**/tmp\ndocs/*.md\n!docs/README.md\n/abs\n');
  assert.ok(ig.excludes('a.log'));
  assert.ok(!ig.excludes('keep.log'));
  assert.ok(!ig.excludes('sub/a.log')); // * does not cross /
  assert.ok(ig.excludes('node_modules/x/y.js'));
  assert.ok(ig.excludes('tmp'));
  assert.ok(ig.excludes('a/b/tmp/c'));
  assert.ok(ig.excludes('docs/x.md'));
  assert.ok(!ig.excludes('docs/README.md'));
  assert.ok(!ig.excludes('docs/sub/x.md'));
  assert.ok(ig.excludes('abs'));
  assert.ok(!ig.excludes('Dockerfile'));
  assert.ok(ig.hasExclusions);
});

test('character classes, escapes and broken patterns', () => {
  assert.ok(patternRegExp('file[0-9].txt').test('file3.txt'));
  assert.ok(!patternRegExp('file[^0-9].txt').test('file3.txt'));
  assert.ok(patternRegExp('a\\*b').test('a*b'));
  assert.ok(patternRegExp('[unclosed').test('[unclosed'));
});

test('fuzz: random patterns and paths never throw or hang', () => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const alphabet = 'ab/*?[]!\\.^-{}()$+| ';
  const word = (n: number) => Array.from({ length: Math.floor(rnd() * n) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
  const start = Date.now();
  for (let i = 0; i < 3000; i++) {
    const ig = new DockerIgnore(Array.from({ length: 5 }, () => word(12)).join('\n'));
    for (let j = 0; j < 5; j++) ig.excludes(word(30).replace(/\s/g, 'x'));
  }
  assert.ok(Date.now() - start < 5000);
});

test('many stars against a long path run in linear time', () => {
  const started = Date.now();
  assert.equal(patternRegExp(`${'*a'.repeat(30)}b`).test('a'.repeat(60)), false);
  assert.ok(Date.now() - started < 10_000, `backtracking (exponential here) took ${Date.now() - started} ms`);
});
