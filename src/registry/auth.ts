/**
 * Who may use the registry. `anonymous` lets everyone in; `htpasswd`
 * checks HTTP Basic credentials against an htpasswd file of bcrypt hashes
 * (`htpasswd -B`, as distribution requires), read again when it changes. A
 * refused request gets 401, `WWW-Authenticate: Basic realm=…` and the
 * spec's UNAUTHORIZED body.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
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
  readonly open = false;
  /** sha256(user:password) of credentials already checked: bcrypt is slow on purpose, a registry is asked often. */
  private readonly good = new Set<string>();
  private users = new Map<string, string>();
  /** Compared against for unknown users, so that the time taken does not tell which users exist. */
  private dummy = '';
  private version = '';
  private statedAt = 0;
  private reading: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string, readonly challenge: string, private readonly compare: (plain: string, hash: string) => Promise<boolean>) {}

  /** Reads `file` (a bad one stops start-up); it is read again when it changes. `compare` is for tests. */
  static async load(file: string, realm = 'berth-registry', compare: (plain: string, hash: string) => Promise<boolean> = bcrypt.compare): Promise<HtpasswdAccess> {
    const access = new HtpasswdAccess(file, `Basic realm="${realm}"`, compare);
    const st = await stat(file);
    await access.read(`${st.ino}:${st.size}:${st.mtimeMs}`);
    access.statedAt = Date.now();
    return access;
  }

  private async read(version: string): Promise<void> {
    const users = new Map<string, string>();
    for (const line of (await readFile(this.file, 'utf8')).split('\n')) {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      const hash = line.slice(i + 1).trim();
      if (!/^\$2[abxy]\$\d\d\$/.test(hash)) throw new Error(`htpasswd ${this.file}: user ${line.slice(0, i)} has no bcrypt hash (use htpasswd -B)`);
      users.set(line.slice(0, i), hash.replace(/^\$2y\$/, '$2b$'));
    }
    // the dummy costs what a real user's hash costs (htpasswd -B: 5 rounds unless -C)
    const rounds = Number([...users.values()][0]?.slice(4, 6) ?? 5);
    this.dummy = await bcrypt.hash(randomBytes(16).toString('hex'), rounds);
    this.users = users;
    this.good.clear();
    this.version = version;
  }

  /** Re-reads the file when its inode, size or mtime changed; looks at most once a second. A broken file lets no one in. */
  private async current(): Promise<void> {
    if (Date.now() - this.statedAt >= 1000) {
      this.statedAt = Date.now();
      this.reading = this.reading.then(async () => {
        const st = await stat(this.file).catch(() => undefined);
        const version = st ? `${st.ino}:${st.size}:${st.mtimeMs}` : 'missing';
        if (version === this.version) return;
        await this.read(version).catch(() => {
          this.users = new Map();
          this.good.clear();
          this.version = version;
        });
      });
    }
    await this.reading;
  }

  async check(authorization: string | undefined): Promise<string> {
    const m = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) throw new RegistryError('UNAUTHORIZED');
    await this.current();
    const plain = Buffer.from(m[1]!, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    const user = i < 0 ? plain : plain.slice(0, i);
    const key = createHash('sha256').update(plain).digest('hex');
    if (this.good.has(key)) return user;
    const hash = i < 0 ? undefined : this.users.get(user);
    const version = this.version;
    const matches = await this.compare(i < 0 ? '' : plain.slice(i + 1), hash ?? this.dummy);
    if (!hash || !matches) throw new RegistryError('UNAUTHORIZED', 'authentication required', [{ Type: 'registry', Name: 'catalog', Action: '*' }]);
    if (version === this.version) this.good.add(key); // not when the file changed meanwhile: the user may be gone
    return user;
  }

  /** Every user may do everything. */
  async allows(authorization: string | undefined): Promise<boolean> {
    return this.check(authorization).then(() => true, () => false);
  }
}
