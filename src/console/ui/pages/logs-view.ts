/**
 * A container's logs, streamed: follow, tail, timestamps, search; stderr lines are
 * marked (colour and a label for screen readers). Changing an option
 * starts a new stream and drops the old one.
 */
import { call, outputChunks, query, type StreamName } from '../api.js';
import { h } from '../dom.js';

const MAX_LINES = 5000;

export function logsView(id: string, tty: boolean): { el: HTMLElement; dispose: () => void } {
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
      const q = query({ stdout: true, stderr: true, follow: follow.checked, timestamps: timestamps.checked, tail: tail.value === '' ? 'all' : tail.value });
      const res = await call('GET', `/containers/${encodeURIComponent(id)}/logs${q}`, undefined, mine.signal);
      for await (const { stream, data } of outputChunks(res, tty)) {
        if (mine.signal.aborted) return;
        const lines = (partial[stream] + decoders[stream].decode(data, { stream: true })).split('\n');
        partial[stream] = lines.pop()!;
        for (const l of lines) addLine(stream, l.replace(/\r$/, ''));
      }
      for (const s of ['stdout', 'stderr'] as const) if (partial[s]) addLine(s, partial[s]);
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
