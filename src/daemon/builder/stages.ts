/**
 * A Dockerfile cut into build stages: global ARGs, then one stage per FROM.
 * With a target, only the stages it needs are built (FROM <stage> and
 * COPY --from=<stage> and RUN --mount=from=<stage> dependencies); the
 * others are skipped, as BuildKit skips them.
 */
import { InvalidParameter } from '../../errdefs/index.js';
import type { Dockerfile, Instruction } from './dockerfile.js';

export interface Stage {
  index: number;
  /** `AS name`, lower case. */
  name?: string;
  /** The FROM's image (before ARG substitution). */
  base: string;
  from: Instruction;
  body: Instruction[];
}

export interface StagePlan {
  globalArgs: Instruction[];
  stages: Stage[];
  /** Indexes of the stages to build, in order; the last is the target. */
  needed: number[];
  /** For each needed stage, the needed stages it waits for; stages that do not wait on each other build concurrently. */
  deps: Map<number, number[]>;
}

export function planStages(df: Dockerfile, target?: string): StagePlan {
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of df.instructions) {
    if (ins.cmd === 'from') {
      const m = /^(\S+)(?:\s+as\s+(\S+))?\s*$/i.exec(ins.rest);
      if (!m) throw new InvalidParameter('build.bad_from', `dockerfile parse error line ${ins.line}: FROM requires either one or three arguments`);
      const name = m[2]?.toLowerCase();
      if (name && stages.some((s) => s.name === name)) throw new InvalidParameter('build.duplicate_stage', `duplicate name ${name}`);
      stages.push({ index: stages.length, base: m[1]!, from: ins, body: [], ...(name ? { name } : {}) });
    } else if (stages.length === 0) {
      if (ins.cmd !== 'arg') throw new InvalidParameter('build.no_stage', `no build stage in current context`);
      globalArgs.push(ins);
    } else {
      stages.at(-1)!.body.push(ins);
    }
  }
  if (stages.length === 0) throw new InvalidParameter('build.no_stage', 'the Dockerfile has no FROM: no build stage in current context');
  let last = stages.length - 1;
  if (target) {
    const t = stages.find((s) => s.name === target.toLowerCase());
    if (!t) throw new InvalidParameter('build.no_target', `failed to reach build target ${target} in Dockerfile`);
    last = t.index;
  }
  const need = new Set<number>();
  const deps = new Map<number, number[]>();
  const visit = (i: number) => {
    if (need.has(i)) return;
    need.add(i);
    const direct = stageDeps(stages, i);
    deps.set(i, direct);
    for (const d of direct) visit(d);
  };
  visit(last);
  return { globalArgs, stages, needed: [...need].sort((a, b) => a - b), deps };
}

/**
 * The earlier stages stage `i` reads: its FROM, COPY/ADD --from and
 * RUN --mount=…,from=. Names are matched before ARG substitution, as the
 * plan is made before any stage runs.
 */
export function stageDeps(stages: Stage[], i: number): number[] {
  const out = new Set<number>();
  const s = stages[i]!;
  const add = (ref: string) => {
    const d = stageRef(stages, ref, i);
    if (d !== undefined) out.add(d);
  };
  add(s.base);
  for (const ins of s.body) {
    if ((ins.cmd === 'copy' || ins.cmd === 'add') && ins.flags.from !== undefined) add(ins.flags.from);
    for (const spec of ins.cmd === 'run' ? ins.flagList.mount ?? [] : []) {
      const m = /(?:^|,)from=([^,]+)/.exec(spec);
      if (m) add(m[1]!);
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** The earlier stage a name or index refers to, if it is one (else it is an image). */
export function stageRef(stages: Stage[], ref: string, before: number): number | undefined {
  const byName = stages.findIndex((s, i) => i < before && s.name === ref.toLowerCase());
  if (byName >= 0) return byName;
  if (/^\d+$/.test(ref) && Number(ref) < before) return Number(ref);
  return undefined;
}
