/** Which credentials the CLI sends for a registry, from config.json's `auths` (docker's keys). */
import { encodeAuthHeader, withUserPassword, type AuthConfig } from '../api/registry-auth.js';
import { DEFAULT_DOMAIN, parseReference } from '../oci/reference.js';
import type { ConfigFile } from './config/config-file.js';

/** Docker keeps Docker Hub's credentials under its v1 URL. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

export function authKey(registry: string): string {
  return registry === DEFAULT_DOMAIN ? DOCKER_HUB_KEY : registry;
}

export function credentialsFor(config: ConfigFile, registry: string): AuthConfig {
  const key = authKey(registry);
  const entry = config.auth(key) ?? config.auth(`https://${key}`) ?? config.auth(`http://${key}`);
  if (!entry) return {};
  const a = withUserPassword({ ...(entry.auth ? { auth: entry.auth } : {}), serveraddress: key });
  const { auth: _auth, ...rest } = a;
  return entry.identitytoken ? { ...rest, password: '', identitytoken: entry.identitytoken } : rest;
}

/** The X-Registry-Auth header for an image reference (`e30=` when there are no credentials). */
export function registryAuthHeader(config: ConfigFile, image: string): string {
  let registry = DEFAULT_DOMAIN;
  try {
    registry = parseReference(image).domain;
  } catch {
    // the daemon reports the bad name
  }
  const creds = credentialsFor(config, registry);
  return Object.keys(creds).length ? encodeAuthHeader(creds) : 'e30=';
}
