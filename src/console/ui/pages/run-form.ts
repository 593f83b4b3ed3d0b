/** Run a container: image, name, command, published ports, environment; pulls the image first when it is missing. */
import { api, ApiError, call, ndjson, query } from '../api.js';
import { h, notify } from '../dom.js';

/** Splits a command line into words, with '…' and "…" quoting (no expansion). */
export function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) out.push(m[1]?.replace(/\\(.)/g, '$1') ?? m[2] ?? m[3]!);
  return out;
}

/** `8080:80`, `127.0.0.1:8080:80/udp`, `80` (any host port) → the create body's port fields. */
export function portSpecs(list: string): { exposed: Record<string, object>; bindings: Record<string, { HostIp: string; HostPort: string }[]> } {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const spec of list.split(/[\s,]+/).filter(Boolean)) {
    const [addr, proto = 'tcp'] = spec.split('/');
    const parts = addr!.split(':');
    const container = parts.pop()!;
    const hostPort = parts.pop() ?? '';
    const hostIp = parts.join(':');
    if (!/^\d+$/.test(container)) throw new Error(`invalid port ${spec}`);
    const key = `${container}/${proto}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: hostIp, HostPort: hostPort });
  }
  return { exposed, bindings };
}

async function pull(image: string): Promise<void> {
  const res = await call('POST', `/images/create${query({ fromImage: image })}`);
  for await (const m of ndjson<{ error?: string }>(res)) if (m.error) throw new Error(m.error);
}

export function runForm(): HTMLElement {
  const field = (label: string, name: string, props: Record<string, unknown> = {}) => {
    const input = h('input', { id: `run-${name}`, name, autocomplete: 'off', ...props });
    return { input, el: h('div', { class: 'field' }, h('label', { for: `run-${name}` }, label), input) };
  };
  const image = field('Image', 'image', { required: true, placeholder: 'busybox:latest' });
  const name = field('Name', 'name', { placeholder: 'optional' });
  const cmd = field('Command', 'command', { placeholder: 'e.g. sh -c "echo hello"' });
  const ports = field('Ports', 'ports', { placeholder: '8080:80, 443' });
  const envId = 'run-env';
  const env = h('textarea', { id: envId, name: 'env', rows: 2, placeholder: 'KEY=value, one a line' });
  const status = h('p', { role: 'status', class: 'run-status' });
  const submit = h('button', { type: 'submit' }, 'Run');
  const form = h('form', {
    class: 'run-form',
    'aria-labelledby': 'run-title',
    onsubmit: async (ev: Event) => {
      ev.preventDefault();
      submit.disabled = true;
      try {
        const { exposed, bindings } = portSpecs(ports.input.value);
        const body = {
          Image: image.input.value.trim(),
          ...(cmd.input.value.trim() ? { Cmd: words(cmd.input.value) } : {}),
          Env: env.value.split('\n').map((l) => l.trim()).filter(Boolean),
          ExposedPorts: exposed,
          HostConfig: { PortBindings: bindings },
        };
        const path = `/containers/create${query({ name: name.input.value.trim() || undefined })}`;
        let created: { Id: string };
        try {
          created = await api<{ Id: string }>('POST', path, body);
        } catch (err) {
          if (!(err instanceof ApiError) || err.status !== 404) throw err;
          status.textContent = `Pulling ${body.Image}…`;
          await pull(body.Image);
          created = await api<{ Id: string }>('POST', path, body);
        }
        await api('POST', `/containers/${created.Id}/start`);
        status.textContent = `Started ${name.input.value.trim() || created.Id.slice(0, 12)}`;
        notify('');
      } catch (err) {
        status.textContent = '';
        notify(`Run: ${(err as Error).message}`);
      } finally {
        submit.disabled = false;
      }
    },
  },
    h('h2', { id: 'run-title' }, 'Run a container'),
    h('div', { class: 'fields' }, image.el, name.el, cmd.el, ports.el,
      h('div', { class: 'field' }, h('label', { for: envId }, 'Environment'), env)),
    submit,
    status,
  );
  return form;
}
