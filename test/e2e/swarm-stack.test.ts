/**
 * `docker stack deploy/ls/services/ps/rm` with the real docker CLI on one
 * 3-node cluster (n1 the manager, n2 and n3 workers). The CLI does a stack
 * on the client side, through the network, secret, config and service APIs
 * with the label `com.docker.stack.namespace`: a compose 3.8 file with two
 * services (web with 2 replicas), an overlay network, a secret from a file
 * and a config; the tasks see the secret and the config and reach each
 * other by service name; a redeploy with another image tag and env updates
 * web; rm takes every object of the stack away.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { waitFor } from '../support/wait.js';

const compose = (tag: string, greeting: string) => `version: "3.8"
services:
  web:
    image: busybox:${tag}
    command: ["sleep", "3600"]
    environment:
      GREETING: ${greeting}
    stop_grace_period: 1s
    deploy:
      replicas: 2
      update_config:
        parallelism: 2
    networks: [back]
    secrets: [pw]
    configs:
      - source: conf
        target: /app.conf
  client:
    image: busybox:${tag}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    networks: [back]
networks:
  back:
    driver: overlay
secrets:
  pw:
    file: ./pw.txt
configs:
  conf:
    file: ./app.conf
`;

describe('docker stack deploy', () => {
  let c: TestCluster;
  let n1: TestNode;
  let n2: TestNode;
  let n3: TestNode;
  let dir: string;
  const lines = (s: string) => s.trim().split('\n').filter(Boolean);
  /** The running containers of a stack's service on every node, with their node. */
  const containers = async (service: string) => {
    const out: { node: TestNode; id: string }[] = [];
    for (const n of [n1, n2, n3]) {
      for (const id of lines(await n.dockerOk(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${service}`]))) out.push({ node: n, id });
    }
    return out;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-stack-'));
    writeFileSync(join(dir, 'pw.txt'), 's3cret\n');
    writeFileSync(join(dir, 'app.conf'), 'color=blue\n');
    c = await TestCluster.start(3, { busybox: true });
    [n1, n2, n3] = c.nodes as [TestNode, TestNode, TestNode];
    await n1.dockerOk(['swarm', 'init', '--advertise-addr', n1.ip]);
    const token = (await n1.dockerOk(['swarm', 'join-token', '-q', 'worker'])).trim();
    for (const n of [n2, n3]) await n.dockerOk(['swarm', 'join', '--token', token, `${n1.ip}:2377`]);
    await Promise.all([n1, n2, n3].map((n) => n.dockerOk(['tag', 'busybox:latest', 'busybox:v2'])));
  });
  after(async () => {
    await c?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('stack deploy creates the network, secret, config and services, labelled with the stack', async () => {
    writeFileSync(join(dir, 'compose.yml'), compose('latest', 'hello'));
    const r = await n1.docker(['stack', 'deploy', '-c', join(dir, 'compose.yml'), 'app'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, `${r.stderr}\n${n1.daemon.logs.slice(-3000)}`);
    assert.match(r.stdout, /Creating network app_back/);
    assert.match(r.stdout, /Creating secret app_pw/);
    assert.match(r.stdout, /Creating config app_conf/);
    assert.match(r.stdout, /Creating service app_web/);
    assert.match(r.stdout, /Creating service app_client/);
    const net = JSON.parse(await n1.dockerOk(['network', 'inspect', 'app_back']))[0];
    assert.equal(net.Driver, 'overlay');
    assert.equal(net.Scope, 'swarm');
    assert.equal(net.Labels['com.docker.stack.namespace'], 'app');
    assert.equal(lines(await n1.dockerOk(['secret', 'ls', '--filter', 'label=com.docker.stack.namespace=app', '--format', '{{.Name}}'])).join(), 'app_pw');
    assert.equal(lines(await n1.dockerOk(['config', 'ls', '--filter', 'label=com.docker.stack.namespace=app', '--format', '{{.Name}}'])).join(), 'app_conf');
  });

  test('the services converge; stack ls, services and ps show them', async () => {
    await waitFor(async () => {
      const out = await n1.dockerOk(['stack', 'services', 'app', '--format', '{{.Name}} {{.Replicas}}']);
      return lines(out).sort().join(',') === 'app_client 1/1,app_web 2/2';
    }, 90_000, 'app_web 2/2 and app_client 1/1');
    assert.deepEqual(lines(await n1.dockerOk(['stack', 'ls', '--format', '{{.Name}} {{.Services}}'])), ['app 2']);
    const ps = lines(await n1.dockerOk(['stack', 'ps', 'app', '--filter', 'desired-state=running', '--format', '{{.Name}} {{.CurrentState}}']));
    assert.deepEqual(ps.map((l) => l.split(' ')[0]).sort(), ['app_client.1', 'app_web.1', 'app_web.2']);
    assert.ok(ps.every((l) => / Running /.test(l)), ps.join('\n'));
  });

  test('the tasks see the secret and the config, and reach each other by service name on the stack network', async () => {
    const web = await containers('app_web');
    assert.equal(web.length, 2);
    for (const { node, id } of web) {
      assert.equal(await node.dockerOk(['exec', id, 'cat', '/run/secrets/pw']), 's3cret\n');
      assert.equal(await node.dockerOk(['exec', id, 'cat', '/app.conf']), 'color=blue\n');
    }
    const [client] = await containers('app_client');
    assert.ok(client);
    await waitFor(async () => (await client.node.docker(['exec', client.id, 'ping', '-c1', '-W2', 'web'])).code === 0, 20_000, 'client pings web');
    const { node, id } = web[0]!;
    await waitFor(async () => (await node.docker(['exec', id, 'ping', '-c1', '-W2', 'client'])).code === 0, 20_000, 'web pings client');
  });

  test('a redeploy with another image tag and env updates web', async () => {
    writeFileSync(join(dir, 'compose.yml'), compose('v2', 'bye'));
    const r = await n1.docker(['stack', 'deploy', '-c', join(dir, 'compose.yml'), 'app'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Updating service app_web/);
    await waitFor(async () => {
      const web = await containers('app_web');
      if (web.length !== 2) return false;
      for (const { node, id } of web) {
        const [image, env] = (await node.dockerOk(['inspect', '--format', '{{.Config.Image}}|{{json .Config.Env}}', id])).trim().split('|');
        if (!image!.startsWith('busybox:v2') || !env!.includes('GREETING=bye')) return false;
      }
      return true;
    }, 120_000, 'both web tasks on busybox:v2 with GREETING=bye');
  });

  test('stack rm removes the services, the network, the secret and the config', async () => {
    const r = await n1.docker(['stack', 'rm', 'app'], { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Removing service app_web/);
    assert.match(r.stdout, /Removing network app_back/);
    assert.equal(await n1.dockerOk(['service', 'ls', '-q']), '');
    assert.equal(await n1.dockerOk(['secret', 'ls', '-q']), '');
    assert.equal(await n1.dockerOk(['config', 'ls', '-q']), '');
    assert.equal((await n1.docker(['network', 'inspect', 'app_back'])).code, 1);
    await waitFor(async () => (await containers('app_web')).length + (await containers('app_client')).length === 0, 60_000, 'every task container gone');
    assert.equal(await n1.dockerOk(['stack', 'ls', '-q']).catch(() => ''), '');
  });
});
