/**
 * `build` with Docker's classic builder protocol: the context directory as
 * a tar (`.dockerignore` applied here, as the docker CLI does), options in
 * the query, the daemon's step stream shown as it comes.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { Command } from 'commander';
import type { JSONMessage } from '../../../api/types/index.js';
import { hashEntries, readDigestCache, walkContext } from '../../../client/context-digests.js';
import type { EngineClient } from '../../../client/engine-client.js';
import { INCREMENTAL_CONTEXT_HEADER, incrementalContextTar } from '../../../client/incremental-context.js';
import { jsonMessages } from '../../../client/json-stream.js';
import { headerDefaults, TarWriter, readTar } from '../../../lib/tar/index.js';
import { collect, ExitError, type CliContext } from '../../context.js';
import { ProgressRenderer } from '../../progress.js';

interface BuildFlags {
  tag: string[];
  file?: string;
  buildArg: string[];
  label: string[];
  cache: boolean;
  pull?: boolean;
  quiet?: boolean;
  target?: string;
  rm: boolean;
  forceRm?: boolean;
  iidfile?: string;
  network?: string;
  secret: string[];
  output?: string;
  buildContext: string[];
  cacheFrom: string[];
}

export function buildCommand(ctx: CliContext): Command {
  return new Command('build')
    .description('Build an image from a Dockerfile')
    .argument('<path|->')
    .option('-t, --tag <name:tag>', 'Name and optionally a tag in the "name:tag" format', collect, [])
    .option('-f, --file <string>', 'Name of the Dockerfile (Default is "PATH/Dockerfile")')
    .option('--build-arg <list>', 'Set build-time variables', collect, [])
    .option('--label <list>', 'Set metadata for an image', collect, [])
    .option('--no-cache', 'Do not use cache when building the image')
    .option('--pull', 'Always attempt to pull a newer version of the image')
    .option('-q, --quiet', 'Suppress the build output and print image ID on success')
    .option('--target <string>', 'Set the target build stage to build')
    .option('--rm [bool]', 'Remove intermediate containers after a successful build', (v: string) => v !== 'false', true)
    .option('--force-rm', 'Always remove intermediate containers')
    .option('--iidfile <string>', 'Write the image ID to the file')
    .option('--network <string>', 'Set the networking mode for the RUN instructions during build')
    .option('-o, --output <stringArray>', 'Output destination (format: "type=local,dest=path", "type=tar,dest=file", a directory, or "-" for a tar on stdout)')
    .option('--cache-from <strings>', 'Images to consider as cache sources', collect, [])
    .option('--build-context <stringArray>', 'Additional build contexts (e.g., name=path or name=docker-image://ref)', collect, [])
    .option('--secret <stringArray>', 'Secret to expose to the build (format: "id=mysecret[,src=/local/secret]" or "id=x,env=VAR")', collect, [])
    .action(async (path: string, o: BuildFlags) => {
      const output = o.output !== undefined ? parseOutput(o.output) : undefined;
      const named = parseBuildContexts(o.buildContext);
      // the version ping goes out while the context is walked and hashed
      const client = ctx.client();
      client.catch(() => {}); // awaited below; a walk that fails first must not leave it unheard
      const incremental = await incrementalBody(client, path, o.file, named.dirs);
      const c = await client;
      const { body, dockerfile } = incremental ?? await contextTar(path, o.file, named.dirs);
      const buildargs = Object.fromEntries(o.buildArg.map((a) => {
        const i = a.indexOf('=');
        return i < 0 ? [a, process.env[a] ?? null] : [a.slice(0, i), a.slice(i + 1)];
      }));
      const secrets = await readSecrets(o.secret);
      const labels = Object.fromEntries(o.label.map((l) => [l.split('=')[0], l.slice(l.indexOf('=') + 1)]));
      const res = await c.call('POST', '/build', {
        query: {
          t: o.tag, dockerfile, buildargs: JSON.stringify(buildargs), labels: JSON.stringify(labels),
          nocache: o.cache ? undefined : '1', pull: o.pull ? '1' : undefined, q: o.quiet ? '1' : undefined,
          target: o.target, rm: o.rm ? undefined : '0', forcerm: o.forceRm ? '1' : undefined, networkmode: o.network, version: '1',
          cachefrom: o.cacheFrom.length ? JSON.stringify(o.cacheFrom) : undefined,
          buildcontexts: o.buildContext.length ? JSON.stringify(named.query) : undefined,
          outputs: output ? JSON.stringify([{ Type: output.type, Attrs: {} }]) : undefined,
        },
        stream: body,
        headers: {
          'Content-Type': 'application/x-tar', 'Transfer-Encoding': 'chunked', 'X-Registry-Config': 'e30=',
          ...(secrets ? { 'X-Berth-Build-Secrets': secrets } : {}),
          ...(incremental ? INCREMENTAL_CONTEXT_HEADER : {}),
        },
      });
      const view = new ProgressRenderer(output?.dest === '-' ? process.stderr : ctx.out);
      if (output) {
        await exportFiles(res, output, (m) => {
          if (m.errorDetail) throw new ExitError(m.errorDetail.code || 1, m.errorDetail.message);
          if (!o.quiet && !m.aux) view.write(m);
        });
        return;
      }
      let id = '';
      for await (const m of jsonMessages(res)) {
        if (m.errorDetail) throw new ExitError(m.errorDetail.code || 1, m.errorDetail.message);
        const aux = m.aux as { ID?: string } | undefined;
        if (aux?.ID) id = aux.ID;
        if (!o.quiet) view.write(m);
      }
      if (o.quiet) ctx.print(id);
      if (o.iidfile) await writeFile(o.iidfile, id);
    });
}

/** Where named directories travel in the context tar (the daemon's builder/named-contexts.ts moves them out). */
const NAMED_CONTEXTS_PREFIX = '.berth-build-contexts';

interface OutputSpec {
  type: 'local' | 'tar';
  dest: string;
}

/** buildx's `-o`: `type=local,dest=DIR`, `type=tar,dest=FILE`, a bare DIR, `-` (a tar on stdout). */
export function parseOutput(spec: string): OutputSpec {
  if (spec === '-') return { type: 'tar', dest: '-' };
  if (!spec.includes('=')) return { type: 'local', dest: spec };
  const kv = new Map(spec.split(',').map((f) => [f.slice(0, f.indexOf('=') < 0 ? f.length : f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));
  const type = kv.get('type') ?? 'local';
  if (type !== 'local' && type !== 'tar') throw new ExitError(1, `output type "${type}" is not supported by berth build: use local or tar`);
  const dest = kv.get('dest');
  if (!dest) throw new ExitError(1, `dest is required for ${type} exporter`);
  return { type, dest };
}

/** The export's tar into a directory (extracted, nothing may land outside it) or a file / stdout. */
export async function exportFiles(res: AsyncIterable<Buffer>, out: OutputSpec, progress: (m: JSONMessage) => void): Promise<void> {
  // -o and the whole-tar upload are the rare paths: their modules load only for them (a cached build is mostly start-up)
  const { readBuildExport } = await import('../../../client/build-export.js');
  if (out.type === 'tar') {
    const file = out.dest === '-' ? process.stdout : createWriteStream(out.dest);
    await readBuildExport(res, file, progress);
    if (file !== process.stdout) await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return;
  }
  await mkdir(out.dest, { recursive: true });
  const { extractLocal } = await import('../container/cp-local.js');
  const tar = new PassThrough();
  const extracting = extractLocal(tar, out.dest);
  // a failed extraction stops the reading too: the stream errors out of readBuildExport's write
  extracting.catch((err: Error) => tar.destroy(err));
  try {
    await readBuildExport(res, tar, progress);
  } finally {
    tar.end();
  }
  await extracting;
}

/**
 * `--secret id=x,src=FILE` / `id=x,env=VAR` (buildx's forms; `type=file|env`
 * accepted, a lone `id=x` reads $x, then the file named x): the values go in
 * the X-Berth-Build-Secrets header, base64 JSON.
 */
async function readSecrets(specs: string[]): Promise<string | undefined> {
  if (specs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const kv = new Map(spec.split(',').map((f) => [f.slice(0, f.indexOf('=') < 0 ? f.length : f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));
    const id = kv.get('id');
    if (!id) throw new ExitError(1, `invalid secret "${spec}": an id is required`);
    const src = kv.get('src') ?? kv.get('source');
    const env = kv.get('env');
    let value: Buffer | undefined;
    if (src !== undefined || kv.get('type') === 'file') value = await readFile(src ?? id).catch(() => undefined);
    else if (env !== undefined) value = process.env[env] !== undefined ? Buffer.from(process.env[env]!) : undefined;
    else value = process.env[id] !== undefined ? Buffer.from(process.env[id]!) : await readFile(id).catch(() => undefined);
    if (value === undefined) throw new ExitError(1, `failed to read secret "${id}": ${src ? `open ${src}: no such file or directory` : `no value for it in ${env ?? id}`}`);
    out[id] = value.toString('base64');
  }
  return Buffer.from(JSON.stringify(out)).toString('base64');
}

/**
 * `--build-context name=DIR|docker-image://ref`: an image goes as it is in
 * the `buildcontexts` query; a directory is sent inside the context tar
 * under `.berth-build-contexts/<name>/` (the classic API has one upload)
 * and named `local` in the query.
 */
function parseBuildContexts(specs: string[]): { query: Record<string, string>; dirs: Map<string, string> } {
  const query: Record<string, string> = {};
  const dirs = new Map<string, string>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new ExitError(1, `invalid context value: ${spec}, expected key=value`);
    const [name, value] = [spec.slice(0, eq), spec.slice(eq + 1)];
    if (value.startsWith('docker-image://')) query[name] = value;
    else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new ExitError(1, `build context "${name}": only a directory or docker-image:// is supported by berth build`);
    else {
      query[name] = 'local';
      dirs.set(name, resolve(value));
    }
  }
  return { query, dirs };
}

interface ContextDir {
  dir: string;
  /** The Dockerfile's name in the context (a private name when it lives outside). */
  dockerfile: string;
  /** Its path when it lives outside the context directory. */
  outside?: string;
  /** `.dockerignore`: true for what the context leaves out. */
  skip: (name: string, isDir: boolean) => boolean;
}

async function contextDir(path: string, file: string | undefined): Promise<ContextDir> {
  const dir = resolve(path);
  const dfPath = file ? resolve(file) : resolve(dir, 'Dockerfile');
  const inside = !relative(dir, dfPath).startsWith('..');
  const dockerfile = inside ? relative(dir, dfPath) : `.dockerfile.${process.getBuiltinModule('node:crypto').randomBytes(10).toString('hex')}`;
  const ignoreText = await readFile(resolve(dir, '.dockerignore'), 'utf8').catch(() => undefined);
  const ignore = ignoreText === undefined ? undefined : new (await import('../../../lib/dockerignore.js')).DockerIgnore(ignoreText);
  const keep = new Set([dockerfile, '.dockerignore']);
  const skip = (name: string, isDir: boolean) => {
    if (!ignore || keep.has(name) || !ignore.excludes(name)) return false;
    return !(isDir && ignore.hasExclusions); // a ! pattern may bring back something below an excluded directory
  };
  return { dir, dockerfile, skip, ...(inside ? {} : { outside: dfPath }) };
}

/**
 * The incremental upload (client/incremental-context.ts) when it applies: a
 * context directory, no directory --build-context, a daemon with a context
 * store; BERTH_BUILD_CONTEXT=full sends the whole tar as the docker CLI does.
 */
async function incrementalBody(client: Promise<EngineClient>, path: string, file: string | undefined, named: Map<string, string>): Promise<{ body: Readable; dockerfile: string } | undefined> {
  if (path === '-' || named.size > 0 || process.env.BERTH_BUILD_CONTEXT === 'full') return undefined;
  const cache = readDigestCache();
  const src = await contextDir(path, file);
  const entries = await walkContext(src.dir, src.skip);
  await hashEntries(entries, undefined, cache);
  const extras = src.outside ? [{ name: src.dockerfile, body: await readFile(src.outside) }] : [];
  const body = await incrementalContextTar(await client, entries, extras);
  return body ? { body, dockerfile: src.dockerfile } : undefined;
}

/** The context as a tar: a directory (with .dockerignore), or a tar on stdin; a Dockerfile outside the context and named directories are added. */
async function contextTar(path: string, file: string | undefined, named: Map<string, string> = new Map()): Promise<{ body: Readable; dockerfile: string }> {
  if (path === '-') {
    if (named.size) throw new ExitError(1, 'a directory --build-context cannot be used with a context from stdin');
    return { body: process.stdin, dockerfile: file ?? 'Dockerfile' };
  }
  const { dir, dockerfile, skip, outside } = await contextDir(path, file);
  const inside = outside === undefined;
  const dfPath = outside ?? '';
  const { tarDirectory } = await import('../container/cp-local.js');
  const context = tarDirectory(dir, skip);
  if (inside && named.size === 0) return { body: context, dockerfile };
  // the Dockerfile lives elsewhere: append it to the context under a private name, as the docker CLI does
  const tar = new TarWriter();
  const out = new PassThrough();
  tar.stream.pipe(out);
  void (async () => {
    try {
      for await (const e of readTar(context)) await tar.add(e.header, e.header.type === 'file' ? e.body : undefined);
      for (const [name, dir] of named) {
        const prefix = `${NAMED_CONTEXTS_PREFIX}/${name}`;
        await tar.add(headerDefaults({ name: `${prefix}/`, type: 'dir' }));
        for await (const e of readTar(tarDirectory(dir, () => false))) {
          await tar.add({ ...e.header, name: `${prefix}/${e.header.name}`, ...(e.header.type === 'link' ? { linkname: `${prefix}/${e.header.linkname}` } : {}) },
            e.header.type === 'file' ? e.body : undefined);
        }
      }
      if (!inside) {
        const text = await readFile(dfPath);
        await tar.add(headerDefaults({ name: dockerfile, type: 'file', size: text.length, mode: 0o644 }), text);
      }
      await tar.finish();
    } catch (err) {
      tar.abort(err as Error);
    }
  })();
  return { body: out, dockerfile };
}

