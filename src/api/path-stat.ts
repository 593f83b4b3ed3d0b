/**
 * The stat of a path in a container as Docker's archive endpoints report it:
 * `X-Docker-Container-Path-Stat`, base64 of `{"name","size","mode","mtime","linkTarget"}`
 * where `mode` is a Go os.FileMode (type bits high, permissions low). Pure.
 */
export interface PathStat {
  name: string;
  size: number;
  /** Go os.FileMode bits. */
  mode: number;
  /** RFC 3339 with nanoseconds, UTC. */
  mtime: string;
  linkTarget: string;
}

export const STAT_HEADER = 'X-Docker-Container-Path-Stat';

export function encodeStatHeader(s: PathStat): string {
  return Buffer.from(JSON.stringify({ name: s.name, size: s.size, mode: s.mode, mtime: s.mtime, linkTarget: s.linkTarget })).toString('base64');
}
