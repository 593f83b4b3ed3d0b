// Bundles each program into one file so that `berth` starts by reading one
// module instead of resolving dozens (CLI start-up time is user-visible).
// Code reached only through a dynamic import() (berthd's etcd client, loaded
// at `swarm init` or when a swarm node starts) goes to a chunk of its own,
// read only then. etcd3 reads its .proto files next to its own sources
// (__dirname), so it and the gRPC packages it shares instances with stay
// in node_modules and are imported from there, never bundled.
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const programs = ['berth', 'berthd', 'berth-registry'];
const BANNER = "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);";
// commander requires child_process as it loads, for executable subcommands berth never has:
// berth's bundle hands it the module on first use instead (child_process and the dgram it
// loads cost 1-2 ms of every CLI start).
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (a) => (a.importer.includes('/node_modules/commander/') ? { path: 'child_process', namespace: 'lazy' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, k) => process.getBuiltinModule('node:child_process')[k] });",
      loader: 'js',
    }));
  },
};

// chunk names carry a hash: the last build's would stay beside this one's
await Promise.all(programs.map((p) => rm(`dist/bundle/${p}-chunks`, { recursive: true, force: true })));
await Promise.all(
  programs.map((p) =>
    build({
      entryPoints: { [p]: `src/bin/${p}.ts` },
      outdir: 'dist/bundle',
      outExtension: { '.js': '.mjs' },
      chunkNames: `${p}-chunks/[name]-[hash]`,
      splitting: true,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      sourcemap: 'linked',
      logLevel: 'warning',
      external: ['etcd3', '@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs'],
      // Some CommonJS dependencies call require(); give the ESM bundle one (kept only where used: see below).
      banner: { js: BANNER },
      // The CLI starts on every command: a third less source to read and parse (~4 ms a run;
      // commander alone is 125 KB with its comments). Names stay, for stack traces.
      ...(p === 'berth' ? { minifyWhitespace: true, minifySyntax: true, plugins: [lazyChildProcess] } : {}),
    }),
  ),
);

// V8 keeps a script's source as two bytes a character when one character is
// not Latin-1: an arrow in one comment doubled berthd's 1.2 MB of source in
// memory (issue 18). esbuild escapes strings but not comments and regex
// literals; \uXXXX means the same character in both (and in strings), so
// every BMP character is escaped (columns on those few lines shift by 5).
async function asciiOnly(dir) {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await asciiOnly(p);
    else if (e.name.endsWith('.mjs')) {
      const text = await readFile(p, 'utf8');
      if (!/[^\x00-\x7f]/.test(text)) continue;
      await writeFile(p, text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
    }
  }
}
await asciiOnly('dist/bundle');

// Each createRequire() costs a module-path walk at load, and berthd loads two
// dozen chunks at boot: the banner stays only in the files that name
// `require` (esbuild's __require helper lives in one chunk, which the others
// import). A blank line takes its place so the source maps still line up.
async function requireOnlyWhereUsed(dir) {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await requireOnlyWhereUsed(p);
    else if (e.name.endsWith('.mjs')) {
      const text = await readFile(p, 'utf8');
      if (!text.startsWith(BANNER)) continue;
      const rest = text.slice(BANNER.length);
      if (!/\brequire\b/.test(rest)) await writeFile(p, rest);
    }
  }
}
await requireOnlyWhereUsed('dist/bundle');

// The console's browser assets (`berth console` serves them from dist/console):
// one script, one stylesheet (with xterm.js's) and the page; nothing from the network.
await mkdir('dist/console', { recursive: true });
await Promise.all([
  build({
    entryPoints: { app: 'src/console/ui/main.ts' },
    outdir: 'dist/console',
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
    minify: true,
    sourcemap: 'linked',
    logLevel: 'warning',
  }),
  build({ entryPoints: { app: 'src/console/ui/style.css' }, outdir: 'dist/console', bundle: true, minify: true, logLevel: 'warning' }),
  copyFile('src/console/ui/index.html', 'dist/console/index.html'),
]);
