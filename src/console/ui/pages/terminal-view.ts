/**
 * An interactive shell in a container: xterm.js over the console server's
 * `/terminal` websocket (an exec with a tty). Keys go as binary frames;
 * the terminal's size goes as a text frame whenever it changes.
 */
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { h } from '../dom.js';

export function terminalView(id: string): { el: HTMLElement; dispose: () => void } {
  const screen = h('div', { class: 'terminal', id: 'terminal' });
  const cmd = h('input', { id: 'terminal-cmd', value: 'sh', size: 12 });
  const state = h('span', { role: 'status', class: 'terminal-state' });
  let stop: (() => void) | undefined;

  const open = () => {
    stop?.();
    screen.replaceChildren();
    const term = new Terminal({ convertEol: false, cursorBlink: true, fontSize: 14, scrollback: 5000 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(screen);
    fit.fit();
    const url = new URL('/terminal', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('container', id);
    for (const w of cmd.value.trim().split(/\s+/).filter(Boolean)) url.searchParams.append('cmd', w);
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const encoder = new TextEncoder();
    const sendSize = () => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows }));
    };
    ws.onopen = () => {
      state.textContent = 'Connected';
      sendSize();
      term.focus();
    };
    ws.onmessage = (m) => term.write(new Uint8Array(m.data as ArrayBuffer));
    ws.onclose = (e) => {
      state.textContent = e.reason ? `Closed: ${e.reason}` : 'Closed';
    };
    const keys = term.onData((d) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(encoder.encode(d));
    });
    const resized = term.onResize(sendSize);
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(screen);
    stop = () => {
      observer.disconnect();
      keys.dispose();
      resized.dispose();
      ws.close();
      term.dispose();
    };
  };

  const el = h('section', { 'aria-labelledby': 'terminal-title', class: 'panel' },
    h('h2', { id: 'terminal-title' }, 'Terminal'),
    h('div', { class: 'toolbar' },
      h('label', { for: 'terminal-cmd' }, 'Command '), cmd,
      h('button', { type: 'button', id: 'terminal-open', onclick: open }, 'Open terminal'),
      state),
    screen,
  );
  return { el, dispose: () => stop?.() };
}
