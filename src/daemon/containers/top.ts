/** `docker top`: `ps` on the host, keeping the rows of the container's processes. */
import type { TopResult } from '../../api/types/index.js';
import { InvalidParameter } from '../../errdefs/index.js';
import { run } from '../../lib/exec.js';

/** Parses `ps` output and keeps the rows whose PID is one of `pids` (pure). */
export function parsePs(output: string, pids: number[]): TopResult {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift() ?? '';
  const titles = header.trim().split(/\s+/);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex === -1) throw new InvalidParameter('container.top_no_pid', "Couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const processes: string[][] = [];
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    // the last column (the command) may contain spaces
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    if (wanted.has(Number(row[pidIndex]))) processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}

/**
 * As moby: `ps ARGS -q PIDS`, so options that select processes by terminal
 * or user (`-o pid,user,args` alone lists only ps's own session) still see
 * every process of the container; options that refuse -q run without it.
 */
export async function topOf(pids: number[], psArgs = '-ef'): Promise<TopResult> {
  const args = psArgs.trim() ? psArgs.trim().split(/\s+/) : [];
  let out: string;
  try {
    out = (await run('ps', pids.length ? [...args, `-q${pids.join(',')}`] : args).catch(() => run('ps', args))).stdout;
  } catch (err) {
    throw new InvalidParameter('container.top_failed', `Error running ps: ${(err as Error).message}`);
  }
  return parsePs(out, pids);
}
