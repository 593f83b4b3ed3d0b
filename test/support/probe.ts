/**
 * A throwaway image with busybox and the syscall probe (test/support/probe.c,
 * compiled here with `gcc -static`), for checks from inside a container.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, type TestDaemon } from './daemon.js';

export async function buildProbeImage(d: TestDaemon, name = 'probe:latest'): Promise<void> {
  const dir = mkdtempSync('/tmp/berth-probe-');
  try {
    mkdirSync(join(dir, 'root', 'bin'), { recursive: true });
    mkdirSync(join(dir, 'root', 'tmp'), { mode: 0o1777 });
    execFileSync('gcc', ['-static', '-O2', '-o', join(dir, 'root', 'probe'), join(REPO, 'test/support/probe.c')]);
    copyFileSync('/bin/busybox', join(dir, 'root', 'bin', 'busybox'));
    for (const applet of ['sh', 'ls', 'cat', 'echo', 'sleep', 'mkdir', 'ln', 'rm', 'mv', 'ps', 'grep', 'test', 'true']) {
      symlinkSync('busybox', join(dir, 'root', 'bin', applet));
    }
    execFileSync('tar', ['-C', join(dir, 'root'), '-cf', join(dir, 'rootfs.tar'), '.']);
    const r = await d.docker(['import', '--change', 'CMD ["/bin/sh"]', join(dir, 'rootfs.tar'), name]);
    if (r.code !== 0) throw new Error(`importing the probe image failed: ${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
