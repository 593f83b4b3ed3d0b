/**
 * What the orchestrator and scheduler know of a node, and swarmkit's
 * placement constraints (`node.role==manager`, `node.labels.zone!=b`, ...).
 * Pure.
 */
import { InvalidParameter } from '../../errdefs/index.js';

export interface NodeInfo {
  id: string;
  hostname: string;
  role: 'manager' | 'worker';
  availability: 'active' | 'pause' | 'drain';
  /** Its heartbeat key lives. */
  ready: boolean;
  labels: Record<string, string>;
  engineLabels: Record<string, string>;
  nanoCpus: number;
  memoryBytes: number;
  os: string;
  arch: string;
}

export interface Constraint {
  key: string;
  equal: boolean;
  value: string;
}

const CONSTRAINT = /^\s*([\w.-]+)\s*(==|!=)\s*(.*?)\s*$/;

/** swarmkit's constraint.Parse; its error words. */
export function parseConstraints(exprs: string[]): Constraint[] {
  return exprs.map((e) => {
    const m = CONSTRAINT.exec(e);
    if (!m || !m[3]) throw new InvalidParameter('swarm.invalid_constraint', `invalid constraint: ${e}`);
    return { key: m[1]!.toLowerCase(), equal: m[2] === '==', value: m[3] };
  });
}

/** The node's value for a constraint or spread key, or undefined (a label it has not). */
export function valueOf(key: string, n: NodeInfo): string | undefined {
  switch (key) {
    case 'node.id': return n.id;
    case 'node.hostname': return n.hostname;
    case 'node.role': return n.role;
    case 'node.platform.os': return n.os;
    case 'node.platform.arch': return n.arch;
  }
  const pick = (labels: Record<string, string>, prefix: string) => {
    // label keys keep their case; swarmkit matches them as given
    const name = key.slice(prefix.length);
    const found = Object.keys(labels).find((k) => k.toLowerCase() === name);
    return found === undefined ? undefined : labels[found];
  };
  if (key.startsWith('node.labels.')) return pick(n.labels, 'node.labels.');
  if (key.startsWith('engine.labels.')) return pick(n.engineLabels, 'engine.labels.');
  return undefined;
}

/** Every constraint holds on the node (values compared case-insensitively, as swarmkit's Match). */
export function constraintsMatch(cs: Constraint[], n: NodeInfo): boolean {
  return cs.every((c) => {
    const v = valueOf(c.key, n);
    const same = v !== undefined && v.toLowerCase() === c.value.toLowerCase();
    return c.equal ? same : !same;
  });
}

/**
 * The label keys of `--placement-pref spread=node.labels.X` (Spec.Placement.Preferences),
 * outermost first. swarmkit knows only spread; others are ignored as it does.
 */
export function spreadKeys(prefs: unknown[] | undefined): string[] {
  const keys: string[] = [];
  for (const p of prefs ?? []) {
    const d = (p as { Spread?: { SpreadDescriptor?: unknown } } | null)?.Spread?.SpreadDescriptor;
    if (typeof d === 'string' && d) keys.push(d.toLowerCase());
  }
  return keys;
}
