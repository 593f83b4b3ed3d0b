/**
 * Registry mirrors in containerd's hosts.toml form: an air-gapped node pulls
 * `registry.k8s.io/...` (unreachable here) from a loopback mirror listed in
 * `<hosts dir>/registry.k8s.io/hosts.toml`, through `docker pull` and the
 * CRI's PullImage; a push of that name never goes to the mirror.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';
import { CriClient } from '../support/cri-client.js';
import { startRegistry, type Registry } from '../support/registry.js';

describe('registry mirrors from hosts.toml', () => {
  let d: TestDaemon;
  let reg: Registry;
  let dir: string;
  let cri: CriClient;

  const ok = (args: string[]) => d.dockerOk(args, { timeoutMs: 120_000 });

  before(async () => {
    dir = mkdtempSync('/tmp/berth-hosts-toml-');
    reg = await startRegistry();
    mkdirSync(join(dir, 'hosts', 'registry.k8s.io'), { recursive: true });
    writeFileSync(join(dir, 'hosts', 'registry.k8s.io', 'hosts.toml'),
      `server = "https://registry.k8s.io"\n\n[host."http://${reg.host}"]\n  capabilities = ["pull", "resolve"]\n`);
    d = await TestDaemon.start({ extraArgs: ['--registry-hosts-dir', join(dir, 'hosts'), '--cri-socket', join(dir, 'cri.sock')] });
    cri = new CriClient(join(dir, 'cri.sock'));
    await d.busybox();
    for (const tag of ['x', 'cri']) await ok(['tag', 'busybox', `${reg.host}/pause:${tag}`]);
    for (const tag of ['x', 'cri']) await ok(['push', `${reg.host}/pause:${tag}`]);
    for (const tag of ['x', 'cri']) await ok(['rmi', `${reg.host}/pause:${tag}`]);
  });
  after(async () => {
    cri?.close();
    await d?.destroy();
    await reg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('docker pull registry.k8s.io/pause:x comes from the loopback mirror', async () => {
    await ok(['pull', 'registry.k8s.io/pause:x']);
    assert.equal((await ok(['run', '--rm', 'registry.k8s.io/pause:x', 'echo', 'from-mirror'])).trim(), 'from-mirror');
  });

  test('CRI PullImage goes through the same mirror', async () => {
    const pulled = await cri.image('PullImage', { image: { image: 'registry.k8s.io/pause:cri' } });
    assert.match(pulled.image_ref as string, /^sha256:/);
    const st = await cri.image('ImageStatus', { image: { image: 'registry.k8s.io/pause:cri' } });
    assert.ok((st.image.repo_tags as string[]).includes('registry.k8s.io/pause:cri'));
  });

  test('a tag the mirror lacks falls through to the server (unreachable offline) and fails', async () => {
    const r = await d.docker(['pull', 'registry.k8s.io/pause:missing'], { timeoutMs: 120_000 });
    assert.equal(r.code, 1);
  });

  test('push never goes to a mirror', async () => {
    const r = await d.docker(['push', 'registry.k8s.io/pause:x'], { timeoutMs: 120_000 });
    assert.equal(r.code, 1, 'the push went somewhere: only the mirror was reachable');
    await ok(['pull', `${reg.host}/pause:x`]);
  });
});
