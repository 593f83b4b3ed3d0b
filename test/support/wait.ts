import assert from 'node:assert/strict';

/** Polls `cond` until it holds, failing the test after `ms`. */
export async function waitFor(cond: () => Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what} not met within ${ms} ms`);
}
