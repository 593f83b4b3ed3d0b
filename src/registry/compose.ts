/**
 * berth-registry's composition root: from settings (settings.ts) to a
 * storage driver, the access check (anonymous, htpasswd or token), the
 * token issuer and its ACL, the Registry and its HTTP server. The only
 * place that picks implementations; bin/berth-registry.ts turns argv and
 * the environment into settings and calls it.
 *
 *   const server = await buildServer(settings, log);
 *   await listen(server, settings.addr);
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { InvalidParameter } from '../errdefs/index.js';
import { anonymous, HtpasswdAccess, type Access } from './auth.js';
import { parseTokenAcl } from './config.js';
import { Registry } from './registry.js';
import { createRegistryServer, type AppOptions } from './server/app.js';
import type { ServeSettings, StorageSettings } from './settings.js';
import type { StorageDriver } from './storage/driver.js';
import { FilesystemDriver } from './storage/filesystem.js';
import { S3Driver } from './storage/s3.js';
import { publicKeyOf, TokenAccess } from './token.js';

/** A setting that cannot work: start-up stops with this sentence. */
export class InvalidRegistrySettings extends InvalidParameter {
  constructor(message: string) {
    super('registry_settings.invalid', message);
  }
}

/** The driver the settings name; s3 credentials come from the settings or else the SDK's chain (the environment first). */
export function storageDriver(o: StorageSettings): StorageDriver {
  if (o.storage === 's3') {
    if (!o.s3Bucket) throw new InvalidRegistrySettings('--storage s3 needs --s3-bucket');
    return new S3Driver({
      bucket: o.s3Bucket, region: o.s3Region, forcePathStyle: Boolean(o.s3PathStyle),
      ...(o.s3Endpoint ? { endpoint: o.s3Endpoint } : {}), ...(o.s3Root ? { rootDirectory: o.s3Root } : {}),
      ...(o.s3AccessKey && o.s3SecretKey ? { accessKeyId: o.s3AccessKey, secretAccessKey: o.s3SecretKey } : {}),
    });
  }
  if (o.storage !== 'filesystem') throw new InvalidRegistrySettings(`unknown storage driver ${o.storage} (filesystem or s3)`);
  if (!o.root) throw new InvalidRegistrySettings('the filesystem driver needs --root');
  return new FilesystemDriver(o.root);
}

/** A public key from a PEM key or certificate (distribution's rootcertbundle is certificates). */
function publicKeyFrom(pem: Buffer): KeyObject {
  return pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
}

/** Token auth, when a signing or a verifying key is set: the built-in issuer (a private key) or an external one's tokens (a public key). */
async function tokenAccess(o: ServeSettings): Promise<TokenAccess | undefined> {
  if (!o.tokenKey && !o.tokenPublicKey) return undefined;
  const privateKey = o.tokenKey ? createPrivateKey(await readFile(o.tokenKey)) : undefined;
  const publicKey = privateKey ? publicKeyOf(privateKey) : publicKeyFrom(await readFile(o.tokenPublicKey!));
  const scheme = o.tlsCert ? 'https' : 'http';
  const realm = o.tokenRealm ?? `${scheme}://${o.addr}/auth/token`;
  const acl = o.tokenAcl ? parseTokenAcl(await readFile(o.tokenAcl, 'utf8')) : o.tokenAclEntries ?? [];
  return new TokenAccess({ realm, service: o.tokenService, issuer: o.tokenIssuer, publicKey, ttlSeconds: 300, acl, ...(privateKey ? { privateKey } : {}) });
}

/** The registry's HTTP(S) server, not yet listening; reads the key, certificate and htpasswd files the settings name. */
export async function buildServer(o: ServeSettings, log: AppOptions['log']): Promise<Server> {
  if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new InvalidRegistrySettings('--tls-cert and --tls-key go together');
  const basic: Access | undefined = o.htpasswd ? await HtpasswdAccess.load(o.htpasswd) : undefined;
  const token = await tokenAccess(o);
  const reg = new Registry(storageDriver(o), { deleteEnabled: Boolean(o.deleteEnabled), maxManifestBytes: o.maxManifestBytes });
  const server = createRegistryServer(reg, {
    readOnly: Boolean(o.readOnly),
    metricsAuth: Boolean(o.metricsAuth),
    access: token ?? basic ?? anonymous,
    ...(token && o.tokenKey ? { tokenEndpoint: { path: '/auth/token', issuer: token, ...(basic ? { basic } : {}) } } : {}),
    ...(o.tlsCert && o.tlsKey ? { tls: { cert: await readFile(o.tlsCert), key: await readFile(o.tlsKey) } } : {}),
    log,
  });
  server.keepAliveTimeout = 60_000;
  return server;
}

/** Listens on `host:port` (`[::1]:5000`; an empty host is every address); resolves once listening. */
export function listen(server: Server, addr: string): Promise<void> {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i) || '0.0.0.0';
  const port = Number(addr.slice(i + 1));
  return new Promise((resolve) => server.listen(port, host.replace(/^\[|\]$/g, ''), resolve));
}
