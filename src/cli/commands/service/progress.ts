/**
 * `service create|update|scale|rollback` without -d: wait until the
 * service's tasks match its spec, printing docker's progress lines as they
 * change (the non-terminal form: one line per change), then docker's 5 s
 * `verify:` watch before it says converged.
 */
import { Filters } from '../../../api/filters.js';
import type { ServiceView, TaskView } from '../../../api/types/index.js';
import type { EngineClient } from '../../../client/engine-client.js';
import type { CliContext } from '../../context.js';

const POLL_MS = 500;
const STABLE_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** JSON with keys sorted, to compare a task's spec with its service's template. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}

/**
 * Converged: every task meant to run is running on the service's current
 * template (an update replacing tasks one by one is not done while an old
 * one still runs), none meant to stop still runs, and a replicated service
 * has them all.
 */
export function converged(svc: ServiceView, tasks: TaskView[]): { running: number; desired: number; done: boolean } {
  const template = canonical(svc.Spec.TaskTemplate ?? {});
  const mine = tasks.filter((t) => t.ServiceID === svc.ID);
  const wanted = mine.filter((t) => t.DesiredState === 'running');
  const current = wanted.filter((t) => canonical(t.Spec) === template);
  const running = current.filter((t) => t.Status.State === 'running').length;
  const replicas = svc.Spec.Mode?.Replicated ? (svc.Spec.Mode.Replicated.Replicas ?? 1) : undefined;
  const desired = replicas ?? wanted.length;
  const lingering = mine.some((t) => t.DesiredState !== 'running' && t.Status.State === 'running');
  return { running, desired, done: running === desired && wanted.length === desired && !lingering };
}

export async function waitOnService(ctx: CliContext, c: EngineClient, serviceId: string, quiet = false): Promise<void> {
  const say = (s: string) => {
    if (!quiet) ctx.print(s);
  };
  let lastOverall = '';
  const lastSlot = new Map<string, string>();
  let stableSince: number | undefined;
  let lastVerify = '';
  for (;;) {
    const svc = await c.get<ServiceView>(`/services/${encodeURIComponent(serviceId)}`);
    const tasks = await c.get<TaskView[]>('/tasks', { filters: Filters.fromFlags([`service=${svc.ID}`]).toQuery() });
    const state = converged(svc, tasks);
    const overall = `overall progress: ${state.running} out of ${state.desired} tasks`;
    if (overall !== lastOverall) say(overall);
    lastOverall = overall;
    const wanted = tasks.filter((t) => t.ServiceID === svc.ID && t.DesiredState === 'running').sort((a, b) => (a.Slot ?? 0) - (b.Slot ?? 0));
    for (const t of wanted) {
      const key = svc.Spec.Mode?.Replicated ? `${t.Slot}/${state.desired}` : (t.NodeID ?? '').slice(0, 12);
      const line = `${key}: ${t.Status.State}`;
      if (lastSlot.get(key) !== line) say(line);
      lastSlot.set(key, line);
    }
    if (!state.done) {
      stableSince = undefined;
    } else {
      // docker watches a converged service for 5 s before it believes it (a task may crash right away)
      stableSince ??= Date.now();
      const left = Math.ceil((STABLE_MS - (Date.now() - stableSince)) / 1000);
      if (left <= 0) break;
      const line = `verify: Waiting ${left} seconds to verify that tasks are stable...`;
      if (line !== lastVerify) say(line);
      lastVerify = line;
    }
    await sleep(POLL_MS);
  }
  say(`verify: Service ${serviceId} converged`);
}
