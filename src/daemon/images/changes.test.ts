import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges } from './changes.js';

test('applies docker --change instructions', () => {
  const c = applyChanges({ Env: ['PATH=/bin'] }, [
    'CMD ["sh"]', 'ENTRYPOINT /init', 'ENV A=1 B="two words"', 'ENV PATH /usr/bin', 'EXPOSE 80 53/udp',
    'LABEL a=b', 'USER nobody', 'WORKDIR /data', 'VOLUME ["/v"]', 'STOPSIGNAL SIGINT',
  ]);
  assert.deepEqual(c.Cmd, ['sh']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', '/init']);
  assert.deepEqual(c.Env, ['PATH=/usr/bin', 'A=1', 'B=two words']);
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(c.Labels, { a: 'b' });
  assert.equal(c.User, 'nobody');
  assert.equal(c.WorkingDir, '/data');
  assert.deepEqual(c.Volumes, { '/v': {} });
  assert.equal(c.StopSignal, 'SIGINT');
});

test('refuses instructions docker refuses', () => {
  assert.throws(() => applyChanges({}, ['RUN echo hi']), /RUN is not a valid change command/);
});
