/** berthd: the daemon. Serves the Docker Engine API; runs containers through shims and runc. */
import { loadConfig, DEFAULT_CRI_SOCKET, type DaemonConfig } from '../daemon/config.js';
import { parseFlagsFast, parseWithCommander } from '../daemon/flags.js';
import { Logger, type LogLevel } from '../lib/logger.js';
import { setFlagsFromString } from 'node:v8';

/** Longer than any container's stop timeout should take (default 10 s each, in parallel). */
const SHUTDOWN_DEADLINE_MS = 120_000;

async function main(): Promise<void> {
  // Boot runs once, yet its loops (path and URL handling of two dozen chunks, hundreds of fs
  // calls) got a few of node's functions optimized, which maps 3-4 MiB of the optimizing
  // compiler's code and zones in for good: idle memory (issue 18). The daemon's code loads
  // after this line (the import below) and optimizes as usual once it serves.
  setFlagsFromString('--no-opt --semi-space-growth-factor=1');
  // commander loads only for help, the version and lines the small parser leaves to it (flags.ts)
  const argv = process.argv.slice(2);
  const { flags: o, configFileGiven } = parseFlagsFast(argv) ?? (await parseWithCommander(argv));
  const flags: Partial<DaemonConfig> = {
    hosts: o.host,
    dataRoot: o.dataRoot,
    execRoot: o.execRoot,
    logLevel: o.logLevel as LogLevel | undefined,
    debug: o.debug,
    cgroupParent: o.cgroupParent,
    liveRestore: o.liveRestore,
    usernsRemap: o.usernsRemap,
    init: o.init,
    initPath: o.initPath,
    bridge: o.bridge,
    bip: o.bip,
    insecureRegistries: o.insecureRegistry,
    registryMirrors: o.registryMirror,
    maxConcurrentDownloads: o.maxConcurrentDownloads,
    maxConcurrentUploads: o.maxConcurrentUploads,
    registryCertsDir: o.registryCertsDir,
    registryHostsDir: o.registryHostsDir,
    tls: o.tls,
    tlsVerify: o.tlsverify,
    tlsCaCert: o.tlscacert,
    tlsCert: o.tlscert,
    tlsKey: o.tlskey,
    group: o.group,
    apiMaxHeaderSize: o.apiMaxHeaderSize,
    apiMaxJsonBody: o.apiMaxJsonBody,
    apiHeadersTimeout: o.apiHeadersTimeout,
    apiBodyTimeout: o.apiBodyTimeout,
    apiMaxConnections: o.apiMaxConnections,
    maxUploadSize: o.maxUploadSize,
    maxLayerSize: o.maxLayerSize,
    pluginSocketDir: o.pluginSocketDir,
    pluginSpecDirs: o.pluginSpecDir,
    pluginTimeout: o.pluginTimeout,
    authorizationPlugins: o.authorizationPlugin,
    criSocket: o.criSocket ?? (o.cri ? DEFAULT_CRI_SOCKET : undefined),
    criSandboxImage: o.criSandboxImage,
  };
  const cfg = await loadConfig(flags, o.configFile, configFileGiven);
  const log = new Logger(cfg.logLevel);
  const { startDaemon } = await import('../daemon/wire.js');
  const daemon = await startDaemon(cfg, log);
  setFlagsFromString('--opt --semi-space-growth-factor=2');
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) {
      // a second signal does not wait for containers to stop (dockerd quits on the third)
      log.warn('forced exit', { signal: sig });
      process.exit(1);
    }
    stopping = true;
    log.info('shutting down', { signal: sig });
    // never hang on the way out: stop timeouts are seconds, this is the backstop
    setTimeout(() => {
      log.error('shutdown did not finish in time, exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    daemon.shutdown().then(() => process.exit(0), (err: Error) => {
      log.error('shutdown failed', { error: err.message });
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: Error) => {
  process.stderr.write(`berthd: ${err.message}\n`);
  process.exit(1);
});
