// Robustness and speed: random and mutated templates must fail with a
// TemplateError (never a TypeError, a hang or a stack overflow), and a
// parsed template must execute quickly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TemplateError, parseTemplate } from './template.js';
import { renderList } from './formatter.js';

const PIECES = [
  '{{', '}}', '{{- ', ' -}}', '{{/*', '*/}}', ' ', '  ', '\n', '\t', '.', '.A', '.B', '.L', '.M', '.F', '.Label', '$', '$x', '$i', '$e',
  ':=', '=', ',', '|', '(', ')', '"s"', '"', '`raw`', '`', "'c'", "'", '1', '-2', '0x1F', '1.5', '1e3', '3', 'true', 'false', 'nil',
  'if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue', '"T"', 'and', 'or', 'not', 'len',
  'index', 'slice', 'print', 'printf', '"%d %s %v %5.2f %q %x"', 'println', 'eq', 'ne', 'lt', 'ge', 'html', 'js', 'urlquery', 'call',
  'json', 'split', 'join', 'title', 'lower', 'upper', 'pad', 'truncate', 'é', '日本', '\u0000', '\\', '%', 'text ', '@', '#',
];

const VALID = [
  '{{range $i, $e := .L}}{{if eq $i 1}}{{continue}}{{end}}{{$e}}{{else}}none{{end}}',
  '{{with .M}}{{range $k, $v := .}}{{$k}}={{$v}} {{end}}{{end}}',
  'table {{.A}}\t{{.B | printf "%5s"}}\t{{json .M}}',
  '{{define "T"}}[{{.}}]{{end}}{{template "T" .A}}{{block "U" .B}}<{{.}}>{{end}}',
  '{{$x := 1}}{{if and .A (not .B)}}{{$x = 2}}{{end}}{{$x}} {{len .L}} {{index .L 0}} {{slice .L 1}}',
  '{{.Label "com.example"}} {{join (split "a,b" ",") "|"}} {{pad (upper .A) 1 1}} {{truncate .A 2}}',
];

const DATA = {
  A: 'alpha',
  B: '',
  L: ['x', 'y', 'z'],
  M: { k: 'v', n: 1, z: null },
  F: (a: unknown) => a,
  Label: (k: string) => `label:${k}`,
};

/** A small deterministic PRNG, so a failure can be reproduced from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomTemplate(r: () => number): string {
  if (r() < 0.5) {
    const n = 1 + Math.floor(r() * 30);
    let s = '';
    for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)];
    return s;
  }
  // Mutate a valid template: delete, insert or replace a slice.
  let s = VALID[Math.floor(r() * VALID.length)];
  const edits = 1 + Math.floor(r() * 3);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(r() * (s.length + 1));
    const len = Math.floor(r() * 4);
    const op = r();
    if (op < 0.33) s = s.slice(0, at) + s.slice(at + len);
    else if (op < 0.66) s = s.slice(0, at) + PIECES[Math.floor(r() * PIECES.length)] + s.slice(at);
    else s = s.slice(0, at) + PIECES[Math.floor(r() * PIECES.length)] + s.slice(at + len);
  }
  return s;
}

test('random and mutated templates fail only with TemplateError', () => {
  const r = rng(0xbe47);
  // A fixed count, not a time budget: the suite must not depend on the machine's load.
  let runs = 0;
  let parsed = 0;
  while (runs < 3000) {
    const text = randomTemplate(r);
    runs++;
    try {
      const t = parseTemplate(text);
      parsed++;
      t.execute(DATA);
      t.execute([1, 'two', null]);
      t.execute(undefined);
    } catch (e) {
      if (!(e instanceof TemplateError)) {
        assert.fail(`${text === '' ? '(empty)' : JSON.stringify(text)} threw ${e instanceof Error ? e.stack : String(e)}`);
      }
      assert.match(e.message, /^template: /, JSON.stringify(text));
    }
  }
  assert.ok(parsed > 0 && parsed < runs, `${parsed} of ${runs} parsed: the generator is not exercising both paths`);
});

test('pathological nesting fails cleanly', () => {
  const deep = '('.repeat(5000) + '1' + ')'.repeat(5000);
  assert.throws(() => parseTemplate(`{{${deep}}}`), { name: 'TemplateError', message: /max expression depth exceeded/ });
  const ifs = '{{if 1}}'.repeat(5000) + '{{end}}'.repeat(5000);
  assert.throws(() => parseTemplate(ifs), { name: 'TemplateError' });
  const t = parseTemplate('{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}');
  assert.throws(() => t.execute(1), { name: 'TemplateError', message: /exceeded maximum template depth/ });
});

// The bounds below only catch a pathological slowdown (quadratic, a hang); figures are bench/'s job.
test('a parsed template executes 10k times without a pathological slowdown', () => {
  const t = parseTemplate(
    '{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Label "com.example.app"}}\t{{if .Size}}{{.Size}}{{end}}',
  );
  const row = {
    ID: '3f4e8a1b2c9d',
    Image: 'nginx:latest',
    Command: '"/docker-entrypoint.…"',
    RunningFor: '2 hours ago',
    Status: 'Up 2 hours',
    Ports: '0.0.0.0:8080->80/tcp',
    Names: 'web',
    Label: (k: string) => (k === 'com.example.app' ? 'shop' : ''),
    Size: () => '1.09kB (virtual 187MB)',
  };
  assert.equal(t.execute(row).split('\t').length, 9);
  const start = performance.now();
  for (let i = 0; i < 10_000; i++) t.execute(row);
  const ms = performance.now() - start;
  assert.ok(ms < 10_000, `10k executions took ${ms.toFixed(0)} ms`);
});

test('a 1000-row table renders without a pathological slowdown', () => {
  const rows = Array.from({ length: 1000 }, (_, i) => ({ ID: `id${i}`, Names: `name-${i}`, Image: i % 2 ? 'nginx' : 'redis:7-alpine' }));
  const start = performance.now();
  const out = renderList({ format: '', defaultFormat: 'table {{.ID}}\\t{{.Image}}\\t{{.Names}}', rows, headers: { ID: 'CONTAINER ID', Image: 'IMAGE', Names: 'NAMES' } });
  const ms = performance.now() - start;
  assert.equal(out.split('\n').length, 1002);
  assert.ok(ms < 10_000, `1000 rows took ${ms.toFixed(0)} ms`);
});
