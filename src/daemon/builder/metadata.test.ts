import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from './dockerfile.js';
import { applyMetadata, historyComment } from './metadata.js';


test('history comments have dockerd\'s shapes', () => {
  const comment = (line: string, base = {}) => {
    const ins = parseDockerfile(`FROM scratch\n${line}\n`).instructions[1]!;
    return historyComment(ins, applyMetadata(ins, base, new Map(), '\\'), base, new Map(), '\\');
  };
  assert.equal(comment('CMD echo hi'), 'CMD ["/bin/sh" "-c" "echo hi"]');
  assert.equal(comment('ENTRYPOINT ["a", "b c"]'), 'ENTRYPOINT ["a" "b c"]');
  // the whole line expands against the environment before it, as Docker documents
  assert.equal(comment('ENV A=1 B=$A/x', { Env: ['PATH=/bin', 'A=0'] }), 'ENV A=1 B=0/x');
  assert.equal(comment('WORKDIR sub', { WorkingDir: '/app' }), 'WORKDIR /app/sub');
  assert.equal(comment('VOLUME ["/a", "/b"]'), 'VOLUME [/a /b]');
  assert.equal(comment('HEALTHCHECK --interval=5s --retries=3 CMD curl -f x'), 'HEALTHCHECK &{["CMD-SHELL" "curl -f x"] "5s" "0s" "0s" \'\\x03\'}');
});

test('ENTRYPOINT drops an inherited CMD but keeps one set earlier in the stage (moby cmdSet)', () => {
  const ins = parseDockerfile('FROM scratch\nENTRYPOINT ["/bin/sh", "-c"]\n').instructions[1]!;
  assert.equal(applyMetadata(ins, { Cmd: ['base'] }, new Map(), '\\').Cmd, null);
  assert.deepEqual(applyMetadata(ins, { Cmd: ['mine'] }, new Map(), '\\', true).Cmd, ['mine']);
});
