/**
 * A small live line chart in SVG: the last N samples of one or two series,
 * scaled to the largest value shown, with the current values as text (also
 * the chart's accessible label, so a screen reader hears the figure).
 *
 *   const c = lineChart('stats-cpu', 'CPU', (v) => `${v.toFixed(1)} %`, ['cpu']);
 *   c.push([12.5]);
 */
import { h } from '../dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 240;
const HEIGHT = 60;
const SAMPLES = 60;

export interface LineChart {
  el: HTMLElement;
  push(values: number[]): void;
}

export function lineChart(id: string, title: string, format: (v: number) => string, series: string[]): LineChart {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('aria-hidden', 'true');
  const lines = series.map((_, i) => {
    const l = document.createElementNS(SVG, 'polyline');
    l.setAttribute('class', `series series-${i}`);
    l.setAttribute('fill', 'none');
    svg.appendChild(l);
    return l;
  });
  const figure = h('output', { class: 'chart-value' }, '–');
  const el = h('figure', { class: 'chart-box', id, role: 'img', 'aria-label': `${title}: no data yet`, 'data-samples': 0 },
    h('figcaption', {}, title, ' ', figure), svg);
  const data: number[][] = series.map(() => []);
  return {
    el,
    push(values) {
      values.forEach((v, i) => {
        data[i]!.push(v);
        if (data[i]!.length > SAMPLES) data[i]!.shift();
      });
      const max = Math.max(1e-9, ...data.flat());
      lines.forEach((l, i) => {
        const d = data[i]!;
        l.setAttribute('points', d.map((v, x) => `${((x / (SAMPLES - 1)) * WIDTH).toFixed(1)},${(HEIGHT - 2 - (v / max) * (HEIGHT - 4)).toFixed(1)}`).join(' '));
      });
      const text = values.map((v, i) => (series.length > 1 ? `${series[i]} ${format(v)}` : format(v))).join(' · ');
      figure.textContent = text;
      el.setAttribute('aria-label', `${title}: ${text}`);
      el.dataset.samples = String(data[0]!.length);
      el.dataset.last = values.join(',');
    },
  };
}
