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
  const fill = <K extends keyof ServeSettings>(name: K, value: ServeSettings[K] | undefined) => {
    if (value !== undefined && !explicit(name)) out[name] = value as T[K];
  };
  fill('addr', file.addr);
  fill('root', file.root);
  fill('storage', file.storage);
  fill('s3Bucket', file.s3?.bucket);
  fill('s3Region', file.s3?.region);
  fill('s3Endpoint', file.s3?.endpoint);
  fill('s3PathStyle', file.s3?.pathStyle);
  fill('s3Root', file.s3?.rootDirectory);
  fill('deleteEnabled', file.deleteEnabled);
  fill('readOnly', file.readOnly);
  fill('tlsCert', file.tlsCert);
  fill('tlsKey', file.tlsKey);
  fill('htpasswd', file.htpasswd);
  fill('tokenRealm', file.token?.realm);
  fill('tokenService', file.token?.service);
  fill('tokenIssuer', file.token?.issuer);
  fill('tokenPublicKey', file.token?.rootCertBundle);
  if (file.token?.acl) out.tokenAclEntries = file.token.acl;
  else delete out.tokenAclEntries;
  if (file.accessLog === false) fill('quiet', true);
  if (file.s3?.accessKey && file.s3.secretKey && !env.AWS_ACCESS_KEY_ID) {
    out.s3AccessKey = file.s3.accessKey;
    out.s3SecretKey = file.s3.secretKey;
  }
  return out;
}
