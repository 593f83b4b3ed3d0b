import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headerList } from './reply.js';

test('headers go out as a flat list; a name given twice falls back to the merge where the last one wins', () => {
  assert.deepEqual(headerList({ 'Api-Version': '1.47' }, { 'Content-Length': 2 }, {}), ['Api-Version', '1.47', 'Content-Length', '2']);
  assert.deepEqual(headerList({ 'Api-Version': '1.47' }, { 'Content-Type': 'a' }, { 'content-type': 'b' }), { 'Api-Version': '1.47', 'Content-Type': 'a', 'content-type': 'b' });
  assert.deepEqual(headerList({ Server: 'x' }, { 'Content-Type': 'a' }, { 'Content-Type': 'b' }), { Server: 'x', 'Content-Type': 'b' });
});
