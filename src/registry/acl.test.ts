import assert from 'node:assert/strict';
import { test } from 'node:test';
import { grantedActions, type AclEntry } from './acl.js';

const repo = (name: string, ...actions: string[]) => ({ type: 'repository', name, actions });

test('without an ACL a user gets their own namespace and nothing else', () => {
  for (const [user, scope, want] of [
    ['alice', repo('alice/x', 'pull', 'push'), ['pull', 'push']],
    ['alice', repo('alice/deep/x', 'delete'), ['delete']],
    ['alice', repo('bob/x', 'pull', 'push'), []],
    ['alice', repo('alicex/y', 'pull'), []],
    ['alice', repo('alice', 'pull'), []],
    ['alice', repo('alice/x', '*'), []],
    ['alice', { type: 'registry', name: 'catalog', actions: ['*'] }, []],
    [undefined, repo('alice/x', 'pull'), []],
  ] as const) {
    assert.deepEqual(grantedActions([], user, { ...scope, actions: [...scope.actions] }), want, `${user} ${scope.name}`);
  }
});

test('ACL entries widen the defaults: by account, anyone signed in, anonymous; globs; the catalog', () => {
  const acl: AclEntry[] = [
    { account: 'alice', name: 'team/*', actions: ['pull', 'push'] },
    { account: '*', name: 'public/?', actions: ['pull'] },
    { account: '', name: 'open/*', actions: ['pull'] },
    { account: 'ops', type: 'registry', name: 'catalog', actions: ['*'] },
    { account: 'ops', name: 'team/a.b', actions: ['*'] },
  ];
  assert.deepEqual(grantedActions(acl, 'alice', repo('team/app/sub', 'pull', 'push', 'delete')), ['pull', 'push']);
  assert.deepEqual(grantedActions(acl, 'bob', repo('team/app', 'pull')), []);
  assert.deepEqual(grantedActions(acl, 'bob', repo('public/x', 'pull', 'push')), ['pull']);
  assert.deepEqual(grantedActions(acl, 'bob', repo('public/xy', 'pull')), []);
  assert.deepEqual(grantedActions(acl, undefined, repo('public/x', 'pull')), []);
  assert.deepEqual(grantedActions(acl, undefined, repo('open/x', 'pull', 'push')), ['pull']);
  assert.deepEqual(grantedActions(acl, 'bob', repo('open/x', 'pull')), ['pull']);
  assert.deepEqual(grantedActions(acl, 'ops', { type: 'registry', name: 'catalog', actions: ['*'] }), ['*']);
  assert.deepEqual(grantedActions(acl, 'ops', repo('team/a.b', 'pull', 'delete', 'pull')), ['pull', 'delete']);
  assert.deepEqual(grantedActions(acl, 'ops', repo('team/axb', 'pull')), []);
});
