/**
 * The registry credentials a client hands the daemon: `X-Registry-Auth` on
 * pull and push, the body of `POST /auth` (engine-api.md §2.2).
 */
export interface AuthConfig {
  username?: string;
  password?: string;
  /** Legacy: base64 of `user:password`, as config.json's `auths` stores it. */
  auth?: string;
  serveraddress?: string;
  /** A refresh token from an earlier login (OAuth2 flow). */
  identitytoken?: string;
  /** A bearer token to send as is. */
  registrytoken?: string;
}

/** Encodes as the Go CLI does: URL-safe base64 of the JSON, padded. */
export function encodeAuthHeader(auth: AuthConfig): string {
  return Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** Decodes either base64 alphabet, padded or not; an empty or unreadable header means anonymous. */
export function decodeAuthHeader(header: string | undefined): AuthConfig {
  if (!header) return {};
  try {
    const json = Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    const parsed = JSON.parse(json) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    const out: AuthConfig = {};
    for (const k of ['username', 'password', 'auth', 'serveraddress', 'identitytoken', 'registrytoken'] as const) {
      const v = (parsed as Record<string, unknown>)[k];
      if (typeof v === 'string' && v !== '') out[k] = v;
    }
    return withUserPassword(out);
  } catch {
    return {};
  }
}

/** Splits a legacy `auth` field into username and password when they are not given. */
export function withUserPassword(a: AuthConfig): AuthConfig {
  if (!a.auth || a.username) return a;
  const plain = Buffer.from(a.auth, 'base64').toString('utf8');
  const i = plain.indexOf(':');
  return i < 0 ? a : { ...a, username: plain.slice(0, i), password: plain.slice(i + 1) };
}
