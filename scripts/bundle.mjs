// Bundles each program into one file so that `berth` starts by reading one
// module instead of resolving dozens (CLI start-up time is user-visible).
// Code reached only through a dynamic import() (berthd's etcd client, loaded
// at `swarm init` or when a swarm node starts) goes to a chunk of its own,
// read only then. etcd3 reads its .proto files next to its own sources
// (__dirname), so it and the gRPC packages it shares instances with stay
// in node_modules and are imported from there, never bundled.
import { copyFile, mkdir } from 'node:fs/promises';
import { build } from 'esbuild';

const programs = ['berth', 'berthd', 'berth-registry'];
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
      // Some CommonJS dependencies call require(); give the ESM bundle one.
      banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
    }),
  ),
);

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
