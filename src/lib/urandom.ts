import { open } from 'node:fs/promises';

/**
 * `n` random bytes read from the kernel's source, for the boot path (ids of a
 * first boot's predefined networks, the engine id, the bridge's MAC): node:crypto
 * loaded only for these would keep ~0.7 MiB in an idle daemon (issue 18).
 */
export async function urandomBytes(n: number): Promise<Buffer> {
  const fh = await open('/dev/urandom', 'r');
  try {
    const buf = Buffer.alloc(n);
    let got = 0;
    while (got < n) got += (await fh.read(buf, got, n - got, null)).bytesRead;
    return buf;
  } finally {
    await fh.close();
  }
}
