/**
 * Healthchecks with the real docker CLI: probes run as execs on their
 * interval, State.Health and `ps` follow, health_status events, timeouts,
 * --no-healthcheck, a berthd restart, and compose's service_healthy.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerHealth } from '../../src/api/types/index.js';
import { TestDaemon } from '../support/daemon.js';
import { waitFor } from '../support/wait.js';
import { compose } from '../support/compose.js';

describe('healthchecks', () => {
  let d: TestDaemon;
  const health = async (ref: string): Promise<ContainerHealth | null> =>
    JSON.parse((await d.docker(['inspect', '--format', '{{json .State.Health}}', ref])).stdout) as ContainerHealth | null;
  const statusOf = async (ref: string) => (await health(ref))?.Status;
  const psNames = async (args: string[]) => (await d.docker(['ps', '--format', '{{.Names}}', ...args])).stdout.split('\n').filter(Boolean).sort();

  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  test('a passing check turns healthy, a failing one unhealthy, a slow one is killed; ps shows and filters it', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    const run = (name: string, ...flags: string[]) => d.docker(['run', '-d', '--name', name, ...flags, 'busybox', 'sleep', '300']);
    const runs = await Promise.all([
      run('good', '--health-cmd', 'echo ok', '--health-interval', '1s'),
      run('bad', '--health-cmd', 'echo nope; exit 1', '--health-interval', '1s', '--health-retries', '2'),
      run('slow', '--health-cmd', 'sleep 10', '--health-interval', '1s', '--health-timeout', '500ms', '--health-retries', '1'),
      // the start interval probes often while starting, inside a long start period
      run('quick', '--health-cmd', 'true', '--health-interval', '60s', '--health-start-period', '60s', '--health-start-interval', '200ms'),
      // its first probe is a minute away: it shows `starting` however slow the machine is
      run('later', '--health-cmd', 'true', '--health-interval', '60s'),
      run('plain'),
    ]);
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    assert.equal(await statusOf('later'), 'starting', 'starting before the first probe');
    assert.match((await d.docker(['ps', '--filter', 'name=later', '--format', '{{.Status}}'])).stdout, /^Up .* \(health: starting\)\n$/);
    assert.equal(await health('plain'), null, 'no Health without a check');

    await waitFor(async () => (await statusOf('quick')) === 'healthy', 3000, 'the start interval was used');
    await waitFor(async () => (await statusOf('good')) === 'healthy', 5000, 'good is healthy');
    const good = (await health('good'))!;
    assert.equal(good.FailingStreak, 0);
    assert.deepEqual([good.Log[0]!.ExitCode, good.Log[0]!.Output], [0, 'ok\n']);
    assert.ok(Date.parse(good.Log[0]!.End) >= Date.parse(good.Log[0]!.Start));

    await waitFor(async () => (await statusOf('bad')) === 'unhealthy', 6000, 'bad is unhealthy');
    const bad = (await health('bad'))!;
    assert.ok(bad.FailingStreak >= 2, `streak ${bad.FailingStreak}`);
    assert.ok(bad.Log.length >= 2);
    assert.ok(bad.Log.every((r) => r.ExitCode === 1 && r.Output === 'nope\n'), JSON.stringify(bad.Log));

    await waitFor(async () => (await statusOf('slow')) === 'unhealthy', 6000, 'slow is unhealthy');
    const slow = (await health('slow'))!;
    assert.deepEqual([slow.Log[0]!.ExitCode, slow.Log[0]!.Output], [-1, 'Health check exceeded timeout (500ms)']);
    const took = Date.parse(slow.Log[0]!.End) - Date.parse(slow.Log[0]!.Start);
    assert.ok(took < 3000, `the probe was killed at its timeout (took ${took} ms)`);
    await new Promise((r) => setTimeout(r, 1500)); // another probe or two start and are killed
    const sleeping = (await d.docker(['top', 'slow'])).stdout.match(/sleep 10/g)?.length ?? 0;
    assert.ok(sleeping <= 1, `killed probes do not pile up (${sleeping} running)`);

    assert.match((await d.docker(['ps', '--filter', 'name=good', '--format', '{{.Status}}'])).stdout, /^Up .* \(healthy\)\n$/);
    assert.match((await d.docker(['ps', '--filter', 'name=bad', '--format', '{{.Status}}'])).stdout, /^Up .* \(unhealthy\)\n$/);
    assert.deepEqual(await psNames(['--filter', 'health=healthy']), ['good', 'quick']);
    assert.deepEqual(await psNames(['--filter', 'health=unhealthy']), ['bad', 'slow']);
    assert.deepEqual(await psNames(['--filter', 'health=none']), ['plain']);
    assert.deepEqual(await psNames(['--filter', 'health=starting']), ['later']);
    const invalid = await d.docker(['ps', '--filter', 'health=sick']);
    assert.notEqual(invalid.code, 0);
    assert.match(invalid.stderr, /invalid filter 'health=sick'/);

    // probe execs are listed only while they run: they never pile up
    const execIds = JSON.parse((await d.docker(['inspect', '--format', '{{json .ExecIDs}}', 'good'])).stdout) as string[] | null;
    assert.ok((execIds ?? []).length <= 1, `ExecIDs: ${JSON.stringify(execIds)}`);

    const until = String(Math.floor(Date.now() / 1000) + 1);
    const ev = await d.docker(['events', '--since', since, '--until', until, '--filter', 'event=health_status', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
    const lines = ev.stdout.split('\n').filter(Boolean);
    assert.ok(lines.includes('health_status: healthy good'), ev.stdout);
    assert.ok(lines.includes('health_status: unhealthy bad'), ev.stdout);
    assert.equal(lines.filter((l) => l.endsWith(' good')).length, 1, 'one event per status change');

    // a stopped container reads unhealthy and probes no more
    assert.equal((await d.docker(['stop', '-t', '0', 'good'])).code, 0);
    const stopped = (await health('good'))!;
    assert.equal(stopped.Status, 'unhealthy');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await health('good'))!.Log.length, stopped.Log.length, 'no probe after the stop');
    // a restart begins starting again
    assert.equal((await d.docker(['start', 'good'])).code, 0);
    assert.equal(await statusOf('good'), 'starting');
    await waitFor(async () => (await statusOf('good')) === 'healthy', 5000, 'healthy again after the restart');
    await d.docker(['rm', '-f', 'good', 'bad', 'slow', 'quick', 'later', 'plain']);
    assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
  });

  test('an image HEALTHCHECK runs; --no-healthcheck turns it off', async () => {
    const ctx = join(d.dir, 'hc-image');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nHEALTHCHECK --interval=1s --retries=1 CMD test -e /etc/hostname\n');
    const b = await d.docker(['build', '-q', '-t', 'hc-image', ctx], { env: { DOCKER_BUILDKIT: '0' } });
    assert.equal(b.code, 0, b.stderr);
    await d.docker(['run', '-d', '--name', 'checked', 'hc-image', 'sleep', '300']);
    await d.docker(['run', '-d', '--name', 'unchecked', '--no-healthcheck', 'hc-image', 'sleep', '300']);
    assert.equal((await d.docker(['inspect', '--format', '{{json .Config.Healthcheck.Test}}', 'unchecked'])).stdout.trim(), '["NONE"]');
    await waitFor(async () => (await statusOf('checked')) === 'healthy', 5000, 'the image check ran');
    assert.equal(await health('unchecked'), null);
    const none = await psNames(['--filter', 'health=none']);
    assert.ok(none.includes('unchecked') && !none.includes('checked'), none.join(' '));
    assert.doesNotMatch((await d.docker(['ps', '--filter', 'name=unchecked', '--format', '{{.Status}}'])).stdout, /health/);
    await d.docker(['rm', '-f', 'checked', 'unchecked']);
  });

  test('after berthd is killed and restarted, a running container is probed again', async () => {
    await d.docker(['run', '-d', '--name', 'survivor', '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '300']);
    await waitFor(async () => (await statusOf('survivor')) === 'healthy', 5000, 'healthy before the restart');
    d.kill9();
    await d.launch();
    const restored = (await health('survivor'))!;
    assert.equal(restored.Status, 'starting', 'health begins again on restore (moby)');
    await waitFor(async () => (await statusOf('survivor')) === 'healthy', 5000, 'probed again after the restart');
    await waitFor(async () => (await health('survivor'))!.Log.length >= Math.min(5, restored.Log.length + 2), 5000, 'probes keep coming');
    await d.docker(['rm', '-f', 'survivor']);
  });

  test('docker-compose waits for depends_on: condition: service_healthy', async () => {
    const dir = join(d.dir, 'hc-proj');
    mkdirSync(dir);
    writeFileSync(join(dir, 'docker-compose.yml'), `version: "2.4"
services:
  db:
    image: busybox
    command: sh -c 'sleep 2; touch /tmp/ready; sleep 300'
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 500ms
      retries: 20
  app:
    image: busybox
    command: sleep 300
    depends_on:
      db:
        condition: service_healthy
`);
    const up = await compose(d, dir, ['up', '-d']);
    assert.equal(up.code, 0, up.out);
    assert.equal(await statusOf('hc-proj_db_1'), 'healthy', 'app started only once db was healthy');
    assert.equal((await d.docker(['inspect', '--format', '{{.State.Status}}', 'hc-proj_app_1'])).stdout.trim(), 'running');
    const dbStarted = Date.parse((await d.docker(['inspect', '--format', '{{.State.StartedAt}}', 'hc-proj_db_1'])).stdout.trim());
    const appStarted = Date.parse((await d.docker(['inspect', '--format', '{{.State.StartedAt}}', 'hc-proj_app_1'])).stdout.trim());
    assert.ok(appStarted - dbStarted >= 2000, `app started ${appStarted - dbStarted} ms after db`);
    const down = await compose(d, dir, ['down', '-t', '0']);
    assert.equal(down.code, 0, down.out);
  });
});
