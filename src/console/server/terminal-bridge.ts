/**
 * The terminal: a websocket the page opens at `/terminal?container=ID&cmd=sh`,
 * bridged to an exec with a tty on the Engine API (POST /containers/{id}/exec,
 * then the hijacked POST /exec/{id}/start). Binary frames carry the tty's
 * bytes both ways; a text frame `{"type":"resize","cols":80,"rows":24}`
 * becomes POST /exec/{id}/resize. Either side closing closes the other.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { EngineClient } from '../../client/engine-client.js';

export interface TerminalRequest {
  container: string;
  cmd: string[];
}

interface Resize {
  type: 'resize';
  cols: number;
  rows: number;
}

function resizeMessage(text: string): Resize | undefined {
  try {
    const m = JSON.parse(text) as Partial<Resize>;
    if (m.type === 'resize' && Number.isInteger(m.cols) && Number.isInteger(m.rows) && m.cols! > 0 && m.rows! > 0) return m as Resize;
  } catch {
    // not a control message: ignored
  }
  return undefined;
}

const FIRST_SIZE_WAIT_MS = 1000;
const HIGH_WATER = 1 << 20;
const LOW_WATER = 1 << 16;

/** Resizes the exec's tty; the daemon refuses until the process runs, so a few tries (as the docker CLI does). */
async function resizeExec(client: EngineClient, execId: string, r: Resize): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await client.post(`/exec/${execId}/resize`, { query: { h: r.rows, w: r.cols } });
      return;
    } catch {
      await new Promise((done) => setTimeout(done, 50 * 2 ** attempt));
    }
  }
}

export async function bridgeTerminal(ws: WebSocket, client: EngineClient, t: TerminalRequest): Promise<void> {
  let exec: Socket | undefined;
  let execId = '';
  // keystrokes typed while the exec starts are kept, in order
  const pending: Buffer[] = [];
  let size: Resize | undefined;
  let firstSize: (() => void) | undefined;
  const resize = (r: Resize) => {
    size = r;
    firstSize?.();
    if (execId) void resizeExec(client, execId, r);
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) {
      const r = resizeMessage(data.toString('utf8'));
      if (r) resize(r);
      return;
    }
    if (exec) exec.write(data);
    else pending.push(data);
  });
  ws.once('close', () => exec?.destroy());
  // the page sends its size first: the exec's tty then starts with it (ConsoleSize), not at 0x0
  await new Promise<void>((resolve) => {
    firstSize = resolve;
    setTimeout(resolve, FIRST_SIZE_WAIT_MS).unref();
  });
  firstSize = undefined;
  try {
    const created = await client.json<{ Id: string }>('POST', `/containers/${encodeURIComponent(t.container)}/exec`, {
      body: { AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true, Cmd: t.cmd, ...(size ? { ConsoleSize: [size.rows, size.cols] } : {}) },
    });
    execId = created.Id;
    exec = await client.hijack(`/exec/${execId}/start`, { body: { Detach: false, Tty: true, ...(size ? { ConsoleSize: [size.rows, size.cols] } : {}) } });
  } catch (err) {
    ws.close(1011, (err as Error).message.slice(0, 120));
    return;
  }
  if (ws.readyState !== ws.OPEN) {
    exec.destroy();
    return;
  }
  for (const p of pending.splice(0)) exec.write(p);
  // a flood (`cat` of a big file) to a slow browser pauses the exec's output instead of queueing it all here
  const stream = exec;
  stream.on('data', (d: Buffer) => {
    ws.send(d, { binary: true }, () => {
      if (stream.isPaused() && ws.bufferedAmount < LOW_WATER) stream.resume();
    });
    if (ws.bufferedAmount > HIGH_WATER) stream.pause();
  });
  exec.once('close', () => ws.close(1000, 'exited'));
  exec.on('error', () => ws.close(1011, 'exec stream failed'));
  exec.resume();
}
