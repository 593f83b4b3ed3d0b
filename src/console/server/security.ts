/**
 * Who may use the console: the browser that presented the one-time token
 * (like a notebook server's), and only from the console's own origin.
 *
 *   1. `GET /?token=T` once: answered with an HttpOnly SameSite=Strict session
 *      cookie and a redirect to `/` (the token is then spent, so a URL left in
 *      a shell history or a proxy log opens nothing).
 *   2. Every other request needs the cookie (401 without).
 *   3. Requests that change state, and websocket upgrades (which browsers send
 *      cross-origin without asking), need a same-origin Origin, or
 *      `Sec-Fetch-Site: same-origin` when there is no Origin (403 otherwise).
 *   4. The Host header must name the console itself, so a DNS-rebound name
 *      cannot turn a foreign page into a same-origin one.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const COOKIE = 'berth_console';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class ConsoleAuth {
  /** Printed once in the URL; spent by its first exchange. */
  readonly token = randomBytes(24).toString('hex');
  private readonly session = randomBytes(32).toString('hex');
  private spent = false;

  /** The Set-Cookie value for a valid, unspent token; undefined otherwise. */
  exchange(token: string | null): string | undefined {
    if (this.spent || !token || !sameSecret(token, this.token)) return undefined;
    this.spent = true;
    return `${COOKIE}=${this.session}; HttpOnly; SameSite=Strict; Path=/`;
  }

  authenticated(headers: IncomingHttpHeaders): boolean {
    const value = cookieValue(headers.cookie, COOKIE);
    return value !== undefined && sameSecret(value, this.session);
  }
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i !== -1 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function changesState(method: string): boolean {
  return !SAFE_METHODS.has(method);
}

/** Whether a request comes from a page of the console's own origin (`http://<host>`). */
export function sameOrigin(headers: IncomingHttpHeaders): boolean {
  const origin = headers.origin;
  if (origin !== undefined) return origin === `http://${headers.host ?? ''}`;
  return headers['sec-fetch-site'] === 'same-origin';
}

/** The Host values that name this console: its listen address, and `localhost` for a loopback one. */
export function consoleHosts(host: string, port: number): Set<string> {
  const literal = host.includes(':') ? `[${host}]` : host;
  const names = new Set([`${literal}:${port}`]);
  if (host === '127.0.0.1' || host === '::1') names.add(`localhost:${port}`);
  return names;
}
