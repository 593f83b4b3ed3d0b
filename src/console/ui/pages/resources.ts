/**
 * What the Volumes and Networks pages share: a titled list read again on
 * its events, a Remove button that asks first and shows the daemon's own
 * words when it refuses (a volume in use is a 409), and create forms.
 */
import { h, notify, replace, type Child, type Page } from '../dom.js';
import { subscribe } from '../events.js';

/** A titled table whose rows come from `load`, refreshed on events of `eventType`; `extra` goes below it. */
export function listPage(title: string, eventType: string, columns: string[], load: () => Promise<HTMLTableRowElement[]>, extra: Child[] = []): Page & { refresh: () => Promise<void> } {
  const id = title.toLowerCase();
  const tbody = h('tbody');
  const refresh = async () => {
    try {
      replace(tbody, await load());
    } catch (err) {
      notify((err as Error).message);
    }
  };
  const sub = subscribe((e) => {
    if (e.Type === eventType) void refresh();
  });
  void sub.ready.then(refresh);
  const el = h('section', { 'aria-labelledby': `${id}-title` },
    h('h1', { id: `${id}-title` }, title),
    h('table', { class: 'list', id },
      h('caption', { class: 'visually-hidden' }, `${title} on this engine`),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
      tbody),
    extra);
  return { el, refresh, dispose: () => sub.unsubscribe() };
}

/**
 * A button that asks `question`, then runs `run`; a refusal (in use, not found, a
 * predefined network) is shown with the daemon's message.
 */
export function confirmButton(label: string, ariaLabel: string, question: string, run: () => Promise<unknown>, done?: () => void): HTMLButtonElement {
  const b = h('button', {
    type: 'button',
    class: 'danger',
    'aria-label': ariaLabel,
    onclick: async () => {
      if (!window.confirm(question)) return;
      b.disabled = true;
      try {
        await run();
        notify('');
        done?.();
      } catch (err) {
        notify(`${ariaLabel}: ${(err as Error).message}`);
      } finally {
        b.disabled = false;
      }
    },
  }, label);
  return b;
}

/**
 * The create form of a resource page: `create` makes the object and says
 * what it made; a refusal is shown with the daemon's message.
 */
export function resourceForm(kind: string, fields: HTMLElement[], create: () => Promise<string>): HTMLElement {
  const status = h('p', { role: 'status', id: `${kind}-create-status` });
  const submit = h('button', { type: 'submit' }, `Create ${kind}`);
  return h('form', {
    'aria-labelledby': `${kind}-create-title`,
    onsubmit: async (ev: Event) => {
      ev.preventDefault();
      submit.disabled = true;
      try {
        status.textContent = await create();
        notify('');
      } catch (err) {
        status.textContent = '';
        notify(`Create ${kind}: ${(err as Error).message}`);
      } finally {
        submit.disabled = false;
      }
    },
  },
    h('h2', { id: `${kind}-create-title` }, `Create a ${kind}`),
    h('div', { class: 'fields' }, ...fields),
    submit, status);
}

/** A labelled input for a create form; `prefix` keeps the ids of two forms apart. */
export function field(prefix: string, label: string, name: string, props: Record<string, unknown> = {}): { input: HTMLInputElement; el: HTMLElement } {
  const input = h('input', { id: `${prefix}-${name}`, name, autocomplete: 'off', ...props });
  const box = props.type === 'checkbox'
    ? h('div', { class: 'field field-check' }, h('label', { for: input.id }, input, ` ${label}`))
    : h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
  return { input, el: box };
}

/** `key=value` pairs, one a line or comma-separated, as an object (labels, driver options). */
export function pairs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean)) {
    const i = item.indexOf('=');
    if (i <= 0) throw new Error(`expected key=value, got "${item}"`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

/** A definition list of the facts that have a value. */
export function facts(id: string, list: [string, Child][]): HTMLElement {
  return h('dl', { class: 'facts', id }, list.filter(([, v]) => v !== '' && v !== undefined && v !== null).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}
