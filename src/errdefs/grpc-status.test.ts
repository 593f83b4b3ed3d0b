import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineExceeded, NotFound, Unavailable } from './errors.js';
import { grpcStatusOf } from './grpc-status.js';
import { httpStatusOf, kindOfHttpStatus } from './http-status.js';

test('a deadline that passed is DEADLINE_EXCEEDED over gRPC (as containerd answers an ExecSync timeout) and 504 over HTTP', () => {
  assert.equal(grpcStatusOf(new DeadlineExceeded('cri.exec_timeout', 'timeout')), 4);
  assert.equal(httpStatusOf(new DeadlineExceeded('cri.exec_timeout', 'timeout')), 504);
  assert.equal(kindOfHttpStatus(504), 'deadline_exceeded');
  assert.equal(grpcStatusOf(new Unavailable('x.y', 'down')), 14);
  assert.equal(grpcStatusOf(new NotFound('x.y', 'gone')), 5);
  assert.equal(grpcStatusOf(new Error('anything else')), 13);
});
