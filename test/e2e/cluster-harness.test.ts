/**
 * The cluster harness (test/support/cluster.ts): three berthd "hosts", each
 * in a network namespace of its own on a LAN bridge; containers reach the
 * LAN through their node's NAT; a node survives kill -9 of its daemon; and
 * destroy() leaves nothing on the machine.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { TestCluster } from '../support/cluster.js';
import { sweepOrphanClusters } from '../support/cluster-sweep.js';
import { namespaceHolders, namespaceId } from '../support/netns.js';
import { waitFor } from '../support/wait.js';

const ipNetnsList = () => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
const rootLinks = () => spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').filter(Boolean);

describe('cluster harness', () => {
  let c: TestCluster;
  let namesBefore: string;
  let startMs = 0;
  before(async () => {
    namesBefore = ipNetnsList();
    const t0 = Date.now();
    c = await TestCluster.start(3, { busybox: true });
    startMs = Date.now() - t0;
  });
  after(async () => {
    await c?.destroy();
  });

  test('three nodes start, each with its own daemon, and each runs a busybox container', async (t) => {
    t.diagnostic(`3 nodes started with busybox loaded in ${startMs} ms`);
    for (const n of c.nodes) {
      // nsenter exec'd berthd in place: the pid kill9() signals is berthd's, inside the node's namespaces
      assert.match(readFileSync(`/proc/${n.pid}/cmdline`, 'utf8'), /berthd/);
      assert.equal(readlinkSync(`/proc/${n.pid}/ns/net`), `net:[${namespaceId(n.netns)}]`);
      assert.equal(readlinkSync(`/proc/${n.pid}/ns/mnt`), `mnt:[${namespaceId(n.daemon.mountNs!)}]`);
    }
    for (const n of c.nodes) {
      const run = await n.docker(['run', '-d', '--name', `on-${n.name}`, 'busybox', 'sleep', '300']);
      assert.equal(run.code, 0, run.stderr);
    }
    for (const n of c.nodes) {
      const ps = await n.docker(['ps', '--format', '{{.Names}}']);
      assert.equal(ps.stdout.trim(), `on-${n.name}`, 'each daemon sees only its own container');
    }
  });

  test('nodes reach each other at their LAN addresses; nothing of the LAN shows in the host namespace', async () => {
    const [n1, n2, n3] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
    for (const [from, to] of [[n1, n2], [n2, n3], [n3, n1]] as const) {
      const ping = await from.sh('busybox', ['ping', '-c', '1', '-W', '2', to.ip]);
      assert.equal(ping.code, 0, `${from.name} -> ${to.name}: ${ping.stdout}${ping.stderr}`);
    }
    // each node's /sys/class/net is its own: eth0 and its default bridge, not the others'
    const links = (await n1.sh('ls', ['/sys/class/net'])).stdout.split('\n');
    assert.ok(links.includes('eth0') && links.includes(n1.daemon.bridge), links.join(' '));
    assert.ok(!links.includes(n2.daemon.bridge));
    // a node's mount namespace holds no other namespace of the cluster alive
    const held = (await n1.sh('cat', ['/proc/self/mountinfo'])).stdout.split('\n').filter((l) => l.includes(' - nsfs ') && l.includes(c.dir));
    assert.deepEqual(held, []);
    assert.equal((await n1.sh('ip', ['route', 'show', 'default'])).stdout, '', 'no default route: LAN only');
    const host = rootLinks();
    for (const name of [c.bridge, `${c.bridge}n1`, ...c.nodes.map((n) => n.daemon.bridge)]) assert.ok(!host.includes(name), `${name} in the root namespace`);
    assert.equal(ipNetnsList(), namesBefore);
  });

  test("a container on node 1 pings node 2's LAN address through node 1's NAT", async () => {
    const ping = await c.node(1).docker(['exec', 'on-node1', 'ping', '-c', '1', '-W', '2', c.node(2).ip]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  });

  test('a node added later joins the LAN; an unplugged node is cut off until plugged back', async () => {
    const [n4] = await c.addNodes(1);
    assert.equal(n4!.name, 'node4');
    assert.equal((await n4!.docker(['images', '--format', '{{.Repository}}'])).stdout.trim(), 'busybox');
    const ping = (from: typeof n4, to: typeof n4) => from!.sh('busybox', ['ping', '-c', '1', '-W', '1', to!.ip]);
    assert.equal((await ping(n4, c.node(1))).code, 0);
    c.node(3).unplug();
    assert.notEqual((await ping(c.node(1), c.node(3))).code, 0, 'node 3 is off the LAN');
    assert.equal((await ping(c.node(1), n4)).code, 0, 'the others still talk');
    c.node(3).plug();
    await waitFor(async () => (await ping(c.node(1), c.node(3))).code === 0, 5000, 'node 3 back on the LAN');
  });

  test('kill -9 of node 2 and a restart: its container still runs and docker ps works', async (t) => {
    const n2 = c.node(2);
    const inspect = async (f: string) => (await n2.docker(['inspect', '--format', f, 'on-node2'])).stdout.trim();
    const containerPid = Number(await inspect('{{.State.Pid}}'));
    const daemonPid = n2.pid!;
    n2.kill9();
    await new Promise((r) => setTimeout(r, 200));
    assert.throws(() => process.kill(daemonPid, 0), 'berthd of node 2 is gone');
    assert.ok(process.kill(containerPid, 0), 'its container outlived it');
    assert.equal((await c.node(1).docker(['ps', '-q'])).stdout.trim().split('\n').length, 1, 'node 1 is untouched');
    const t0 = Date.now();
    await n2.restart();
    t.diagnostic(`node 2 restarted in ${Date.now() - t0} ms`);
    assert.notEqual(n2.pid, daemonPid);
    assert.equal(await inspect('{{.State.Status}} {{.State.Pid}}'), `running ${containerPid}`);
    const ps = await n2.docker(['ps', '--format', '{{.Names}} {{.Status}}']);
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, /^on-node2 Up/);
    const exec = await n2.docker(['exec', 'on-node2', 'ping', '-c', '1', '-W', '2', c.node(3).ip]);
    assert.equal(exec.code, 0, 'the reattached container still reaches the LAN: ' + exec.stdout + exec.stderr);
  });

  test('destroy leaves no namespace, link, mount, cgroup, shim or dir behind, even with a node killed midway', async () => {
    // as if a test failed right after killing node 3, with its container running
    c.node(3).kill9();
    await c.destroy();
    assert.deepEqual(c.leftovers(), { namespaces: [], links: [], mounts: [], cgroups: [], dirs: [], shims: [] });
    assert.equal(ipNetnsList(), namesBefore);
    const mine = [c.dir, ...c.nodes.map((n) => n.daemon.dir)];
    assert.deepEqual(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => mine.some((d) => l.includes(d))), []);
    await c.destroy(); // again: nothing to do, no error
  });
});

describe('cluster harness start-up failure', () => {
  test('a start that fails half-way takes down the namespaces and dirs it made', async () => {
    const err = await TestCluster.start(2, { daemon: { extraArgs: ['--no-such-flag'] } }).then(() => undefined, (e: Error) => e);
    assert.match(String(err?.message), /berthd exited at start/);
    const dir = /(\/tmp\/berth-cluster-\w+)/.exec(err!.message)![1]!;
    assert.equal(existsSync(dir), false);
    assert.deepEqual(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir)), []);
  });
});

/** Alive and not a zombie (a killed orphan waits a moment for init to reap it). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('cluster harness after a killed test process', () => {
  test('the next start sweeps a cluster whose test process died: daemon, shim, container, mounts, namespaces, dirs', async () => {
    // a test process that starts a one-node cluster with a running container, then dies by SIGKILL (no after() hook)
    const script = `import { TestCluster } from ${JSON.stringify(new URL('../support/cluster.js', import.meta.url).href)};
      const c = await TestCluster.start(1, { busybox: true });
      const n = c.node(1);
      const run = await n.docker(['run', '-d', 'busybox', 'sleep', '300']);
      console.log(JSON.stringify({ dir: c.dir, node: n.daemon.dir, cgroup: n.daemon.cgroupParent, pid: n.pid, netns: n.netns, container: run.stdout.trim() }));
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.on('exit', () => reject(new Error(`the child exited: ${out}`)));
    });
    const orphan = JSON.parse(line) as { dir: string; node: string; cgroup: string; pid: number; netns: string; container: string };
    const netnsId = namespaceId(orphan.netns);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.ok(running(orphan.pid), 'its berthd outlived it');

    assert.ok((await sweepOrphanClusters()).includes(orphan.dir));
    assert.equal(running(orphan.pid), false, 'berthd ended');
    assert.equal(existsSync(orphan.dir) || existsSync(orphan.node), false);
    assert.deepEqual(namespaceHolders('net', netnsId), { pids: [], mounts: [] });
    assert.deepEqual(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(orphan.node) || l.includes(orphan.dir)), []);
    assert.equal(readdirSync('/sys/fs/cgroup').some((ctrl) => existsSync(join('/sys/fs/cgroup', ctrl, orphan.cgroup))), false);
    const shims = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(orphan.node);
      } catch {
        return false;
      }
    });
    assert.deepEqual(shims, []);
  });
});
