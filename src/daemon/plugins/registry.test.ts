import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotFound, SystemError } from '../../errdefs/index.js';
import { Logger } from '../../lib/logger.js';
import type { PluginClient } from './client.js';
import type { PluginSpec } from './discovery.js';
import { PluginRegistry } from './registry.js';

function registry(answers: Record<string, () => Promise<unknown>>, timeoutMs = 1_000) {
  const activations: string[] = [];
  const options: unknown[] = [];
  const r = new PluginRegistry({
    locator: {
      find: async (name) => (name in answers ? { name, addr: `unix:///x/${name}.sock` } : undefined),
      scan: async () => Object.keys(answers),
    },
    timeoutMs,
    log: new Logger('error'),
    connect: async (spec: PluginSpec) => ({
      name: spec.name,
      call: async (method: string, _args: unknown, o: unknown) => {
        assert.equal(method, 'Plugin.Activate');
        options.push(o);
        activations.push(spec.name);
        return answers[spec.name]!();
      },
    }) as unknown as PluginClient,
  });
  return { r, activations, options };
}

test('a plugin is activated once, concurrent users share the handshake, and Implements is honoured', async () => {
  let release!: () => void;
  const gate = new Promise<void>((res) => (release = res));
  const { r, activations } = registry({ vol: async () => (await gate, { Implements: ['VolumeDriver'] }) });
  const both = Promise.all([r.get('vol', 'VolumeDriver'), r.get('vol', 'VolumeDriver')]);
  release();
  const [a, b] = await both;
  assert.equal(a, b);
  assert.deepEqual(activations, ['vol']);
  await assert.rejects(r.get('vol', 'authz'), (e: Error) => e instanceof SystemError && e.message === 'legacy plugin: Plugin does not implement the requested driver');
  assert.deepEqual(activations, ['vol']);
});

test('an unknown plugin is NotFound; a failed handshake is forgotten so the next use tries again', async () => {
  let fail = true;
  const { r, activations } = registry({ flaky: async () => {
    if (fail) throw new Error('Plugin.Activate: connection refused');
    return { Implements: ['authz'] };
  } });
  await assert.rejects(r.get('nope', 'authz'), (e: Error) => e instanceof NotFound && e.message === 'plugin "nope" not found');
  await assert.rejects(r.get('flaky', 'authz'), /^Error: legacy plugin: Plugin.Activate: connection refused$|legacy plugin: Plugin.Activate: connection refused/);
  fail = false;
  assert.equal((await r.get('flaky', 'authz')).name, 'flaky');
  assert.deepEqual(activations, ['flaky', 'flaky']);
});

test('getAll: the plugins implementing a kind; broken ones are skipped', async () => {
  const { r, options } = registry({
    a: async () => ({ Implements: ['VolumeDriver'] }),
    b: async () => ({ Implements: ['authz'] }),
    c: async () => { throw new Error('down'); },
    d: async () => 'garbage',
  }, 60_000);
  assert.deepEqual((await r.getAll('VolumeDriver')).map((p) => p.name), ['a']);
  // while scanning: no retries, and a short handshake deadline
  for (const o of options) assert.deepEqual(o, { retry: false, timeoutMs: 5_000 });
  assert.deepEqual(r.activeNames('VolumeDriver'), ['a']);
  assert.deepEqual(r.activeNames('authz'), ['b']);
});

test('managed plugins are asked first: they win over a legacy plugin of the name, a disabled one is an error, getAll lists both', async () => {
  const { r, activations } = registry({ vol: async () => ({ Implements: ['VolumeDriver'] }), legacy: async () => ({ Implements: ['VolumeDriver'] }) });
  const client = { name: 'vol:latest' } as unknown as PluginClient;
  const managed = { name: 'vol:latest', client, manifest: { Implements: ['VolumeDriver'] }, scopePath: (p: string) => `/root${p}` };
  r.attachManaged({
    lookup: async (name) => {
      if (name === 'off') throw new SystemError('plugin.disabled', 'plugin off:latest found but disabled');
      return name === 'vol' ? managed : undefined;
    },
    enabled: async () => [managed],
    readyNames: () => [managed],
  });
  assert.equal(await r.get('vol', 'VolumeDriver'), managed);
  await assert.rejects(r.get('vol', 'authz'), /plugin does not provide authz capability/);
  await assert.rejects(r.get('off', 'VolumeDriver'), /plugin off:latest found but disabled/);
  assert.deepEqual(activations, []);
  assert.equal((await r.get('legacy', 'VolumeDriver')).name, 'legacy');
  assert.deepEqual((await r.getAll('VolumeDriver')).map((p) => p.name), ['vol:latest', 'vol', 'legacy']);
  assert.deepEqual(r.activeNames('VolumeDriver'), ['legacy', 'vol', 'vol:latest']);
});
