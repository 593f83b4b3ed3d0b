import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Filters } from '../../api/filters.js';
import type { ConfigView, SecretView } from '../../api/types/index.js';
import { newDataKey } from './data-key.js';
import { MemoryStore } from './memory-store.js';
import { plainBase64, sealedWith, SwarmFileObjects } from './secrets.js';
import { swarmFileKey } from './secret-objects.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function setup() {
  const store = new MemoryStore();
  const key = newDataKey();
  const secrets = new SwarmFileObjects<SecretView>('secret', () => store, sealedWith(async () => key));
  const configs = new SwarmFileObjects<ConfigView>('config', () => store, plainBase64);
  return { store, secrets, configs };
}

test('create, list, inspect: a secret\'s data is sealed in the store and never in its view', async () => {
  const { store, secrets } = setup();
  const id = await secrets.create({ Name: 'pw', Labels: { a: 'b' }, Data: b64('hunter2') });
  const raw = (await store.get(swarmFileKey('secret', id)))!.value;
  assert.ok(!raw.includes('hunter2') && !raw.includes(b64('hunter2')), raw);
  const view = await secrets.inspect('pw');
  assert.deepEqual(view.Spec, { Name: 'pw', Labels: { a: 'b' } });
  assert.equal(view.ID, id);
  assert.deepEqual(await secrets.data(id), Buffer.from('hunter2'));
  assert.deepEqual((await secrets.list(new Filters({ label: ['a=b'] }))).map((v) => v.ID), [id]);
  await assert.rejects(secrets.list(new Filters({ driver: ['x'] })), /invalid filter 'driver'/);
  await store.close();
});

test('a second create of one name is refused with swarmkit\'s AlreadyExists', async () => {
  const { store, secrets, configs } = setup();
  await secrets.create({ Name: 'pw', Data: b64('x') });
  await assert.rejects(secrets.create({ Name: 'pw', Data: b64('y') }), (e: Error & { code?: string }) => e.code === 'swarm.name_conflict' && e.message === 'rpc error: code = AlreadyExists desc = secret pw already exists');
  await configs.create({ Name: 'pw', Data: b64('x') }); // configs have names of their own
  await store.close();
});

test('update changes only labels; another name or other data is refused; a stale version is out of sequence', async () => {
  const { store, secrets, configs } = setup();
  const id = await secrets.create({ Name: 'pw', Data: b64('x') });
  const v = (await secrets.inspect(id)).Version.Index;
  await assert.rejects(secrets.update(id, v, { Name: 'other' }), /rpc error: code = InvalidArgument desc = only updates to Labels are allowed/);
  await assert.rejects(secrets.update(id, v, { Name: 'pw', Data: b64('y') }), /only updates to Labels are allowed/);
  await secrets.update(id, v, { Name: 'pw', Data: b64('x'), Labels: { k: 'v' } }); // same data is allowed
  assert.deepEqual((await secrets.inspect(id)).Spec.Labels, { k: 'v' });
  await assert.rejects(secrets.update(id, v, { Name: 'pw', Labels: {} }), /update out of sequence/);
  const cid = await configs.create({ Name: 'cf', Data: b64('port=80') });
  assert.equal((await configs.inspect('cf')).Spec.Data, b64('port=80'));
  await configs.update(cid, (await configs.inspect(cid)).Version.Index, { Name: 'cf', Labels: { x: '1' } });
  assert.deepEqual((await configs.inspect(cid)).Spec, { Name: 'cf', Labels: { x: '1' }, Data: b64('port=80') });
  await store.close();
});

test('remove refuses what a service record uses, then goes once the service is gone; the name is free again', async () => {
  const { store, secrets } = setup();
  const id = await secrets.create({ Name: 'pw', Data: b64('x') });
  await store.put('/berth/swarm/services/svc1', JSON.stringify({ spec: { Name: 'web', TaskTemplate: { ContainerSpec: { Secrets: [{ SecretID: id, SecretName: 'pw' }] } } } }));
  await assert.rejects(secrets.remove('pw'), (e: Error & { code?: string }) => e.code === 'swarm.secret_in_use' && e.message === "rpc error: code = InvalidArgument desc = secret 'pw' is in use by the following service: web");
  const after = JSON.parse((await store.get(swarmFileKey('secret', id)))!.value) as { removing?: boolean };
  assert.equal(after.removing, undefined, 'the removal mark is cleared when refused');
  await store.delete('/berth/swarm/services/svc1');
  await secrets.remove(id.slice(0, 5));
  await assert.rejects(secrets.inspect('pw'), /secret pw not found/);
  await secrets.create({ Name: 'pw', Data: b64('again') });
  await store.close();
});
