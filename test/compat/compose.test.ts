/** docker-compose (Debian's 1.29, docker-py inside) runs a two-service project against berthd. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';
import { waitFor } from '../support/wait.js';
import { compose } from '../support/compose.js';

const COMPOSE = `version: "3.8"
services:
  web:
    image: busybox
    command: sh -c 'mkdir -p /www && cat /data/greeting > /www/index.html && httpd -f -p 8080 -h /www'
    volumes:
      - data:/data
    ports:
      - "127.0.0.1:PORT:8080"
  client:
    image: busybox
    command: sh -c 'until wget -qO- http://web:8080/index.html; do sleep 0.2; done; sleep 300'
    depends_on: [web]
  seed:
    image: busybox
    command: sh -c 'echo hello-compose > /data/greeting'
    volumes:
      - data:/data
volumes:
  data:
`;

// compose's own default: one-off `run` goes through `docker start --attach`,
// which attaches before it starts. (COMPOSE_INTERACTIVE_NO_CLI=1 attaches
// after the start, then starts the container again if it already stopped:
// the attach gets that second run; see test/e2e/stdio.test.ts.)
describe('docker-compose against berthd', () => {
  let d: TestDaemon;
  let dir: string;
  const port = 20000 + Math.floor(Math.random() * 20000);
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    dir = join(d.dir, 'proj');
    mkdirSync(dir);
    writeFileSync(join(dir, 'docker-compose.yml'), COMPOSE.replace('PORT', String(port)));
  });
  after(async () => {
    await d?.destroy();
  });

  test('up, service discovery by name, published port, logs, down -v', async () => {
    const seed = await compose(d, dir, ['run', '--rm', '-T', 'seed']);
    assert.equal(seed.code, 0, seed.out);
    const up = await compose(d, dir, ['up', '-d', 'web', 'client']);
    assert.equal(up.code, 0, up.out);
    const ps = await compose(d, dir, ['ps']);
    assert.match(ps.out, /proj_web_1 .* Up .*127\.0\.0\.1:\d+->8080\/tcp/);
    await waitFor(async () => (await compose(d, dir, ['logs', 'client'])).out.includes('hello-compose'), 15_000, 'client fetched web by name');
    const res = await fetch(`http://127.0.0.1:${port}/index.html`);
    assert.equal(await res.text(), 'hello-compose\n');
    const down = await compose(d, dir, ['down', '-v']);
    assert.equal(down.code, 0, down.out);
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
    assert.equal((await d.docker(['volume', 'ls', '-q'])).stdout, '');
    assert.doesNotMatch((await d.docker(['network', 'ls'])).stdout, /proj_default/);
  });
});
