/**
 * One plugin's HTTP client, shared by every kind of driver (volume, authz,
 * and later network, IPAM, managed plugins): `POST /<Method>` with a JSON
 * body, `Accept: application/vnd.docker.plugins.v1.2+json`, a deadline on
 * every call, and Docker's retry of calls that did not reach the plugin.
 *
 *   const c = await PluginClient.connect(spec, { timeoutMs: 60_000 });
 *   const m = await c.call<{ Implements: string[] }>('Plugin.Activate', undefined);
 *
 * Failures are errors with Docker's wording: a non-200 answer with
 * `{"Err": "boom"}` becomes `VolumeDriver.Create: boom` (moby's statusError).
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { readFile } from 'node:fs/promises';
import { SystemError } from '../../errdefs/index.js';
import type { PluginSpec } from './discovery.js';

/** moby's plugins.VersionMimetype. */
export const PLUGIN_MEDIA_TYPE = 'application/vnd.docker.plugins.v1.2+json';
/** moby's defaultTimeOut: how long calls that cannot reach the plugin are retried. */
export const RETRY_WINDOW_MS = 30_000;
/** Answers are small JSON documents; a plugin sending more is broken. */
const MAX_RESPONSE_BYTES = 16 << 20;

export interface CallOptions {
  /** Deadline of one attempt (default: the client's). */
  timeoutMs?: number;
  /** Retry when the plugin cannot be reached (default true, as Docker). */
  retry?: boolean;
}

export interface ClientOptions {
  timeoutMs: number;
  /** How long unreachable-plugin retries may go on (default RETRY_WINDOW_MS, never beyond timeoutMs). */
  retryWindowMs?: number;
  /** Waits between retries; tests replace it. */
  sleep?: (ms: number) => Promise<void>;
}

/** The plugin could not be reached, or did not answer in time (the call may be retried). */
export class PluginUnreachable extends SystemError {
  constructor(method: string, detail: string) {
    super('plugin.unreachable', `${method}: ${detail}`);
  }
}

/** The plugin answered with an error status (moby's statusError). */
export class PluginCallFailed extends SystemError {
  constructor(readonly method: string, readonly status: number, readonly detail: string) {
    super('plugin.call_failed', `${method}: ${detail}`);
  }
}

/** The plugin answered 200 with something that is not JSON. */
export class PluginBadResponse extends SystemError {
  constructor(method: string, plugin: string, detail: string) {
    super('plugin.bad_response', `${method}: invalid response from plugin ${plugin}: ${detail}`);
  }
}

/** moby's backoff: 1s, 2s, 4s … capped at 30s. */
export function backoffMs(retries: number): number {
  let b = 1;
  while (b < 30 && retries > 0) {
    b *= 2;
    retries--;
  }
  return Math.min(b, 30) * 1000;
}

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOENT: 'no such file or directory',
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'broken pipe',
  EACCES: 'permission denied',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
};

interface Target {
  request: typeof httpRequest;
  options: RequestOptions;
  /** How Go would name the dial in an error: `dial unix /run/docker/plugins/x.sock`. */
  dial: string;
}

async function target(spec: PluginSpec): Promise<Target> {
  const url = new URL(spec.addr);
  if (url.protocol === 'unix:') {
    return { request: httpRequest, options: { socketPath: url.pathname, host: 'plugin' }, dial: `dial unix ${url.pathname}` };
  }
  const base: RequestOptions = { host: url.hostname, port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80 };
  if (url.protocol !== 'https:') return { request: httpRequest, options: base, dial: `dial tcp ${url.host}` };
  const t = spec.tls ?? { insecureSkipVerify: false };
  const [ca, cert, key] = await Promise.all([t.caFile, t.certFile, t.keyFile].map((f) => (f ? readFile(f) : Promise.resolve(undefined))));
  return {
    // https loads on use: idle memory when no plugin is reached over TLS (issue 18)
    request: process.getBuiltinModule('node:https').request as typeof httpRequest,
    options: { ...base, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), rejectUnauthorized: !t.insecureSkipVerify } as RequestOptions,
    dial: `dial tcp ${url.host}`,
  };
}

type Attempt = { ok: true; status: number; body: Buffer } | { ok: false; detail: string };

export class PluginClient {
  private constructor(readonly spec: PluginSpec, private readonly t: Target, private readonly o: ClientOptions) {}

  static async connect(spec: PluginSpec, o: ClientOptions): Promise<PluginClient> {
    return new PluginClient(spec, await target(spec), o);
  }

  get name(): string {
    return this.spec.name;
  }

  /** POSTs `args` (JSON) to `/<method>` and returns the parsed JSON answer. */
  async call<T>(method: string, args: unknown, o: CallOptions = {}): Promise<T> {
    const body = args === undefined ? Buffer.alloc(0) : Buffer.from(`${JSON.stringify(args)}\n`);
    const timeoutMs = o.timeoutMs ?? this.o.timeoutMs;
    const window = Math.min(this.o.retryWindowMs ?? RETRY_WINDOW_MS, this.o.timeoutMs);
    const sleep = this.o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const start = Date.now();
    for (let retries = 0; ; retries++) {
      const a = await this.attempt(method, body, timeoutMs);
      if (a.ok) return this.decode<T>(method, a.status, a.body);
      const wait = Math.min(backoffMs(retries), window);
      if (o.retry === false || Date.now() - start + wait >= window) throw new PluginUnreachable(method, a.detail);
      await sleep(wait);
    }
  }

  private decode<T>(method: string, status: number, raw: Buffer): T {
    const text = raw.toString('utf8');
    if (status !== 200) {
      // plugins answer {"Err": "..."}; older ones plain text
      let err: unknown;
      try {
        err = (JSON.parse(text) as { Err?: unknown }).Err;
      } catch {
        // not JSON: the text is the message
      }
      throw new PluginCallFailed(method, status, typeof err === 'string' && err ? err : text.trim() || `status ${status}`);
    }
    try {
      return (text.trim() ? JSON.parse(text) : {}) as T;
    } catch (err) {
      throw new PluginBadResponse(method, this.name, `${(err as Error).message}: ${JSON.stringify(text.slice(0, 80))}`);
    }
  }

  private attempt(method: string, body: Buffer, timeoutMs: number): Promise<Attempt> {
    return new Promise((resolve) => {
      let settled = false;
      const done = (a: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(a);
      };
      const req = this.t.request({
        ...this.t.options,
        method: 'POST',
        path: `/${method}`,
        headers: { Accept: PLUGIN_MEDIA_TYPE, 'Content-Length': body.length },
        agent: false,
      });
      const timer = setTimeout(() => {
        done({ ok: false, detail: `plugin ${this.name} did not answer within ${fmtSeconds(timeoutMs)}` });
        req.destroy();
      }, timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        const text = (err.code && ERRNO_TEXT[err.code]) ?? err.message;
        done({ ok: false, detail: err.code === 'ECONNRESET' || err.code === 'EPIPE' ? `plugin ${this.name}: ${text}` : `${this.t.dial}: connect: ${text}` });
      });
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            done({ ok: false, detail: `plugin ${this.name} sent more than ${MAX_RESPONSE_BYTES} bytes` });
            req.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => done({ ok: true, status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', () => done({ ok: false, detail: `plugin ${this.name}: connection reset by peer` }));
        res.on('aborted', () => done({ ok: false, detail: `plugin ${this.name}: connection reset by peer` }));
      });
      req.end(body);
    });
  }
}

function fmtSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}
