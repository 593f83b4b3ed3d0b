/**
 * What a failed container start means, read from the runtime's message, in
 * one place for both sides: moby's translateContainerdStartErr (the
 * container's exit code, default 128) and docker/cli's runStartContainerErr
 * (the `run` exit status, default 125).
 */

/** The command is missing (127) or cannot be run (126); undefined for any other failure. */
export function startFailureKind(message: string): 126 | 127 | undefined {
  const m = message.toLowerCase();
  if (m.includes('executable file not found') || m.includes('no such file or directory') || m.includes('not a directory')) return 127;
  if (m.includes('permission denied')) return 126;
  return undefined;
}

/** The exit status of a start that failed: 127, 126, or `fallback` (128 in the daemon, 125 in the CLI). */
export function startFailureStatus(message: string, fallback: number): number {
  return startFailureKind(message) ?? fallback;
}
