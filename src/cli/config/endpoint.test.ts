import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigFile, configDir } from './config-file.js';
import { ContextStore, contextDirName, naturalCompare, validateContextName } from './context-store.js';
import { currentContextName, resolveEndpoint } from './endpoint.js';

test('config dir: --config > BERTH_CONFIG > DOCKER_CONFIG > ~/.docker', () => {
  assert.equal(configDir('/flag', { BERTH_CONFIG: '/b', DOCKER_CONFIG: '/d' }), '/flag');
  assert.equal(configDir(undefined, { BERTH_CONFIG: '/b', DOCKER_CONFIG: '/d' }), '/b');
  assert.equal(configDir(undefined, { DOCKER_CONFIG: '/d' }), '/d');
  assert.equal(configDir(undefined, { HOME: '/home/u' }), '/home/u/.docker');
});

test('which context: --context > -H/DOCKER_HOST (default) > DOCKER_CONTEXT > config.json > default', () => {
  assert.equal(currentContextName({ context: 'a' }, { DOCKER_HOST: 'unix:///x', DOCKER_CONTEXT: 'b' }, 'c'), 'a');
  assert.equal(currentContextName({ host: 'unix:///x' }, { DOCKER_CONTEXT: 'b' }, 'c'), 'default');
  assert.equal(currentContextName({}, { DOCKER_HOST: 'unix:///x', DOCKER_CONTEXT: 'b' }, 'c'), 'default');
  assert.equal(currentContextName({}, { BERTH_HOST: 'unix:///x' }, 'c'), 'default');
  assert.equal(currentContextName({}, { DOCKER_CONTEXT: 'b' }, 'c'), 'b');
  assert.equal(currentContextName({}, { BERTH_CONTEXT: 'bb', DOCKER_CONTEXT: 'b' }, 'c'), 'bb');
  assert.equal(currentContextName({}, {}, 'c'), 'c');
  assert.equal(currentContextName({}, {}, ''), 'default');
  assert.throws(() => currentContextName({ context: 'a', host: 'unix:///x' }, {}, ''), /conflicting options: cannot specify both --host and --context/);
});

test('context names and docker\'s directory naming', () => {
  assert.equal(contextDirName('foo'), '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae');
  assert.throws(() => validateContextName('default'), /"default" is a reserved context name/);
  assert.throws(() => validateContextName('x'), /is invalid, names are validated against regexp/);
  assert.throws(() => validateContextName('bad name'), /is invalid/);
  validateContextName('prod-2.eu+1');
  assert.deepEqual(['b10', 'B', 'a', 'b9'].sort(naturalCompare), ['B', 'a', 'b9', 'b10']);
});

test('stored contexts: docker\'s files, TLS material, endpoint resolution', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ctx-'));
  try {
    const store = new ContextStore(dir);
    await store.save({ Name: 'remote', Metadata: { Description: '' }, Endpoints: { docker: { Host: 'tcp://h:2376', SkipTLSVerify: false } } }, { ca: Buffer.from('CA'), cert: Buffer.from('C'), key: Buffer.from('K') });
    const metaFile = join(dir, 'contexts/meta', contextDirName('remote'), 'meta.json');
    assert.equal(readFileSync(metaFile, 'utf8'), '{"Name":"remote","Metadata":{},"Endpoints":{"docker":{"Host":"tcp://h:2376","SkipTLSVerify":false}}}');
    const keyFile = join(dir, 'contexts/tls', contextDirName('remote'), 'docker/key.pem');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.deepEqual(await store.tlsListing('remote'), { docker: ['ca.pem', 'cert.pem', 'key.pem'] });
    const ep = await resolveEndpoint({ context: 'remote' }, {}, dir, '', store);
    assert.equal(ep.host, 'tcp://h:2376');
    assert.deepEqual(ep.tls, { ca: Buffer.from('CA'), cert: Buffer.from('C'), key: Buffer.from('K'), skipVerify: false });
    await assert.rejects(resolveEndpoint({ context: 'gone' }, {}, dir, '', store), /context "gone": context not found: open .*meta\.json: no such file or directory/);
    await store.save({ Name: 'plain', Metadata: {}, Endpoints: { docker: { Host: 'tcp://h:2375', SkipTLSVerify: false } } }, undefined);
    assert.equal((await resolveEndpoint({}, {}, dir, 'plain', store)).tls, undefined, 'no TLS files and no skip: plain HTTP');
    assert.deepEqual((await store.list()).map((m) => m.Name), ['plain', 'remote']);
    await store.remove('remote');
    assert.deepEqual((await store.list()).map((m) => m.Name), ['plain']);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('the default context: DOCKER_TLS_VERIFY and DOCKER_CERT_PATH; tcp://localhost:2376 when TLS is on and no host is given', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ctx-'));
  try {
    const store = new ContextStore(dir);
    writeFileSync(join(dir, 'ca.pem'), 'CA');
    const ep = await resolveEndpoint({}, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir }, dir, '', store);
    assert.equal(ep.host, 'tcp://localhost:2376');
    assert.deepEqual(ep.tls, { ca: Buffer.from('CA'), skipVerify: false }, 'absent default cert.pem/key.pem are not sent');
    const skip = await resolveEndpoint({ tls: true, host: 'tcp://h:1' }, { DOCKER_CERT_PATH: dir }, dir, '', store);
    assert.equal(skip.tls?.skipVerify, true, '--tls alone does not verify the daemon');
    await assert.rejects(resolveEndpoint({ tlsverify: true, tlscert: join(dir, 'nope.pem') }, { DOCKER_CERT_PATH: dir }, dir, '', store), /open .*nope\.pem: no such file or directory/);
    const unix = await resolveEndpoint({ host: 'unix:///x.sock' }, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir }, dir, '', store);
    assert.equal(unix.tls, undefined, 'no TLS on a unix socket');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('config.json: currentContext changes, every other field stays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cfg-'));
  try {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { 'r.example': { auth: 'eA==' } }, credsStore: 'pass' }));
    const cfg = await ConfigFile.load(dir);
    await cfg.setCurrentContext('remote');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), { auths: { 'r.example': { auth: 'eA==' } }, credsStore: 'pass', currentContext: 'remote' });
    await (await ConfigFile.load(dir)).setCurrentContext('');
    assert.equal('currentContext' in JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), false);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
