import assert from 'node:assert/strict';
import { test } from 'node:test';
import { platformArgs } from './platform-args.js';

test('automatic platform ARGs: the host platform, a --build-arg of the same name wins', () => {
  assert.deepEqual(new Map(platformArgs({}, 'amd64')), new Map([
    ['TARGETPLATFORM', 'linux/amd64'], ['TARGETOS', 'linux'], ['TARGETARCH', 'amd64'], ['TARGETVARIANT', ''],
    ['BUILDPLATFORM', 'linux/amd64'], ['BUILDOS', 'linux'], ['BUILDARCH', 'amd64'], ['BUILDVARIANT', ''],
  ]));
  assert.equal(new Map(platformArgs({}, 'arm')).get('TARGETPLATFORM'), 'linux/arm/v7');
  assert.equal(new Map(platformArgs({ TARGETARCH: 'riscv64' }, 'amd64')).get('TARGETARCH'), 'riscv64');
});
