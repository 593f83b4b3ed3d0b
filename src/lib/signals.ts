/** Linux signal names and numbers, for `kill -s`, `stop --signal`, STOPSIGNAL. */
import { constants } from 'node:os';
import { InvalidParameter } from '../errdefs/index.js';

const byName = constants.signals as Record<string, number>;

/** Accepts `KILL`, `SIGKILL`, `sigkill`, `9` and `SIGRTMIN+3`; returns the number. */
export function parseSignal(s: string): number {
  const t = s.trim().toUpperCase();
  if (/^[0-9]+$/.test(t)) {
    const n = Number(t);
    if (n < 1 || n > 64) throw new InvalidParameter('signal.invalid', `Invalid signal: ${s}`);
    return n;
  }
  const name = t.startsWith('SIG') ? t : `SIG${t}`;
  const rt = /^SIGRTM(IN|AX)([+-][0-9]+)?$/.exec(name);
  if (rt) return (rt[1] === 'IN' ? 34 : 64) + Number(rt[2] ?? 0);
  const n = byName[name];
  if (n === undefined) throw new InvalidParameter('signal.invalid', `Invalid signal: ${s}`);
  return n;
}

export function signalName(n: number): string {
  for (const [name, num] of Object.entries(byName)) if (num === n) return name;
  return String(n);
}
