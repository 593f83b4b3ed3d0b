import assert from 'node:assert/strict';

/**
 * Polls `cond` until it holds, failing the test after `ms`. `what` may be a
 * function, read at the failure, to tell what the last poll saw.
 */
export async function waitFor(cond: () => Promise<boolean>, ms = 5000, what: string | (() => string) = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${typeof what === 'function' ? what() : what} not met within ${ms} ms`);
}
