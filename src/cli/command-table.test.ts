import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { COMMAND_SOURCES, commandName, loadCommands, pingsEarly } from './command-table.js';
import { CliContext } from './context.js';

const ctx = new CliContext(() => ({ given: new Set<string>() }));

test("each source's names are exactly the names and aliases of the commands it loads", async () => {
  const seen = new Set<string>();
  for (const s of COMMAND_SOURCES) {
    const names = (await s.load(ctx)).flatMap((c) => [c.name(), ...c.aliases()]);
    assert.deepEqual([...names].sort(), [...s.names].sort());
    for (const n of names) {
      assert.ok(!seen.has(n), `${n} is in two sources`);
      seen.add(n);
    }
  }
});

test('the command name is found past the global flags, or not at all when the line is unusual', () => {
  assert.equal(commandName(['version']), 'version');
  assert.equal(commandName(['-H', 'unix:///x.sock', '--tls', '-D', 'ps', '-a']), 'ps');
  assert.equal(commandName(['--context=prod', '--log-level', 'debug', 'image', 'ls']), 'image');
  assert.equal(commandName(['--help']), undefined);
  assert.equal(commandName(['-Dl', 'debug', 'ps']), undefined, 'combined short flags go to commander whole');
  assert.equal(commandName([]), undefined);
});

test('a routed line gets only its command; help and unknown names get every command, in help order', async () => {
  assert.deepEqual((await loadCommands(ctx, ['-D', 'ps', '-a'])).map((c) => c.name()), ['ps']);
  assert.deepEqual((await loadCommands(ctx, ['container', 'ls'])).map((c) => c.name()), ['container']);
  const all = (await loadCommands(ctx, ['pss'])).map((c) => c.name());
  assert.deepEqual(all.slice(0, 3), ['container', 'image', 'network']);
  assert.deepEqual(all.slice(-4), ['events', 'login', 'logout', 'console']);
  assert.deepEqual((await loadCommands(ctx, ['--help'])).map((c) => c.name()), all);
  // `berth --version` needs none of them
  assert.deepEqual(await loadCommands(ctx, ['--version']), []);
  assert.deepEqual(await loadCommands(ctx, ['-D', '-v']), []);
  assert.deepEqual((await loadCommands(ctx, ['--version', '--help'])).map((c) => c.name()), all);
});

// Records every module the ESM loader resolves, and at exit the built-ins, into OUT.
const RECORDER = `
import { register } from 'node:module';
import { appendFileSync } from 'node:fs';
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => appendFileSync(process.env.OUT, url + '\\n'));
port1.unref();
register('data:text/javascript,' + encodeURIComponent(
  'let port; export function initialize(d) { port = d.port; }' +
  'export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }'),
  { data: { port: port2 }, transferList: [port2] });
process.on('exit', () => appendFileSync(process.env.OUT, process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => 'node:' + m.slice(13)).join('\\n') + '\\n'));
`;

test('`berth version` loads no other command, no template engine, no TLS, crypto or child_process built-in', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-startup-'));
  try {
    const bundle = resolve(fileURLToPath(import.meta.url), '../../../bundle/berth.mjs');
    await writeFile(join(dir, 'recorder.mjs'), RECORDER);
    const out = join(dir, 'loaded.txt');
    const run = promisify(execFile)(process.execPath, ['--import', join(dir, 'recorder.mjs'), bundle, '-H', `unix://${dir}/none.sock`, 'version'],
      { env: { ...process.env, OUT: out, DOCKER_CONFIG: dir } });
    await assert.rejects(run, 'no daemon: exit status 1');
    const loaded = (await readFile(out, 'utf8')).split('\n').filter(Boolean);
    const chunks = loaded.filter((u) => u.startsWith('file:') && u.includes('/bundle/'));
    assert.ok(chunks.some((u) => /\/version-[^/]+\.mjs$/.test(u)), 'the recorder saw the version chunk');
    for (const u of chunks) {
      const text = await readFile(fileURLToPath(u), 'utf8');
      assert.ok(!text.includes('new Command("run")'), `${u} holds the container commands`);
      assert.ok(!text.includes('function renderInspect('), `${u} holds the template engine`);
    }
    // (child_process: commander's is handed over on first use, see scripts/bundle.mjs)
    for (const b of ['node:tls', 'node:https', 'node:crypto', 'node:child_process']) assert.ok(!loaded.includes(b), `${b} loaded`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('`berth build` loads no other image command and no template engine (a fully cached build is mostly start-up)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-startup-'));
  try {
    const bundle = resolve(fileURLToPath(import.meta.url), '../../../bundle/berth.mjs');
    await writeFile(join(dir, 'recorder.mjs'), RECORDER);
    await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\n');
    const out = join(dir, 'loaded.txt');
    const run = promisify(execFile)(process.execPath, ['--import', join(dir, 'recorder.mjs'), bundle, '-H', `unix://${dir}/none.sock`, 'build', dir],
      { env: { ...process.env, OUT: out, DOCKER_CONFIG: dir, XDG_CACHE_HOME: dir } });
    await assert.rejects(run, 'no daemon: exit status 1');
    const loaded = (await readFile(out, 'utf8')).split('\n').filter(Boolean);
    const chunks = loaded.filter((u) => u.startsWith('file:') && u.includes('/bundle/'));
    assert.ok(chunks.some((u) => /\/build-[^/]+\.mjs$/.test(u)), 'the recorder saw the build chunk');
    for (const u of chunks) {
      const text = await readFile(fileURLToPath(u), 'utf8');
      assert.ok(!text.includes('"List images"') && !text.includes('"Download an image from a registry"'), `${u} holds the other image commands`);
      assert.ok(!text.includes('function renderInspect('), `${u} holds the template engine`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the ping starts before the command loads only for a daemon command with no global flags and no help', () => {
  assert.equal(pingsEarly(['build', '-q', '.']), true);
  assert.equal(pingsEarly(['container', 'ls']), true);
  assert.equal(pingsEarly(['-H', 'unix:///x.sock', 'ps']), false); // the endpoint is known only once the flags are parsed
  assert.equal(pingsEarly(['ps', '--help']), false);
  assert.equal(pingsEarly(['context', 'ls']), false);
  assert.equal(pingsEarly(['login']), false);
  assert.equal(pingsEarly(['nosuchcommand']), false);
  assert.equal(pingsEarly([]), false);
});
