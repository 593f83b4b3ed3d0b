import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDockerfile, parseKeyValues, splitWords } from './dockerfile.js';
import { expandWord } from './expand.js';

test('instructions, continuations, comments, flags and the JSON form', () => {
  const df = parseDockerfile([
    '# syntax=docker/dockerfile:1',
    'FROM --platform=linux/amd64 busybox AS base',
    '# a comment',
    'RUN echo one \\',
    '  # skipped inside a continuation',
    '',
    '  two',
    'COPY --from=base --chown=1:2 ["a b", "/dst/"]',
    'cmd ["sh", "-c", "x"]',
    'ENTRYPOINT [not json',
  ].join('\n'));
  assert.deepEqual(df.instructions.map((i) => [i.cmd, i.line]), [['from', 2], ['run', 4], ['copy', 8], ['cmd', 9], ['entrypoint', 10]]);
  assert.deepEqual(df.instructions[0]!.flags, { platform: 'linux/amd64' });
  assert.equal(df.instructions[0]!.rest, 'busybox AS base');
  assert.equal(df.instructions[1]!.rest, 'echo one   two');
  assert.deepEqual(df.instructions[2]!.flags, { from: 'base', chown: '1:2' });
  assert.deepEqual(df.instructions[2]!.json, ['a b', '/dst/']);
  assert.deepEqual(df.instructions[3]!.json, ['sh', '-c', 'x']);
  assert.equal(df.instructions[4]!.json, undefined);
});

test('the escape directive and errors that name the line', () => {
  const df = parseDockerfile('# escape=`\nFROM x\nRUN dir c:\\ `\n  /w');
  assert.equal(df.instructions[1]!.rest, 'dir c:\\   /w');
  assert.throws(() => parseDockerfile('FROM x\nFOO bar'), /dockerfile parse error line 2: unknown instruction: FOO/);
  assert.throws(() => parseDockerfile('FROM x\nRUN'), /line 2: RUN requires at least one argument/);
});

test('ENV pairs, quotes and the legacy form', () => {
  assert.deepEqual(parseKeyValues('a=1 b="two words" c=\'x y\'', 'env', 1).map(([k, v]) => [k, v]), [['a', '1'], ['b', 'two words'], ['c', 'x y']]);
  assert.deepEqual(parseKeyValues('NAME some value', 'env', 1), [['NAME', 'some value']]);
  assert.deepEqual(splitWords('a="b c" d'), ['a="b c"', 'd']);
});

test('substitution: $V, ${V}, defaults, alternatives, quotes and escapes', () => {
  const env = new Map([['A', 'x'], ['E', '']]);
  assert.equal(expandWord('$A-${A}', env), 'x-x');
  assert.equal(expandWord('${B:-def}|${E:-def}|${E-def}', env), 'def|def|');
  assert.equal(expandWord('${A:+alt}|${B:+alt}', env), 'alt|');
  assert.equal(expandWord("'$A' \"$A\" \\$A", env), '$A x $A');
  assert.throws(() => expandWord('${A', env), /missing '}'/);
});

test('fuzz: random Dockerfiles parse or fail with a parse error, never crash or hang', () => {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const atoms = ['FROM', 'RUN', 'COPY', 'ENV', 'ARG', 'LABEL', 'CMD', 'ONBUILD', 'HEALTHCHECK', 'foo', ' ', '\n', '\\', '\\\n', '`', '#', '# escape=`\n',
    '[', ']', '"', "'", '=', '--from=x', '--', '$', '${', '}', ':-', 'a', 'b c', '\r\n', '\t', '[]', '["a"]', '{'];
  atoms.push('<<EOF', '<<-EOF', '<<"EOF"', 'EOF', '\tEOF', '# syntax=docker/dockerfile:1\n', '# syntax=other\n', '--mount=type=cache', '--exclude=*');
  const start = Date.now();
  for (let i = 0; i < 3000; i++) {
    const text = Array.from({ length: Math.floor(rnd() * 40) }, () => atoms[Math.floor(rnd() * atoms.length)]).join('');
    try {
      const df = parseDockerfile(text);
      for (const ins of df.instructions) {
        try {
          expandWord(ins.rest, new Map([['a', '1']]));
          if (ins.cmd === 'env' || ins.cmd === 'label') parseKeyValues(ins.rest, ins.cmd, ins.line);
        } catch (err) {
          assert.equal((err as { kind?: string }).kind, 'invalid_parameter', String(err));
        }
      }
    } catch (err) {
      assert.equal((err as { kind?: string }).kind, 'invalid_parameter', String(err));
    }
  }
  assert.ok(Date.now() - start < 5000);
});

test('# syntax: the docker/dockerfile:1 channel is built in, another frontend is refused; # check is kept aside', () => {
  for (const ok of ['docker/dockerfile:1', 'docker/dockerfile:1.7', 'docker/dockerfile:1.7.1', 'docker/dockerfile:1-labs', 'docker.io/docker/dockerfile:1.4-labs', 'docker/dockerfile']) {
    assert.equal(parseDockerfile(`# syntax=${ok}\nFROM x`).instructions.length, 1, ok);
  }
  assert.throws(() => parseDockerfile('# syntax=example.com/my/frontend:2\nFROM x'),
    (e: Error & { kind?: string }) => e.kind === 'invalid_parameter' && /unsupported Dockerfile frontend "example.com\/my\/frontend:2"/.test(e.message));
  assert.throws(() => parseDockerfile('# syntax=docker/dockerfile:2\nFROM x'), /unsupported Dockerfile frontend/);
  assert.equal(parseDockerfile('# syntax=docker/dockerfile:1\n# check=skip=all\nFROM x').checkDirective, 'skip=all');
});

test('heredocs: bodies follow the line, quoted names do not expand, <<- strips tabs, several in one instruction', () => {
  const df = parseDockerfile([
    'FROM x',
    'RUN <<EOF',
    'echo "$A"',
    '  indented',
    'EOF',
    'COPY <<one <<"two" /dir/',
    'first $A',
    'one',
    'second $A',
    'two',
    'RUN <<-END cat > /f',
    '\t\ttabbed',
    '\tEND',
    'RUN echo $((1<<2)) a<<b',
    'CMD <<EOF',
  ].join('\n'));
  const [, run, copy, chomp, shift, cmd] = df.instructions;
  assert.deepEqual(run!.heredocs, [{ name: 'EOF', word: '<<EOF', content: 'echo "$A"\n  indented\n', raw: 'echo "$A"\n  indented\n', expand: true, chomp: false }]);
  assert.deepEqual(copy!.heredocs!.map((h) => [h.name, h.content, h.expand]), [['one', 'first $A\n', true], ['two', 'second $A\n', false]]);
  assert.equal(chomp!.heredocs![0]!.content, 'tabbed\n');
  assert.equal(chomp!.heredocs![0]!.raw, '\t\ttabbed\n');
  assert.equal(shift!.heredocs, undefined);
  assert.equal(cmd!.heredocs, undefined); // only RUN, COPY and ADD take heredocs
  assert.equal(df.instructions.length, 6);
  assert.throws(() => parseDockerfile('FROM x\nRUN <<EOF\necho'), /line 2: unterminated heredoc EOF/);
});

test('repeated flags are all kept; a flag the instruction does not take is an error', () => {
  const df = parseDockerfile('FROM x\nRUN --mount=type=cache,target=/a --mount=type=tmpfs,target=/t --network=none true\nCOPY --exclude=*.md --exclude=*.txt --link --parents . /a/');
  assert.deepEqual(df.instructions[1]!.flagList.mount, ['type=cache,target=/a', 'type=tmpfs,target=/t']);
  assert.equal(df.instructions[1]!.flags.network, 'none');
  assert.deepEqual(df.instructions[2]!.flagList.exclude, ['*.md', '*.txt']);
  assert.equal(df.instructions[2]!.flags.link, 'true');
  assert.throws(() => parseDockerfile('FROM x\nCOPY --checksum=sha256:00 a b'), /line 2: unknown flag: checksum/);
  assert.throws(() => parseDockerfile('FROM x\nRUN --bogus true'), /unknown flag: bogus/);
});
