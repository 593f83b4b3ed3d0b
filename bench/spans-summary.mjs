// Medians of the spans GET /debug/spans returned (JSON on stdin), grouped by
// request name with ids folded: `node bench/spans-summary.mjs < spans.json`.
// One row per (request, span): median start offset and median duration, ms.
import { text } from 'node:stream/consumers';

const traces = JSON.parse(await text(process.stdin));
const fold = (name) => name.replace(/[0-9a-f]{12,64}/g, '<id>').replace(/\/v1\.\d+/, '');
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
const groups = new Map();
for (const t of traces) {
  const key = fold(t.name);
  const g = groups.get(key) ?? { totals: [], spans: new Map() };
  groups.set(key, g);
  if (typeof t.ms === 'number') g.totals.push(t.ms);
  const seen = new Map();
  for (const s of t.spans) {
    // the nth span of a name in one trace is its own row (two mount execs, say)
    const n = (seen.get(s.name) ?? 0) + 1;
    seen.set(s.name, n);
    const k = `${'  '.repeat(s.depth)}${s.name}${n > 1 ? ` #${n}` : ''}`;
    const row = g.spans.get(k) ?? { at: [], ms: [] };
    g.spans.set(k, row);
    row.at.push(s.at);
    if (typeof s.ms === 'number') row.ms.push(s.ms);
  }
}
for (const [name, g] of groups) {
  console.log(`${name}  (n=${g.totals.length}, median ${median(g.totals).toFixed(1)} ms)`);
  for (const [k, row] of g.spans) console.log(`  ${k.padEnd(44)} at ${median(row.at).toFixed(1).padStart(7)}  took ${median(row.ms).toFixed(1).padStart(7)}  (n=${row.ms.length})`);
}
