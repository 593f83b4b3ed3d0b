import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { CONTAINER_CREATE, CONTAINER_UPDATE } from '../../../../api/body-shapes.js';
import type { ContainerCreateRequest, HostConfig, WaitCondition } from '../../../../api/types/index.js';
import { strSlices } from '../../../../api/shape.js';
import { frame, StdStream } from '../../../../api/stdcopy.js';
import { InvalidParameter } from '../../../../errdefs/index.js';
import { parseDetachKeys } from '../../../../lib/detach-keys.js';
import { writeChunks } from '../../log-stream.js';
import type { Handler } from '../../request.js';
import type { Router } from '../../router.js';
import { parseTimestamp } from '../../time-param.js';
import { acceptHeaders, CloseCode, WebSocketConnection, websocketKey } from '../../websocket.js';
import type { ContainerActions, ContainerViews, OutputStream } from './backend.js';

const RAW = 'application/vnd.docker.raw-stream';
const MUX = 'application/vnd.docker.multiplexed-stream';
const CONDITIONS: WaitCondition[] = ['not-running', 'next-exit', 'removed'];

export function containerRoutes(r: Router<Handler>, b: ContainerActions, v: ContainerViews): void {
  r.add('GET', '/containers/json', async (req, reply) => {
    const limit = req.int('limit');
    const text = await v.listJson({ all: req.bool('all'), filters: req.filters(), size: req.bool('size'), ...(limit !== undefined ? { limit } : {}) });
    reply.text(200, `${text}\n`, 'application/json');
  });

  r.add('POST', '/containers/prune', async (req, reply) => reply.json(200, await b.prune(req.filters())));

  r.add('POST', '/containers/create', async (req, reply) => {
    const body = await req.json<ContainerCreateRequest>(CONTAINER_CREATE);
    if (!body) throw new InvalidParameter('container.no_config', 'Config cannot be empty in order to create a container');
    strSlices(body, ['Cmd', 'Entrypoint', 'Shell']);
    if (body.HostConfig) strSlices(body.HostConfig, ['CapAdd', 'CapDrop']);
    // StartInterval came with API 1.44: older clients never meant it (moby clears it too)
    if (body.Healthcheck && !req.atLeast('1.44')) body.Healthcheck = { ...body.Healthcheck, StartInterval: 0 };
    reply.json(201, await b.create(body, req.str('name') || undefined));
  });

  r.add('GET', '/containers/:id/json', async (req, reply) => reply.json(200, await v.inspect(req.param('id'), req.bool('size'))));

  r.add('POST', '/containers/:id/start', async (req, reply) => {
    await b.start(req.param('id'));
    reply.empty(204);
  });

  r.add('POST', '/containers/:id/stop', async (req, reply) => {
    await b.stop(req.param('id'), stopOptions(req.int('t'), req.str('signal')));
    reply.empty(204);
  });

  r.add('POST', '/containers/:id/restart', async (req, reply) => {
    await b.restart(req.param('id'), stopOptions(req.int('t'), req.str('signal')));
    reply.empty(204);
  });

  r.add('POST', '/containers/:id/kill', async (req, reply) => {
    await b.kill(req.param('id'), req.str('signal') || undefined);
    reply.empty(204);
  });

  r.add('POST', '/containers/:id/pause', async (req, reply) => {
    await b.pause(req.param('id'));
    reply.empty(204);
  });

  r.add('POST', '/containers/:id/unpause', async (req, reply) => {
    await b.unpause(req.param('id'));
    reply.empty(204);
  });

  r.add('POST', '/containers/:id/rename', async (req, reply) => {
    const name = req.str('name');
    if (!name) throw new InvalidParameter('container.rename_empty', 'Neither old nor new names may be empty');
    await b.rename(req.param('id'), name);
    reply.empty(204);
  });

  r.add('POST', '/containers/:id/update', async (req, reply) => {
    reply.json(200, await b.update(req.param('id'), (await req.json<HostConfig>(CONTAINER_UPDATE)) ?? {}));
  });

  r.add('GET', '/containers/:id/top', async (req, reply) => reply.json(200, await v.top(req.param('id'), req.str('ps_args'))));

  r.add('GET', '/containers/:id/stats', async (req, reply) => {
    const stream = req.bool('stream', true);
    const ac = new AbortController();
    const samples = v.stats(req.param('id'), { stream, oneShot: req.bool('one-shot') }, ac.signal);
    if (!stream) {
      for await (const sample of samples) return reply.json(200, sample);
      return;
    }
    const out = reply.stream(200, { 'Content-Type': 'application/json' });
    out.once('close', () => ac.abort());
    for await (const sample of samples) out.write(JSON.stringify(sample) + '\n');
    out.end();
  });

  r.add('POST', '/containers/:id/wait', async (req, reply) => {
    const condition = (req.str('condition') || 'not-running') as WaitCondition;
    if (!CONDITIONS.includes(condition)) throw new InvalidParameter('container.invalid_condition', `invalid condition: "${condition}"`);
    v.get(req.param('id')); // 404 before the 200 goes out
    // headers go out now: `docker run` waits for them before it starts the container
    const out = reply.stream(200, { 'Content-Type': 'application/json' });
    const ac = new AbortController();
    out.once('close', () => ac.abort());
    try {
      const res = await b.wait(req.param('id'), condition, ac.signal);
      out.end(JSON.stringify(res) + '\n');
    } catch (err) {
      if (!ac.signal.aborted) out.end(JSON.stringify({ StatusCode: -1, Error: { Message: (err as Error).message } }) + '\n');
    }
  });

  r.add('DELETE', '/containers/:id', async (req, reply) => {
    await b.remove(req.param('id'), { force: req.bool('force'), volumes: req.bool('v') });
    reply.empty(204);
  });

  r.add('POST', '/containers/:id/attach', async (req, reply) => {
    const rec = v.get(req.param('id'));
    const tty = rec.config.Tty;
    const detachKeys = parseDetachKeys(req.str('detachKeys') || undefined);
    let output: Writable | undefined;
    const { detach } = await b.attach(rec.id, () => {
      const { socket, output: out } = reply.hijack(tty || !req.atLeast('1.42') ? RAW : MUX);
      output = out;
      const wantStdin = req.bool('stdin') && !!socket;
      return {
        stdout: req.bool('stdout'),
        stderr: req.bool('stderr'),
        sink: (stream: OutputStream, data: Buffer) => out.write(tty ? data : frame(stream === 'stdout' ? StdStream.Stdout : StdStream.Stderr, data)),
        drained: () => once(out, 'drain').then(() => {}),
        onEnd: () => out.end(),
        ...(wantStdin ? { stdin: socket } : {}),
        ...(tty ? { detachKeys } : {}),
      };
    });
    if (output?.destroyed) detach();
    output?.once('close', () => detach());
    output?.on('error', () => detach());
  });

  // moby's wsContainersAttach: raw output (never multiplexed) in binary frames (text before API 1.28);
  // before 1.42 all three streams are attached whatever the query says. `logs=1` replays the
  // container's log first; without `stream=1` the connection closes after that replay.
  r.add('GET', '/containers/:id/attach/ws', async (req, reply) => {
    const rec = v.get(req.param('id'));
    const key = websocketKey(req.raw.headers);
    const tty = rec.config.Tty;
    const all = !req.atLeast('1.42');
    const stdout = all || req.bool('stdout');
    const stderr = all || req.bool('stderr');
    const detachKeys = parseDetachKeys(req.str('detachKeys') || undefined);
    const open = () => {
      const socket = reply.switchProtocols(acceptHeaders(key));
      if (!socket) throw new InvalidParameter('websocket.bad_handshake', 'not a websocket handshake: no upgrade');
      return new WebSocketConnection(socket, { binary: req.atLeast('1.28') });
    };
    const replay = async (conn: WebSocketConnection) => {
      if (!req.bool('logs') || (!stdout && !stderr)) return;
      const ac = new AbortController();
      conn.onGone(() => ac.abort());
      for await (const e of v.logs(rec.id, { follow: false, stdout, stderr }, ac.signal).entries) {
        if (ac.signal.aborted) return;
        if (!conn.send(Buffer.from(e.log))) await conn.drained();
      }
    };
    if (!req.bool('stream')) {
      const conn = open();
      await replay(conn);
      conn.close(CloseCode.Normal);
      return;
    }
    let ws: WebSocketConnection | undefined;
    // live output that arrives while the log is replayed waits behind it, in order
    let held: (Buffer | 'end')[] | undefined = req.bool('logs') ? [] : undefined;
    const { detach } = await b.attach(rec.id, () => {
      const conn = open();
      ws = conn;
      return {
        stdout,
        stderr,
        sink: (_stream: OutputStream, data: Buffer) => (held ? (held.push(data), true) : conn.send(data)),
        drained: () => conn.drained(),
        onEnd: () => (held ? held.push('end') : conn.close(CloseCode.Normal)),
        ...(all || req.bool('stdin') ? { stdin: conn.input } : {}),
        ...(tty ? { detachKeys } : {}),
      };
    });
    if (!ws) return;
    const conn: WebSocketConnection = ws;
    if (conn.gone) detach();
    conn.onGone(() => detach());
    if (!held) return;
    await replay(conn).catch(() => {});
    const waiting = held;
    held = undefined;
    for (const item of waiting) {
      if (item === 'end') conn.close(CloseCode.Normal);
      else conn.send(item);
    }
  });

  r.add('POST', '/containers/:id/resize', async (req, reply) => {
    const h = req.int('h');
    const w = req.int('w');
    if (h === undefined || w === undefined) throw new InvalidParameter('container.resize', 'h and w are required');
    await b.resize(req.param('id'), h, w);
    reply.empty(200);
  });

  r.add('GET', '/containers/:id/logs', async (req, reply) => {
    const id = req.param('id');
    v.get(id); // a missing container is a 404 before any bad parameter
    const stdout = req.bool('stdout');
    const stderr = req.bool('stderr');
    if (!stdout && !stderr) throw new InvalidParameter('logs.no_stream', 'Bad parameters: you must choose at least one stream');
    const tail = req.str('tail');
    const tailN = tail === undefined || tail === '' || tail === 'all' ? undefined : Number(tail);
    if (tailN !== undefined && !Number.isInteger(tailN)) throw new InvalidParameter('logs.invalid_tail', `invalid value for tail: ${tail}`);
    const since = req.str('since');
    const until = req.str('until');
    const query = {
      follow: req.bool('follow'), stdout, stderr,
      ...(tailN !== undefined && tailN >= 0 ? { tail: tailN } : {}),
      ...(since && since !== '0' ? { sinceNs: parseTimestamp(since) } : {}),
      ...(until && until !== '0' ? { untilNs: parseTimestamp(until) } : {}),
    };
    // the docker CLI only copies frame payloads to stdout and stderr (stdcopy): its lines may share frames
    const coalesce = DOCKER_CLI.test(req.raw.headers['user-agent'] ?? '');
    const format = { timestamps: req.bool('timestamps'), details: req.bool('details'), coalesce };
    const ac = new AbortController();
    const { tty, chunks } = v.logWire(id, query, format, ac.signal);
    const out = reply.stream(200, { 'Content-Type': tty || !req.atLeast('1.42') ? RAW : MUX });
    out.once('close', () => ac.abort());
    await writeChunks(out, chunks, ac.signal);
  });
}

const DOCKER_CLI = /^Docker-Client\//;

function stopOptions(t: number | undefined, signal: string | undefined): { timeout?: number; signal?: string } {
  return { ...(t !== undefined ? { timeout: t } : {}), ...(signal ? { signal } : {}) };
}
