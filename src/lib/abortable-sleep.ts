/**
 * Waits `ms`, or less if `signal` aborts first; resolves either way (a loop
 * checks `signal.aborted` itself). The abort listener goes when the wait
 * ends, so a long-lived signal does not gather one per wait.
 */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
