/**
 * berth-registry against the attacks of a security review, each over HTTP
 * against a real process: cross-repository mounts without pull on the
 * source, concurrent writes to one upload, DELETE with push only, a token
 * endpoint that granted whatever was asked, a stale htpasswd, /metrics
 * without credentials, upload cancel in read-only mode.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { REPO } from '../support/daemon.js';
import { freePort } from '../support/net.js';
import { waitFor } from '../support/wait.js';

const BIN = join(REPO, 'bin/berth-registry');

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function http(port: number, method: string, path: string, body?: Buffer | string, headers: Record<string, string | number> = {}): Promise<Reply> {
  const s = streaming(port, method, path, body === undefined ? undefined : Buffer.byteLength(body), headers);
  s.req.end(body);
  return s.reply;
}

/** A request whose body the test writes piece by piece (`req.write`, `req.end`). */
function streaming(port: number, method: string, path: string, length: number | undefined, headers: Record<string, string | number> = {}): { req: ClientRequest; reply: Promise<Reply> } {
  let req!: ClientRequest;
  const reply = new Promise<Reply>((resolve, reject) => {
    req = request({ host: '127.0.0.1', port, method, path, headers: { ...(length !== undefined ? { 'Content-Length': length } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
  });
  reply.catch(() => {}); // a test that failed early leaves its request behind
  return { req, reply };
}

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const code = (r: Reply) => (JSON.parse(r.body.toString()) as { errors: { code: string }[] }).errors[0]!.code;
const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

interface Served {
  port: number;
  root: string;
  dir: string;
  stop(): Promise<void>;
}

describe('berth-registry security', () => {
  const procs: ChildProcess[] = [];
  const dirs: string[] = [];

  const tempDir = () => {
    const dir = mkdtempSync('/tmp/berth-registry-sec-');
    dirs.push(dir);
    return dir;
  };
  /** htpasswd lines with bcrypt hashes (cost 5, htpasswd -B's default). */
  const htpasswd = (users: Record<string, string>) => Object.entries(users).map(([u, p]) => `${u}:${bcrypt.hashSync(p, 5)}\n`).join('');
  const tokenKey = (dir: string) => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    return join(dir, 'key.pem');
  };

  /** berth-registry serve on a free port; `dir` holds its root and whatever files the test wrote. */
  const serve = async (args: (dir: string) => string[], dir = tempDir()): Promise<Served> => {
    const port = await freePort();
    const root = join(dir, 'root');
    const p = spawn(BIN, ['serve', '--addr', `127.0.0.1:${port}`, '--root', root, '--quiet', ...args(dir)], { stdio: 'ignore' });
    procs.push(p);
    await waitFor(async () => (await http(port, 'GET', '/v2/').catch(() => ({ status: 0 }))).status !== 0, 10_000, 'berth-registry');
    const stop = async () => {
      if (p.exitCode !== null || p.signalCode !== null) return;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill();
      await gone;
    };
    return { port, root, dir, stop };
  };

  after(async () => {
    for (const p of procs) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await gone;
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** A token from the built-in endpoint, and the access it grants. */
  const token = async (port: number, creds: Record<string, string>, scopes: string[], service = 'berth-registry') => {
    const q = new URLSearchParams([['service', service], ...scopes.map((s): [string, string] => ['scope', s])]);
    const r = await http(port, 'GET', `/auth/token?${q}`, undefined, creds);
    if (r.status !== 200) return { status: r.status, body: r.body.toString(), token: '', access: [] };
    const t = (JSON.parse(r.body.toString()) as { token: string }).token;
    const claims = JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { access: { type: string; name: string; actions: string[] }[] };
    return { status: r.status, body: '', token: t, access: claims.access };
  };

  const upload = async (port: number, name: string, data: Buffer, headers: Record<string, string> = {}) => {
    const r = await http(port, 'POST', `/v2/${name}/blobs/uploads/?digest=${sha(data)}`, data, headers);
    assert.equal(r.status, 201, `upload to ${name}: ${r.body.toString()}`);
  };

  test('a cross-repository mount needs pull on the source; an anonymous mount links only what the repository already has', async () => {
    const reg = await serve((dir) => {
      writeFileSync(join(dir, 'htpasswd'), htpasswd({ victim: 'v-pass', attacker: 'a-pass' }));
      return ['--htpasswd', join(dir, 'htpasswd'), '--token-key', tokenKey(dir)];
    });
    const secret = randomBytes(2000);
    const victim = await token(reg.port, basic('victim', 'v-pass'), ['repository:victim/private:pull,push']);
    await upload(reg.port, 'victim/private', secret, bearer(victim.token));

    const attacker = await token(reg.port, basic('attacker', 'a-pass'), ['repository:attacker/repo:pull,push']);
    const auth = bearer(attacker.token);
    let r = await http(reg.port, 'POST', `/v2/attacker/repo/blobs/uploads/?mount=${sha(secret)}&from=victim/private`, undefined, auth);
    assert.equal(r.status, 202, 'a mount from a repository the token cannot pull starts an upload instead');
    assert.match(String(r.headers.location), /^\/v2\/attacker\/repo\/blobs\/uploads\//);
    r = await http(reg.port, 'POST', `/v2/attacker/repo/blobs/uploads/?mount=${sha(secret)}`, undefined, auth);
    assert.equal(r.status, 202, 'an anonymous mount does not reach into other repositories');
    assert.equal((await http(reg.port, 'HEAD', `/v2/attacker/repo/blobs/${sha(secret)}`, undefined, auth)).status, 404);

    // allowed: the source can be pulled
    const both = await token(reg.port, basic('victim', 'v-pass'), ['repository:victim/private:pull', 'repository:victim/copy:pull,push']);
    r = await http(reg.port, 'POST', `/v2/victim/copy/blobs/uploads/?mount=${sha(secret)}&from=victim/private`, undefined, bearer(both.token));
    assert.equal(r.status, 201);
    assert.equal((await http(reg.port, 'HEAD', `/v2/victim/copy/blobs/${sha(secret)}`, undefined, bearer(both.token))).status, 200);
    // an anonymous mount of a blob the repository has already is a no-op 201
    r = await http(reg.port, 'POST', `/v2/victim/copy/blobs/uploads/?mount=${sha(secret)}`, undefined, bearer(both.token));
    assert.equal(r.status, 201);

    // htpasswd: every user may pull everything, so `from` mounts work; the anonymous mount stays within the repository
    const basicReg = await serve((dir) => {
      writeFileSync(join(dir, 'htpasswd'), htpasswd({ alice: 'a' }));
      return ['--htpasswd', join(dir, 'htpasswd')];
    });
    const alice = basic('alice', 'a');
    await upload(basicReg.port, 'one/repo', secret, alice);
    r = await http(basicReg.port, 'POST', `/v2/two/repo/blobs/uploads/?mount=${sha(secret)}`, undefined, alice);
    assert.equal(r.status, 202);
    r = await http(basicReg.port, 'POST', `/v2/two/repo/blobs/uploads/?mount=${sha(secret)}&from=one/repo`, undefined, alice);
    assert.equal(r.status, 201);
    assert.equal((await http(basicReg.port, 'HEAD', `/v2/two/repo/blobs/${sha(secret)}`, undefined, alice)).status, 200);
  });

  test('writes to one upload are serialized: a second PATCH or a PUT during a PATCH gets 416; every stored blob matches its digest', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const reg = await serve(() => []);
    const start = async () => String((await http(reg.port, 'POST', '/v2/race/blobs/uploads/')).headers.location);
    const data = randomBytes(1 << 20);
    const half = data.length / 2;

    // two PATCHes: the second arrives while the first is still streaming
    let loc = await start();
    let slow = streaming(reg.port, 'PATCH', loc, data.length, { 'Content-Range': `0-${data.length - 1}` });
    slow.req.write(data.subarray(0, half));
    await sleep(300);
    let r = await http(reg.port, 'PATCH', loc, Buffer.from('intruder'));
    assert.equal(r.status, 416);
    assert.equal(code(r), 'RANGE_INVALID');
    slow.req.end(data.subarray(half));
    assert.equal((await slow.reply).status, 202);
    r = await http(reg.port, 'PUT', `${loc}?digest=${sha(data)}`);
    assert.equal(r.status, 201, r.body.toString());

    // a PUT while a PATCH streams: refused, and the PATCH completes the upload
    const other = randomBytes(1 << 20);
    loc = await start();
    slow = streaming(reg.port, 'PATCH', loc, other.length);
    slow.req.write(other.subarray(0, half));
    await sleep(300);
    r = await http(reg.port, 'PUT', `${loc}?digest=${sha(other.subarray(0, half))}`);
    assert.equal(r.status, 416);
    slow.req.end(other.subarray(half));
    assert.equal((await slow.reply).status, 202);
    r = await http(reg.port, 'PUT', `${loc}?digest=${sha(other)}`);
    assert.equal(r.status, 201, r.body.toString());
    assert.deepEqual((await http(reg.port, 'GET', `/v2/race/blobs/${sha(other)}`)).body, other);
    assert.equal((await http(reg.port, 'HEAD', `/v2/race/blobs/${sha(other.subarray(0, half))}`)).status, 404);
    for (const hex of readdirSync(join(reg.root, 'blobs/sha256'))) {
      assert.equal(sha(readFileSync(join(reg.root, 'blobs/sha256', hex, 'data'))), `sha256:${hex}`, `blob ${hex} does not match its digest`);
    }
  });

  test('DELETE needs the delete action, push is not enough (token auth)', async () => {
    const reg = await serve((dir) => {
      writeFileSync(join(dir, 'htpasswd'), htpasswd({ alice: 'a' }));
      return ['--htpasswd', join(dir, 'htpasswd'), '--token-key', tokenKey(dir), '--delete-enabled'];
    });
    const blob = randomBytes(100);
    const push = await token(reg.port, basic('alice', 'a'), ['repository:alice/x:pull,push']);
    await upload(reg.port, 'alice/x', blob, bearer(push.token));
    let r = await http(reg.port, 'DELETE', `/v2/alice/x/blobs/${sha(blob)}`, undefined, bearer(push.token));
    assert.equal(r.status, 401);
    assert.equal(code(r), 'UNAUTHORIZED');
    assert.match(String(r.headers['www-authenticate']), /scope="repository:alice\/x:delete",error="insufficient_scope"/);
    const del = await token(reg.port, basic('alice', 'a'), ['repository:alice/x:delete']);
    r = await http(reg.port, 'DELETE', `/v2/alice/x/blobs/${sha(blob)}`, undefined, bearer(del.token));
    assert.equal(r.status, 202);
  });

  test('the token endpoint grants a user their own namespace only, an ACL widens it, other services are refused', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'htpasswd'), htpasswd({ alice: 'a', bob: 'b' }));
    const reg = await serve(() => ['--htpasswd', join(dir, 'htpasswd'), '--token-key', tokenKey(dir)], dir);
    const alice = basic('alice', 'a');
    const own = await token(reg.port, alice, ['repository:alice/x:pull,push']);
    assert.deepEqual(own.access, [{ type: 'repository', name: 'alice/x', actions: ['pull', 'push'] }]);
    await upload(reg.port, 'alice/x', Buffer.from('mine'), bearer(own.token));

    // bob's repository: the token comes without it, and a push with it is refused
    const foreign = await token(reg.port, alice, ['repository:bob/x:pull,push', 'registry:catalog:*']);
    assert.deepEqual(foreign.access, []);
    let r = await http(reg.port, 'POST', '/v2/bob/x/blobs/uploads/', undefined, bearer(foreign.token));
    assert.equal(r.status, 401);
    assert.match(String(r.headers['www-authenticate']), /error="insufficient_scope"/);
    assert.equal((await http(reg.port, 'GET', '/v2/_catalog', undefined, bearer(foreign.token))).status, 401);
    // a name that only starts like alice's is not hers
    assert.deepEqual((await token(reg.port, alice, ['repository:alicex/y:pull'])).access, []);
    // anonymous: nothing
    assert.deepEqual((await token(reg.port, {}, ['repository:alice/x:pull'])).access, []);

    // a token for another service is not issued
    const other = await token(reg.port, alice, ['repository:alice/x:pull'], 'someone-else');
    assert.equal(other.status, 400);
    assert.match(other.body, /service/);

    // the ACL (config file): alice may push to team/*, everyone pull public/*, anonymous included, and alice the catalog
    await reg.stop();
    writeFileSync(join(dir, 'config.yml'), [
      'auth:', '  token:', '    acl:',
      '      - { account: alice, name: "team/*", actions: [pull, push] }',
      '      - { account: "*", name: "public/*", actions: [pull] }',
      '      - { account: "", name: "public/*", actions: [pull] }',
      '      - { account: alice, type: registry, name: catalog, actions: ["*"] }',
      '',
    ].join('\n'));
    const acl = await serve(() => ['--config', join(dir, 'config.yml'), '--htpasswd', join(dir, 'htpasswd'), '--token-key', join(dir, 'key.pem')], dir);
    const team = await token(acl.port, alice, ['repository:team/app:pull,push,delete']);
    assert.deepEqual(team.access, [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
    await upload(acl.port, 'team/app', Buffer.from('team'), bearer(team.token));
    assert.deepEqual((await token(acl.port, basic('bob', 'b'), ['repository:team/app:push'])).access, []);
    assert.deepEqual((await token(acl.port, basic('bob', 'b'), ['repository:public/x:pull,push'])).access, [{ type: 'repository', name: 'public/x', actions: ['pull'] }]);
    assert.deepEqual((await token(acl.port, {}, ['repository:public/x:pull'])).access, [{ type: 'repository', name: 'public/x', actions: ['pull'] }]);
    const cat = await token(acl.port, alice, ['registry:catalog:*']);
    assert.equal((await http(acl.port, 'GET', '/v2/_catalog', undefined, bearer(cat.token))).status, 200);
  });

  test('htpasswd: a user added after start can log in without a restart, a removed one cannot', async () => {
    const dir = tempDir();
    const file = join(dir, 'htpasswd');
    writeFileSync(file, htpasswd({ alice: 'a' }));
    const reg = await serve(() => ['--htpasswd', file], dir);
    assert.equal((await http(reg.port, 'GET', '/v2/', undefined, basic('alice', 'a'))).status, 200);
    assert.equal((await http(reg.port, 'GET', '/v2/', undefined, basic('carol', 'c'))).status, 401);
    writeFileSync(file, htpasswd({ carol: 'c' }));
    await waitFor(async () => (await http(reg.port, 'GET', '/v2/', undefined, basic('carol', 'c'))).status === 200, 5000, 'carol let in');
    assert.equal((await http(reg.port, 'GET', '/v2/', undefined, basic('alice', 'a'))).status, 401);
  });

  test('/metrics needs the API credentials with --metrics-auth, and not without', async () => {
    const open = await serve((dir) => {
      writeFileSync(join(dir, 'htpasswd'), htpasswd({ alice: 'a' }));
      return ['--htpasswd', join(dir, 'htpasswd')];
    });
    assert.equal((await http(open.port, 'GET', '/metrics')).status, 200);
    const reg = await serve((dir) => {
      writeFileSync(join(dir, 'htpasswd'), htpasswd({ alice: 'a' }));
      return ['--htpasswd', join(dir, 'htpasswd'), '--metrics-auth'];
    });
    let r = await http(reg.port, 'GET', '/metrics');
    assert.equal(r.status, 401);
    assert.match(String(r.headers['www-authenticate']), /^Basic /);
    assert.equal((await http(reg.port, 'GET', '/metrics', undefined, basic('alice', 'wrong'))).status, 401);
    r = await http(reg.port, 'GET', '/metrics', undefined, basic('alice', 'a'));
    assert.equal(r.status, 200);
    assert.match(r.body.toString(), /registry_http_requests_total/);

    // token auth: a token for registry:catalog:* (here from the ACL)
    const tok = await serve((dir) => {
      writeFileSync(join(dir, 'htpasswd'), htpasswd({ alice: 'a' }));
      writeFileSync(join(dir, 'acl.yml'), '- { account: alice, type: registry, name: catalog, actions: ["*"] }\n');
      return ['--htpasswd', join(dir, 'htpasswd'), '--token-key', tokenKey(dir), '--token-acl', join(dir, 'acl.yml'), '--metrics-auth'];
    });
    assert.equal((await http(tok.port, 'GET', '/metrics')).status, 401);
    const repoOnly = await token(tok.port, basic('alice', 'a'), ['repository:alice/x:pull']);
    assert.equal((await http(tok.port, 'GET', '/metrics', undefined, bearer(repoOnly.token))).status, 401);
    const cat = await token(tok.port, basic('alice', 'a'), ['registry:catalog:*']);
    assert.equal((await http(tok.port, 'GET', '/metrics', undefined, bearer(cat.token))).status, 200);
  });

  test('cancelling an upload is refused in read-only mode', async () => {
    const dir = tempDir();
    let reg = await serve(() => [], dir);
    const loc = String((await http(reg.port, 'POST', '/v2/ro/blobs/uploads/')).headers.location);
    assert.equal((await http(reg.port, 'PATCH', loc, Buffer.from('kept'))).status, 202);
    await reg.stop();
    reg = await serve(() => ['--read-only'], dir);
    const r = await http(reg.port, 'DELETE', loc);
    assert.equal(r.status, 405);
    assert.equal(code(r), 'UNSUPPORTED');
    const status = await http(reg.port, 'GET', loc);
    assert.equal(status.status, 204);
    assert.equal(status.headers.range, '0-3');
  });
});
