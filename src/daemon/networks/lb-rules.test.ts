import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lbApplyScript, lbRules, ruleProbability } from './lb-rules.js';

describe('VIP load-balancing rules', () => {
  test('three backends: probabilities 1/3, 1/2, then the rest, so each gets a third', () => {
    assert.equal(lbRules([{ vip: '10.0.1.2', backends: ['10.0.1.7', '10.0.1.5', '10.0.1.6'] }]), [
      '*nat',
      ':BERTH-LB - [0:0]',
      '-A BERTH-LB -d 10.0.1.2/32 -m statistic --mode random --probability 0.33333333333 -j DNAT --to-destination 10.0.1.5',
      '-A BERTH-LB -d 10.0.1.2/32 -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.0.1.6',
      '-A BERTH-LB -d 10.0.1.2/32 -j DNAT --to-destination 10.0.1.7',
      'COMMIT',
      '',
    ].join('\n'));
  });

  test('the spread is even: the chance of reaching the i-th rule times its probability is 1/n', () => {
    for (const n of [1, 2, 3, 5, 8]) {
      let reach = 1;
      for (let i = 0; i < n; i++) {
        const p = i < n - 1 ? Number(ruleProbability(i, n)) : 1;
        assert.ok(Math.abs(reach * p - 1 / n) < 1e-9, `n=${n} i=${i}`);
        reach *= 1 - p;
      }
    }
  });

  test('a VIP without backends has no rule; no VIP at all still declares (so flushes) the chain', () => {
    assert.equal(lbRules([{ vip: '10.0.1.2', backends: [] }]), '*nat\n:BERTH-LB - [0:0]\nCOMMIT\n');
    assert.equal(lbRules([]), '*nat\n:BERTH-LB - [0:0]\nCOMMIT\n');
  });

  test('a published port: protocol and port matched, DNAT to the target port', () => {
    const rules = lbRules([{ vip: '10.0.0.2', backends: ['10.0.0.5'], port: { protocol: 'tcp', published: 8080, target: 80 } }], 'BERTH-INGRESS');
    assert.match(rules, /^-A BERTH-INGRESS -d 10\.0\.0\.2\/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10\.0\.0\.5:80$/m);
  });

  test('the hook jump is added only when missing', () => {
    assert.equal(lbApplyScript('OUTPUT'), 'iptables-restore -w --noflush && { iptables -w -t nat -C OUTPUT -j BERTH-LB 2>/dev/null || iptables -w -t nat -I OUTPUT -j BERTH-LB; }');
  });
});

describe('routing mesh rules', () => {
  test('no VIP address: the rule matches the port only (the chain is jumped to for local addresses)', () => {
    const rules = lbRules([{ vip: '', backends: ['10.0.0.5', '10.0.0.6'], port: { protocol: 'tcp', published: 8080, target: 80 } }], 'BERTH-INGRESS');
    assert.match(rules, /^-A BERTH-INGRESS -p tcp -m tcp --dport 8080 -m statistic --mode random --probability 0\.50000000000 -j DNAT --to-destination 10\.0\.0\.5:80$/m);
    assert.match(rules, /^-A BERTH-INGRESS -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10\.0\.0\.6:80$/m);
  });
});
