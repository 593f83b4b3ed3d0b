/** `GET /system/df`. */
import type { DiskUsage } from '../../../../api/types/index.js';
import type { Handler } from '../../request.js';
import type { Router } from '../../router.js';

/** What the route calls; implemented by DiskUsageService. */
export interface DiskUsageBackend {
  diskUsage(): Promise<DiskUsage>;
}

export function diskUsageRoutes(r: Router<Handler>, b: DiskUsageBackend): void {
  r.add('GET', '/system/df', async (_req, reply) => reply.json(200, await b.diskUsage()));
}
