import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from './router.js';

const r = new Router<string>()
  .add('GET', '/images/json', 'list')
  .add('GET', '/images/:name+/json', 'inspect')
  .add('POST', '/images/:name+/push', 'push')
  .add('DELETE', '/images/:name+', 'delete')
  .add('GET', '/containers/:id/json', 'cinspect');

test('literal routes win when listed first', () => {
  assert.deepEqual(r.match('GET', '/images/json'), { handler: 'list', params: {} });
});

test('greedy names keep slashes and colons', () => {
  assert.deepEqual(r.match('GET', '/images/localhost:5000/team/app:1.2/json'), {
    handler: 'inspect', params: { name: 'localhost:5000/team/app:1.2' },
  });
  assert.deepEqual(r.match('POST', '/images/localhost%3A5000/bb/push'), { handler: 'push', params: { name: 'localhost:5000/bb' } });
  assert.deepEqual(r.match('DELETE', '/images/sha256:abc'), { handler: 'delete', params: { name: 'sha256:abc' } });
});

test('HEAD falls back to GET; unknown paths do not match', () => {
  assert.equal(r.match('HEAD', '/containers/abc/json')?.handler, 'cinspect');
  assert.equal(r.match('GET', '/containers/abc/nope'), undefined);
  assert.equal(r.match('GET', '/images/%E0%A4%A/json'), undefined);
  assert.ok(r.hasPath('/containers/x/json'));
});
