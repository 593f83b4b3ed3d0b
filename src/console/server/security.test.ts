import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changesState, consoleHosts, ConsoleAuth, cookieValue, sameOrigin } from './security.js';

test('the token is exchanged once for a session cookie; the cookie then authenticates', () => {
  const auth = new ConsoleAuth();
  assert.equal(auth.exchange('nope'), undefined);
  assert.equal(auth.exchange(null), undefined);
  const cookie = auth.exchange(auth.token);
  assert.match(cookie!, /^berth_console=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=\/$/);
  assert.equal(auth.exchange(auth.token), undefined, 'spent');
  const session = cookie!.split(';')[0]!;
  assert.ok(auth.authenticated({ cookie: `other=1; ${session}` }));
  assert.ok(!auth.authenticated({ cookie: 'berth_console=00' }));
  assert.ok(!auth.authenticated({}));
  assert.ok(!new ConsoleAuth().authenticated({ cookie: session }), 'another console\'s session');
});

test('same origin: Origin equal to http://Host, or Sec-Fetch-Site same-origin without an Origin', () => {
  assert.ok(sameOrigin({ host: '127.0.0.1:7474', origin: 'http://127.0.0.1:7474' }));
  assert.ok(!sameOrigin({ host: '127.0.0.1:7474', origin: 'http://evil.example' }));
  assert.ok(!sameOrigin({ host: '127.0.0.1:7474', origin: 'null' }));
  assert.ok(!sameOrigin({ host: '127.0.0.1:7474', origin: 'https://127.0.0.1:7474' }));
  assert.ok(sameOrigin({ host: '127.0.0.1:7474', 'sec-fetch-site': 'same-origin' }));
  assert.ok(!sameOrigin({ host: '127.0.0.1:7474', 'sec-fetch-site': 'same-site' }));
  assert.ok(!sameOrigin({ host: '127.0.0.1:7474' }), 'neither header: refused');
});

test('only reads are safe; the console answers to its own host names', () => {
  assert.deepEqual(['GET', 'HEAD', 'POST', 'DELETE', 'PUT'].map(changesState), [false, false, true, true, true]);
  assert.deepEqual([...consoleHosts('127.0.0.1', 7474)], ['127.0.0.1:7474', 'localhost:7474']);
  assert.deepEqual([...consoleHosts('::1', 80)], ['[::1]:80', 'localhost:80']);
  assert.deepEqual([...consoleHosts('10.0.0.5', 80)], ['10.0.0.5:80']);
  assert.equal(cookieValue('a=1; b = 2', 'b'), '2');
});
