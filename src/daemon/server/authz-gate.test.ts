import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Writable } from 'node:stream';
import { Forbidden } from '../../errdefs/index.js';
import { canonicalHeader, describeRequest, GatedReply, type AuthzResponse, type RequestAuthorizer } from './authz-gate.js';
import type { Reply } from './reply.js';

test('header names go to plugins in Go\'s canonical form', () => {
  assert.equal(canonicalHeader('content-type'), 'Content-Type');
  assert.equal(canonicalHeader('user-agent'), 'User-Agent');
  assert.equal(canonicalHeader('x-foo-bar'), 'X-Foo-Bar');
});

test('credentials and build secrets never reach a plugin', async () => {
  const raw = Object.assign(new PassThrough(), {
    url: '/v1.47/build', method: 'POST', socket: {},
    headers: { 'content-type': 'application/x-tar', 'x-registry-auth': 'cred', 'x-berth-build-secrets': 'e30=', authorization: 'Bearer x' },
  }) as unknown as IncomingMessage;
  const r = await describeRequest(raw);
  assert.deepEqual(r.headers, { 'Content-Type': 'application/x-tar' });
});

function fakeReply() {
  const sent: unknown[] = [];
  const r: Reply = {
    sent: false,
    json: (status, body) => void sent.push({ status, body }),
    empty: (status) => void sent.push({ status }),
    text: (status, body) => void sent.push({ status, body }),
    stream: () => ({}) as Writable,
    hijack: () => ({ socket: undefined, output: {} as Writable, upgraded: false }),
    switchProtocols: () => undefined,
    abort: () => undefined,
  };
  return { r, sent };
}

const ask = { user: '', authMethod: '', method: 'GET', uri: '/v1.47/info', headers: {} };

test('a complete answer is held until the authorizer allows it, and shown to it with its JSON body', async () => {
  const { r, sent } = fakeReply();
  const g = new GatedReply(r);
  g.json(200, { ID: 'x' });
  assert.equal(g.sent, true);
  assert.deepEqual(sent, []);
  let shown: AuthzResponse | undefined;
  const allow: RequestAuthorizer = { authorizeRequest: async () => {}, authorizeResponse: async (_q, res) => void (shown = res) };
  await g.release(allow, ask);
  assert.deepEqual(sent, [{ status: 200, body: { ID: 'x' } }]);
  assert.equal(shown!.status, 200);
  assert.equal(shown!.headers['Content-Type'], 'application/json');
  assert.equal(shown!.body!.toString(), '{"ID":"x"}\n');
});

test('a refused answer is never sent', async () => {
  const { r, sent } = fakeReply();
  const g = new GatedReply(r);
  g.empty(204);
  const deny: RequestAuthorizer = { authorizeRequest: async () => {}, authorizeResponse: async () => { throw new Forbidden('authz.denied', 'authorization denied by plugin p: no'); } };
  await assert.rejects(g.release(deny, ask), /authorization denied by plugin p: no/);
  assert.deepEqual(sent, []);
});

test('streamed answers pass straight through; the authorizer is only told', async () => {
  const { r } = fakeReply();
  const g = new GatedReply(r);
  g.stream(200, {});
  let told = false;
  const deny: RequestAuthorizer = { authorizeRequest: async () => {}, authorizeResponse: async () => { told = true; throw new Error('too late'); } };
  await g.release(deny, ask);
  assert.equal(told, true);
});
