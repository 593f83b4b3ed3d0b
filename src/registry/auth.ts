/**
 * Who may use the registry. `anonymous` lets everyone in; `htpasswd`
 * checks HTTP Basic credentials against an htpasswd file of bcrypt hashes
 * (`htpasswd -B`, as distribution requires). A refused request gets 401,
 * `WWW-Authenticate: Basic realm=…` and the spec's UNAUTHORIZED body.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import { RegistryError } from './errors.js';

/** What a request needs: `repository:NAME:pull,push`, `registry:catalog:*`. */
export interface Scope {
  type: string;
  name: string;
  actions: string[];
}

export interface Access {
  /** Resolves with the user name, or throws UNAUTHORIZED (whose `challenge`, if set, goes in WWW-Authenticate). */
  check(authorization: string | undefined, scope?: Scope): Promise<string>;
  /**
   * Whether these credentials grant `scope`, without throwing: for access a
   * request may use but does not need (the source of a cross-repository mount).
   */
  allows(authorization: string | undefined, scope: Scope): Promise<boolean>;
  /** True when no credentials are asked for. */
  readonly open: boolean;
  /** The challenge sent with a 401. */
  readonly challenge: string | undefined;
}

export const anonymous: Access = { check: async () => 'anonymous', allows: async () => true, open: true, challenge: undefined };

export class HtpasswdAccess implements Access {
  /** sha256(user:password) of credentials already checked: bcrypt is slow on purpose, a registry is asked often. */
  private readonly good = new Set<string>();

  readonly open = false;

  private constructor(private readonly users: Map<string, string>, readonly challenge: string) {}

  static async load(file: string, realm = 'berth-registry'): Promise<HtpasswdAccess> {
    const users = new Map<string, string>();
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      const hash = line.slice(i + 1).trim();
      if (!/^\$2[abxy]\$/.test(hash)) throw new Error(`htpasswd ${file}: user ${line.slice(0, i)} has no bcrypt hash (use htpasswd -B)`);
      users.set(line.slice(0, i), hash);
    }
    return new HtpasswdAccess(users, `Basic realm="${realm}"`);
  }

  async check(authorization: string | undefined): Promise<string> {
    const m = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) throw new RegistryError('UNAUTHORIZED');
    const plain = Buffer.from(m[1]!, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    const user = i < 0 ? plain : plain.slice(0, i);
    const key = createHash('sha256').update(plain).digest('hex');
    if (this.good.has(key)) return user;
    const hash = this.users.get(user);
    if (!hash || i < 0 || !(await bcrypt.compare(plain.slice(i + 1), hash.replace(/^\$2y\$/, '$2b$')))) {
      throw new RegistryError('UNAUTHORIZED', 'authentication required', [{ Type: 'registry', Name: 'catalog', Action: '*' }]);
    }
    this.good.add(key);
    return user;
  }

  /** Every user may do everything. */
  async allows(authorization: string | undefined): Promise<boolean> {
    return this.check(authorization).then(() => true, () => false);
  }
}
