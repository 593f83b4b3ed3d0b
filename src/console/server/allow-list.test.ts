import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedRoute } from './allow-list.js';
import { changesState } from './security.js';

test('the pages\' routes are forwarded', () => {
  for (const [m, p] of [
    ['GET', '/containers/json'], ['GET', '/events'], ['POST', '/containers/create'], ['POST', '/containers/abc/stop'],
    ['POST', '/containers/abc/kill'], ['DELETE', '/containers/abc'], ['GET', '/containers/abc/logs'], ['POST', '/images/create'],
    ['GET', '/images/127.0.0.1:5000/team/app:1/json'], ['DELETE', '/images/127.0.0.1:5000/team/app:1'], ['HEAD', '/_ping'],
    ['POST', '/images/prune'], ['POST', '/images/sha256:abc/tag'], ['POST', '/images/127.0.0.1:5000/team/app/push'],
    ['GET', '/containers/abc/stats'], ['GET', '/containers/abc/top'],
    ['GET', '/volumes/data'], ['GET', '/networks/front'], ['GET', '/services/web'], ['GET', '/services/web/logs'],
  ] as const) assert.ok(allowedRoute(m, p), `${m} ${p}`);
});

test('anything else is not: plugins, exec start, builds, swarm changes, other methods', () => {
  for (const [m, p] of [
    ['POST', '/plugins/pull'], ['POST', '/exec/abc/start'], ['POST', '/build'], ['POST', '/swarm/init'], ['POST', '/containers/abc/exec'],
    ['PUT', '/containers/abc/archive'], ['POST', '/containers/abc/update'], ['PUT', '/volumes/data'], ['GET', '/containers/abc/export'],
    ['POST', '/networks/front/connect'], ['POST', '/networks/front/disconnect'], ['POST', '/services/web/update'], ['DELETE', '/services/web'],
    ['POST', '/volumes/data'], ['DELETE', '/volumes/data/x'], ['GET', '/tasks/abc/logs'],
    ['POST', '/containers/abc/attach'], ['GET', '/containers/abc/attach/ws'], ['POST', '/services/create'], ['GET', '/secrets'],
    ['GET', '/containers/abc/archive'], ['HEAD', '/containers/abc/archive'], ['POST', '/images/load'], ['GET', '/images/get'],
  ] as const) assert.ok(!allowedRoute(m, p), `${m} ${p}`);
});

test('dot segments and encoded slashes cannot walk an allowed prefix onto another route', () => {
  assert.ok(!allowedRoute('GET', '/images/../plugins/json'));
  assert.ok(!allowedRoute('DELETE', '/images/x/../../plugins/p'));
  assert.ok(!allowedRoute('POST', '/containers/a%2F..%2F..%2Fplugins%2Fpull/stop'));
  assert.ok(!allowedRoute('POST', '/containers/../plugins/stop'));
});

test('volume and network create, remove and prune are forwarded, and each needs the same origin', () => {
  for (const [m, p] of [
    ['POST', '/volumes/create'], ['DELETE', '/volumes/data'], ['POST', '/volumes/prune'],
    ['POST', '/networks/create'], ['DELETE', '/networks/front'], ['DELETE', '/networks/0123456789ab'], ['POST', '/networks/prune'],
  ] as const) {
    assert.ok(allowedRoute(m, p), `${m} ${p} is forwarded`);
    // the console server asks for the same origin on every method that changes state
    assert.ok(changesState(m), `${m} ${p} needs the same origin`);
  }
});
