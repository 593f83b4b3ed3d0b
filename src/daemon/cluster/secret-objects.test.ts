import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Filters } from '../../api/filters.js';
import { decodeBase64Data, inUseError, listMatches, resolveRef, servicesUsing, validateCreate, validateName, type ServiceSpecRefs } from './secret-objects.js';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

test('names follow swarmkit: 1-64 of [a-zA-Z0-9-_.], starting and ending alphanumeric', () => {
  for (const ok of ['a', 'db_pw', 'my-secret.v2', 'A'.repeat(64)]) assert.equal(validateName(ok), ok);
  assert.throws(() => validateName(''), /rpc error: code = InvalidArgument desc = name must be provided/);
  for (const bad of ['-a', 'a-', 'a b', 'a/b', 'A'.repeat(65), '.hidden']) {
    assert.throws(() => validateName(bad), /invalid name, only 64 \[a-zA-Z0-9-_\.\] characters allowed, and the start and end character must be \[a-zA-Z0-9\]/, bad);
  }
});

test('data must be 1 byte up to less than 500 KiB for secrets, 1000 KiB for configs', () => {
  assert.deepEqual(validateCreate('secret', { Name: 's', Data: b64('x') }).data, Buffer.from('x'));
  assert.throws(() => validateCreate('secret', { Name: 's', Data: '' }), /secret data must be larger than 0 and less than 512000 bytes/);
  assert.throws(() => validateCreate('secret', { Name: 's', Data: b64(Buffer.alloc(500 * 1024)) }), /less than 512000 bytes/);
  assert.equal(validateCreate('secret', { Name: 's', Data: b64(Buffer.alloc(500 * 1024 - 1)) }).data.length, 500 * 1024 - 1);
  assert.equal(validateCreate('config', { Name: 'c', Data: b64(Buffer.alloc(600 * 1024)) }).data.length, 600 * 1024);
  assert.throws(() => validateCreate('config', { Name: 'c', Data: b64(Buffer.alloc(1000 * 1024)) }), /config data must be larger than 0 and less than 1024000 bytes/);
});

test('drivers and templating are refused, not ignored', () => {
  assert.throws(() => validateCreate('secret', { Name: 's', Data: b64('x'), Driver: { Name: 'vault' } }), /secret drivers \(--driver vault\) are not supported by berth/);
  assert.throws(() => validateCreate('config', { Name: 'c', Data: b64('x'), Templating: { Name: 'golang' } }), /config templating \(--template-driver golang\) is not supported by berth/);
});

test('base64 is decoded strictly, as Go does', () => {
  assert.deepEqual(decodeBase64Data('aGk='), Buffer.from('hi'));
  assert.throws(() => decodeBase64Data('aGk'), /illegal base64 data at input byte 0/);
  assert.throws(() => decodeBase64Data('aG!k'), /illegal base64 data at input byte 2/);
});

test('list filters: names exact, name and id prefixes ORed; labels ANDed', () => {
  const r = { id: 'abcdef', name: 'db_pw', labels: { env: 'prod', tier: '' } };
  const m = (f: Record<string, string[]>) => listMatches(new Filters(f), r);
  assert.equal(m({}), true);
  assert.equal(m({ names: ['db_pw'] }), true);
  assert.equal(m({ names: ['db'] }), false);
  assert.equal(m({ name: ['db'] }), true);
  assert.equal(m({ id: ['abc'] }), true);
  assert.equal(m({ id: ['zzz'], name: ['db'] }), true, 'any of names/name/id');
  assert.equal(m({ label: ['env=prod', 'tier'] }), true);
  assert.equal(m({ label: ['env=dev'] }), false);
  assert.equal(m({ name: ['db'], label: ['nope'] }), false);
});

test('a reference resolves by id, then exact name, then unique id prefix', () => {
  const all = [{ id: 'aaa111', name: 'one' }, { id: 'aaa222', name: 'aaa111x' }, { id: 'bbb333', name: 'aaa' }];
  assert.equal(resolveRef('secret', 'aaa111', all).name, 'one');
  assert.equal(resolveRef('secret', 'aaa', all).id, 'bbb333', 'an exact name beats an id prefix');
  assert.equal(resolveRef('secret', 'aaa2', all).name, 'aaa111x');
  assert.throws(() => resolveRef('secret', 'aa', all), /secret aa is ambiguous \(2 matches found\)/);
  assert.throws(() => resolveRef('config', 'nope', all), /^NotFound: config nope not found$|config nope not found/);
});

test('in-use check: the services whose spec references the id, in Docker\'s words', () => {
  const services: ServiceSpecRefs[] = [
    { Name: 'web', TaskTemplate: { ContainerSpec: { Secrets: [{ SecretID: 's1', SecretName: 'pw' }], Configs: [{ ConfigID: 'c1' }] } } },
    { Name: 'api', TaskTemplate: { ContainerSpec: { Secrets: [{ SecretID: 's2' }, { SecretID: 's1' }] } } },
    { Name: 'db', TaskTemplate: { ContainerSpec: { Secrets: null } } },
    { Name: 'bare' },
  ];
  assert.deepEqual(servicesUsing('secret', 's1', services), ['web', 'api']);
  assert.deepEqual(servicesUsing('secret', 's2', services), ['api']);
  assert.deepEqual(servicesUsing('secret', 'c1', services), [], 'a config id is no secret reference');
  assert.deepEqual(servicesUsing('config', 'c1', services), ['web']);
  assert.deepEqual(servicesUsing('secret', 'zz', services), []);
  assert.equal(inUseError('secret', 'pw', ['web']).message, "rpc error: code = InvalidArgument desc = secret 'pw' is in use by the following service: web");
  assert.equal(inUseError('config', 'cf', ['web', 'api']).message, "rpc error: code = InvalidArgument desc = config 'cf' is in use by the following services: web, api");
});

test('a worker may read only the secrets and configs its own tasks reference', async () => {
  const { nodeMayRead, taskRefsOf } = await import('./secret-objects.js');
  const tasks = [
    taskRefsOf(JSON.stringify({ ID: 't1', NodeID: 'n1', Spec: { ContainerSpec: { Secrets: [{ SecretID: 's1' }], Configs: [{ ConfigID: 'c1' }] } } }))!,
    taskRefsOf(JSON.stringify({ id: 't2', nodeId: 'n2', spec: { ContainerSpec: { Secrets: [{ SecretID: 's2' }] } } }))!,
    taskRefsOf(JSON.stringify({ ID: 't3', Spec: { ContainerSpec: { Secrets: [{ SecretID: 's3' }] } } }))!, // not assigned yet
  ];
  assert.equal(nodeMayRead('secret', 's1', 'n1', tasks), true);
  assert.equal(nodeMayRead('config', 'c1', 'n1', tasks), true);
  assert.equal(nodeMayRead('secret', 'c1', 'n1', tasks), false, 'a config reference grants no secret');
  assert.equal(nodeMayRead('secret', 's2', 'n1', tasks), false, "another node's task");
  assert.equal(nodeMayRead('secret', 's2', 'n2', tasks), true);
  assert.equal(nodeMayRead('secret', 's3', 'n1', tasks), false, 'an unassigned task');
  assert.equal(taskRefsOf('not json'), undefined);
});
