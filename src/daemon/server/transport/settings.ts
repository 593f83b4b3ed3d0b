/** What the transport takes from the daemon's configuration (DaemonConfig extends it). */
export interface TransportSettings {
  /** `-H`: unix://, tcp://, fd:// addresses. */
  hosts: string[];
  /** `--tls` / `--tlsverify` as given; `undefined` when not given (an explicit `--tls=false` is the only way to serve plain TCP). */
  tls?: boolean;
  tlsVerify?: boolean;
  /** PEM files; `undefined` means ca.pem / cert.pem / key.pem in $DOCKER_CERT_PATH (or ~/.docker), as dockerd. */
  tlsCaCert?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** Group owning the unix sockets (`-G`): '' means berth, else docker, else root's group. */
  group: string;
  apiMaxHeaderSize: number;
  apiMaxJsonBody: number;
  /** Seconds a client has to send its request headers, and a JSON body. */
  apiHeadersTimeout: number;
  apiBodyTimeout: number;
  /** Open connections per listener. */
  apiMaxConnections: number;
  /** Bytes of one streamed request body. */
  maxUploadSize: number;
}
