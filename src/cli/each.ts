/**
 * The shape of docker's verbs that take several names: act on each, print
 * an error for each failure (`Error response from daemon: ...`) and exit 1
 * at the end if any failed.
 */
import { NotModified } from '../errdefs/index.js';
import { ExitError, type CliContext } from './context.js';
import { renderInspect } from './format/formatter.js';

export async function forEachRef(ctx: CliContext, refs: string[], fn: (ref: string) => Promise<void>): Promise<void> {
  let failed = false;
  for (const ref of refs) {
    try {
      await fn(ref);
    } catch (err) {
      if (err instanceof NotModified) continue; // docker treats 304 as done
      failed = true;
      ctx.err.write(`Error response from daemon: ${(err as Error).message}\n`);
    }
  }
  if (failed) throw new ExitError(1);
}

/** Typed `inspect` (volume, network...): fetch each, print what was found, then fail if any was not. */
export async function inspectEach(ctx: CliContext, refs: string[], fetch: (ref: string) => Promise<unknown>, format: string | undefined): Promise<void> {
  const found: unknown[] = [];
  let failed = false;
  for (const ref of refs) {
    try {
      found.push(await fetch(ref));
    } catch (err) {
      failed = true;
      ctx.err.write(`Error response from daemon: ${(err as Error).message}\n`);
    }
  }
  ctx.out.write(renderInspect(format, found));
  if (failed) throw new ExitError(1);
}
