import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeConfig, newContainerRecord } from './create.js';

const image = { Env: ['PATH=/bin', 'A=image'], Cmd: ['sh'], Entrypoint: null, WorkingDir: '/w', Labels: { from: 'image' } };

test('user config wins over the image, key by key', () => {
  const c = mergeConfig({ Env: ['A=user', 'B=1'], Labels: { mine: 'yes' }, Image: 'busybox' }, image);
  assert.deepEqual(c.Env, ['A=user', 'B=1', 'PATH=/bin']);
  assert.deepEqual(c.Cmd, ['sh']);
  assert.equal(c.WorkingDir, '/w');
  assert.deepEqual(c.Labels, { from: 'image', mine: 'yes' });
});

test('an entrypoint from the user drops the image cmd', () => {
  const c = mergeConfig({ Entrypoint: ['/init'] }, image);
  assert.deepEqual(c.Entrypoint, ['/init']);
  assert.equal(c.Cmd, null);
});

test('a record needs a command and gets docker defaults', () => {
  const id = 'a'.repeat(64);
  assert.throws(() => newContainerRecord({ id, name: 'x', request: {}, imageId: `sha256:${id}`, imageConfig: {}, cgroupVersion: 1 }), /No command specified/);
  const rec = newContainerRecord({ id, name: 'x', request: { Cmd: ['true'], HostConfig: { Memory: 64 << 20 } }, imageId: `sha256:${id}`, imageConfig: {}, cgroupVersion: 1 });
  assert.equal(rec.config.Hostname, id.slice(0, 12));
  assert.equal(rec.path, 'true');
  assert.equal(rec.hostConfig.MemorySwap, 128 << 20);
  assert.equal(rec.hostConfig.ShmSize, 64 << 20);
  assert.equal(rec.state.Status, 'created');
});

test('bad host config is refused with docker wording', () => {
  const id = 'b'.repeat(64);
  const mk = (hc: Record<string, unknown>) => newContainerRecord({ id, name: 'x', request: { Cmd: ['true'], HostConfig: hc }, imageId: `sha256:${id}`, imageConfig: {}, cgroupVersion: 1 });
  assert.throws(() => mk({ Memory: 1024 }), /Minimum memory limit allowed is 6MB/);
  assert.throws(() => mk({ AutoRemove: true, RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } }), /AutoRemove/);
  assert.throws(() => mk({ RestartPolicy: { Name: 'sometimes', MaximumRetryCount: 0 } }), /invalid restart policy/);
});

test('a healthcheck from the user fills its unset fields from the image (moby merge)', () => {
  const S = 1_000_000_000;
  const img = { ...image, Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 30 * S, Retries: 5 } };
  assert.deepEqual(mergeConfig({}, img).Healthcheck, img.Healthcheck);
  assert.deepEqual(mergeConfig({ Healthcheck: { Interval: S } }, img).Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: S, Retries: 5 });
  assert.deepEqual(mergeConfig({ Healthcheck: { Test: ['NONE'] } }, img).Healthcheck?.Test, ['NONE']);
  assert.deepEqual(mergeConfig({ Healthcheck: { Test: ['CMD', 'x'] } }, image).Healthcheck, { Test: ['CMD', 'x'] });
});

test('healthcheck durations under 1ms and negative retries are refused', () => {
  const id = 'c'.repeat(64);
  const mk = (Healthcheck: Record<string, unknown>) => newContainerRecord({ id, name: 'x', request: { Cmd: ['true'], Healthcheck }, imageId: `sha256:${id}`, imageConfig: {}, cgroupVersion: 1 });
  assert.throws(() => mk({ Test: ['CMD', 'true'], Interval: 1000 }), /Interval in Healthcheck cannot be less than 1ms/);
  assert.throws(() => mk({ Test: ['CMD', 'true'], Retries: -1 }), /Retries in Healthcheck cannot be negative/);
  assert.equal(mk({ Test: ['CMD', 'true'], Interval: 0, Timeout: 1_000_000 }).config.Healthcheck?.Timeout, 1_000_000);
});
