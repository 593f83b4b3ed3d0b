/**
 * The Engine API as the page reaches it: `/api/<engine path>` on the
 * console server (same origin, session cookie), which forwards it.
 */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function failure(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    return new ApiError(res.status, (JSON.parse(text) as { message?: string }).message ?? text);
  } catch {
    return new ApiError(res.status, text || res.statusText);
  }
}

export async function call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const res = await fetch(`/api${path}`, {
    method,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } } : {}),
    ...(signal ? { signal } : {}),
  });
  if (!res.ok) throw await failure(res);
  return res;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await call(method, path, body);
  const text = await res.text();
  return (text.trim() ? JSON.parse(text) : undefined) as T;
}

export function query(q: Record<string, string | number | boolean | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** Newline-delimited JSON messages of a streamed answer (events, pull progress), as they arrive. */
export async function* ndjson<T>(res: Response): AsyncGenerator<T> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let rest = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const lines = (rest + value).split('\n');
    rest = lines.pop()!;
    for (const l of lines) if (l.trim()) yield JSON.parse(l) as T;
  }
  if (rest.trim()) yield JSON.parse(rest) as T;
}

export type StreamName = 'stdout' | 'stderr';

/**
 * Output of logs or attach: Docker's 8-byte frame headers (stream, 0, 0, 0,
 * big-endian size) unless the container has a tty, whose output is raw.
 */
export async function* outputChunks(res: Response, tty: boolean): AsyncGenerator<{ stream: StreamName; data: Uint8Array }> {
  const reader = res.body!.getReader();
  let buf = new Uint8Array(0);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    if (tty) {
      yield { stream: 'stdout', data: value };
      continue;
    }
    const joined = new Uint8Array(buf.length + value.length);
    joined.set(buf);
    joined.set(value, buf.length);
    // walk the frames by offset: slicing the rest after each one copies a chunk of many small
    // frames over and over (quadratic), enough to freeze the page on a chatty container
    let at = 0;
    const view = new DataView(joined.buffer);
    while (joined.length - at >= 8) {
      const size = view.getUint32(at + 4);
      if (joined.length - at < 8 + size) break;
      yield { stream: joined[at] === 2 ? 'stderr' : 'stdout', data: joined.subarray(at + 8, at + 8 + size) };
      at += 8 + size;
    }
    buf = joined.slice(at);
  }
}
