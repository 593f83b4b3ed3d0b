import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseChallenges } from './auth.js';

test('parses Bearer and Basic challenges', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team/app:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:team/app:pull,push' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  assert.deepEqual(parseChallenges(['Basic realm=x', 'Bearer realm="r",error="insufficient_scope"']), [
    { scheme: 'basic', params: { realm: 'x' } },
    { scheme: 'bearer', params: { realm: 'r', error: 'insufficient_scope' } },
  ]);
  assert.deepEqual(parseChallenges(undefined), []);
  assert.deepEqual(parseChallenges('Bearer realm="a \\"q\\"",service=s'), [{ scheme: 'bearer', params: { realm: 'a "q"', service: 's' } }]);
});
