import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRunMount, parseRunNetwork } from './run-mounts.js';

test('RUN --mount specs: defaults and aliases as BuildKit takes them', () => {
  assert.deepEqual(parseRunMount('target=/src'), { type: 'bind', target: '/src', source: '', rw: false });
  assert.deepEqual(parseRunMount('type=bind,from=build,src=/out,dst=/in,rw'), { type: 'bind', target: '/in', source: '/out', rw: true, from: 'build' });
  assert.deepEqual(parseRunMount('type=cache,target=/root/.cache,sharing=locked,mode=0700,uid=1000'),
    { type: 'cache', target: '/root/.cache', id: '/root/.cache', sharing: 'locked', source: '', mode: 0o700, uid: 1000, gid: 0, ro: false });
  assert.equal((parseRunMount('type=cache,id=pip,target=/c') as { id: string }).id, 'pip');
  assert.deepEqual(parseRunMount('type=tmpfs,target=/t,size=1m'), { type: 'tmpfs', target: '/t', size: 1 << 20 });
  assert.deepEqual(parseRunMount('type=secret,id=tok'), { type: 'secret', id: 'tok', required: false, mode: 0o400, uid: 0, gid: 0, target: '/run/secrets/tok' });
  assert.deepEqual(parseRunMount('type=secret,id=tok,env=TOKEN,required=true'), { type: 'secret', id: 'tok', required: true, mode: 0o400, uid: 0, gid: 0, env: 'TOKEN' });
  assert.equal((parseRunMount('type=secret,target=/etc/key.pem') as { id: string }).id, 'key.pem');
});

test('RUN --mount errors: ssh, unknown types, keys and values', () => {
  assert.throws(() => parseRunMount('type=ssh'), (e: Error & { kind?: string }) => e.kind === 'not_implemented' && /type=ssh is not supported/.test(e.message));
  assert.throws(() => parseRunMount('type=nfs,target=/x'), /unsupported mount type "nfs"/);
  assert.throws(() => parseRunMount('type=cache'), /mount type cache requires a target/);
  assert.throws(() => parseRunMount('type=tmpfs,target=/t,id=x'), /unexpected key 'id'/);
  assert.throws(() => parseRunMount('type=cache,target=/c,sharing=sometimes'), /unsupported sharing value "sometimes"/);
  assert.throws(() => parseRunMount('type=cache,target=/c,uid=me'), /invalid value for uid: me/);
  assert.throws(() => parseRunMount('type=secret'), /requires an id/);
  assert.equal(parseRunNetwork(undefined), 'default');
  assert.equal(parseRunNetwork('none'), 'none');
  assert.throws(() => parseRunNetwork('bridge'), /unsupported network mode "bridge"/);
});
