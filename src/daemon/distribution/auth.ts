/**
 * Registry authentication as dockerd does it (oci-notes.md §3): a 401's
 * `WWW-Authenticate` challenge says Basic or Bearer; Bearer tokens come from
 * the realm for a scope (`repository:NAME:pull,push`), with Basic
 * credentials when we have them, or by the OAuth2 refresh-token grant.
 */
import type { IncomingMessage } from 'node:http';
import type { AuthConfig } from '../../api/registry-auth.js';
import { Unauthorized } from '../../errdefs/index.js';
import { readBody, send, type TlsSettings } from './http.js';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…",scope="…", Basic realm="…"` (several challenges may share a header). */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const out: Challenge[] = [];
  for (const h of Array.isArray(header) ? header : header ? [header] : []) {
    const re = /\s*([A-Za-z][\w-]*)(?:\s+|$)|\s*,?\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;
    let current: Challenge | undefined;
    for (let m = re.exec(h); m && re.lastIndex <= h.length; m = re.exec(h)) {
      if (m[1] !== undefined && m[2] === undefined) {
        current = { scheme: m[1].toLowerCase(), params: {} };
        out.push(current);
      } else if (m[2] !== undefined && current) {
        current.params[m[2].toLowerCase()] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[4] ?? '';
      }
      if (re.lastIndex === h.length) break;
    }
  }
  return out;
}

interface Token {
  header: string;
  expires: number;
}

/**
 * Holds one user's credentials for one registry and the tokens obtained
 * with them, per scope. One per pull, push or login.
 */
export class Authorizer {
  private basic: string | undefined;
  private readonly tokens = new Map<string, Token>();

  constructor(private readonly creds: AuthConfig, private readonly tls?: TlsSettings) {}

  /** The Authorization header for a request needing `scope`, when we already know one. */
  header(scope: string): string | undefined {
    if (this.creds.registrytoken) return `Bearer ${this.creds.registrytoken}`;
    if (this.basic) return this.basic;
    const t = this.tokens.get(scope);
    return t && t.expires > Date.now() ? t.header : undefined;
  }

  /**
   * After a 401: works out credentials for the challenge. Returns false when
   * nothing new can be tried (the caller reports the 401).
   */
  async answer(res: IncomingMessage, scope: string): Promise<boolean> {
    const challenges = parseChallenges(res.headers['www-authenticate']);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer?.params.realm) {
      const had = this.tokens.get(scope);
      // a token we just got and that is refused again will not work a second time
      if (had && had.expires > Date.now() && bearer.params.error !== 'insufficient_scope') return false;
      const token = await this.fetchToken(bearer, scope ? [scope] : []);
      this.tokens.set(scope, token);
      return true;
    }
    if (basic && this.creds.username !== undefined && !this.basic) {
      this.basic = `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password ?? ''}`).toString('base64')}`;
      return true;
    }
    return false;
  }

  /** Refresh token a login hands back as the identity token (`offline_token=true`). */
  refreshToken: string | undefined;

  private async fetchToken(ch: Challenge, scopes: string[]): Promise<Token> {
    const realm = new URL(ch.params.realm!);
    const service = ch.params.service;
    if (this.creds.identitytoken) return this.oauthToken(realm, service, scopes);
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (this.creds.username !== undefined) {
      url.searchParams.set('account', this.creds.username);
      headers.Authorization = `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password ?? ''}`).toString('base64')}`;
      if (scopes.length === 0) {
        url.searchParams.set('client_id', 'docker');
        url.searchParams.set('offline_token', 'true');
      }
    }
    const res = await send({ method: 'GET', url, headers, ...(this.tls ? { tls: this.tls } : {}) });
    return this.tokenFrom(res, realm);
  }

  private async oauthToken(realm: URL, service: string | undefined, scopes: string[]): Promise<Token> {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.creds.identitytoken!, client_id: 'docker' });
    if (service) form.set('service', service);
    if (scopes.length) form.set('scope', scopes.join(' '));
    const res = await send({
      method: 'POST', url: realm, body: Buffer.from(form.toString()),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, ...(this.tls ? { tls: this.tls } : {}),
    });
    return this.tokenFrom(res, realm);
  }

  private async tokenFrom(res: IncomingMessage, realm: URL): Promise<Token> {
    const body = await readBody(res, 1 << 20);
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new Unauthorized('registry.unauthorized', `unauthorized: ${errorText(body) || 'incorrect username or password'}`);
    }
    if (res.statusCode !== 200) {
      throw new Unauthorized('registry.token_failed', `token request to ${realm.origin}${realm.pathname} failed with status ${res.statusCode}`);
    }
    let parsed: { token?: string; access_token?: string; expires_in?: number; refresh_token?: string };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch {
      throw new Unauthorized('registry.token_failed', `token server ${realm.origin} sent a body that is not JSON`);
    }
    const token = parsed.access_token || parsed.token;
    if (!token) throw new Unauthorized('registry.token_failed', `token server ${realm.origin} sent no token`);
    if (parsed.refresh_token) this.refreshToken = parsed.refresh_token;
    const life = Math.max(60, Number(parsed.expires_in) || 60);
    return { header: `Bearer ${token}`, expires: Date.now() + (life - 10) * 1000 };
  }
}

/** The message of a registry or token server error body, if it has one. */
export function errorText(body: Buffer): string {
  try {
    const j = JSON.parse(body.toString('utf8')) as { errors?: { message?: string; code?: string }[]; details?: string; error?: string };
    if (j.errors?.length) return j.errors.map((e) => e.message || e.code || '').join(', ');
    return j.details || j.error || '';
  } catch {
    return body.toString('utf8').trim().slice(0, 200);
  }
}
