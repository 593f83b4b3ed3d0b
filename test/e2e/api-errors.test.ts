/**
 * Bad input gets Docker's status codes and `{"message": ...}` bodies, and
 * changes nothing. Raw HTTP, as SDKs see it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from '../support/daemon.js';

describe('Engine API errors', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  const json = (body: string) => JSON.parse(body) as { message: string };

  test('/_ping answers with the version headers, with and without a prefix', async () => {
    for (const path of ['/_ping', '/v1.41/_ping']) {
      const r = await d.http('GET', path);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'OK');
      assert.equal(r.headers['api-version'], '1.47');
      assert.equal(r.headers['ostype'], 'linux');
      assert.match(String(r.headers['server']), /^Docker\/\S+ \(linux\)$/);
    }
    const head = await d.http('HEAD', '/_ping');
    assert.equal(head.status, 200);
    assert.equal(head.headers['api-version'], '1.47');
  });

  test('unknown endpoint: 404 page not found', async () => {
    const r = await d.http('GET', '/v1.47/nothing/here');
    assert.equal(r.status, 404);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(json(r.body), { message: 'page not found' });
  });

  test('API versions outside 1.24..1.47 are refused with 400', async () => {
    const high = await d.http('GET', '/v1.99/version');
    assert.equal(high.status, 400);
    assert.equal(json(high.body).message, 'client version 1.99 is too new. Maximum supported API version is 1.47');
    const low = await d.http('GET', '/v1.12/version');
    assert.equal(low.status, 400);
    assert.match(json(low.body).message, /client version 1\.12 is too old/);
  });

  test('malformed JSON: 400 and nothing created', async () => {
    const r = await d.http('POST', '/v1.47/containers/create', '{"Image": "busybox",');
    assert.equal(r.status, 400);
    assert.match(json(r.body).message, /invalid JSON/);
    const wrongType = await d.http('POST', '/v1.47/containers/create', '{"Image":"busybox"}', { 'Content-Type': 'text/plain' });
    assert.equal(wrongType.status, 400);
    assert.equal(json(wrongType.body).message, "Content-Type specified (text/plain) must be 'application/json'");
    assert.equal((await d.http('GET', '/v1.47/containers/json?all=1')).body.trim(), '[]');
  });

  test('unknown container: 404 No such container', async () => {
    for (const [method, path] of [['GET', '/containers/nope/json'], ['POST', '/containers/nope/start'], ['DELETE', '/containers/nope'], ['POST', '/containers/nope/wait']]) {
      const r = await d.http(method!, `/v1.47${path}`);
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.deepEqual(json(r.body), { message: 'No such container: nope' });
    }
  });

  test('logs and stats: a missing container is a 404 first, a bad parameter a 400 before any stream starts', async () => {
    for (const path of ['/containers/nope/logs?tail=abc', '/containers/nope/stats', '/containers/nope/stats?stream=0']) {
      const r = await d.http('GET', `/v1.47${path}`);
      assert.equal(r.status, 404, path);
      assert.deepEqual(json(r.body), { message: 'No such container: nope' });
    }
    const id = (await d.docker(['create', '--network', 'none', 'busybox', 'true'])).stdout.trim();
    for (const [query, message] of [
      ['', 'Bad parameters: you must choose at least one stream'],
      ['stdout=1&tail=abc', 'invalid value for tail: abc'],
      ['stdout=1&since=bogus', 'invalid time format: bogus'],
      ['stdout=1&until=bogus', 'invalid time format: bogus'],
    ]) {
      const r = await d.http('GET', `/v1.47/containers/${id}/logs?${query}`);
      assert.equal(r.status, 400, query);
      assert.deepEqual(json(r.body), { message }, query);
    }
    await d.docker(['rm', id]);
  });

  test('no command, bad names and bad restart policies: 400', async () => {
    const none = await d.http('POST', '/v1.47/containers/create', JSON.stringify({ Image: 'busybox', Cmd: [], Entrypoint: [] }));
    assert.equal(none.status, 201, 'busybox has a default CMD');
    await d.http('DELETE', `/v1.47/containers/${json(none.body) && (JSON.parse(none.body) as { Id: string }).Id}`);
    const badName = await d.http('POST', '/v1.47/containers/create?name=bad%20name', JSON.stringify({ Image: 'busybox' }));
    assert.equal(badName.status, 400);
    assert.match(json(badName.body).message, /Invalid container name \(bad name\)/);
    const badRestart = await d.http('POST', '/v1.47/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { RestartPolicy: { Name: 'sometimes' } } }));
    assert.equal(badRestart.status, 400);
    const noImage = await d.http('POST', '/v1.47/containers/create', JSON.stringify({ Image: 'nosuch:1' }));
    assert.equal(noImage.status, 404);
    assert.equal(json(noImage.body).message, 'No such image: nosuch:1');
    assert.equal((await d.http('GET', '/v1.47/containers/json?all=1')).body.trim(), '[]');
  });

  test('name conflict: 409; removing a running container: 409; redundant start/stop: 304', async () => {
    const a = await d.http('POST', '/v1.47/containers/create?name=dup', JSON.stringify({ Image: 'busybox', Cmd: ['sleep', '100'] }));
    assert.equal(a.status, 201);
    const id = (JSON.parse(a.body) as { Id: string }).Id;
    const b = await d.http('POST', '/v1.47/containers/create?name=dup', JSON.stringify({ Image: 'busybox' }));
    assert.equal(b.status, 409);
    assert.match(json(b.body).message, /The container name "\/dup" is already in use by container "[0-9a-f]{64}"/);
    assert.equal((await d.http('POST', `/v1.47/containers/${id}/start`)).status, 204);
    assert.equal((await d.http('POST', `/v1.47/containers/${id}/start`)).status, 304);
    const rm = await d.http('DELETE', `/v1.47/containers/${id}`);
    assert.equal(rm.status, 409);
    assert.equal(json(rm.body).message, `You cannot remove a running container ${id}. Stop the container before attempting removal or force remove`);
    assert.equal((await d.http('POST', `/v1.47/containers/dup/kill`)).status, 204);
    await waitStopped(d, id);
    assert.equal((await d.http('POST', `/v1.47/containers/${id}/stop`)).status, 304);
    assert.equal((await d.http('POST', `/v1.47/containers/${id}/kill`)).status, 409);
    assert.equal((await d.http('DELETE', `/v1.47/containers/${id}`)).status, 204);
  });

  test('wait answers 200 with headers at once, then the exit status', async () => {
    const c = await d.http('POST', '/v1.47/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['sh', '-c', 'exit 7'] }));
    const id = (JSON.parse(c.body) as { Id: string }).Id;
    const bad = await d.http('POST', `/v1.47/containers/${id}/wait?condition=sometime`);
    assert.equal(bad.status, 400);
    const waiting = d.http('POST', `/v1.47/containers/${id}/wait?condition=next-exit`);
    await new Promise((r) => setTimeout(r, 100));
    await d.http('POST', `/v1.47/containers/${id}/start`);
    const w = await waiting;
    assert.equal(w.status, 200);
    assert.deepEqual(JSON.parse(w.body), { StatusCode: 7, Error: null });
    await d.http('DELETE', `/v1.47/containers/${id}`);
  });

  test('import of a corrupt tarball fails in the stream and leaves no image or layer', async () => {
    const r = await d.http('POST', '/v1.47/images/create?fromSrc=-&repo=broken', 'this is not a tar archive at all', { 'Content-Type': 'application/x-tar' });
    assert.equal(r.status, 200);
    const last = JSON.parse(r.body.trim().split('\n').pop()!) as { error?: string; errorDetail?: { message: string } };
    assert.match(last.error ?? '', /invalid layer tar/);
    assert.equal(last.errorDetail?.message, last.error);
    const images = JSON.parse((await d.http('GET', '/v1.47/images/json')).body) as { RepoTags: string[] }[];
    assert.deepEqual(images.map((i) => i.RepoTags), [['busybox:latest']]);
    const badName = await d.http('POST', '/v1.47/images/create?fromSrc=-&repo=Bad:Name', '');
    assert.equal(badName.status, 400);
  });
});

async function waitStopped(d: TestDaemon, id: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = JSON.parse((await d.http('GET', `/v1.47/containers/${id}/json`)).body) as { State: { Running: boolean } };
    if (!r.State.Running) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.fail('container did not stop');
}
