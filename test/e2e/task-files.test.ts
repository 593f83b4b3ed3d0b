/**
 * A task's secret and config files (src/daemon/cluster/task-files.ts), for
 * real as root: a tmpfs under the container's state dir, read-only once
 * written, files with the reference's mode, uid and gid, the binds Docker
 * would make, and a cleanup that leaves no mount and no directory.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupTaskFiles, materializeTaskFiles, resolveTaskFiles, TASK_FILES_DIR } from '../../src/daemon/cluster/task-files.js';

const root = mkdtempSync(join(tmpdir(), 'berth-task-files-'));
after(async () => {
  await cleanupTaskFiles(root).catch(() => {});
  rmSync(root, { recursive: true, force: true });
});

/** The mount at `dir` as /proc/self/mounts shows it, or undefined. */
function mountAt(dir: string): { type: string; options: string[] } | undefined {
  const line = readFileSync('/proc/self/mounts', 'utf8').split('\n').find((l) => l.split(' ')[1] === dir);
  if (!line) return undefined;
  const [, , type, options] = line.split(' ');
  return { type: type!, options: options!.split(',') };
}

test('secrets and configs become files on a read-only tmpfs, with their mode, uid and gid, bound where Docker binds them', async () => {
  const files = await resolveTaskFiles({
    Secrets: [
      { SecretID: 'sid1', SecretName: 'db_pw', File: { Name: 'db_pw', UID: '0', GID: '0', Mode: 0o444 } },
      { SecretID: 'sid1', SecretName: 'db_pw', File: { Name: '/etc/app/pw', UID: '1000', GID: '1001', Mode: 0o400 } },
    ],
    Configs: [
      { ConfigID: 'cid1', ConfigName: 'nginx', File: { Name: 'nginx.conf', UID: '33', GID: '33', Mode: 0o640 } },
      { ConfigID: 'cid2', ConfigName: 'cred', Runtime: {} },
    ],
  }, { secret: async (id) => Buffer.from(`secret of ${id}`), config: async (id) => Buffer.from(`config of ${id}`) });
  assert.equal(files.length, 3, 'a Runtime config makes no file');

  const made = await materializeTaskFiles(root, files);
  const dir = join(root, TASK_FILES_DIR);
  const m = mountAt(dir);
  assert.ok(m, 'a mount at the state dir');
  assert.equal(m.type, 'tmpfs');
  for (const o of ['ro', 'nosuid', 'nodev', 'noexec']) assert.ok(m.options.includes(o), `${o} in ${m.options.join(',')}`);
  assert.equal(statSync(dir).mode & 0o777, 0o700);

  assert.deepEqual(made.mounts.map((x) => x.destination), ['/run/secrets/db_pw', '/etc/app/pw', '/nginx.conf']);
  for (const x of made.mounts) {
    assert.equal(x.type, 'bind');
    assert.ok(x.options?.includes('ro'));
    assert.ok(x.source!.startsWith(dir + '/'));
  }
  const [pw, pw2, conf] = made.mounts.map((x) => x.source!);
  assert.equal(readFileSync(pw!, 'utf8'), 'secret of sid1');
  assert.equal(readFileSync(conf!, 'utf8'), 'config of cid1');
  const st = (p: string) => { const s = statSync(p); return [s.mode & 0o7777, s.uid, s.gid]; };
  assert.deepEqual(st(pw!), [0o444, 0, 0]);
  assert.deepEqual(st(pw2!), [0o400, 1000, 1001]);
  assert.deepEqual(st(conf!), [0o640, 33, 33]);
  assert.throws(() => writeFileSync(join(dir, 'secrets', 'new'), 'x'), /EROFS/, 'the tmpfs is read-only once written');

  await made.cleanup();
  assert.equal(mountAt(dir), undefined, 'unmounted');
  assert.equal(existsSync(dir), false, 'directory gone');
  await made.cleanup(); // twice is fine
});

test('a failure half-way leaves no mount behind', async () => {
  await assert.rejects(materializeTaskFiles(root, [
    { kind: 'secret', id: 'a', target: { Name: 'a', UID: '0', GID: '0', Mode: 0o444 }, data: Buffer.from('x') },
    { kind: 'secret', id: 'b', target: { Name: 'b', UID: 'www-data', GID: '0', Mode: 0o444 }, data: Buffer.from('y') },
  ]), /invalid uid 'www-data'/);
  assert.equal(mountAt(join(root, TASK_FILES_DIR)), undefined);
  const made = await materializeTaskFiles(root, []);
  assert.deepEqual(made.mounts, []);
  assert.equal(mountAt(join(root, TASK_FILES_DIR)), undefined, 'no references, no tmpfs');
});
