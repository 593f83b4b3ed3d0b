// Bundles each program into one file so that `berth` starts by reading one
// module instead of resolving dozens (CLI start-up time is user-visible).
import { build } from 'esbuild';

const programs = ['berth', 'berthd', 'berth-registry'];
await Promise.all(
  programs.map((p) =>
    build({
      entryPoints: [`src/bin/${p}.ts`],
      outfile: `dist/bundle/${p}.mjs`,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      sourcemap: 'linked',
      logLevel: 'warning',
      // Some CommonJS dependencies call require(); give the ESM bundle one.
      banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
    }),
  ),
);
