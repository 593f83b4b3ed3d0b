/**
 * docker's `[y/N]` question (docker/cli's PromptForConfirmation): the
 * message and ` [y/N] ` on stdout, the answer one line of stdin, whether
 * or not it is a terminal; anything but y/yes, or no line at all, is no.
 */
import { createInterface } from 'node:readline';
import type { CliContext } from './context.js';

export async function confirm(ctx: CliContext, message: string): Promise<boolean> {
  ctx.out.write(`${message} [y/N] `);
  if (process.stdin.readableEnded) return false;
  const rl = createInterface({ input: process.stdin });
  const line = await new Promise<string>((r) => {
    rl.once('line', r);
    rl.once('close', () => r(''));
  });
  rl.close();
  return /^y(es)?$/i.test(line.trim());
}
