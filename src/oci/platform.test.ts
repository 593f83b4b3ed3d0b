import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Descriptor } from './image.js';
import { chooseManifest, parsePlatform } from './platform.js';

const entry = (architecture: string, variant?: string, os = 'linux'): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${architecture.padEnd(64, '0').slice(0, 64)}`, size: 1,
  platform: { os, architecture, ...(variant ? { variant } : {}) },
});

test('parses platforms as docker does', () => {
  assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.throws(() => parsePlatform('linux/amd64/v1/x'), /unknown operating system/);
});

test('chooses the matching manifest, variants included; no match is a 404', () => {
  const list = [entry('unknown', undefined, 'unknown'), entry('amd64'), entry('arm', 'v6'), entry('arm', 'v7'), entry('arm64', 'v8')];
  assert.equal(chooseManifest(list, { os: 'linux', architecture: 'amd64' }), list[1]);
  assert.equal(chooseManifest(list, { os: 'linux', architecture: 'arm', variant: 'v7' }), list[3]);
  assert.equal(chooseManifest(list, { os: 'linux', architecture: 'arm64' }), list[4]);
  assert.throws(() => chooseManifest(list, { os: 'linux', architecture: 's390x' }), /no matching manifest for linux\/s390x/);
});
