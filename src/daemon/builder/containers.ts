/** RUN steps' containers as the daemon wires them: builder-owned `runc run` beside the container path's pieces. */
import type { Logger } from '../../lib/logger.js';
import type { ContainerFilesystem } from '../containers/diff-export-commit.js';
import type { ContainerEnvironment } from '../containers/environment.js';
import type { ContainerSecurity } from '../containers/security/security.js';
import type { ImageStore } from '../images/image-store.js';
import type { LayerStore } from '../layers/layer-store.js';
import { FifoPool } from '../runtime/shim/fifo-pool.js';
import { StepContainers } from './step-container.js';

export interface BuildContainerDeps {
  images: ImageStore;
  layers: LayerStore;
  env: ContainerEnvironment;
  security?: ContainerSecurity;
  filesystem: ContainerFilesystem;
  cgroupParent: string;
  cgroupVersion: 1 | 2;
  runcRoot: string;
  /** Where the FIFOs of the steps' output are made ahead (emptied at the first build). */
  fifoDir: string;
  /** The containers' shared init layer (rootfs.ts initLayerPath). */
  initLayer: string;
  log: Logger;
}

/** One pool per directory for the daemon's life: builds come and go, the spare FIFOs stay. */
const pools = new Map<string, Promise<FifoPool>>();

function fifoPool(dir: string): Promise<FifoPool> {
  let p = pools.get(dir);
  if (!p) {
    const pool = new FifoPool(dir);
    p = pool.init().then(() => pool);
    p.catch(() => pools.delete(dir)); // tried again by the next step
    pools.set(dir, p);
  }
  return p;
}

export function buildContainers(d: BuildContainerDeps): StepContainers {
  return new StepContainers({
    images: d.images, layers: d.layers, env: d.env, ...(d.security ? { security: d.security } : {}),
    cgroupParent: d.cgroupParent, cgroupVersion: d.cgroupVersion, runcRoot: d.runcRoot, log: d.log, initLayer: d.initLayer,
    fifos: { take: async (paths) => (await fifoPool(d.fifoDir)).take(paths) }, fifoDir: d.fifoDir,
    captureUpper: (upper, parent, stubs, fifo) => d.filesystem.captureUpper(upper, parent, stubs, fifo),
  });
}
