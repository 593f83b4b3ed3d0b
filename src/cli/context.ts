/** What every command gets: the daemon client (connected on first use) and the output streams. */
import { EngineClient } from '../client/engine-client.js';
import { resolveHost } from '../client/host.js';

export interface GlobalOptions {
  host?: string;
  debug?: boolean;
}

export class CliContext {
  private engine: EngineClient | undefined;
  constructor(
    private readonly globals: () => GlobalOptions,
    readonly out: NodeJS.WriteStream = process.stdout,
    readonly err: NodeJS.WriteStream = process.stderr,
  ) {}

  async client(): Promise<EngineClient> {
    if (!this.engine) {
      this.engine = new EngineClient(resolveHost(this.globals().host));
      await this.engine.negotiate();
    }
    return this.engine;
  }

  print(line = ''): void {
    this.out.write(line + '\n');
  }

  close(): void {
    this.engine?.close();
  }
}

/** Raised by a command to end with a given exit status (after it printed what it had to). */
export class ExitError extends Error {
  constructor(readonly status: number, message = '') {
    super(message);
  }
}

/** Collects repeated options (`-e A -e B`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `k=v` flags (`--label`, `--opt`) as a map; a bare `k` maps to ''. */
export function keyValues(list: string[]): Record<string, string> {
  return Object.fromEntries(list.map((l) => {
    const i = l.indexOf('=');
    return i === -1 ? [l, ''] : [l.slice(0, i), l.slice(i + 1)];
  }));
}
