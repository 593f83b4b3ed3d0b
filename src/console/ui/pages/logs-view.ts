/**
 * Logs, streamed: a container's (`/containers/{id}/logs`) or a service's
 * (`/services/{id}/logs`, the same stdcopy framing): follow, tail, timestamps,
 * search; stderr lines are marked (colour and a label for screen readers).
 * Changing an option starts a new stream and drops the old one.
 */
import { call, outputChunks, query, type StreamName } from '../api.js';
import { h } from '../dom.js';

const MAX_LINES = 5000;

export interface LogsSource {
  /** `/containers/{id}/logs` or `/services/{id}/logs`. */
  path: string;
  /** A tty's output is raw, not framed. */
  tty: boolean;
  /** Extra query parameters (a service's `details=1`). */
  query?: Record<string, string | boolean>;
  /** Rewrites a line before it is shown (a service's details become the task's name). */
  line?: (text: string, timestamps: boolean) => string;
}

export function logsView(source: LogsSource): { el: HTMLElement; dispose: () => void } {
  const { path, tty } = source;
  const out = h('pre', { class: 'logs', id: 'logs', tabindex: 0, 'aria-label': 'Log output', 'aria-live': 'off' });
  const follow = h('input', { type: 'checkbox', id: 'logs-follow', checked: true });
  const timestamps = h('input', { type: 'checkbox', id: 'logs-timestamps' });
  const tail = h('input', { type: 'number', id: 'logs-tail', min: 0, value: '500', size: 6 });
  const search = h('input', { type: 'search', id: 'logs-search', size: 18, placeholder: 'text in the line' });
  let ac: AbortController | undefined;
  const partial: Record<StreamName, string> = { stdout: '', stderr: '' };
  const decoders: Record<StreamName, TextDecoder> = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  // search hides the lines without the text (case-insensitive), new ones included, without a new stream
  const matches = (text: string) => !search.value || text.toLowerCase().includes(search.value.toLowerCase());
  // lines arrive far faster than a screen refreshes: they are queued and added once per frame,
  // with one layout read for the scroll position, so a chatty container cannot freeze the page
  let pending: [StreamName, string][] = [];
  let frame = 0;
  const flush = () => {
    frame = 0;
    const lines = pending.slice(-MAX_LINES);
    pending = [];
    const stick = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
    const batch = document.createDocumentFragment();
    for (const [stream, text] of lines) {
      batch.appendChild(h('span', { class: `line ${stream}`, hidden: !matches(text), 'data-text': text }, stream === 'stderr' ? h('span', { class: 'visually-hidden' }, 'stderr: ') : null, text + '\n'));
    }
    out.appendChild(batch);
    for (let extra = out.childElementCount - MAX_LINES; extra > 0; extra--) out.firstElementChild!.remove();
    if (stick) out.scrollTop = out.scrollHeight;
  };
  const addLine = (stream: StreamName, text: string) => {
    pending.push([stream, text]);
    // a hidden tab gets no frames: keep only what could be shown
    if (pending.length > 2 * MAX_LINES) pending = pending.slice(-MAX_LINES);
    if (!frame) frame = requestAnimationFrame(flush);
  };

  const start = async () => {
    ac?.abort();
    const mine = new AbortController();
    ac = mine;
    out.replaceChildren();
    pending = [];
    partial.stdout = partial.stderr = '';
    try {
      const q = query({ stdout: true, stderr: true, follow: follow.checked, timestamps: timestamps.checked, tail: tail.value === '' ? 'all' : tail.value, ...source.query });
      const res = await call('GET', `${path}${q}`, undefined, mine.signal);
      const shown = source.line ? (text: string) => source.line!(text, timestamps.checked) : (text: string) => text;
      for await (const { stream, data } of outputChunks(res, tty)) {
        if (mine.signal.aborted) return;
        const lines = (partial[stream] + decoders[stream].decode(data, { stream: true })).split('\n');
        partial[stream] = lines.pop()!;
        for (const l of lines) addLine(stream, shown(l.replace(/\r$/, '')));
      }
      for (const s of ['stdout', 'stderr'] as const) if (partial[s]) addLine(s, shown(partial[s]));
    } catch (err) {
      if (!mine.signal.aborted) addLine('stderr', `[logs: ${(err as Error).message}]`);
    }
  };
  for (const input of [follow, timestamps, tail]) input.addEventListener('change', () => void start());
  search.addEventListener('input', () => {
    for (const line of out.querySelectorAll<HTMLElement>('.line')) line.hidden = !matches(line.dataset.text ?? '');
  });
  void start();
  const el = h('section', { 'aria-labelledby': 'logs-title', class: 'panel' },
    h('h2', { id: 'logs-title' }, 'Logs'),
    h('div', { class: 'toolbar' },
      h('label', {}, follow, ' Follow'),
      h('label', {}, timestamps, ' Timestamps'),
      h('label', { for: 'logs-tail' }, 'Tail '), tail,
      h('label', { for: 'logs-search' }, 'Search '), search),
    out,
  );
  return { el, dispose: () => { ac?.abort(); cancelAnimationFrame(frame); } };
}
