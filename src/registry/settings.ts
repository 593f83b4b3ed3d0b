/**
 * What berth-registry runs with, whatever it came from: command-line flags,
 * a distribution-style config.yml (config.ts), the environment. Pure: the
 * composition root (compose.ts) builds the registry from these.
 */
import type { AclEntry } from './acl.js';
import type { FileSettings } from './config.js';

/** Where the registry's bytes live; `serve` and `gc` share these. */
export interface StorageSettings {
  /** `filesystem` or `s3`. */
  storage: string;
  /** The filesystem driver's root. */
  root?: string;
  s3Bucket?: string;
  s3Region: string;
  /** An S3-compatible service (Ceph, MinIO) instead of AWS. */
  s3Endpoint?: string;
  s3PathStyle?: boolean;
  /** Key prefix inside the bucket. */
  s3Root?: string;
  /** Credentials from a config file; without them the SDK's chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, …) answers. */
  s3AccessKey?: string;
  s3SecretKey?: string;
}

export interface ServeSettings extends StorageSettings {
  /** `host:port` to listen on. */
  addr: string;
  deleteEnabled?: boolean;
  readOnly?: boolean;
  maxManifestBytes: number;
  /** No access log. */
  quiet?: boolean;
  /** /metrics needs the API's credentials. */
  metricsAuth?: boolean;
  /** An htpasswd file of bcrypt hashes: HTTP Basic, and the users of the built-in token endpoint. */
  htpasswd?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** Token auth with the built-in endpoint: the private key (PEM) it signs with. */
  tokenKey?: string;
  /** Token auth with an external token server: the public key or certificate (PEM) its tokens verify with. */
  tokenPublicKey?: string;
  /** Where clients get tokens; default this server's /auth/token. */
  tokenRealm?: string;
  tokenService: string;
  tokenIssuer: string;
  /** A YAML ACL file (`--token-acl`); it replaces `tokenAclEntries`. */
  tokenAcl?: string;
  /** auth.token.acl of the config file. */
  tokenAclEntries?: AclEntry[];
}

/**
 * Fills the settings `explicit` does not name from a config file: flags
 * win over the file, the file over the defaults. The file's S3 keys are
 * used only when the environment has none (AWS_ACCESS_KEY_ID), as before
 * they were put there.
 */
export function withFileSettings<T extends ServeSettings>(
  settings: T, file: FileSettings, explicit: (name: keyof ServeSettings) => boolean, env: NodeJS.ProcessEnv,
): T {
  const out: T = { ...settings };
  const fromFile: Partial<ServeSettings> = {
    addr: file.addr, root: file.root, storage: file.storage,
    s3Bucket: file.s3?.bucket, s3Region: file.s3?.region, s3Endpoint: file.s3?.endpoint, s3PathStyle: file.s3?.pathStyle, s3Root: file.s3?.rootDirectory,
    deleteEnabled: file.deleteEnabled, readOnly: file.readOnly, tlsCert: file.tlsCert, tlsKey: file.tlsKey, htpasswd: file.htpasswd,
    tokenRealm: file.token?.realm, tokenService: file.token?.service, tokenIssuer: file.token?.issuer, tokenPublicKey: file.token?.rootCertBundle,
    quiet: file.accessLog === false ? true : undefined,
  };
  for (const [name, value] of Object.entries(fromFile) as [keyof ServeSettings, unknown][]) {
    if (value !== undefined && !explicit(name)) (out as Record<string, unknown>)[name] = value;
  }
  if (file.token?.acl) out.tokenAclEntries = file.token.acl;
  else delete out.tokenAclEntries;
  if (file.s3?.accessKey && file.s3.secretKey && !env.AWS_ACCESS_KEY_ID) {
    out.s3AccessKey = file.s3.accessKey;
    out.s3SecretKey = file.s3.secretKey;
  }
  return out;
}
