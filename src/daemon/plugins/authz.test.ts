import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Forbidden, NotFound, SystemError } from '../../errdefs/index.js';
import type { AuthzRequest } from '../server/authz-gate.js';
import { authzDocument, AuthzPlugins } from './authz.js';
import type { ActivePlugin } from './registry.js';

const req: AuthzRequest = { user: '', authMethod: '', method: 'POST', uri: '/v1.47/volumes/create', headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{"Name":"v"}') };

test('the document plugins get: Docker\'s field names, bodies as base64, empty user left out', () => {
  assert.deepEqual(authzDocument(req), {
    RequestMethod: 'POST', RequestURI: '/v1.47/volumes/create', RequestBody: Buffer.from('{"Name":"v"}').toString('base64'), RequestHeaders: { 'Content-Type': 'application/json' },
  });
  const res = authzDocument({ ...req, user: 'alice', authMethod: 'TLS', body: undefined }, { status: 201, headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{}') });
  assert.equal(res.User, 'alice');
  assert.equal(res.UserAuthNMethod, 'TLS');
  assert.equal(res.RequestBody, undefined);
  assert.equal(res.ResponseStatusCode, 201);
  assert.equal(res.ResponseBody, Buffer.from('{}').toString('base64'));
});

function plugins(answers: Record<string, (method: string) => unknown>) {
  const asked: string[] = [];
  const registry = {
    get: async (name: string): Promise<ActivePlugin> => {
      if (!(name in answers)) throw new NotFound('plugin.not_found', `plugin "${name}" not found`);
      return {
        name, manifest: { Implements: ['authz'] },
        client: { call: async (method: string) => (asked.push(`${name} ${method}`), answers[name]!(method)) },
      } as unknown as ActivePlugin;
    },
  };
  return { asked, registry };
}

test('every plugin must allow, in order; the first refusal is Docker\'s 403 with its message', async () => {
  const { asked, registry } = plugins({ one: () => ({ Allow: true }), two: () => ({ Allow: false, Msg: 'no volumes today' }), three: () => ({ Allow: true }) });
  const a = new AuthzPlugins(['one', 'two', 'three'], registry);
  await assert.rejects(a.authorizeRequest(req), (e: Error) => e instanceof Forbidden && e.message === 'authorization denied by plugin two: no volumes today');
  assert.deepEqual(asked, ['one AuthZPlugin.AuthZReq', 'two AuthZPlugin.AuthZReq']);
  const ok = new AuthzPlugins(['one'], registry);
  await ok.authorizeRequest(req);
  await ok.authorizeResponse(req, { status: 200, headers: {} });
  assert.equal(asked.at(-1), 'one AuthZPlugin.AuthZRes');
});

test('fail closed: an answer without Allow refuses, a plugin that cannot be asked fails the request', async () => {
  const { registry } = plugins({ silent: () => ({}), broken: () => { throw new Error('AuthZPlugin.AuthZReq: dial unix /x.sock: connect: connection refused'); } });
  await assert.rejects(new AuthzPlugins(['silent'], registry).authorizeRequest(req), (e: Error) => e instanceof Forbidden && e.message === 'authorization denied by plugin silent: ');
  await assert.rejects(new AuthzPlugins(['broken'], registry).authorizeRequest(req),
    (e: Error) => e instanceof SystemError && e.message === 'plugin broken failed with error: AuthZPlugin.AuthZReq: dial unix /x.sock: connect: connection refused');
  await assert.rejects(new AuthzPlugins(['missing'], registry).validate(), /plugin "missing" not found/);
});
