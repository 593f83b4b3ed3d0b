/** Read-only views of containers: inspect, ps, counts, logs, top, stats. */
import { Filters } from '../../api/filters.js';
import type { ContainerInspect, ContainerSummary, StatsSample, TopResult } from '../../api/types/index.js';
import { directorySize } from '../../lib/disk-usage.js';
import type { ImageStore } from '../images/image-store.js';
import type { LayerStore } from '../layers/layer-store.js';
import type { LogEntry } from '../logs/entry.js';
import { readLogs, type LogQuery } from '../logs/read.js';
import { logWire } from '../logs/wire-reader.js';
import type { ContainerStore } from './container-store.js';
import type { ExecRegistry } from './exec-registry.js';
import { selectContainers, type ListOptions } from './list.js';
import type { ContainerRecord } from './record.js';
import type { ContainerRunner } from './runner.js';
import { containerStats } from './stats.js';
import { statsSamples, type StatsMode } from './stats-samples.js';
import { topOf } from './top.js';
import { SummaryCache } from './summary-cache.js';
import { inspectView, summaryView } from './wire-views.js';
import type { Digest } from '../../oci/digest.js';

export interface ContainerQueriesDeps {
  store: ContainerStore;
  images: ImageStore;
  layers: LayerStore;
  execs: ExecRegistry;
  runner: ContainerRunner;
  cgroupVersion: 1 | 2;
}

export class ContainerQueries {
  private readonly rows: SummaryCache;

  constructor(private readonly d: ContainerQueriesDeps) {
    this.rows = new SummaryCache((id) => d.store.version(id));
  }

  get(ref: string): ContainerRecord {
    return this.d.store.get(ref);
  }

  async inspect(ref: string, withSize = false): Promise<ContainerInspect> {
    const rec = this.d.store.get(ref);
    const lowerDirs = rec.layer ? await this.d.layers.lowerDirs(rec.layer) : [];
    const view = inspectView(rec, { paths: this.d.runner.paths(rec.id), lowerDirs, execIds: this.d.execs.ofContainer(rec.id).map((e) => e.id) });
    if (withSize) Object.assign(view, await this.sizes(rec));
    return view;
  }

  private async sizes(rec: ContainerRecord): Promise<{ SizeRw: number; SizeRootFs: number }> {
    const rw = await directorySize(this.d.runner.paths(rec.id).upper);
    return { SizeRw: rw, SizeRootFs: rw + (this.d.images.get(rec.image)?.size ?? 0) };
  }

  async list(opts: Omit<ListOptions, 'isAncestor'> & { size?: boolean }): Promise<ContainerSummary[]> {
    const now = Date.now();
    const recs = this.select(opts);
    const out = recs.map((r) => summaryView(r, r.config.Image, now));
    if (opts.size) await Promise.all(recs.map(async (r, i) => Object.assign(out[i]!, await this.sizes(r))));
    return out;
  }

  /**
   * `GET /containers/json` as JSON text: rows of unchanged containers come
   * from the cache, so a `ps` of hundreds of containers does no I/O and
   * serialises only what changed. Sizes are measured on disk each time.
   */
  async listJson(opts: Omit<ListOptions, 'isAncestor'> & { size?: boolean }): Promise<string> {
    if (opts.size) return JSON.stringify(await this.list(opts));
    const text = this.rows.json(this.select(opts));
    // rows of removed containers go once they outnumber the living
    if (this.rows.size > 2 * this.d.store.count + 16) this.rows.retain(new Set(this.d.store.list().map((r) => r.id)));
    return text;
  }

  private select(opts: Omit<ListOptions, 'isAncestor'>): ContainerRecord[] {
    const isAncestor = (r: ContainerRecord, ref: string) => this.d.images.tryResolve(ref)?.id === r.image;
    return selectContainers(this.d.store.list(), { ...opts, isAncestor });
  }

  /** Every container with its `ps` row, image and writable dir: the containers part of `docker system df`. */
  async diskUsage(): Promise<{ summary: ContainerSummary; imageId: Digest; upperDir: string }[]> {
    const byId = new Map((await this.list({ all: true, filters: new Filters() })).map((s) => [s.Id, s]));
    return this.d.store.list().flatMap((r) => {
      const summary = byId.get(r.id);
      return summary ? [{ summary, imageId: r.image, upperDir: this.d.runner.paths(r.id).upper }] : [];
    });
  }

  counts(): { total: number; running: number; paused: number; stopped: number } {
    let running = 0;
    let paused = 0;
    const all = this.d.store.list();
    for (const r of all) {
      if (r.state.Paused) paused++;
      else if (r.state.Running) running++;
    }
    return { total: all.length, running, paused, stopped: all.length - running - paused };
  }

  /**
   * A container's log entries as `docker logs` selects them (streams, tail,
   * since, until), then with `follow` its live entries until it stops or the
   * signal aborts. Throws NotFound now, before anything is read.
   */
  logs(ref: string, q: LogQuery, signal: AbortSignal): { tty: boolean; entries: AsyncIterable<LogEntry> } {
    const rec = this.d.store.get(ref);
    return { tty: rec.config.Tty, entries: readLogs(this.d.runner.paths(rec.id).log, this.d.runner.logWriter(rec.id), q, signal) };
  }

  /** The same selection as `logs`, as the bytes `docker logs` receives (see logs/wire-encoder.ts). */
  logWire(ref: string, q: LogQuery, format: { timestamps: boolean; details: boolean; coalesce?: boolean }, signal: AbortSignal): { tty: boolean; chunks: AsyncIterable<Buffer> } {
    const rec = this.d.store.get(ref);
    const tty = rec.config.Tty;
    return { tty, chunks: logWire(this.d.runner.paths(rec.id).log, this.d.runner.logWriter(rec.id), q, { tty, ...format }, signal) };
  }

  async top(ref: string, psArgs: string | undefined): Promise<TopResult> {
    const rec = this.d.store.get(ref);
    return topOf(await this.d.runner.withRunningTask(rec, (task) => task.pids()), psArgs);
  }

  /** `docker stats` samples (see stats-samples.ts for the modes). Throws NotFound now, before any sample. */
  stats(ref: string, mode: StatsMode, signal?: AbortSignal): AsyncIterable<StatsSample> {
    this.d.store.get(ref);
    return statsSamples((previous) => this.sample(ref, previous), mode, signal);
  }

  private async sample(ref: string, previous?: StatsSample): Promise<StatsSample> {
    const rec = this.d.store.get(ref);
    const task = rec.state.Running ? this.d.runner.live.peek(rec.id)?.task : undefined;
    return containerStats({
      id: rec.id, name: rec.name, pid: rec.state.Pid, running: !!task,
      cgroupsPath: this.d.runner.cgroupsPath(rec), cgroupVersion: this.d.cgroupVersion,
    }, previous);
  }
}
