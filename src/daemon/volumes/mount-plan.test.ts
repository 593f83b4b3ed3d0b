import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidParameter } from '../../errdefs/index.js';
import { parseBind, planMounts, specMounts } from './mount-plan.js';

const empty = { binds: [], mounts: [], tmpfs: {}, volumesFrom: [], imageVolumes: [] };

test('-v strings: named volume, host bind with mode, anonymous volume', () => {
  assert.deepEqual(parseBind('data:/d'), { Type: 'volume', Name: 'data', Source: '', Destination: '/d', Driver: 'local', Mode: 'z', RW: true, Propagation: '', create: {} });
  const b = parseBind('/srv/x:/x:ro,rslave');
  assert.equal(b.Type, 'bind');
  assert.equal(b.RW, false);
  assert.equal(b.Propagation, 'rslave');
  assert.equal(parseBind('/cache').Name, '');
});

test('-v bad input: relative destination, bad mode, bad name, too many parts', () => {
  assert.throws(() => parseBind('data:rel'), /mount path must be absolute/);
  assert.throws(() => parseBind('data:/d:bogus'), /invalid mode: bogus/);
  assert.throws(() => parseBind('a b:/d'), /includes invalid characters for a local volume name/);
  assert.throws(() => parseBind('a:/b:ro:x'), InvalidParameter);
  assert.throws(() => parseBind('data:/'), /destination can't be '\/'/);
  assert.throws(() => parseBind('data:/d:rslave'), /invalid mode/, 'propagation is for binds only');
});

test('precedence: binds replace --volumes-from, image volumes fill the rest, duplicates are refused', () => {
  const plan = planMounts({
    ...empty,
    binds: ['/h:/shared'],
    volumesFrom: [{ mounts: [{ Type: 'volume', Name: 'v1', Source: '/x', Destination: '/shared', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
      { Type: 'volume', Name: 'v2', Source: '/y', Destination: '/other', Driver: 'local', Mode: 'z', RW: true, Propagation: '' }], mode: 'ro' }],
    imageVolumes: ['/other', '/img/'],
  });
  assert.deepEqual(plan.map((m) => [m.Type, m.Destination, m.Name ?? '', m.RW]), [
    ['bind', '/shared', '', true], ['volume', '/other', 'v2', false], ['volume', '/img', '', true],
  ]);
  assert.throws(() => planMounts({ ...empty, binds: ['aa:/d', 'bb:/d'] }), /Duplicate mount point: \/d/);
  assert.throws(() => planMounts({ ...empty, binds: ['aa:/d'], tmpfs: { '/d': '' } }), /Duplicate mount point/);
});

test('spec mounts: options per kind, parents before children', () => {
  const ms = specMounts([
    { Type: 'volume', Name: 'v', Source: '', Destination: '/a/b', Mode: 'z', RW: false, Propagation: '' },
    { Type: 'bind', Source: '/h', Destination: '/a', Mode: '', RW: true, Propagation: 'rprivate' },
  ], { Tmpfs: { '/t': 'size=1m' } }, (n) => `/vols/${n}/_data`);
  assert.deepEqual(ms, [
    { destination: '/a', type: 'bind', source: '/h', options: ['rbind', 'rw', 'rprivate'] },
    { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'size=1m'] },
    { destination: '/a/b', type: 'bind', source: '/vols/v/_data', options: ['rbind', 'ro'] },
  ]);
});
