import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTAINER_CREATE, NETWORK_CREATE } from './body-shapes.js';
import { shapeMismatch, strSlices } from './shape.js';

test('a well-typed create body passes; null and unknown fields are accepted as Go accepts them', () => {
  const body = {
    Image: 'busybox', Cmd: 'echo hi', Env: ['A=1'], Labels: { a: 'b' }, ExposedPorts: { '80/tcp': {} }, Entrypoint: null,
    HostConfig: { Memory: 1024, PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] }, Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { Mode: 448 } }], Future: 1 },
    NetworkingConfig: { EndpointsConfig: { n: { Aliases: ['x'] } } },
  };
  assert.equal(shapeMismatch(body, CONTAINER_CREATE), undefined);
});

test('wrong JSON types are named as Go names them', () => {
  assert.equal(shapeMismatch({ Image: 5 }, CONTAINER_CREATE), 'json: cannot unmarshal number into Go struct field CreateRequest.Image of type string');
  assert.equal(
    shapeMismatch({ HostConfig: { Memory: '1g' } }, CONTAINER_CREATE),
    'json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64',
  );
  assert.equal(
    shapeMismatch({ HostConfig: { PortBindings: { '80/tcp': [{ HostPort: 8080 }] } } }, CONTAINER_CREATE),
    'json: cannot unmarshal number into Go struct field PortBinding.HostConfig.PortBindings.HostPort of type string',
  );
  assert.equal(shapeMismatch({ Cmd: [1] }, CONTAINER_CREATE), 'json: cannot unmarshal array into Go struct field CreateRequest.Cmd of type strslice.StrSlice');
  assert.equal(shapeMismatch({ HostConfig: { CpuShares: 1.5 } }, CONTAINER_CREATE), 'json: cannot unmarshal number 1.5 into Go struct field HostConfig.HostConfig.CpuShares of type int64');
  assert.equal(shapeMismatch({ IPAM: { Config: 'x' } }, NETWORK_CREATE), 'json: cannot unmarshal string into Go struct field IPAM.IPAM.Config of type []IPAMConfig');
  assert.equal(shapeMismatch([], CONTAINER_CREATE), 'json: cannot unmarshal array into Go value of type CreateRequest');
  assert.equal(shapeMismatch('x', CONTAINER_CREATE), 'json: cannot unmarshal string into Go value of type CreateRequest');
});

test('strSlices turns a lone string into one element and leaves arrays and null alone', () => {
  assert.deepEqual(strSlices({ Cmd: 'ls -l' as string | string[] | null, Entrypoint: null, Shell: ['sh'] }, ['Cmd', 'Entrypoint', 'Shell']), { Cmd: ['ls -l'], Entrypoint: null, Shell: ['sh'] });
});
