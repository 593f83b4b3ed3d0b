/** RUN steps' containers, on top of the container service and its filesystem side. */
import type { ContainerFilesystem } from '../containers/diff-export-commit.js';
import type { ContainerService } from '../containers/service.js';
import type { BuilderDeps } from './builder.js';

export function buildContainers(containers: ContainerService, filesystem: ContainerFilesystem): BuilderDeps['containers'] {
  return {
    create: async (req) => (await containers.create(req)).Id,
    run: async (id, output) => {
      let ended!: () => void;
      const outputEnded = new Promise<void>((resolve) => (ended = resolve));
      const { detach } = await containers.attach(id, () => ({
        stdout: true, stderr: true,
        sink: (_stream, data) => { output(data); return true; },
        drained: () => Promise.resolve(),
        onEnd: () => ended(),
      }));
      try {
        await containers.start(id);
        const { StatusCode } = await containers.wait(id, 'not-running');
        await outputEnded;
        return StatusCode;
      } finally {
        detach();
      }
    },
    remove: (id) => containers.remove(id, { force: true }),
    captureLayer: (id, stubs) => filesystem.captureLayer(id, stubs),
  };
}
