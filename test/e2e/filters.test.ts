/**
 * The `filters` parameter against a real berthd, one rule set for every
 * list, prune and the event stream (src/api/filters.ts): label! as dockerd's
 * matchLabels, names as expressions, booleans and until as dockerd reads
 * them, and dockerd's words for what it refuses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from '../support/daemon.js';

const q = (filters: Record<string, string[]>) => `filters=${encodeURIComponent(JSON.stringify(filters))}`;

describe('filters', () => {
  let d: TestDaemon;
  const post = (path: string, body: unknown) => d.http('POST', path, JSON.stringify(body));
  const json = async (method: string, path: string) => {
    const r = await d.http(method, path);
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body);
  };
  const refused = async (method: string, path: string, message: string) => {
    const r = await d.http(method, path);
    assert.equal(r.status, 400, `${method} ${path}: ${r.body}`);
    assert.equal(JSON.parse(r.body).message, message);
  };

  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  test('volume ls: label! leaves out only what carries every label! value; name is an expression', async () => {
    for (const [Name, Labels] of [['both', { a: '1', b: '2' }], ['only-a', { a: '1' }], ['plain', {}]] as const) {
      assert.equal((await post('/volumes/create', { Name, Labels })).status, 201);
    }
    const names = async (f: Record<string, string[]>) => (await json('GET', `/volumes?${q(f)}`)).Volumes.map((v: { Name: string }) => v.Name).sort();
    assert.deepEqual(await names({ 'label!': ['a', 'b'] }), ['only-a', 'plain']);
    assert.deepEqual(await names({ 'label!': ['a'] }), ['plain']);
    assert.deepEqual(await names({ label: ['a'], 'label!': ['b=2'] }), ['only-a']);
    assert.deepEqual(await names({ name: ['^only-'] }), ['only-a']);
    assert.deepEqual(await names({ name: ['oth'] }), ['both']);
    await refused('GET', `/volumes?${q({ dangling: ['maybe'] })}`, "invalid filter 'dangling=[maybe]'");
    await refused('GET', `/volumes?${q({ dangling: ['true', 'false'] })}`, "invalid filter 'dangling=[true false]'");
    await refused('GET', `/volumes?${q({ until: ['1h'] })}`, "invalid filter 'until'");
    await refused('POST', `/volumes/prune?${q({ all: ['maybe'] })}`, `invalid filter 'all': strconv.ParseBool: parsing "maybe": invalid syntax`);
    const pruned = await json('POST', `/volumes/prune?${q({ all: ['true'], 'label!': ['a', 'b'], label: ['a'] })}`);
    assert.deepEqual(pruned.VolumesDeleted, ['only-a']);
  });

  test('network ls and prune: dangling refused as dockerd does, label!, until in Go durations and given once', async () => {
    for (const [Name, Labels] of [['net-both', { a: '1', b: '2' }], ['net-a', { a: '1' }]] as const) {
      assert.equal((await post('/networks/create', { Name, Labels })).status, 201);
    }
    const names = async (f: Record<string, string[]>) => (await json('GET', `/networks?${q(f)}`)).map((n: { Name: string }) => n.Name).sort();
    assert.deepEqual(await names({ 'label!': ['a', 'b'], type: ['custom'] }), ['net-a']);
    assert.deepEqual(await names({ name: ['^net-a$'] }), ['net-a']);
    assert.deepEqual(await names({ dangling: ['1'] }), ['net-a', 'net-both']);
    await refused('GET', `/networks?${q({ dangling: ['maybe'] })}`, `invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`);
    await refused('GET', `/networks?${q({ dangling: ['true', '1'] })}`, 'got more than one value for filter key "dangling"');
    await refused('POST', `/networks/prune?${q({ until: ['1h', '2h'] })}`, 'more than one until filter specified');
    await refused('POST', `/networks/prune?${q({ until: ['soon'] })}`, "invalid filter 'until=soon'");
    // created a moment ago: not older than 1h30m, so kept
    assert.equal((await json('POST', `/networks/prune?${q({ until: ['1h30m'] })}`)).NetworksDeleted, null);
    const later = String(Math.ceil(Date.now() / 1000) + 3600);
    assert.deepEqual((await json('POST', `/networks/prune?${q({ until: [later], 'label!': ['a', 'b'] })}`)).NetworksDeleted, ['net-a']);
  });

  test('container prune: label! and until; ps: label and a name that is no expression', async () => {
    for (const [name, Labels] of [['c-both', { a: '1', b: '2' }], ['c-a', { a: '1' }]] as const) {
      assert.equal((await post(`/containers/create?name=${name}`, { Image: 'busybox', Cmd: ['true'], Labels })).status, 201);
    }
    const ps = async (f: Record<string, string[]>) => (await json('GET', `/containers/json?all=1&${q(f)}`)).map((c: { Names: string[] }) => c.Names[0]).sort();
    assert.deepEqual(await ps({ label: ['a', 'b=2'] }), ['/c-both']);
    assert.deepEqual(await ps({ name: ['c-[ab'] }), [], 'an invalid expression only matches exactly');
    await refused('GET', `/containers/json?${q({ 'label!': ['a'] })}`, "invalid filter 'label!'");
    await refused('POST', `/containers/prune?${q({ until: ['10m', '1h'] })}`, 'more than one until filter specified');
    assert.equal((await json('POST', `/containers/prune?${q({ until: ['1h30m'] })}`)).ContainersDeleted, null);
    const pruned = await json('POST', `/containers/prune?${q({ 'label!': ['a', 'b'] })}`);
    assert.equal(pruned.ContainersDeleted.length, 1);
    assert.deepEqual(await ps({}), ['/c-both']);
  });

  test('events: every label filter must match', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    for (const [name, Labels] of [['e-both', { x: '1', y: '2' }], ['e-x', { x: '1' }]] as const) {
      assert.equal((await post(`/containers/create?name=${name}`, { Image: 'busybox', Cmd: ['true'], Labels })).status, 201);
    }
    const until = Math.ceil(Date.now() / 1000) + 1;
    const r = await d.http('GET', `/events?since=${since}&until=${until}&${q({ type: ['container'], event: ['create'], label: ['x', 'y=2'] })}`);
    assert.equal(r.status, 200, r.body);
    const names = r.body.split('\n').filter(Boolean).map((l) => JSON.parse(l).Actor.Attributes.name);
    assert.deepEqual(names, ['e-both']);
  });

  test('images and image prune: booleans exactly as dockerd, until once in any time form', async () => {
    await refused('GET', `/images/json?${q({ dangling: ['TRUE'] })}`, "invalid filter 'dangling=[TRUE]'");
    await refused('POST', `/images/prune?${q({ dangling: ['maybe'] })}`, "invalid filter 'dangling=[maybe]'");
    await refused('POST', `/images/prune?${q({ reference: ['busybox'] })}`, "invalid filter 'reference'");
    await refused('POST', `/images/prune?${q({ until: ['1h30m', '2h'] })}`, 'more than one until filter specified');
    const kept = await json('POST', `/images/prune?${q({ dangling: ['0'], until: ['1h30m'], label: ['no-such-label'] })}`);
    assert.equal(kept.ImagesDeleted, null);
    const later = String(Math.ceil(Date.now() / 1000) + 3600);
    assert.equal((await json('GET', `/images/json?${q({ until: [later], reference: ['busybox'] })}`)).length, 1);
    await refused('GET', `/images/json?${q({ until: ['1 hour'] })}`, "invalid filter 'until=1 hour'");
  });
});
