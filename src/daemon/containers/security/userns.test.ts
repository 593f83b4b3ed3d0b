import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerId, hostId, mappingsFor, nextFreeRangeStart, parseRemapSetting, parseSubIds, rootPair, shiftOwner, unshiftOwner } from './userns.js';
import { oomCounterFile, parseOomKills } from '../oom.js';

test('userns-remap settings', () => {
  assert.deepEqual(parseRemapSetting('default'), { user: 'dockremap', createDefault: true });
  assert.deepEqual(parseRemapSetting('alice:staff'), { user: 'alice', group: 'staff', createDefault: false });
  assert.deepEqual(parseRemapSetting('1000'), { user: '1000', createDefault: false });
  assert.throws(() => parseRemapSetting('a:b:c'), /Invalid user\/group specification in --userns-remap: "a:b:c"/);
});

test('subordinate ranges: a user may own several, container ids run on across them', () => {
  const ranges = parseSubIds('alice:100000:65536\nbob:165536:65536\nalice:300000:1000\n# comment\nbroken line\n');
  assert.deepEqual(mappingsFor(ranges, 'alice'), [
    { containerID: 0, hostID: 100000, size: 65536 }, { containerID: 65536, hostID: 300000, size: 1000 },
  ]);
  assert.deepEqual(mappingsFor(ranges, 'nobody'), []);
  assert.deepEqual(mappingsFor(parseSubIds('1001:200000:10\n'), 'carol', 1001), [{ containerID: 0, hostID: 200000, size: 10 }], 'ranges may name the uid');
});

test('a new range starts after the ones in use (moby findNextRangeStart)', () => {
  assert.equal(nextFreeRangeStart([]), 100000);
  assert.equal(nextFreeRangeStart(parseSubIds('alice:100000:65536\nbob:165536:65536\n')), 231072);
  assert.equal(nextFreeRangeStart(parseSubIds('x:500000:65536\n')), 100000, 'a gap below is used');
});

test('owners shift into the host range and back', () => {
  const map = { uids: [{ containerID: 0, hostID: 100000, size: 65536 }], gids: [{ containerID: 0, hostID: 200000, size: 65536 }] };
  assert.deepEqual(rootPair(map), { uid: 100000, gid: 200000 });
  assert.equal(hostId(map.uids, 1000), 101000);
  assert.equal(containerId(map.uids, 101000), 1000);
  assert.deepEqual(shiftOwner(map, 33, 33), { uid: 100033, gid: 200033 });
  assert.throws(() => shiftOwner(map, 70000, 0), /Container ID 70000 cannot be mapped to a host ID/);
  assert.deepEqual(unshiftOwner(map, 0, 0), { uid: 65534, gid: 65534 }, 'host root shows as nobody');
});

test('OOM kills are counted in the memory cgroup (v1 oom_control, v2 memory.events)', () => {
  assert.equal(oomCounterFile(1, '/berth/abc'), '/sys/fs/cgroup/memory/berth/abc/memory.oom_control');
  assert.equal(oomCounterFile(2, '/berth/abc'), '/sys/fs/cgroup/berth/abc/memory.events');
  assert.equal(parseOomKills('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n'), 2);
  assert.equal(parseOomKills('low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n'), 1);
  assert.equal(parseOomKills('oom_kill_disable 0\nunder_oom 0\n'), 0);
});
