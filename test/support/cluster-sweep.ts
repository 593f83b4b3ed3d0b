/**
 * Clusters whose test process died outright (SIGKILL, an OOM kill: no
 * after() hook ran) are swept by the next TestCluster.start(). Each cluster
 * dir holds an owner record, rewritten as nodes are added:
 *
 *   /tmp/berth-cluster-1a2b3c/owner.json
 *     { "pid": 4242, "startTime": "123456",            (the test process: /proc/<pid>/stat field 22)
 *       "nodes": [{ "dir": "/tmp/berth-e2e-XyZ", "cgroupParent": "/berth-test-0a1b2c3d" }] }
 *
 * A cluster is an orphan when that process is gone (or the pid now names a
 * process started at another time). Sweeping it ends only what it started:
 * processes inside its namespaces, processes whose command line names a
 * node's dir (its berthd, its shims), processes in a node's cgroup parent
 * (containers); then mounts under the node dirs, cgroups, namespace files, dirs.
 */
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMountPoint, namespaceHolders, namespaceId, releaseNamespace, sh, unescapeMount } from './netns.js';

export interface OwnerRecord {
  pid: number;
  startTime: string;
  nodes: { dir: string; cgroupParent: string }[];
}

function startTime(pid: number): string | undefined {
  try {
    // the command name (field 2) may hold spaces: count from the closing parenthesis
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function writeOwner(clusterDir: string, nodes: OwnerRecord['nodes']): void {
  const rec: OwnerRecord = { pid: process.pid, startTime: startTime(process.pid) ?? '', nodes };
  writeFileSync(join(clusterDir, 'owner.json'), JSON.stringify(rec));
}

/** Sweeps every orphan cluster under /tmp; returns the dirs swept. */
export async function sweepOrphanClusters(): Promise<string[]> {
  const swept: string[] = [];
  for (const name of readdirSync('/tmp').filter((n) => n.startsWith('berth-cluster-'))) {
    const dir = join('/tmp', name);
    let rec: OwnerRecord;
    try {
      rec = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as OwnerRecord;
    } catch {
      continue; // being made right now, or not ours to judge
    }
    if (startTime(rec.pid) === rec.startTime) continue;
    await sweepCluster(dir, rec);
    swept.push(dir);
  }
  return swept;
}

async function sweepCluster(dir: string, rec: OwnerRecord): Promise<void> {
  const nsFiles = [
    ...(existsSync(dir) ? readdirSync(dir).filter((n) => n === 'lan' || n.endsWith('.net')).map((n) => ({ kind: 'net' as const, file: join(dir, n) })) : []),
    ...rec.nodes.map((n) => ({ kind: 'mnt' as const, file: join(n.dir, 'mnt.ns') })),
  ].filter((f) => existsSync(f.file) && isMountPoint(f.file));
  const ids = nsFiles.map((f) => ({ kind: f.kind, id: namespaceId(f.file) }));
  const ours = (): number[] => {
    const pids = new Set(ids.flatMap((n) => namespaceHolders(n.kind, n.id).pids));
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (rec.nodes.some((n) => cmd.includes(n.dir))) pids.add(Number(pid));
      } catch {
        // gone
      }
    }
    for (const n of rec.nodes) for (const procs of cgroupProcs(n.cgroupParent)) procs.forEach((p) => pids.add(p));
    pids.delete(process.pid);
    return [...pids];
  };
  for (let round = 0; round < 40; round++) {
    const pids = ours();
    if (!pids.length) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const f of nsFiles) releaseNamespace(f.file);
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => unescapeMount(l.split(' ')[1] ?? ''))
    .filter((m) => [dir, ...rec.nodes.map((n) => n.dir)].some((d) => m === d || m.startsWith(d + '/')));
  for (const m of mounts.sort((a, b) => b.length - a.length)) sh('umount', ['-l', m], false);
  for (const n of rec.nodes) {
    removeCgroups(n.cgroupParent);
    rmSync(n.dir, { recursive: true, force: true });
  }
  rmSync(dir, { recursive: true, force: true });
}

/** The pids in each cgroup below `parent`, per controller. */
function cgroupProcs(parent: string): number[][] {
  const out: number[][] = [];
  for (const ctrl of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    const base = join('/sys/fs/cgroup', ctrl, parent);
    if (!existsSync(base)) continue;
    for (const e of readdirSync(base, { withFileTypes: true }).filter((x) => x.isDirectory())) {
      try {
        out.push(readFileSync(join(base, e.name, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
      } catch {
        // removed meanwhile
      }
    }
  }
  return out;
}

function removeCgroups(parent: string): void {
  for (const ctrl of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    const base = join('/sys/fs/cgroup', ctrl, parent);
    if (!existsSync(base)) continue;
    for (const e of readdirSync(base, { withFileTypes: true }).filter((x) => x.isDirectory())) {
      try {
        rmdirSync(join(base, e.name));
      } catch {
        // still busy
      }
    }
    try {
      rmdirSync(base);
    } catch {
      // still busy
    }
  }
}
