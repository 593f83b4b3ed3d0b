import assert from 'node:assert/strict';
import { test } from 'node:test';
import { criLogLine } from './cri-format.js';

const t = 1475713029669794202n; // 2016-10-06T00:17:09.669794202Z

test('a full line is tagged F and loses its newline', () => {
  assert.equal(criLogLine('stdout', Buffer.from('hello\n'), t), '2016-10-06T00:17:09.669794202Z stdout F hello\n');
});

test('a piece of a long line is tagged P', () => {
  assert.equal(criLogLine('stderr', Buffer.from('abc'), t), '2016-10-06T00:17:09.669794202Z stderr P abc\n');
});

test('an empty line is a full line with no content', () => {
  assert.equal(criLogLine('stdout', Buffer.from('\n'), t), '2016-10-06T00:17:09.669794202Z stdout F \n');
});
