/**
 * What every command gets: the daemon client (connected on first use, to the
 * endpoint of the current context), the client configuration (config dir,
 * config.json, contexts) and the output streams.
 */
import { EngineClient } from '../client/engine-client.js';
import { isBerthError } from '../errdefs/index.js';
import { ConfigFile, configDir } from './config/config-file.js';
import { ContextStore } from './config/context-store.js';
import { currentContextName, resolveEndpoint, type ClientFlags, type Endpoint } from './config/endpoint.js';

export interface GlobalOptions extends ClientFlags {
  debug?: boolean;
  /** `--config`: the client configuration directory. */
  config?: string;
  logLevel?: string;
}

export class CliContext {
  private engine: EngineClient | undefined;
  private connecting: Promise<EngineClient> | undefined;
  private configFileCache: ConfigFile | undefined;
  constructor(
    readonly globals: () => GlobalOptions,
    readonly out: NodeJS.WriteStream = process.stdout,
    readonly err: NodeJS.WriteStream = process.stderr,
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  client(): Promise<EngineClient> {
    this.connecting ??= this.endpoint().then((ep) => this.connect(ep));
    return this.connecting;
  }

  private async connect(ep: Endpoint): Promise<EngineClient> {
    const engine = this.engine = new EngineClient(ep.host, ep.tls ? { tls: ep.tls } : {});
    await engine.negotiate();
    return engine;
  }

  /**
   * Starts client() while the command's modules load, so the ping is off the
   * critical path. Only for a unix socket (nothing is spawned or dialled that
   * the command may not want) and a command line without global flags (the
   * endpoint cannot change once they are parsed). A failure is the command's
   * own client() call's to report.
   */
  async pingEarly(): Promise<void> {
    const ep = await this.endpoint().catch(() => undefined);
    if (!ep?.host.startsWith('unix://')) return;
    this.connecting ??= this.connect(ep); // client() reuses it: with no global flags the endpoint cannot change
    this.connecting.catch(() => {});
  }

  /** Where the current context says the daemon is. */
  async endpoint(): Promise<Endpoint> {
    const configured = (await this.configFile()).currentContext;
    try {
      currentContextName(this.globals(), this.env, configured);
    } catch (err) {
      throw new ExitError(1, (err as Error).message); // a --context/-H conflict is reported as it is, not as a failed init
    }
    try {
      return await resolveEndpoint(this.globals(), this.env, this.configDir(), configured, this.contextStore());
    } catch (err) {
      if (!isBerthError(err)) throw err;
      throw new ExitError(1, `Failed to initialize: unable to resolve docker endpoint: ${err.message}`);
    }
  }

  configDir(): string {
    return configDir(this.globals().config, this.env);
  }

  async configFile(): Promise<ConfigFile> {
    this.configFileCache ??= await ConfigFile.load(this.configDir());
    return this.configFileCache;
  }

  contextStore(): ContextStore {
    return new ContextStore(this.configDir());
  }

  /** The current context's name (`--context`, `-H`/DOCKER_HOST, DOCKER_CONTEXT, config.json, default). */
  async currentContext(): Promise<string> {
    return currentContextName(this.globals(), this.env, (await this.configFile()).currentContext);
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
