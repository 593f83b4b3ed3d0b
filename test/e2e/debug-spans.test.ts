/** berthd --debug: per-request spans at GET /debug/spans (where run --rm and exec spend their time). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from '../support/daemon.js';
import { waitFor } from '../support/wait.js';

interface Trace { name: string; ms?: number; spans: { name: string; depth: number; ms?: number }[] }

describe('debug spans', () => {
  let d: TestDaemon;
  let plain: TestDaemon;
  const traces = async (t: TestDaemon) => JSON.parse((await t.http('GET', '/debug/spans')).body) as Trace[];
  before(async () => {
    d = await TestDaemon.start({ extraArgs: ['--debug'] });
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
    await plain?.destroy();
  });

  test('run --rm: the start request shows mount, network, shim and runc steps; the exit trace shows the removal', async () => {
    assert.equal((await d.docker(['run', '--rm', '--name', 'traced', 'busybox', 'true'])).code, 0);
    let exit: Trace | undefined;
    await waitFor(async () => {
      exit = (await traces(d)).find((t) => t.name.startsWith('container exit') && t.spans.some((s) => s.name === 'auto remove' && s.ms !== undefined));
      return !!exit;
    }, 10_000);
    const start = (await traces(d)).find((t) => /^POST \/v[\d.]+\/containers\/[0-9a-f]{64}\/start$/.test(t.name));
    assert.ok(start, 'a trace of the start request');
    const names = start.spans.map((s) => s.name);
    for (const n of ['shim start', 'rootfs mount', 'env prepare', 'syscall mount overlay', 'syscall netns', 'runtime create', 'ttrpc Create', 'ttrpc Start']) {
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    }
    assert.ok(start.spans.every((s) => typeof s.ms === 'number'));
    const exitNames = exit!.spans.map((s) => s.name);
    for (const n of ['task delete', 'env release', 'rootfs unmount', 'auto remove']) assert.ok(exitNames.includes(n), `${n} in ${exitNames.join(', ')}`);
    // one umount2(2) (through berth-spawner) for the network namespace and one for the rootfs: none for what is not mounted
    assert.deepEqual(exitNames.filter((n) => n === 'syscall umount').length, 2, exitNames.join(', '));
  });

  test('exec: the start request shows the ttrpc calls of the exec', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'host', 'busybox', 'sleep', '60'])).code, 0);
    assert.equal((await d.docker(['exec', 'host', 'true'])).code, 0);
    const start = (await traces(d)).reverse().find((t) => /\/exec\/[0-9a-f]{64}\/start$/.test(t.name));
    assert.ok(start);
    const names = start.spans.map((s) => s.name);
    for (const n of ['task exec', 'ttrpc Exec', 'exec start', 'ttrpc Start', 'exec wait', 'exec delete']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    await d.docker(['rm', '-f', 'host']);
  });

  test('without --debug there is no /debug/spans', async () => {
    plain = await TestDaemon.start();
    const r = await plain.http('GET', '/debug/spans');
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.body).message, 'page not found');
  });
});
