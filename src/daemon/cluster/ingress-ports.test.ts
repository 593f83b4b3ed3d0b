import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assignPorts, claimOps, ingressKeys, INGRESS_PORTS_PREFIX } from './ingress-ports.js';

const spec = (ports: { TargetPort: number; PublishedPort?: number; PublishMode?: 'host' | 'ingress'; Protocol?: 'tcp' | 'udp' }[]) => ({ Name: 'web', EndpointSpec: { Ports: ports } });
const owner = (serviceId: string, serviceName: string) => ({ serviceId, serviceName });

describe('ingress published ports', () => {
  test('a port left at 0 gets the first free one from 30000; host-mode ports are left alone', () => {
    const claims = new Map([['tcp/30000', owner('other', 'x')]]);
    assert.deepEqual(assignPorts(spec([{ TargetPort: 80 }, { TargetPort: 53, Protocol: 'udp' }, { TargetPort: 22, PublishMode: 'host' }]), 'me', claims), [
      { Protocol: 'tcp', TargetPort: 80, PublishedPort: 30001, PublishMode: 'ingress' },
      { Protocol: 'udp', TargetPort: 53, PublishedPort: 30000, PublishMode: 'ingress' },
      { Protocol: 'tcp', TargetPort: 22, PublishedPort: 0, PublishMode: 'host' },
    ]);
  });

  test('a port another service holds is refused in swarmkit\'s words; the service\'s own is fine', () => {
    const claims = new Map([['tcp/8080', owner('abc', 'web')]]);
    assert.throws(() => assignPorts(spec([{ TargetPort: 80, PublishedPort: 8080 }]), 'me', claims),
      /rpc error: code = InvalidArgument desc = port '8080' is already in use by service 'web' \(abc\) as an ingress port/);
    assert.equal(assignPorts(spec([{ TargetPort: 80, PublishedPort: 8080 }]), 'abc', claims)[0]!.PublishedPort, 8080);
    assert.equal(assignPorts(spec([{ TargetPort: 80, PublishedPort: 8080, Protocol: 'udp' }]), 'me', claims)[0]!.PublishedPort, 8080, 'udp is another port');
  });

  test('an update keeps an assigned port for the same target', () => {
    const prev = [{ Protocol: 'tcp' as const, TargetPort: 80, PublishedPort: 30005, PublishMode: 'ingress' as const }];
    const claims = new Map([['tcp/30005', owner('me', 'web')]]);
    assert.equal(assignPorts(spec([{ TargetPort: 80 }]), 'me', claims, prev)[0]!.PublishedPort, 30005);
  });

  test('claims: new ports compared absent and written, dropped ones deleted', () => {
    const ports = assignPorts(spec([{ TargetPort: 80, PublishedPort: 8080 }]), 'me', new Map());
    assert.deepEqual(ingressKeys(ports), ['tcp/8080']);
    assert.deepEqual(claimOps('me', 'web', ['tcp/9090'], ['tcp/8080']), {
      compare: [{ key: `${INGRESS_PORTS_PREFIX}tcp/8080`, modRevision: 0 }],
      ops: [{ put: `${INGRESS_PORTS_PREFIX}tcp/8080`, value: JSON.stringify(owner('me', 'web')) }, { delete: `${INGRESS_PORTS_PREFIX}tcp/9090` }],
    });
  });
});
