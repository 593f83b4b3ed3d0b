/**
 * A WAI-ARIA tab list: one panel shown at a time, arrow keys move between
 * tabs; a panel's `shown` runs the first time it is shown (so a stats
 * stream opens only when someone looks at it).
 */
import { h } from '../dom.js';

export interface Tab {
  id: string;
  label: string;
  panel: HTMLElement;
  shown?: () => void;
}

export function tabs(label: string, list: Tab[]): HTMLElement {
  const seen = new Set<string>();
  const buttons = list.map((t) => h('button', { type: 'button', role: 'tab', id: `tab-${t.id}`, 'aria-controls': `panel-${t.id}`, onclick: () => select(t.id) }, t.label));
  const panels = list.map((t) => h('div', { role: 'tabpanel', id: `panel-${t.id}`, 'aria-labelledby': `tab-${t.id}`, tabindex: 0 }, t.panel));
  const select = (id: string) => {
    list.forEach((t, i) => {
      const on = t.id === id;
      buttons[i]!.setAttribute('aria-selected', String(on));
      buttons[i]!.tabIndex = on ? 0 : -1;
      panels[i]!.hidden = !on;
      if (on && !seen.has(id)) {
        seen.add(id);
        t.shown?.();
      }
    });
  };
  const bar = h('div', { role: 'tablist', 'aria-label': label, class: 'tabs' }, buttons);
  bar.addEventListener('keydown', (ev) => {
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (i < 0 || (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft')) return;
    const next = (i + (ev.key === 'ArrowRight' ? 1 : list.length - 1)) % list.length;
    select(list[next]!.id);
    buttons[next]!.focus();
  });
  select(list[0]!.id);
  return h('div', { class: 'panel' }, bar, panels);
}
