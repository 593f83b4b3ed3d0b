/**
 * The samples `docker stats` gets, in the order and at the pace Docker sends them:
 *   one-shot           one sample, no precpu_stats
 *   no stream          two samples 500 ms apart; the second (with the first as
 *                      precpu_stats, so the client can compute CPU %) is the answer
 *   stream             a first sample kept back, then one a second, each with the
 *                      previous one as precpu_stats, until the container goes away
 *                      or the signal aborts
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { StatsSample } from '../../api/types/index.js';

export interface StatsMode {
  stream: boolean;
  oneShot: boolean;
}

/** Reads one sample; `previous` supplies its precpu_stats. */
export type Sampler = (previous?: StatsSample) => Promise<StatsSample>;

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

const sleep: Sleep = (ms, signal) => sleepFor(ms, undefined, signal ? { signal } : {});

export async function* statsSamples(sample: Sampler, mode: StatsMode, signal?: AbortSignal, wait: Sleep = sleep): AsyncGenerator<StatsSample> {
  if (!mode.stream && mode.oneShot) {
    yield await sample();
    return;
  }
  if (!mode.stream) {
    const first = await sample();
    await wait(500);
    yield await sample(first);
    return;
  }
  let prev = await sample();
  while (!signal?.aborted) {
    try {
      await wait(1000, signal);
    } catch {
      return; // the client went away
    }
    if (signal?.aborted) return;
    let next: StatsSample;
    try {
      next = await sample(prev);
    } catch {
      return; // the container went away
    }
    yield next;
    prev = next;
  }
}
