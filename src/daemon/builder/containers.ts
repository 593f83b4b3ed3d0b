/** RUN steps' containers as the daemon wires them: builder-owned `runc run` beside the container path's pieces. */
import type { Logger } from '../../lib/logger.js';
import type { ContainerFilesystem } from '../containers/diff-export-commit.js';
import type { ContainerEnvironment } from '../containers/environment.js';
import type { ContainerSecurity } from '../containers/security/security.js';
import type { ImageStore } from '../images/image-store.js';
import type { LayerStore } from '../layers/layer-store.js';
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
  log: Logger;
}

export function buildContainers(d: BuildContainerDeps): StepContainers {
  return new StepContainers({
    images: d.images, layers: d.layers, env: d.env, ...(d.security ? { security: d.security } : {}),
    cgroupParent: d.cgroupParent, cgroupVersion: d.cgroupVersion, runcRoot: d.runcRoot, log: d.log,
    captureUpper: (upper, parent, stubs) => d.filesystem.captureUpper(upper, parent, stubs),
  });
}
