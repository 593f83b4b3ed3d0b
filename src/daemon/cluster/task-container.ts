/**
 * A task's container as dockerd's swarm executor makes it: its create
 * request (pure) and the labels that tie it to its task.
 *
 *   name   web.1.<task id>   (global: web.<node id>.<task id>)
 *   labels com.docker.swarm.service.id/name, task, task.id/name, node.id
 */
import type { ContainerCreateRequest, PortMap } from '../../api/types/index.js';
import { containerName, type TaskRecord } from './service-records.js';

export const TASK_ID_LABEL = 'com.docker.swarm.task.id';

export function taskContainerLabels(t: TaskRecord, nodeId: string): Record<string, string> {
  return {
    'com.docker.swarm.node.id': nodeId,
    'com.docker.swarm.service.id': t.serviceId,
    'com.docker.swarm.service.name': t.serviceName,
    'com.docker.swarm.task': '',
    [TASK_ID_LABEL]: t.id,
    'com.docker.swarm.task.name': containerName(t),
  };
}

const NS_PER_S = 1_000_000_000;

/**
 * The task's networks (overlay, by id) as the container's: the first is its
 * network mode, each endpoint answers in DNS to the service name and
 * `tasks.<service>` as well as its own names, so both resolve to every task.
 */
function taskNetworks(t: TaskRecord): Pick<ContainerCreateRequest, 'NetworkingConfig'> & { mode?: string } {
  const nets = [...(t.spec.Networks ?? [])];
  // the routing mesh reaches the task on the ingress network (no names there, as in Docker)
  if (t.ingressNetworkId) nets.push({ Target: t.ingressNetworkId });
  if (!nets.length) return {};
  const EndpointsConfig = Object.fromEntries(nets.map((n) => [n.Target, {
    Aliases: n.Target === t.ingressNetworkId ? [] : [t.serviceName, `tasks.${t.serviceName}`, ...(n.Aliases ?? [])],
  }]));
  return { mode: nets[0]!.Target, NetworkingConfig: { EndpointsConfig } };
}

/** Published ports in mode host: bound on this node as `docker run -p` binds them (published 0: a free port). */
function hostPortBindings(t: TaskRecord): Pick<ContainerCreateRequest, 'ExposedPorts'> & { bindings?: PortMap } {
  if (!t.hostPorts?.length) return {};
  const bindings: PortMap = {};
  for (const p of t.hostPorts) {
    const key = `${p.TargetPort}/${p.Protocol ?? 'tcp'}`;
    (bindings[key] ??= []).push({ HostIp: '', HostPort: p.PublishedPort ? String(p.PublishedPort) : '' });
  }
  return { ExposedPorts: Object.fromEntries(Object.keys(bindings).map((k) => [k, {}])), bindings };
}

export function taskContainerRequest(t: TaskRecord, nodeId: string): ContainerCreateRequest {
  const c = t.spec.ContainerSpec ?? {};
  const limits = t.spec.Resources?.Limits;
  const { mode, ...networking } = taskNetworks(t);
  const { bindings, ...exposed } = hostPortBindings(t);
  return {
    ...networking,
    ...exposed,
    Image: c.Image ?? '',
    ...(c.Args?.length ? { Cmd: c.Args } : {}),
    ...(c.Command?.length ? { Entrypoint: c.Command } : {}),
    Env: c.Env ?? [],
    Labels: { ...(c.Labels ?? {}), ...taskContainerLabels(t, nodeId) },
    ...(c.Dir ? { WorkingDir: c.Dir } : {}),
    ...(c.User ? { User: c.User } : {}),
    ...(c.Hostname ? { Hostname: c.Hostname } : {}),
    ...(c.TTY ? { Tty: true } : {}),
    ...(c.OpenStdin ? { OpenStdin: true } : {}),
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
    ...(c.StopGracePeriod !== undefined ? { StopTimeout: Math.round(c.StopGracePeriod / NS_PER_S) } : {}),
    ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
    HostConfig: {
      ...(limits?.NanoCPUs ? { NanoCpus: limits.NanoCPUs } : {}),
      ...(limits?.MemoryBytes ? { Memory: limits.MemoryBytes } : {}),
      ...(c.Init !== undefined ? { Init: c.Init } : {}),
      ...(mode ? { NetworkMode: mode } : {}),
      ...(bindings ? { PortBindings: bindings } : {}),
    },
  };
}

/** The image reference to run: a digest the CLI pinned (`busybox:latest@sha256:…`) is kept as given. */
export function taskImage(t: TaskRecord): string {
  return t.spec.ContainerSpec?.Image ?? '';
}
