/**
 * The pod sandboxes' infra image made with no network: the host's static
 * busybox (Debian busybox-static, which berth's setup installs) as the
 * only file, running a shell that, as PID 1 of a pod's shared PID
 * namespace, reaps orphans while it waits, and exits on SIGTERM/SIGINT as
 * the real pause does. Imported under the sandbox image's name the first
 * time a pod needs it, so `--cri` works on a machine with no registry.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { headerDefaults, TarWriter } from '../../lib/tar/index.js';

export const STATIC_BUSYBOX = '/bin/busybox';

/** Marks an infra image berth made, so `docker image inspect` tells it from a pulled pause. */
export const PAUSE_LABEL = 'io.berth.pause';

// the waiting child runs as `busybox`, not `sleep`: the pod's containers share
// this PID namespace, and `pgrep sleep` in them must find only their own sleeps
const PAUSE_SCRIPT = "trap 'exit 0' TERM INT; while :; do /bin/busybox sleep 2147483647 & wait; done";

export const PAUSE_CHANGES = [
  `ENTRYPOINT ["/bin/sh", "-c", ${JSON.stringify(PAUSE_SCRIPT)}]`,
  'CMD []',
  `LABEL ${PAUSE_LABEL}=busybox`,
];

export async function pauseRootfs(busybox = STATIC_BUSYBOX): Promise<Readable> {
  const size = (await stat(busybox)).size;
  const tar = new TarWriter();
  void (async () => {
    try {
      for (const dir of ['bin', 'dev', 'proc', 'sys', 'etc']) await tar.add(headerDefaults({ name: `${dir}/`, type: 'dir', mode: 0o755 }));
      await tar.add(headerDefaults({ name: 'bin/busybox', type: 'file', mode: 0o755, size }), createReadStream(busybox));
      for (const applet of ['sh']) await tar.add(headerDefaults({ name: `bin/${applet}`, type: 'symlink', linkname: 'busybox', mode: 0o777 }));
      await tar.finish();
    } catch (err) {
      tar.abort(err as Error);
    }
  })();
  return tar.stream;
}
