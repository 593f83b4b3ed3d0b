import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newContainerRecord } from './create.js';
import { exitedState, runningState, type ContainerRecord } from './record.js';
import { SummaryCache } from './summary-cache.js';
import { summaryView } from './wire-views.js';

function container(name: string): ContainerRecord {
  const id = Buffer.from(name).toString('hex').padEnd(64, '0');
  return newContainerRecord({ id, name, request: { Cmd: ['echo', 'a "quoted" arg'], Labels: { 'x\u0001y': 'ü' } }, imageId: `sha256:${id}`, imageConfig: {}, cgroupVersion: 2 });
}

function setup(): { cache: SummaryCache; versions: Map<string, number>; bump: (r: ContainerRecord) => void } {
  const versions = new Map<string, number>();
  return { cache: new SummaryCache((id) => versions.get(id) ?? 0), versions, bump: (r) => versions.set(r.id, (versions.get(r.id) ?? 0) + 1) };
}

const expected = (recs: ContainerRecord[], now: number) => JSON.stringify(recs.map((r) => summaryView(r, r.config.Image, now)));

test('ps rows from the cache are the rows summaryView makes, Status included', () => {
  const { cache } = setup();
  const a = container('a');
  const b = container('b');
  b.state = runningState(b.state, 7, new Date(Date.now() - 65_000));
  b.networkSettings.Ports = { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }], '53/udp': null };
  const now = Date.now();
  assert.equal(cache.json([b, a], now), expected([b, a], now));
  assert.equal(cache.json([], now), '[]');
});

test('a cached row follows the clock: Status is made at each request', () => {
  const { cache } = setup();
  const a = container('a');
  a.state = runningState(a.state, 7, new Date(1_000_000));
  assert.match(cache.json([a], 1_000_000 + 2_000), /"Status":"Up 2 seconds"/);
  assert.match(cache.json([a], 1_000_000 + 3 * 60_000), /"Status":"Up 3 minutes"/);
});

test('a renamed, stopped or re-labelled container shows its new row', () => {
  const { cache, bump } = setup();
  const a = container('a');
  const now = Date.now();
  cache.json([a], now);
  // a rename mutates the record in place and saves it
  a.name = 'renamed';
  bump(a);
  assert.equal(cache.json([a], now), expected([a], now));
  assert.match(cache.json([a], now), /"Names":\["\/renamed"\]/);
  // state replaced, not saved yet (as `removing` is): seen by identity
  a.state = exitedState(a.state, 3, new Date(now));
  assert.equal(cache.json([a], now), expected([a], now));
  // a deep in-place change is seen once the record is saved
  a.mounts.push({ Type: 'volume', Name: 'v', Source: '/v', Destination: '/data', Driver: 'local', Mode: '', RW: true, Propagation: '' });
  bump(a);
  assert.equal(cache.json([a], now), expected([a], now));
  assert.match(cache.json([a], now), /"Destination":"\/data"/);
});

test('rows of removed containers can be dropped', () => {
  const { cache } = setup();
  const a = container('a');
  const b = container('b');
  cache.json([a, b]);
  assert.equal(cache.size, 2);
  cache.retain(new Set([b.id]));
  assert.equal(cache.size, 1);
});
