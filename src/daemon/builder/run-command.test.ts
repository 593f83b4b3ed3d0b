import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDockerfile } from './dockerfile.js';
import { runCommand, secretRedactor } from './run-command.js';

const SH = ['/bin/sh', '-c'];
const run = (text: string) => runCommand(parseDockerfile(`FROM x\n${text}`).instructions[1]!, SH);

test('RUN heredocs become commands as BuildKit makes them', () => {
  // one heredoc that is the whole command: its body is the script
  assert.deepEqual(run('RUN <<EOF\necho a\necho b\nEOF'), { cmd: [...SH, 'echo a\necho b\n'], pipes: [] });
  // with a shebang: a file executed from /dev/pipes
  assert.deepEqual(run('RUN <<EOF\n#!/usr/bin/awk -f\nBEGIN { print 1 }\nEOF'),
    { cmd: [...SH, '/dev/pipes/EOF'], pipes: [{ name: 'EOF', content: '#!/usr/bin/awk -f\nBEGIN { print 1 }\n' }] });
  // <<- strips the tabs of the script it runs
  assert.deepEqual(run('RUN <<-EOF\n\techo t\n\tEOF').cmd, [...SH, 'echo t\n']);
  // anything else: the shell reads the heredocs itself (as stdin), bodies as written
  assert.deepEqual(run('RUN cat <<A > /a && cat <<-B > /b\nx $V\nA\n\ty\n\tB').cmd, [...SH, 'cat <<A > /a && cat <<-B > /b\nx $V\nA\n\ty\nB']);
  assert.deepEqual(run('RUN <<a <<b\none\na\ntwo\nb').cmd, [...SH, '<<a <<b\none\na\ntwo\nb']);
  // no heredoc, and the exec form, are left alone
  assert.deepEqual(run('RUN echo $((1<<2))').cmd, [...SH, 'echo $((1<<2))']);
  assert.deepEqual(run('RUN ["echo", "<<EOF"]').cmd, ['echo', '<<EOF']);
});

test('secret values are masked in RUN output', () => {
  const mask = secretRedactor(new Map([['t', Buffer.from('hunter22\n')], ['x', Buffer.from('ab')]]),
    [{ type: 'secret', id: 't', required: false, mode: 0o400, uid: 0, gid: 0, target: '/run/secrets/t' }, { type: 'secret', id: 'x', required: false, mode: 0o400, uid: 0, gid: 0, env: 'X' }]);
  assert.equal(mask('token=hunter22 ab\n'), 'token=**** ab\n'); // too short to mask without garbling the log
  assert.equal(secretRedactor(new Map(), [])('plain'), 'plain');
});
