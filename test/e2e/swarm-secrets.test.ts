/**
 * Swarm secrets and configs with the real docker CLI on a 3-node cluster
 * (n1 init, n2 a second manager, n3 a worker): create from stdin and from
 * a file, ls with filters, inspect, rm, labels, duplicates, names and sizes
 * refused in swarmkit's words, the worker's and the outsider's refusals,
 * the in-use refusal against a service record, the secret's plaintext
 * absent from etcd (read raw with etcdctl) and the data key on the second
 * manager. Every etcd started here is killed by pid in `after` if a test
 * failed before leave did it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { waitFor } from '../support/wait.js';
import { DATA_KEY_FILE, openValue } from '../../src/daemon/cluster/data-key.js';

const PLAINTEXT = 'correct-horse-battery-staple';

describe('swarm secrets and configs with the docker CLI', () => {
  let c: TestCluster;
  let n1: TestNode;
  let n2: TestNode;
  let n3: TestNode;
  const fails = async (n: TestNode, args: string[], input?: string) => {
    const r = await n.docker(args, input === undefined ? {} : { input });
    assert.notEqual(r.code, 0, `${n.name}: docker ${args.join(' ')} should fail: ${r.stdout}`);
    return r.stderr;
  };
  const certDir = (n: TestNode) => join(n.daemon.dataRoot, 'swarm', 'certificates');
  const etcdctl = async (n: TestNode, args: string[]) => {
    const certs = certDir(n);
    const r = await n.sh('etcdctl', ['--endpoints', `https://${n.ip}:2379`, '--cacert', join(certs, 'swarm-root-ca.crt'), '--cert', join(certs, 'swarm-node.crt'),
      '--key', join(certs, 'swarm-node.key'), '--command-timeout=5s', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  before(async () => {
    c = await TestCluster.start(3);
    [n1, n2, n3] = c.nodes as [TestNode, TestNode, TestNode];
  });
  after(() => c?.destroy());

  test('outside a swarm, secret and config commands get dockerd\'s "not a swarm manager"', async () => {
    assert.match(await fails(n1, ['secret', 'ls']), /This node is not a swarm manager\. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again\./);
    assert.match(await fails(n1, ['config', 'create', 'c', '-'], 'x'), /This node is not a swarm manager\. Use "docker swarm init"/);
  });

  test('a swarm of two managers and a worker', async () => {
    await n1.dockerOk(['swarm', 'init', '--advertise-addr', n1.ip]);
    assert.ok(readFileSync(join(certDir(n1), DATA_KEY_FILE), 'utf8').trim(), 'swarm init made a data key');
    const manager = (await n1.dockerOk(['swarm', 'join-token', '-q', 'manager'])).trim();
    const worker = (await n1.dockerOk(['swarm', 'join-token', '-q', 'worker'])).trim();
    assert.match(await n2.dockerOk(['swarm', 'join', '--token', manager, `${n1.ip}:2377`]), /This node joined a swarm as a manager\./);
    assert.match(await n3.dockerOk(['swarm', 'join', '--token', worker, `${n1.ip}:2377`]), /This node joined a swarm as a worker\./);
  });

  let secretId = '';

  test('secret create from stdin prints the id; from a file with labels', async () => {
    secretId = (await n1.dockerOk(['secret', 'create', 'db_pw', '-'], { input: PLAINTEXT })).trim();
    assert.match(secretId, /^[0-9a-z]{25}$/);
    const file = join(c.dir, 'api-key.txt');
    writeFileSync(file, 'key-from-a-file\n');
    assert.match((await n1.dockerOk(['secret', 'create', '--label', 'env=prod', '--label', 'tier', 'api_key', file])).trim(), /^[0-9a-z]{25}$/);
  });

  test('secret ls shows both; filters by name, id prefix and label', async () => {
    assert.deepEqual((await n1.dockerOk(['secret', 'ls', '--format', '{{.Name}}'])).trim().split('\n').sort(), ['api_key', 'db_pw']);
    const table = await n1.dockerOk(['secret', 'ls']);
    assert.match(table.split('\n')[0]!, /^ID\s+NAME\s+DRIVER\s+CREATED\s+UPDATED$/);
    assert.equal((await n1.dockerOk(['secret', 'ls', '-q', '--filter', 'name=db'])).trim(), secretId);
    assert.equal((await n1.dockerOk(['secret', 'ls', '-q', '--filter', `id=${secretId.slice(0, 6)}`])).trim(), secretId);
    assert.equal((await n1.dockerOk(['secret', 'ls', '--format', '{{.Name}}', '--filter', 'label=env=prod'])).trim(), 'api_key');
    assert.equal((await n1.dockerOk(['secret', 'ls', '--format', '{{.Name}}', '--filter', 'label=tier'])).trim(), 'api_key');
    assert.match(await fails(n1, ['secret', 'ls', '--filter', 'driver=x']), /invalid filter 'driver'/);
  });

  test('secret inspect by name, id and id prefix: the spec without its data', async () => {
    const [view] = JSON.parse(await n1.dockerOk(['secret', 'inspect', 'db_pw'])) as [{ ID: string; Version: { Index: number }; Spec: Record<string, unknown>; CreatedAt: string }];
    assert.equal(view.ID, secretId);
    assert.deepEqual(view.Spec, { Name: 'db_pw', Labels: {} });
    assert.ok(view.Version.Index > 0);
    assert.ok(!Number.isNaN(Date.parse(view.CreatedAt)));
    assert.equal((await n1.dockerOk(['secret', 'inspect', '--format', '{{.Spec.Name}}', secretId.slice(0, 7)])).trim(), 'db_pw');
    assert.equal((await n1.dockerOk(['secret', 'inspect', '--format', '{{json .Spec.Labels}}', 'api_key'])).trim(), '{"env":"prod","tier":""}');
    assert.match(await fails(n1, ['secret', 'inspect', 'nosuch']), /secret nosuch not found/);
  });

  test('the API: create 201, duplicate 409, update changes only labels (400 otherwise, 409 when stale), delete 204', async () => {
    const api = (method: string, path: string, body?: unknown) => n1.daemon.http(method, path, body === undefined ? undefined : JSON.stringify(body));
    const created = await api('POST', '/secrets/create', { Name: 'via_api', Data: Buffer.from('x').toString('base64') });
    assert.equal(created.status, 201, created.body);
    const { ID } = JSON.parse(created.body) as { ID: string };
    const dup = await api('POST', '/secrets/create', { Name: 'via_api', Data: Buffer.from('y').toString('base64') });
    assert.deepEqual([dup.status, JSON.parse(dup.body)], [409, { message: 'rpc error: code = AlreadyExists desc = secret via_api already exists' }]);
    const version = (JSON.parse((await api('GET', `/secrets/${ID}`)).body) as { Version: { Index: number } }).Version.Index;
    const renamed = await api('POST', `/secrets/${ID}/update?version=${version}`, { Name: 'other', Labels: {} });
    assert.deepEqual([renamed.status, JSON.parse(renamed.body)], [400, { message: 'rpc error: code = InvalidArgument desc = only updates to Labels are allowed' }]);
    assert.equal((await api('POST', `/secrets/${ID}/update?version=x`, { Name: 'via_api' })).status, 400);
    const labelled = await api('POST', `/secrets/${ID}/update?version=${version}`, { Name: 'via_api', Labels: { rotated: 'no' } });
    assert.equal(labelled.status, 200, labelled.body);
    assert.equal((await n1.dockerOk(['secret', 'inspect', '--format', '{{json .Spec.Labels}}', 'via_api'])).trim(), '{"rotated":"no"}');
    const stale = await api('POST', `/secrets/${ID}/update?version=${version}`, { Name: 'via_api', Labels: {} });
    assert.equal(stale.status, 409);
    assert.match(stale.body, /update out of sequence/);
    assert.equal((await api('DELETE', `/secrets/${ID}`)).status, 204);
    assert.equal((await api('GET', `/secrets/${ID}`)).status, 404);
  });

  test('a duplicate name, a bad name and an oversized secret are refused in swarmkit\'s words', async () => {
    assert.match(await fails(n1, ['secret', 'create', 'db_pw', '-'], 'other'), /rpc error: code = AlreadyExists desc = secret db_pw already exists/);
    assert.match(await fails(n1, ['secret', 'create', 'bad_', '-'], 'x'), /invalid name, only 64 \[a-zA-Z0-9-_.\] characters allowed, and the start and end character must be \[a-zA-Z0-9\]/);
    const big = join(c.dir, 'big');
    writeFileSync(big, Buffer.alloc(500 * 1024, 0x61));
    assert.match(await fails(n1, ['secret', 'create', 'big', big]), /secret data must be larger than 0 and less than 512000 bytes/);
    assert.match(await fails(n1, ['secret', 'create', '--driver', 'vault', 'drv']), /secret drivers \(--driver vault\) are not supported by berth/);
    assert.match(await fails(n1, ['secret', 'create', '--template-driver', 'golang', 'tpl', '-'], 'x'), /secret templating \(--template-driver golang\) is not supported by berth/);
    assert.match(await fails(n1, ['config', 'create', '--template-driver', 'golang', 'tpl', '-'], 'x'), /config templating \(--template-driver golang\) is not supported by berth/);
  });

  test('the secret\'s plaintext is not in etcd: the raw value is an AES-256-GCM envelope', async () => {
    const raw = await etcdctl(n1, ['get', '--prefix', '/berth/swarm/']);
    assert.ok(raw.includes(`/berth/swarm/secrets/${secretId}`), 'the secret record is there');
    assert.ok(!raw.includes(PLAINTEXT), 'no plaintext anywhere under the swarm prefix');
    assert.ok(!raw.includes(Buffer.from(PLAINTEXT).toString('base64')), 'nor its base64');
    const value = (await etcdctl(n1, ['get', `/berth/swarm/secrets/${secretId}`, '--print-value-only'])).trim();
    const record = JSON.parse(value) as { data: string };
    assert.equal((JSON.parse(record.data) as { alg: string }).alg, 'A256GCM');
  });

  test('the second manager holds the same data key, opens the secret and answers for it', async () => {
    const key1 = readFileSync(join(certDir(n1), DATA_KEY_FILE), 'utf8');
    const key2 = readFileSync(join(certDir(n2), DATA_KEY_FILE), 'utf8');
    assert.equal(key2, key1);
    const value = (await etcdctl(n2, ['get', `/berth/swarm/secrets/${secretId}`, '--print-value-only'])).trim();
    assert.equal(openValue(Buffer.from(key2.trim(), 'base64'), (JSON.parse(value) as { data: string }).data, secretId).toString(), PLAINTEXT);
    assert.equal((await n2.dockerOk(['secret', 'inspect', '--format', '{{.ID}}', 'db_pw'])).trim(), secretId);
    // a secret made on n2 is listed on n1
    await n2.dockerOk(['secret', 'create', 'from_n2', '-'], { input: 'made on the second manager' });
    assert.match(await n1.dockerOk(['secret', 'ls', '--format', '{{.Name}}']), /from_n2/);
  });

  test('a worker holds no data key and refuses secret and config commands in dockerd\'s words', async () => {
    assert.throws(() => readFileSync(join(certDir(n3), DATA_KEY_FILE)), /ENOENT/);
    const words = /This node is not a swarm manager\. Worker nodes can't be used to view or modify cluster state\. Please run this command on a manager node or promote the current node to a manager\./;
    assert.match(await fails(n3, ['secret', 'ls']), words);
    assert.match(await fails(n3, ['secret', 'create', 'w', '-'], 'x'), words);
    assert.match(await fails(n3, ['config', 'inspect', 'x']), words);
  });

  test('a worker gets a secret\'s data over the swarm port only for a task assigned to it', async () => {
    const n3Id = (await n3.dockerOk(['info', '--format', '{{.Swarm.NodeID}}'])).trim();
    const apiKeyId = (await n1.dockerOk(['secret', 'inspect', '--format', '{{.ID}}', 'api_key'])).trim();
    const ask = async (secrets: string[]) => {
      const certs = certDir(n3);
      const r = await n3.sh('curl', ['-sS', '-w', '\n%{http_code}', '--cacert', join(certs, 'swarm-root-ca.crt'), '--cert', join(certs, 'swarm-node.crt'), '--key', join(certs, 'swarm-node.key'),
        '-X', 'POST', '-H', 'Content-Type: application/json', '-d', JSON.stringify({ secrets, configs: [] }), `https://${n1.ip}:2377/v1/task-files`]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      return { status: Number(lines.pop()), body: JSON.parse(lines.join('\n')) as { message?: string; secrets?: Record<string, string> } };
    };
    const before = await ask([secretId]);
    assert.equal(before.status, 403);
    assert.match(before.body.message!, new RegExp(`Permission denied: no task assigned to node ${n3Id} references secret ${secretId}`));
    const task = { ID: 'task1', NodeID: n3Id, Spec: { ContainerSpec: { Image: 'busybox', Secrets: [{ SecretID: secretId, SecretName: 'db_pw' }] } } };
    await etcdctl(n1, ['put', '/berth/swarm/tasks/task1', JSON.stringify(task)]);
    try {
      const granted = await ask([secretId]);
      assert.equal(granted.status, 200, JSON.stringify(granted.body));
      assert.equal(Buffer.from(granted.body.secrets![secretId]!, 'base64').toString(), PLAINTEXT);
      assert.equal((await ask([secretId, apiKeyId])).status, 403, 'a secret its task does not reference stays refused');
    } finally {
      await etcdctl(n1, ['del', '/berth/swarm/tasks/task1']);
    }
  });

  test('removing a secret a service uses is refused; once the service is gone it goes', async () => {
    const service = { ID: 'svc1', spec: { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox', Secrets: [{ SecretID: secretId, SecretName: 'db_pw' }] } } } };
    await etcdctl(n1, ['put', '/berth/swarm/services/svc1', JSON.stringify(service)]);
    assert.match(await fails(n1, ['secret', 'rm', 'db_pw']), /rpc error: code = InvalidArgument desc = secret 'db_pw' is in use by the following service: web/);
    await etcdctl(n1, ['del', '/berth/swarm/services/svc1']);
    assert.equal((await n1.dockerOk(['secret', 'rm', 'db_pw', 'api_key', 'from_n2'])).trim(), 'db_pw\napi_key\nfrom_n2');
    assert.equal((await n1.dockerOk(['secret', 'ls', '-q'])).trim(), '');
    assert.match(await fails(n1, ['secret', 'rm', 'db_pw']), /secret db_pw not found/);
    assert.equal((await etcdctl(n1, ['get', '--prefix', '/berth/swarm/secret', '--keys-only'])).trim(), '', 'record and name index are gone');
  });

  test('configs: create from stdin and a file, ls, inspect shows the data, duplicates refused, rm', async () => {
    const id = (await n1.dockerOk(['config', 'create', '--label', 'app=web', 'nginx_conf', '-'], { input: 'server { listen 80; }\n' })).trim();
    assert.match(id, /^[0-9a-z]{25}$/);
    const file = join(c.dir, 'app.ini');
    writeFileSync(file, 'port=8080\n');
    await n1.dockerOk(['config', 'create', 'app_ini', file]);
    assert.deepEqual((await n1.dockerOk(['config', 'ls', '--format', '{{.Name}}'])).trim().split('\n').sort(), ['app_ini', 'nginx_conf']);
    assert.equal((await n1.dockerOk(['config', 'ls', '-q', '--filter', 'label=app=web'])).trim(), id);
    const [view] = JSON.parse(await n2.dockerOk(['config', 'inspect', 'nginx_conf'])) as [{ ID: string; Spec: { Name: string; Labels: Record<string, string>; Data: string } }];
    assert.deepEqual(view.Spec, { Name: 'nginx_conf', Labels: { app: 'web' }, Data: Buffer.from('server { listen 80; }\n').toString('base64') });
    assert.match(await n1.dockerOk(['config', 'inspect', '--pretty', 'app_ini']), /port=8080/);
    assert.match(await fails(n1, ['config', 'create', 'app_ini', '-'], 'x'), /rpc error: code = AlreadyExists desc = config app_ini already exists/);
    await etcdctl(n1, ['put', '/berth/swarm/services/svc2', JSON.stringify({ spec: { Name: 'proxy', TaskTemplate: { ContainerSpec: { Configs: [{ ConfigID: id, ConfigName: 'nginx_conf' }] } } } })]);
    assert.match(await fails(n1, ['config', 'rm', 'nginx_conf']), /config 'nginx_conf' is in use by the following service: proxy/);
    await etcdctl(n1, ['del', '/berth/swarm/services/svc2']);
    await n1.dockerOk(['config', 'rm', 'nginx_conf', 'app_ini']);
    assert.equal((await n1.dockerOk(['config', 'ls', '-q'])).trim(), '');
  });

  test('the berth CLI: secret and config create (stdin and file), ls, inspect, rm', async () => {
    const berth = async (args: string[], input?: string) => {
      const r = await n1.berth(args, input === undefined ? {} : { input });
      assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const id = (await berth(['secret', 'create', '--label', 'k=v', 'b_pw', '-'], 'berth-plain')).trim();
    assert.match(id, /^[0-9a-z]{25}$/);
    const file = join(c.dir, 'berth.conf');
    writeFileSync(file, 'a=1\n');
    await berth(['config', 'create', 'b_conf', file]);
    assert.match((await berth(['secret', 'ls'])).split('\n')[0]!, /^ID\s+NAME\s+DRIVER\s+CREATED\s+UPDATED$/);
    assert.equal((await berth(['secret', 'ls', '-q'])).trim(), id);
    assert.equal((await berth(['secret', 'ls', '--format', '{{.Name}} {{.Labels}}'])).trim(), 'b_pw k=v');
    assert.equal((await berth(['secret', 'inspect', '--format', '{{.ID}} {{json .Spec}}', 'b_pw'])).trim(), `${id} {"Name":"b_pw","Labels":{"k":"v"}}`);
    assert.match(await berth(['config', 'inspect', '--pretty', 'b_conf']), /Name:\s+b_conf[\s\S]*Data:\na=1/);
    assert.equal((await berth(['config', 'ls', '--format', '{{.Name}}'])).trim(), 'b_conf');
    const dup = await n1.berth(['secret', 'create', 'b_pw', '-'], { input: 'x' });
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /secret b_pw already exists/);
    assert.equal((await berth(['secret', 'rm', 'b_pw'])).trim(), 'b_pw');
    assert.equal((await berth(['config', 'rm', 'b_conf'])).trim(), 'b_conf');
    assert.equal((await n1.dockerOk(['secret', 'ls', '-q'])).trim() + (await n1.dockerOk(['config', 'ls', '-q'])).trim(), '');
  });

  test('a promoted worker receives the data key with the CA key; demoted, it deletes it', async () => {
    const keyFile = join(certDir(n3), DATA_KEY_FILE);
    const key1 = readFileSync(join(certDir(n1), DATA_KEY_FILE), 'utf8');
    const n3Id = (await n3.dockerOk(['info', '--format', '{{.Swarm.NodeID}}'])).trim();
    await n1.dockerOk(['node', 'promote', n3Id]);
    await waitFor(async () => existsSync(keyFile), 60_000, 'n3 holds the data key after promotion');
    assert.equal(readFileSync(keyFile, 'utf8'), key1);
    await waitFor(async () => (await n3.docker(['secret', 'ls'])).code === 0, 60_000, 'n3 answers secret ls as a manager');
    await n1.dockerOk(['node', 'demote', n3Id]);
    await waitFor(async () => !existsSync(keyFile), 60_000, 'n3 deleted the data key after demotion');
    await waitFor(async () => /Worker nodes can't be used/.test((await n3.docker(['secret', 'ls'])).stderr), 60_000, 'n3 refuses as a worker again');
  });

  test('everyone leaves; no etcd stays behind', async () => {
    await n3.dockerOk(['swarm', 'leave']);
    await n2.dockerOk(['swarm', 'leave', '--force']);
    await n1.dockerOk(['swarm', 'leave', '--force']);
    for (const n of [n1, n2, n3]) assert.equal(n.etcdPid(), undefined, n.name);
  });
});
