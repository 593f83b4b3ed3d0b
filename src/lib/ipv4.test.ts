import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contains, formatCidr, formatIp, nth, overlaps, parseCidr, parseIp } from './ipv4.js';

test('parses and formats addresses, refusing malformed ones', () => {
  assert.equal(formatIp(parseIp('172.18.0.1')!), '172.18.0.1');
  assert.equal(parseIp('256.1.1.1'), undefined);
  assert.equal(parseIp('10.0.0'), undefined);
  assert.equal(parseIp('010.0.0.1'), undefined);
});

test('CIDR blocks: host bits cleared, containment, overlap, n-th host', () => {
  const a = parseCidr('10.1.2.3/16')!;
  assert.equal(formatCidr(a.cidr), '10.1.0.0/16');
  assert.equal(formatIp(a.ip), '10.1.2.3');
  assert.ok(contains(a.cidr, parseIp('10.1.255.255')!));
  assert.ok(!contains(a.cidr, parseIp('10.2.0.0')!));
  assert.ok(overlaps(a.cidr, parseCidr('10.1.7.0/24')!.cidr));
  assert.ok(!overlaps(a.cidr, parseCidr('10.2.0.0/24')!.cidr));
  assert.equal(formatIp(nth(a.cidr, 1)), '10.1.0.1');
  assert.equal(parseCidr('10.0.0/24'), undefined);
  assert.equal(parseCidr('10.0.0.0/33'), undefined);
  assert.equal(parseCidr('10.0.0.0'), undefined);
});
