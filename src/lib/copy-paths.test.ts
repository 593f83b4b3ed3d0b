import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertsDirectory, getRebaseName, goBase, preserveTrailingDotOrSeparator, rebaseEntryName, splitPathDirEntry } from './copy-paths.js';

test('go filepath.Base and the trailing /. and / rules of docker cp', () => {
  assert.equal(goBase('/tmp/d/'), 'd');
  assert.equal(goBase('/'), '/');
  assert.equal(goBase('/tmp/d/.'), '.');
  assert.equal(preserveTrailingDotOrSeparator('/tmp/d', 'tmp/d/.'), '/tmp/d/.');
  assert.equal(preserveTrailingDotOrSeparator('/tmp/d', 'tmp/d/'), '/tmp/d/');
  assert.equal(preserveTrailingDotOrSeparator('/tmp/d', 'tmp/d'), '/tmp/d');
  assert.ok(assertsDirectory('/x/') && assertsDirectory('/x/.') && !assertsDirectory('/x'));
  assert.deepEqual(splitPathDirEntry('/a/b/'), ['/a', 'b']);
  assert.deepEqual(splitPathDirEntry('/a/b/.'), ['/a/b', '.']);
  assert.deepEqual(splitPathDirEntry('/f.txt'), ['/', 'f.txt']);
});

test('rebasing: -L copies and renamed destinations', () => {
  assert.deepEqual(getRebaseName('/data/link', '/data/f.txt'), ['/data/f.txt', 'link']);
  assert.deepEqual(getRebaseName('/data/link/', '/real/dir'), ['/real/dir/', 'link']);
  assert.deepEqual(getRebaseName('/data/same', '/other/same'), ['/other/same', '']);
  assert.equal(rebaseEntryName('f.txt', 'f.txt', 'new.txt'), 'new.txt');
  assert.equal(rebaseEntryName('tree/inner/x', 'tree', 'copy'), 'copy/inner/x');
  assert.equal(rebaseEntryName('treehouse/x', 'tree', 'copy'), 'treehouse/x', 'only whole components');
  assert.equal(rebaseEntryName('./a', '.', 'dest'), 'dest/a');
});
