/**
 * `berth image bootstrap [NAME]`: makes a busybox image with no network,
 * from the host's static busybox (Debian busybox-static): every applet
 * linked, a minimal /etc. The tar is built in memory as a stream and
 * imported like `docker import`.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { Command } from 'commander';
import { headerDefaults, TarWriter } from '../../../lib/tar/index.js';
import type { CliContext } from '../../context.js';
import { importTarball } from './import.js';

export const DEFAULT_BUSYBOX = '/bin/busybox';

const DIRS: [string, number][] = [
  ['bin', 0o755], ['sbin', 0o755], ['usr', 0o755], ['usr/bin', 0o755], ['usr/sbin', 0o755], ['etc', 0o755],
  ['root', 0o700], ['home', 0o755], ['tmp', 0o1777], ['var', 0o755], ['var/tmp', 0o1777], ['proc', 0o755],
  ['sys', 0o755], ['dev', 0o755],
];

const FILES: [string, string][] = [
  ['etc/passwd', 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n'],
  ['etc/group', 'root:x:0:\ndaemon:x:1:\ntty:x:5:\nstaff:x:50:\nnogroup:x:65534:\n'],
  ['etc/hostname', 'busybox\n'],
];

export function busyboxRootfs(busybox = DEFAULT_BUSYBOX): TarWriter {
  const applets = execFileSync(busybox, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const size = statSync(busybox).size;
  const tar = new TarWriter();
  void (async () => {
    try {
      for (const [name, mode] of DIRS) await tar.add(headerDefaults({ name: `${name}/`, type: 'dir', mode }));
      await tar.add(headerDefaults({ name: 'bin/busybox', type: 'file', mode: 0o755, size }), createReadStream(busybox));
      for (const a of applets) {
        if (a === 'bin/busybox') continue;
        await tar.add(headerDefaults({ name: a, type: 'symlink', linkname: '/bin/busybox', mode: 0o777 }));
      }
      for (const [name, text] of FILES) await tar.add(headerDefaults({ name, type: 'file', size: Buffer.byteLength(text) }), text);
      await tar.finish();
    } catch (err) {
      tar.abort(err as Error);
    }
  })();
  return tar;
}

export function bootstrapCommand(ctx: CliContext): Command {
  return new Command('bootstrap')
    .description("Make a busybox image from the host's static busybox (no network needed)")
    .argument('[name]', 'name of the image', 'busybox:latest')
    .option('--busybox <path>', 'static busybox binary to use', DEFAULT_BUSYBOX)
    .action(async (name: string, o: { busybox: string }) => {
      // the PATH Docker Hub's busybox sets, so Dockerfiles can say ENV PATH=/x:$PATH
      const changes = ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'CMD ["sh"]'];
      const id = await importTarball(ctx, busyboxRootfs(o.busybox).stream, name, changes, 'berth image bootstrap');
      ctx.print(id);
    });
}
