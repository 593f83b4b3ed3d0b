/**
 * Container hardening, checked from inside containers with the real docker
 * CLI: namespaces, Docker's capabilities, the default seccomp profile, masked
 * and read-only /proc, read-only /sys, the device allow-list, and what
 * --privileged, --cap-add/--cap-drop, --security-opt, --read-only and --init change.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';
import { buildProbeImage } from '../support/probe.js';

/** Docker's 14 default capabilities as the kernel prints them (CapBnd/CapEff). */
const DOCKER_DEFAULT_CAPS = '00000000a80425fb';
const CHECKS = ['add_key', 'keyctl', 'clone-newuser', 'clone-plain', 'clone3', 'unshare-ns', 'personality-linux32', 'personality-norandom', 'ptrace', 'kcmp'];

describe('container hardening', () => {
  let d: TestDaemon;
  let tmp: string;
  const run = (args: string[]) => d.docker(['run', '--rm', ...args]);
  const out = async (args: string[]) => {
    const r = await run(args);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const field = (status: string, name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1];
  /** Runs every probe check in one container: { add_key: 'EPERM', ... }. */
  const probe = async (flags: string[]) => {
    const script = CHECKS.map((c) => `echo ${c}=$(/probe ${c})`).join('; ');
    const text = await out([...flags, 'probe', 'sh', '-c', script]);
    return Object.fromEntries(text.trim().split('\n').map((l) => l.split('=') as [string, string]));
  };

  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    await buildProbeImage(d);
    tmp = mkdtempSync('/tmp/berth-sec-');
  });
  after(async () => {
    await d?.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('a container has its own namespaces, docker\'s capabilities and a seccomp filter', async () => {
    const text = await out(['busybox', 'sh', '-c', 'grep -E "^(CapBnd|CapEff|CapInh|Seccomp|NoNewPrivs):" /proc/self/status; for n in pid mnt uts ipc net cgroup; do echo ns_$n: $(readlink /proc/self/ns/$n); done']);
    assert.equal(field(text, 'CapBnd'), DOCKER_DEFAULT_CAPS);
    assert.equal(field(text, 'CapEff'), DOCKER_DEFAULT_CAPS);
    assert.equal(field(text, 'CapInh'), '0000000000000000');
    assert.equal(field(text, 'Seccomp'), '2', 'filter mode');
    assert.equal(field(text, 'NoNewPrivs'), '0');
    for (const ns of ['pid', 'mnt', 'uts', 'ipc', 'net']) assert.notEqual(field(text, `ns_${ns}`), readlinkSync(`/proc/self/ns/${ns}`), ns);
    // cgroup v1 (this machine): the host's cgroup namespace unless asked, as Docker does
    assert.equal(field(text, 'ns_cgroup'), readlinkSync('/proc/self/ns/cgroup'));
    const priv = await out(['--cgroupns', 'private', 'busybox', 'readlink', '/proc/self/ns/cgroup']);
    assert.notEqual(priv.trim(), readlinkSync('/proc/self/ns/cgroup'));
  });

  test('masked and read-only /proc, read-only /sys, no mounts, only the default devices', async () => {
    const text = await out(['busybox', 'sh', '-c', [
      'echo timer_list=$(cat /proc/timer_list | wc -c)', 'echo keys=$(cat /proc/keys | wc -c)',
      'echo 1 > /proc/sys/vm/drop_caches 2>/dev/null; echo proc_sys=$?', 'touch /sys/x 2>&1', 'mount -t tmpfs none /tmp 2>&1; echo mount=$?',
      'mknod /tmp/lc c 10 237 && head -c 1 /tmp/lc 2>&1; true', 'echo dev=$(ls /dev | tr "\\n" " ")',
    ].join('; ')]);
    assert.match(text, /timer_list=0\n/, '/proc/timer_list masked by /dev/null');
    assert.match(text, /keys=0\n/, '/proc/keys masked');
    assert.match(text, /proc_sys=1/);
    assert.match(text, /touch: \/sys\/x: Read-only file system/);
    assert.match(text, /mount=1/);
    assert.match(text, /head: \/tmp\/lc: Operation not permitted/, 'a device outside the allow-list (loop-control) cannot be opened even after mknod');
    assert.equal(/dev=(.*)/.exec(text)![1]!.trim(), 'fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero');
  });

  test('seccomp refuses namespaces, keyrings, kcmp and odd personas by default; capabilities unlock their groups', async () => {
    const def = await probe([]);
    assert.deepEqual(def, {
      add_key: 'EPERM', keyctl: 'EPERM', 'clone-newuser': 'EPERM', 'clone-plain': 'ok', clone3: 'ENOSYS', 'unshare-ns': 'EPERM',
      'personality-linux32': 'ok', 'personality-norandom': 'EPERM', ptrace: 'ok', kcmp: 'EPERM',
    });
    const admin = await probe(['--cap-add', 'SYS_ADMIN']);
    assert.equal(admin['clone-newuser'], 'ok');
    assert.equal(admin.clone3, 'ok');
    assert.equal(admin['unshare-ns'], 'ok');
    assert.equal(admin.add_key, 'EPERM', 'keyrings stay closed even to CAP_SYS_ADMIN');
    assert.equal((await probe(['--cap-add', 'SYS_PTRACE'])).kcmp, 'ok');
    // busybox's own tools, as a user would try them
    assert.match((await run(['busybox', 'unshare', '-U', 'true'])).stderr, /unshare\(0x10000000\): Operation not permitted/);
    assert.equal((await run(['--security-opt', 'seccomp=unconfined', 'busybox', 'unshare', '-U', 'true'])).code, 0);
    assert.match((await run(['--cap-drop', 'SYS_CHROOT', 'busybox', 'chroot', '/', 'true'])).stderr, /Operation not permitted/);
  });

  test('seccomp=unconfined and --privileged drop the filter', async () => {
    for (const flags of [['--security-opt', 'seccomp=unconfined'], ['--privileged']]) {
      const p = await probe(flags);
      assert.equal(p.add_key, 'ok', flags.join(' '));
      assert.equal(p['clone-newuser'], 'ok', flags.join(' '));
      assert.equal(field(await out([...flags, 'busybox', 'cat', '/proc/self/status']), 'Seccomp'), '0');
    }
  });

  test('a seccomp profile from a file applies (even with --privileged); a bad one is refused', async () => {
    const profile = join(tmp, 'no-mkdir.json');
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }, null, 2));
    for (const flags of [['--security-opt', `seccomp=${profile}`], ['--privileged', '--security-opt', `seccomp=${profile}`]]) {
      const r = await run([...flags, 'busybox', 'sh', '-c', 'grep Seccomp: /proc/self/status; mkdir /tmp/x']);
      assert.match(r.stdout, /Seccomp:\s+2/);
      assert.match(r.stderr, /mkdir: can't create directory '\/tmp\/x': Operation not permitted/);
    }
    const berth = await d.berth(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'mkdir', '/tmp/y']);
    assert.match(berth.stderr, /Operation not permitted/, 'berth sends the profile the same way');
    writeFileSync(join(tmp, 'bad.json'), JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ERRNO' }] }));
    const bad = await run(['--security-opt', `seccomp=${join(tmp, 'bad.json')}`, 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /both 'name' and 'names' are specified in the seccomp profile/);
  });

  test('--privileged: every capability the daemon has, writable /sys, unmasked /proc, host devices', async () => {
    const text = await out(['--privileged', 'busybox', 'sh', '-c', [
      'grep CapEff /proc/self/status', 'grep " /sys sysfs" /proc/mounts', 'echo timer_list=$(head -c 100 /proc/timer_list | wc -c)',
      'echo devices=$(ls /dev | wc -l)', 'mknod /tmp/lc c 10 237 && head -c 1 /tmp/lc 2>&1; true',
    ].join('; ')]);
    const daemonCaps = /^CapBnd:\s*(\S+)/m.exec(readFileSync(`/proc/${d.pid}/status`, 'utf8'))![1];
    assert.equal(field(text, 'CapEff'), daemonCaps);
    assert.match(text, / \/sys sysfs rw,/);
    assert.match(text, /timer_list=100/);
    assert.ok(Number(/devices=(\d+)/.exec(text)![1]) > 20, 'host devices are there');
    assert.match(text, /head: \/tmp\/lc: Input\/output error/, 'loop-control opens: the device cgroup allows everything');
    // exec --privileged into an ordinary container: the same capabilities (none the daemon lacks)
    const id = (await d.docker(['run', '-d', 'busybox', 'sleep', '60'])).stdout.trim();
    const exec = await d.docker(['exec', '--privileged', id, 'grep', 'CapEff', '/proc/self/status']);
    assert.equal(field(exec.stdout, 'CapEff'), daemonCaps, exec.stderr);
    await d.docker(['rm', '-f', id]);
  });

  test('--cap-add / --cap-drop change what root may do; unknown capabilities are refused', async () => {
    assert.match((await run(['--cap-drop', 'CHOWN', 'busybox', 'chown', '1', '/tmp'])).stderr, /Operation not permitted/);
    assert.match((await run(['busybox', 'ip', 'link', 'set', 'lo', 'down'])).stderr, /Operation not permitted/);
    assert.equal((await run(['--cap-add', 'NET_ADMIN', 'busybox', 'ip', 'link', 'set', 'lo', 'down'])).code, 0);
    const only = await out(['--cap-drop', 'ALL', '--cap-add', 'NET_BIND_SERVICE', 'busybox', 'grep', 'CapEff', '/proc/self/status']);
    assert.equal(field(only, 'CapEff'), '0000000000000400');
    const bad = await run(['--cap-add', 'FLY', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid CapAdd: unknown capability: "CAP_FLY"/);
    const badOpt = await run(['--security-opt', 'mystery=1', 'busybox', 'true']);
    assert.match(badOpt.stderr, /invalid --security-opt 2: "mystery=1"/);
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '', 'refused creates leave no container');
  });

  test('no-new-privileges, --read-only and systempaths=unconfined', async () => {
    assert.equal(field(await out(['--security-opt', 'no-new-privileges', 'busybox', 'cat', '/proc/self/status']), 'NoNewPrivs'), '1');
    const ro = await run(['--read-only', 'busybox', 'sh', '-c', 'touch /x; touch /tmp/x; touch /dev/shm/ok && echo shm-ok; echo 127.0.0.2 extra >> /etc/hosts && echo hosts-ok']);
    assert.match(ro.stderr, /touch: \/x: Read-only file system/);
    assert.match(ro.stderr, /touch: \/tmp\/x: Read-only file system/);
    assert.match(ro.stdout, /shm-ok\nhosts-ok/);
    const open = await out(['--security-opt', 'systempaths=unconfined', 'busybox', 'sh', '-c', 'head -c 10 /proc/timer_list | wc -c']);
    assert.equal(open.trim(), '10');
  });

  test('--init runs tini as pid 1, which forwards SIGTERM so stop is quick', async () => {
    const ps = await out(['--init', 'busybox', 'ps', '-o', 'pid,comm']);
    assert.match(ps, /^\s*1 docker-init$/m);
    const id = (await d.docker(['run', '-d', '--init', 'busybox', 'sleep', '60'])).stdout.trim();
    const t0 = Date.now();
    assert.equal((await d.docker(['stop', '-t', '10', id])).code, 0);
    assert.ok(Date.now() - t0 < 5000, `stop took ${Date.now() - t0} ms`);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.ExitCode}} {{.HostConfig.Init}}', id])).stdout.trim(), '143 true');
    await d.docker(['rm', id]);
    assert.match((await run(['--init', 'busybox', 'touch', '/sbin/docker-init'])).stderr, /Read-only file system/);
  });

  test('--device maps a host device with its cgroup permissions', async () => {
    const text = await run(['--device', '/dev/loop-control:/dev/lc:r', 'busybox', 'sh', '-c', 'ls -l /dev/lc; head -c 1 /dev/lc; echo x > /dev/lc']);
    assert.match(text.stdout, /^crw------- .* 10, 237 .* \/dev\/lc$/m);
    assert.match(text.stderr, /head: \/dev\/lc: Input\/output error/, 'read is allowed: the open succeeds');
    assert.match(text.stderr, /can't create \/dev\/lc: Operation not permitted/, 'write is not in the rule');
    const missing = await run(['--device', '/dev/nonexistent', 'busybox', 'true']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /error gathering device information while adding custom device "\/dev\/nonexistent"/);
  });
});

describe('user namespace remapping (userns-remap: default)', () => {
  let d: TestDaemon | undefined;
  let root: string;
  let createdUser = false;
  before(async () => {
    createdUser = spawnSync('id', ['dockremap']).status !== 0;
    // the remapped root must be able to walk to its layers: a data root under a 0711 directory
    root = mkdtempSync('/tmp/berth-userns-');
    chmodSync(root, 0o711);
    d = await TestDaemon.start({ dataRoot: join(root, 'data'), extraArgs: ['--userns-remap', 'default'] });
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
    rmSync(root, { recursive: true, force: true });
    if (createdUser) spawnSync('userdel', ['dockremap']);
  });

  test('root in the container is the first subordinate uid of dockremap on the host', async () => {
    const sub = /^dockremap:(\d+):(\d+)$/m.exec(readFileSync('/etc/subuid', 'utf8'));
    assert.ok(sub, 'dockremap got a subordinate uid range');
    const [, start, count] = sub;
    const id = (await d!.docker(['run', '-d', 'busybox', 'sh', '-c', 'touch /made-by-root; sleep 60'])).stdout.trim();
    const pid = (await d!.docker(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim();
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    assert.match(status, new RegExp(`^Uid:\\s+${start}\\s+${start}\\s+${start}\\s+${start}$`, 'm'));
    const inside = (await d!.docker(['exec', id, 'sh', '-c', 'id -u; cat /proc/self/uid_map; ls -ln /made-by-root /bin/busybox'])).stdout;
    assert.match(inside, /^0\n/);
    assert.match(inside, new RegExp(`^\\s*0\\s+${start}\\s+${count}$`, 'm'));
    assert.match(inside, /-rw-r--r--\s+1 0\s+0\s+0 .* \/made-by-root/, 'the container sees its own files as root-owned');
    // on the host the same files belong to the remapped uid, in a data root of its own
    const info = (await d!.docker(['info', '-f', '{{.DockerRootDir}} {{json .SecurityOptions}}'])).stdout.trim();
    assert.ok(info.startsWith(join(root, 'data', `${start}.`)), info);
    assert.match(info, /"name=userns"/);
    const store = info.split(' ')[0]!;
    assert.equal(statSync(join(store, 'containers', id, 'rw', 'diff', 'made-by-root')).uid, Number(start));
    const layer = readdirSync(join(store, 'layers')).find((n) => /^[a-f0-9]{64}$/.test(n))!;
    assert.equal(statSync(join(store, 'layers', layer, 'diff', 'bin', 'busybox')).uid, Number(start), 'image layers are unpacked with shifted owners');
    await d!.docker(['rm', '-f', id]);
  });

  test('--privileged and the host namespaces need --userns=host, which runs as the host root', async () => {
    const priv = await d!.docker(['run', '--rm', '--privileged', 'busybox', 'true']);
    assert.equal(priv.code, 125);
    assert.match(priv.stderr, /privileged mode is incompatible with user namespaces/);
    assert.match((await d!.docker(['run', '--rm', '--pid', 'host', 'busybox', 'true'])).stderr, /cannot share the host PID namespace when user namespaces are enabled/);
    const host = await d!.docker(['run', '--rm', '--userns', 'host', 'busybox', 'sh', '-c', 'cat /proc/self/uid_map; id -u']);
    assert.match(host.stdout, /^\s*0\s+0\s+4294967295\n0\n$/);
  });

  test('an unknown remap user stops the daemon with dockerd\'s message', async () => {
    await assert.rejects(TestDaemon.start({ extraArgs: ['--userns-remap', 'no-such-user-berth'] }), /Error during uid lookup for "no-such-user-berth"/);
  });
});
