/**
 * Docker token auth for berth-registry. The registry answers 401 with
 * `WWW-Authenticate: Bearer realm,service,scope`; its built-in token
 * endpoint checks the client's Basic credentials (htpasswd) and issues a
 * JWT (ES256 or RS256) for its own service, granting what acl.ts allows of
 * the scopes asked for; requests then carry the token, which is verified
 * with the public key: signature, issuer, audience (the service), time,
 * and that it grants the repository actions.
 */
import { createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { grantedActions, type AclEntry } from './acl.js';
import type { Access, Scope } from './auth.js';
import { RegistryError } from './errors.js';

export interface TokenConfig {
  realm: string;
  service: string;
  issuer: string;
  /** Verifies tokens. */
  publicKey: KeyObject;
  /** Signs tokens (the built-in endpoint); absent when an external server issues them. */
  privateKey?: KeyObject;
  /** Widens what the built-in endpoint grants (acl.ts). */
  acl?: AclEntry[];
  ttlSeconds: number;
}

interface Grant {
  type: string;
  name: string;
  actions: string[];
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function algOf(key: KeyObject): { alg: 'ES256' | 'RS256'; dsa: boolean } {
  return key.asymmetricKeyType === 'ec' ? { alg: 'ES256', dsa: true } : { alg: 'RS256', dsa: false };
}

export class TokenAccess implements Access {
  readonly challenge: string;
  readonly open = false;

  constructor(private readonly c: TokenConfig) {
    this.challenge = `Bearer realm="${c.realm}",service="${c.service}"`;
  }

  challengeFor(scope: Scope | undefined, error?: string): string {
    return `${this.challenge}${scope ? `,scope="${scope.type}:${scope.name}:${scope.actions.join(',')}"` : ''}${error ? `,error="${error}"` : ''}`;
  }

  async check(authorization: string | undefined, scope?: Scope): Promise<string> {
    const m = /^Bearer\s+([\w-]+)\.([\w-]+)\.([\w-]+)$/i.exec(authorization ?? '');
    if (!m) throw this.refuse(scope);
    const [, h, p, s] = m;
    let header: { alg?: string };
    let claims: { iss?: string; aud?: string | string[]; exp?: number; nbf?: number; sub?: string; access?: Grant[] };
    try {
      header = JSON.parse(Buffer.from(h!, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      throw this.refuse(scope, 'invalid_token');
    }
    const { alg, dsa } = algOf(this.c.publicKey);
    const good = header.alg === alg && verify('sha256', Buffer.from(`${h}.${p}`), dsa ? { key: this.c.publicKey, dsaEncoding: 'ieee-p1363' } : this.c.publicKey, Buffer.from(s!, 'base64url'));
    const now = Math.floor(Date.now() / 1000);
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!good || claims.iss !== this.c.issuer || !aud.includes(this.c.service) || (claims.exp ?? 0) < now || (claims.nbf ?? 0) > now + 60) {
      throw this.refuse(scope, 'invalid_token');
    }
    if (scope && !scope.actions.every((a) => (claims.access ?? []).some((g) => g.type === scope.type && g.name === scope.name && (g.actions.includes(a) || g.actions.includes('*'))))) {
      throw this.refuse(scope, 'insufficient_scope');
    }
    return claims.sub ?? '';
  }

  async allows(authorization: string | undefined, scope: Scope): Promise<boolean> {
    return this.check(authorization, scope).then(() => true, () => false);
  }

  private refuse(scope: Scope | undefined, error?: string): RegistryError {
    const refused = new RegistryError('UNAUTHORIZED', 'authentication required', scope ? [{ Type: scope.type, Name: scope.name, Action: scope.actions.join(',') }] : undefined);
    refused.challenge = this.challengeFor(scope, error);
    return refused;
  }

  /**
   * The built-in token endpoint (GET realm?service&scope&account): `user`
   * is who the Basic credentials proved (undefined: anonymous). Granted:
   * of each scope asked for, the actions the ACL allows (acl.ts); a token
   * for another service is refused, so it cannot be replayed there.
   */
  issue(res: ServerResponse, url: URL, user: string | undefined): void {
    if (!this.c.privateKey) throw new RegistryError('UNSUPPORTED', 'this registry issues no tokens');
    const service = url.searchParams.get('service');
    if (service !== null && service !== this.c.service) {
      throw new RegistryError('DENIED', `this token server issues tokens for service ${JSON.stringify(this.c.service)}, not ${JSON.stringify(service)}`, undefined, 'invalid_parameter');
    }
    const access: Grant[] = [];
    for (const s of url.searchParams.getAll('scope').flatMap((v) => v.split(' '))) {
      const first = s.indexOf(':');
      const last = s.lastIndexOf(':');
      if (first < 0 || last <= first) continue;
      const asked = { type: s.slice(0, first), name: s.slice(first + 1, last), actions: s.slice(last + 1).split(',').filter(Boolean) };
      const actions = grantedActions(this.c.acl ?? [], user, asked);
      if (actions.length) access.push({ ...asked, actions });
    }
    const now = Math.floor(Date.now() / 1000);
    const { alg, dsa } = algOf(this.c.privateKey);
    const header = { typ: 'JWT', alg, kid: 'berth-registry' };
    const claims = { iss: this.c.issuer, sub: user ?? '', aud: this.c.service, exp: now + this.c.ttlSeconds, nbf: now - 10, iat: now, jti: randomBytes(12).toString('hex'), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(input), dsa ? { key: this.c.privateKey, dsaEncoding: 'ieee-p1363' } : this.c.privateKey);
    const token = `${input}.${b64url(sig)}`;
    const body = JSON.stringify({ token, access_token: token, expires_in: this.c.ttlSeconds, issued_at: new Date(now * 1000).toISOString() });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
  }
}

export function publicKeyOf(privateKey: KeyObject): KeyObject {
  return createPublicKey(privateKey);
}

/** Whom a token request's Basic credentials name, checked by `basic`; undefined when there are none. */
export async function tokenUser(req: IncomingMessage, basic: Access | undefined): Promise<string | undefined> {
  if (!req.headers.authorization) return undefined;
  if (!basic) throw new RegistryError('UNAUTHORIZED');
  return basic.check(req.headers.authorization);
}
