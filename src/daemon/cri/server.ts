/**
 * The CRI endpoint: gRPC on a unix socket, RuntimeService and ImageService.
 * Routes stay thin: read the request, call one method of the sandbox,
 * container or image service, answer; an error's kind picks the gRPC
 * status (errdefs/grpc-status.ts) and its message is the status details.
 */
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { asBerthError, grpcStatusOf } from '../../errdefs/index.js';
import { summarize, tracer } from '../../lib/spans.js';
import type { Logger } from '../../lib/logger.js';
import { loadCriDefinitions } from './definitions.js';
import type { CriImages } from './images.js';
import type { PodContainers } from './pod-containers.js';
import type { PodSandboxes } from './pod-sandboxes.js';
import type { CriStats } from './stats.js';
import type { CriStreaming } from './streaming/requests.js';

export interface CriServerDeps {
  sandboxes: PodSandboxes;
  containers: PodContainers;
  images: CriImages;
  streaming: CriStreaming;
  stats: CriStats;
  runtimeVersion: string;
  log: Logger;
}

/** The CRI API version berth speaks. */
const CRI_API_VERSION = 'v1';

type Req = any;

export class CriServer {
  private readonly server = new grpc.Server();

  constructor(private readonly d: CriServerDeps) {
    const defs = loadCriDefinitions();
    const s = d.sandboxes;
    const c = d.containers;
    const i = d.images;
    this.server.addService(defs.runtime.service, {
      Version: this.unary(() => ({ version: '0.1.0', runtime_name: 'berth', runtime_version: d.runtimeVersion, runtime_api_version: CRI_API_VERSION })),
      Status: this.unary(() => ({
        status: { conditions: [
          { type: 'RuntimeReady', status: true, reason: '', message: '' },
          { type: 'NetworkReady', status: true, reason: '', message: '' },
        ] },
        info: {},
        runtime_handlers: [{ name: '', features: { recursive_read_only_mounts: false, user_namespaces: false } }],
        features: { supplemental_groups_policy: false },
      })),
      RuntimeConfig: this.unary(() => ({ linux: { cgroup_driver: 'CGROUPFS' } })),
      // the pod CIDR is the kubelet's for a runtime that hands out pod addresses from it; berth's bridge keeps its own pool
      UpdateRuntimeConfig: this.unary((r: Req) => {
        const cidr = r.runtime_config?.network_config?.pod_cidr;
        if (cidr) d.log.info('CRI: pod CIDR from the kubelet noted; pods keep the bridge network\'s pool', { podCidr: cidr });
        return {};
      }),
      RunPodSandbox: this.unary(async (r: Req) => ({ pod_sandbox_id: await s.run(r.config ?? {}) })),
      StopPodSandbox: this.unary(async (r: Req) => { await s.stop(r.pod_sandbox_id); return {}; }),
      RemovePodSandbox: this.unary(async (r: Req) => { await s.remove(r.pod_sandbox_id); return {}; }),
      PodSandboxStatus: this.unary((r: Req) => s.status(r.pod_sandbox_id)),
      ListPodSandbox: this.unary((r: Req) => ({ items: s.list(r.filter) })),
      CreateContainer: this.unary(async (r: Req) => ({ container_id: await c.create(r.pod_sandbox_id, r.config ?? {}, r.sandbox_config) })),
      StartContainer: this.unary(async (r: Req) => { await c.start(r.container_id); return {}; }),
      StopContainer: this.unary(async (r: Req) => { await c.stop(r.container_id, Number(r.timeout ?? 0)); return {}; }),
      RemoveContainer: this.unary(async (r: Req) => { await c.remove(r.container_id); return {}; }),
      ContainerStatus: this.unary((r: Req) => c.status(r.container_id)),
      ListContainers: this.unary((r: Req) => ({ containers: c.list(r.filter) })),
      ExecSync: this.unary((r: Req) => c.execSync(r.container_id, r.cmd ?? [], Number(r.timeout ?? 0))),
      Exec: this.unary((r: Req) => d.streaming.exec(r)),
      Attach: this.unary((r: Req) => d.streaming.attach(r)),
      PortForward: this.unary((r: Req) => d.streaming.portForward(r)),
      UpdateContainerResources: this.unary(async (r: Req) => { await c.updateResources(r.container_id, r.linux); return {}; }),
      ReopenContainerLog: this.unary(async (r: Req) => { await c.reopenLog(r.container_id); return {}; }),
      ContainerStats: this.unary(async (r: Req) => ({ stats: await d.stats.container(r.container_id) })),
      ListContainerStats: this.unary(async (r: Req) => ({ stats: await d.stats.listContainers(r.filter) })),
      PodSandboxStats: this.unary(async (r: Req) => ({ stats: await d.stats.sandbox(r.pod_sandbox_id) })),
      ListPodSandboxStats: this.unary(async (r: Req) => ({ stats: await d.stats.listSandboxes(r.filter) })),
    });
    this.server.addService(defs.image.service, {
      ListImages: this.unary((r: Req) => ({ images: i.list(r.filter) })),
      ImageStatus: this.unary((r: Req) => i.status(r.image?.image)),
      PullImage: this.unary(async (r: Req) => ({ image_ref: await i.pull(r.image?.image ?? '', r.auth) })),
      RemoveImage: this.unary(async (r: Req) => { await i.remove(r.image?.image); return {}; }),
      ImageFsInfo: this.unary(() => i.fsInfo()),
    });
  }

  private unary(fn: (req: Req) => unknown): grpc.handleUnaryCall<Req, unknown> {
    return (call, callback) => {
      // one trace per call under --debug (GET /debug/spans), as the Engine API's requests
      const name = `CRI ${call.getPath().split('/').pop()}`;
      tracer.trace(name, () => Promise.resolve().then(() => fn(call.request)), (t) => this.d.log.debug('CRI call spans', { method: name, spans: summarize(t) })).then(
        (res) => callback(null, res),
        (err: unknown) => {
          const e = asBerthError(err);
          this.d.log.debug('CRI call failed', { method: call.getPath(), code: e.code, error: e.message });
          callback({ code: grpcStatusOf(e), details: e.message });
        },
      );
    };
  }

  /** Serves on `socketPath`, replacing a socket a killed daemon left. */
  async listen(socketPath: string): Promise<void> {
    await mkdir(dirname(socketPath), { recursive: true, mode: 0o711 });
    await rm(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.bindAsync(`unix://${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Lets running calls finish; a client that keeps its connection past the grace period is cut. */
  close(graceMs = 2_000): Promise<void> {
    return new Promise((resolve) => {
      const cut = setTimeout(() => this.server.forceShutdown(), graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(cut);
        resolve();
      });
    });
  }
}
