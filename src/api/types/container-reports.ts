/** Wire shapes of what a container reports: stats, top, filesystem changes, and the conditions `wait` takes. */

/** `POST /containers/{id}/wait?condition=` */
export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** One entry of `GET /containers/{id}/changes`; Kind 0 = modified, 1 = added, 2 = deleted. */
export interface FilesystemChange {
  Path: string;
  Kind: 0 | 1 | 2;
}

/** `GET /containers/{id}/top` */
export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/** One sample of `GET /containers/{id}/stats`, in Docker's JSON shape. */
export interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage: number;
  online_cpus: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface StatsSample {
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: { io_service_bytes_recursive: { major: number; minor: number; op: string; value: number }[] | null };
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: { usage?: number; max_usage?: number; stats?: Record<string, number>; limit?: number; failcnt?: number };
  name: string;
  id: string;
  networks?: Record<string, Record<string, number>>;
}
