/**
 * A RUN's command line as BuildKit's dispatchRun makes it from heredocs,
 * the script files it mounts, and the mask over its output for secrets.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MountSpec } from '../../api/types/index.js';
import { heredocMarkers, type Instruction } from './dockerfile.js';
import type { RunMount } from './run-mounts.js';

/**
 * The RUN's command, heredocs as BuildKit's dispatchRun makes them: one
 * heredoc that is the whole command runs as a script (a `#!` line picks
 * the interpreter: the file is mounted at /dev/pipes/<name> and executed),
 * any other heredoc use goes to the shell with the bodies put back.
 */
export function runCommand(ins: Instruction, shell: string[]): { cmd: string[]; pipes: { name: string; content: string }[] } {
  if (ins.json || !ins.heredocs?.length) return { cmd: ins.json ?? [...shell, ins.rest], pipes: [] };
  const [first] = ins.heredocs;
  if (ins.heredocs.length === 1 && ins.rest.trim() === heredocMarkers(ins.rest)[0]?.word) {
    if (first!.content.startsWith('#!')) return { cmd: [...shell, `/dev/pipes/${first!.name}`], pipes: [{ name: first!.name, content: first!.content }] };
    return { cmd: [...shell, first!.content], pipes: [] };
  }
  return { cmd: [...shell, ins.rest + ins.heredocs.map((h) => `\n${h.raw}${h.name}`).join('')], pipes: [] };
}

export async function writePipes(pipes: { name: string; content: string }[], stepDir: string): Promise<MountSpec[]> {
  const out: MountSpec[] = [];
  for (const p of pipes) {
    const file = join(stepDir, `pipe-${p.name}`);
    await writeFile(file, p.content, { mode: 0o755 });
    out.push({ Type: 'bind', Source: file, Target: `/dev/pipes/${p.name}`, ReadOnly: true });
  }
  return out;
}

/** A RUN's output with its secrets' values masked, so `cat /run/secrets/x` does not print one into the log. */
export function secretRedactor(secrets: Map<string, Buffer>, mounts: RunMount[]): (text: string) => string {
  const values = mounts.flatMap((m) => (m.type === 'secret' ? [secrets.get(m.id)?.toString('utf8').trim()] : [])).filter((v): v is string => !!v && v.length >= 3);
  if (values.length === 0) return (t) => t;
  return (t) => values.reduce((acc, v) => acc.split(v).join('****'), t);
}
