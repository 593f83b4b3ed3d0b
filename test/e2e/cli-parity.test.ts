/** berth prints what docker prints: the same commands against the same daemon, compared byte for byte. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from '../support/daemon.js';

describe('berth and docker print the same', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    await d.docker(['tag', 'busybox', 'localhost:5000/team/app:v1']);
    await d.docker(['run', '-d', '--name', 'web', '-l', 'tier=front', '-l', 'z=1', 'busybox', 'sleep', '300']);
    await d.docker(['run', '--name', 'done', 'busybox', 'sh', '-c', 'echo hi > /f; exit 3']);
  });
  after(async () => {
    await d?.destroy();
  });

  // relative times can tick between the two runs (and then the column widths differ);
  // docker lists the tags of one image in Go map order, so image rows are compared sorted
  const normalise = (s: string, sortRows: boolean) => {
    const lines = s.replace(/(Less than a second|\d+ seconds?|About a minute) ago/g, 'X ago')
      .replace(/Up (Less than a second|\d+ seconds?|About a minute)/g, 'Up X').replace(/ {2,}/g, '  ').split('\n');
    return (sortRows ? lines.sort() : lines).join('\n');
  };

  const cases: string[][] = [
    ['ps'], ['ps', '-a'], ['ps', '-a', '-q'], ['ps', '-a', '--no-trunc'], ['ps', '-a', '-s'], ['ps', '--format', '{{.Names}} {{.Labels}} {{.Label "tier"}}'],
    ['ps', '-a', '--format', 'table {{.ID}}\t{{.Names}}\t{{.State}}'], ['ps', '-a', '--format', '{{json .Names}}'], ['ps', '--filter', 'label=tier=front', '-q'],
    ['images'], ['images', '-q'], ['images', '--digests'], ['images', '--format', '{{.Repository}}:{{.Tag}} {{.Size}}'], ['images', 'localhost:5000/team/app'],
    ['history', 'busybox'], ['history', '-q', 'busybox'], ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'busybox'],
    ['system', 'df'], ['top', 'web'],
    ['inspect', '--format', '{{.Name}} {{.State.Status}} {{json .Config.Labels}} {{.HostConfig.NetworkMode}}', 'web', 'done'],
    ['inspect', '--format', '{{index .Config.Labels "tier"}}', 'web'], ['image', 'inspect', '--format', '{{.RepoTags}} {{.Os}}/{{.Architecture}}', 'busybox'],
    ['inspect', '--format', '{{.Nope}}', 'web'], ['inspect', 'nothing-here'], ['container', 'inspect', 'nothing-here'],
    ['logs', 'done'], ['wait', 'done'], ['port', 'web'],
  ];
  // declined (stdin "n"): the same question, nothing removed, exit 0; `until` with --volumes refused
  const prunes: string[][] = [
    ['container', 'prune'], ['image', 'prune'], ['image', 'prune', '-a'], ['network', 'prune'], ['volume', 'prune'], ['volume', 'prune', '-a'],
    ['builder', 'prune'], ['builder', 'prune', '-a'], ['system', 'prune'], ['system', 'prune', '-a', '--volumes'],
    ['system', 'prune', '--filter', 'until=1h', '--filter', 'label=a=b'], ['system', 'prune', '--volumes', '--filter', 'until=1h'],
  ];
  for (const args of prunes) {
    test(`${args.join(' ')}, declined`, async () => {
      const [a, b] = [await d.docker(args, { input: 'n\n' }), await d.berth(args, { input: 'n\n' })];
      assert.equal(b.stdout, a.stdout);
      assert.equal(b.code, a.code);
      if (a.code !== 0) assert.equal(b.stderr, a.stderr);
      assert.equal((await d.docker(['ps', '-aq', '--filter', 'name=done'])).stdout.trim().length, 12, 'the stopped container is still there');
    });
  }

  for (const args of cases) {
    test(args.join(' '), async () => {
      const [a, b] = await Promise.all([d.docker(args), d.berth(args)]);
      const sortRows = args[0] === 'images';
      assert.equal(normalise(b.stdout, sortRows), normalise(a.stdout, sortRows), 'stdout');
      assert.equal(b.code, a.code, `exit code (stderr docker: ${a.stderr} berth: ${b.stderr})`);
      if (a.code !== 0) assert.equal(b.stderr.replace(/^Error: /, ''), a.stderr.replace(/^Error: /, ''), 'stderr');
    });
  }
});
