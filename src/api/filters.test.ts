import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidParameter } from '../errdefs/index.js';
import { createdAfter, Filters } from './filters.js';

const rejects = (fn: () => unknown, message: string) =>
  assert.throws(fn, (err: unknown) => err instanceof InvalidParameter && err.code === 'filter.invalid' && err.message === message);

test('parse reads the list form and the older map-of-bool form; values are a set', () => {
  assert.deepEqual(Filters.parse('{"label":["a","b","a"]}').toJSON(), { label: ['a', 'b'] });
  assert.deepEqual(Filters.parse('{"dangling":{"true":true,"false":false}}').toJSON(), { dangling: ['true'] });
  assert.equal(Filters.parse(undefined).size, 0);
  assert.equal(Filters.parse('').size, 0);
});

test('parse refuses what is not an object of lists or maps, quoting it as dockerd does', () => {
  for (const raw of ['nope', '[]', '"x"', '{"a":1}', 'null']) rejects(() => Filters.parse(raw), `invalid filter '${raw}'`);
});

test('accept lets known keys through and names the first unknown one', () => {
  const f = new Filters({ label: ['a'], until: ['1h'] });
  assert.equal(f.accept(['label', 'label!', 'until']), f);
  rejects(() => new Filters({ foo: ['x'] }).accept(['label']), "invalid filter 'foo'");
  rejects(() => new Filters({ 'label!': ['x'] }).accept(['label']), "invalid filter 'label!'");
});

test('label: every key or key=value must be present (MatchKVList)', () => {
  const labels = { env: 'prod', tier: 'web', empty: '' };
  const f = (...v: string[]) => new Filters({ label: v });
  assert.equal(f('env').labels(labels), true);
  assert.equal(f('env=prod', 'tier').labels(labels), true);
  assert.equal(f('env=dev').labels(labels), false);
  assert.equal(f('env', 'missing').labels(labels), false);
  assert.equal(f('empty=').labels(labels), true);
  assert.equal(f('a=b=c').labels({ a: 'b=c' }), true);
  assert.equal(f('env').labels(null), false);
  assert.equal(f('toString').labels({}), false);
  assert.equal(new Filters().labels(null), true);
});

test('label!: left out only when every label! value matches (dockerd matchLabels)', () => {
  const labels = { env: 'prod', tier: 'web' };
  const f = (...v: string[]) => new Filters({ 'label!': v });
  assert.equal(f('env').labels(labels), false);
  assert.equal(f('env=prod').labels(labels), false);
  assert.equal(f('env=dev').labels(labels), true);
  assert.equal(f('other').labels(labels), true);
  assert.equal(f('env', 'other').labels(labels), true);
  assert.equal(f('env', 'tier=web').labels(labels), false);
  assert.equal(f('env').labels(null), true);
  assert.equal(new Filters({ label: ['env'], 'label!': ['tier=db'] }).labels(labels), true);
});

test('bool: true/1 and false/0 exactly; others, conflicts and no value are dockerd errors', () => {
  const b = (...v: string[]) => new Filters({ dangling: v }).bool('dangling', false);
  assert.equal(b('true'), true);
  assert.equal(b('1'), true);
  assert.equal(b('false'), false);
  assert.equal(b('0'), false);
  assert.equal(b('true', '1'), true);
  assert.equal(new Filters().bool('dangling', true), true);
  rejects(() => b('maybe'), "invalid filter 'dangling=[maybe]'");
  rejects(() => b('TRUE'), "invalid filter 'dangling=[TRUE]'");
  rejects(() => b('true', 'false'), "invalid filter 'dangling=[true false]'");
  rejects(() => b(), "invalid filter 'dangling'");
});

test('until: unix seconds, RFC 3339 and Go durations; one value only', () => {
  const now = 1_700_000_000_000;
  const u = (v: string) => new Filters({ until: [v] }).until(now);
  assert.equal(new Filters().until(now), undefined);
  assert.equal(u('1700000000'), 1_700_000_000_000);
  assert.equal(u('1699999999.5'), 1_699_999_999_500);
  assert.equal(u('2023-11-14T22:13:20Z'), 1_700_000_000_000);
  assert.equal(u('1h30m'), now - 5_400_000);
  assert.equal(u('10m'), now - 600_000);
  assert.equal(u('1.5h'), now - 5_400_000);
  rejects(() => u('yesterday'), "invalid filter 'until=yesterday'");
  rejects(() => u('1d'), "invalid filter 'until=1d'");
  rejects(() => new Filters({ until: ['1h', '2h'] }).until(now), 'more than one until filter specified');
});

test('createdAfter: what a prune with until leaves out (created strictly after)', () => {
  const until = Date.parse('2024-01-01T00:00:00Z');
  assert.equal(createdAfter('2024-01-01T00:00:01Z', until), true);
  assert.equal(createdAfter('2024-01-01T00:00:00Z', until), false);
  assert.equal(createdAfter('2023-12-31T00:00:00Z', until), false);
  assert.equal(createdAfter('2030-01-01T00:00:00Z', undefined), false);
});

test('exact, prefix and match: no values match everything', () => {
  const f = new Filters({ driver: ['local'], id: ['abc'], name: ['^web-[0-9]+$', 'db', '('] });
  assert.equal(f.exact('driver', 'local'), true);
  assert.equal(f.exact('driver', 'loc'), false);
  assert.equal(f.exact('scope', 'anything'), true);
  assert.equal(f.prefix('id', 'abcdef'), true);
  assert.equal(f.prefix('id', 'xabc'), false);
  assert.equal(f.match('name', 'web-12'), true);
  assert.equal(f.match('name', 'mydb1'), true);
  assert.equal(f.match('name', 'web-x'), false);
  assert.equal(f.match('name', '('), true, 'an invalid expression still matches exactly');
  assert.equal(f.match('other', 'x'), true);
});

test('without drops keys; get and has tell a key given with no values from an absent one', () => {
  const f = Filters.parse('{"dangling":["true"],"label":[],"until":["1h"]}');
  assert.deepEqual(f.without('dangling').keys(), ['label', 'until']);
  assert.equal(f.has('label'), true);
  assert.deepEqual(f.get('label'), []);
  assert.equal(f.has('name'), false);
});

test('fromFlags and toQuery: the CLI side, as the docker CLI sends --filter', () => {
  const f = Filters.fromFlags(['label=a=b', ' Label =c', 'dangling=true', 'label=a=b']);
  assert.deepEqual(f.toJSON(), { label: ['a=b', 'c'], dangling: ['true'] });
  assert.equal(f.toQuery(), '{"label":{"a=b":true,"c":true},"dangling":{"true":true}}');
  assert.deepEqual(Filters.parse(f.toQuery()).toJSON(), f.toJSON());
  assert.equal(Filters.fromFlags([]).toQuery(), undefined);
  for (const bad of ['nokey', '=value']) {
    assert.throws(() => Filters.fromFlags([bad]), (err: unknown) => err instanceof InvalidParameter && err.code === 'filter.bad_format' && err.message === 'bad format of filter (expected name=value)');
  }
});

test('a pattern that would backtrack catastrophically runs in linear time (RE2 semantics, as dockerd)', () => {
  const f = Filters.parse(JSON.stringify({ name: ['(a+)+$', '(a|aa)*c'] }));
  const started = Date.now();
  assert.equal(f.match('name', `${'a'.repeat(40)}!`), false);
  assert.ok(Date.now() - started < 10_000, `backtracking (exponential here) took ${Date.now() - started} ms`);
  assert.equal(Filters.parse(JSON.stringify({ name: ['(w)\\1'] })).match('name', 'ww'), false, 'back-references are no RE2: exact match only');
});
