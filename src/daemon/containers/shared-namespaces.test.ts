import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Conflict } from '../../errdefs/index.js';
import type { ContainerRecord } from './record.js';
import { sharedNamespaces } from './shared-namespaces.js';
import { namespacesFor } from './spec.js';

const rec = (id: string, running: boolean, pid: number) => ({ id, state: { Running: running, Pid: pid } }) as unknown as ContainerRecord;
const records = new Map([['pause', rec('pause-id', true, 4242)], ['stopped', rec('stopped-id', false, 0)]]);
const find = (ref: string) => records.get(ref);

test('container:<ref> modes join the running container\'s namespace files', () => {
  assert.deepEqual(sharedNamespaces({ IpcMode: 'container:pause', PidMode: 'container:pause' }, find), { ipc: '/proc/4242/ns/ipc', pid: '/proc/4242/ns/pid' });
  assert.deepEqual(sharedNamespaces({ IpcMode: 'private', PidMode: '' }, find), {});
});

test('joining a stopped or missing container is a Conflict in moby\'s words', () => {
  assert.throws(() => sharedNamespaces({ IpcMode: 'container:stopped' }, find), (e) => e instanceof Conflict && e.message === 'cannot join IPC of a non running container: stopped-id');
  assert.throws(() => sharedNamespaces({ PidMode: 'container:nope' }, find), (e) => e instanceof Conflict && e.message === 'cannot join PID of a non running container: nope');
});

test('the spec joins the given paths and makes new namespaces otherwise', () => {
  const ns = namespacesFor({ IpcMode: 'container:pause', PidMode: 'container:pause' }, 1, undefined, false, { ipc: '/proc/1/ns/ipc', pid: '/proc/1/ns/pid' });
  assert.deepEqual(ns.filter((n) => n.type === 'ipc' || n.type === 'pid'), [{ type: 'pid', path: '/proc/1/ns/pid' }, { type: 'ipc', path: '/proc/1/ns/ipc' }]);
  assert.deepEqual(namespacesFor({}, 1, undefined, false).filter((n) => n.type === 'ipc' || n.type === 'pid'), [{ type: 'pid' }, { type: 'ipc' }]);
});
