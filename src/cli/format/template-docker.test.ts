// Compares the template engine and tabwriter with the real docker CLI.
// `docker version --format` needs no daemon: it executes the template
// client-side against its version data (a daemon-less Server is nil) and
// passes the output through docker's tabwriter (minwidth 20, padding 1).
// Parse errors exit 64 with the message on stderr.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { parseTemplate } from './template.js';
import { TabWriter } from './tabwriter.js';

const DOCKER = '/usr/local/bin/docker';
const skip = existsSync(DOCKER) ? false : 'the docker CLI is not installed';

function dockerVersion(format: string): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(DOCKER, ['version', '--format', format], {
    encoding: 'utf8',
    // No daemon is needed; point at one that cannot exist so nothing is contacted.
    env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/berth-test.sock', DOCKER_CONTEXT: '' },
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** What `docker version --format` prints for a template: executed, then through its tabwriter. */
function ours(format: string, data: unknown): string {
  const out = parseTemplate(format, { name: 'version' }).execute(data);
  const w = new TabWriter({ minwidth: 20, tabwidth: 1, padding: 1, padchar: ' ', width: 'display' });
  w.write(out);
  w.write('\n');
  return w.flush();
}

test('parse errors match docker', { skip }, () => {
  const templates = [
    '{{.Foo',
    '{{if .X}}',
    '{{end}}',
    '{{nope 1}}',
    '{{}}',
    '{{.X | "a"}}',
    '{{$x}}',
    '{{(1}}',
    '{{)}}',
    '{{.X.}}',
    '{{if}}',
    '{{range $i, $e, $f := .}}{{end}}',
    '{{break}}',
    '{{"abc}}',
    '{{3x}}',
    '{{else}}',
    '{{if 1}}{{else}}{{else}}{{end}}',
    '{{/* x',
    '{{/* x */ }}',
    "{{'ab'}}",
    "{{''}}",
    '{{"\\q"}}',
    '{{1 2}}',
    '{{.X := 1}}',
    '{{range $x, := .}}{{end}}',
    '{{define "a"}}x{{end}}{{define "a"}}y{{end}}',
    '{{with}}',
    '{{template .X}}',
    '{{block "x"}}{{end}}',
    '{{if 1}}\n{{else}}\n{{end',
    '{{.A\n.B}}',
    '{{1 | 2}}',
    '{{nil.X}}',
    '{{"a".X}}',
    '{{@}}',
    '{{.X$}}',
    '{{99999999999999999999}}',
    '{{0x}}',
    '{{1e}}',
    '{{-}}',
    '{{`a}}',
    '{{(.X}}',
    '{{.X)}}',
    '{{|}}',
    '{{:}}',
    '{{printf}}',
    '{{range .}}{{continue 1}}{{end}}',
    '{{define}}',
    '{{define "x" 1}}{{end}}',
    '{{else if 1}}',
    '{{with 1}}{{else if 2}}{{end}}',
    '{{if 1}}{{end}}{{end}}',
    'a\nb\n{{.X',
    '{{"\\xzz"}}',
    "{{'\\\"'}}",
    '{{"\\\'"}}',
    '{{1__0}}',
    '{{0b102}}',
    '{{089}}',
    '{{.5.X}}',
    '{{.X}} {{- /* c */ -}} {{.Y',
    '{{$x := 1}}{{$x.Y.Z 1}}',
    '{{range $i, $e := .}}{{end}}{{$i}}',
  ];
  for (const t of templates) {
    const d = dockerVersion(t);
    const expected = d.status === 64 ? d.stderr.trim().replace(/^template parsing error: /, '') : 'parses';
    let got = 'parses';
    try {
      parseTemplate(t, { name: 'version' });
    } catch (e) {
      got = (e as Error).message;
    }
    assert.equal(got, expected, `template ${JSON.stringify(t)}`);
  }
});

test('execution output matches docker', { skip }, () => {
  // The version data: docker's client information, and no server.
  const client = JSON.parse(dockerVersion('{{json .Client}}').stdout) as Record<string, unknown>;
  const data = { Client: client, Server: null };
  const templates = [
    '{{.Client.Version}}',
    '{{.Client.Version | printf "%q"}}',
    '{{range $i, $e := split "a,b" ","}}{{$i}}={{$e}} {{end}}',
    '{{printf "%v %v %v %v" 1 1.0 "s" true}}',
    '{{print 1 2 "a" "b" 3 nil 4}}|{{print}}|{{print nil}}|{{print "" 1}}|{{print 1 ""}}',
    '{{println 1 "a" nil}}',
    '{{printf "%6.2f|%-6.2f|%06.2f|%+.1e|%x|%X|% x|%#x|%# x" 3.14159 2.5 -1.5 12345.678 "héllo" "hi" "abc" "abc" "abc"}}',
    '{{printf "%5s|%-5s|%.2s|%5.1s|%q|%+q|%#q|%#q" "ab" "ab" "héllo" "xyz" "é\\n\\x01" "é" "a`b" "ab"}}',
    '{{printf "%d|%5d|%-5d|%05d|%x|%X|%o|%O|%b|%c|%q|%U|%#U|%.3d|%+d|% d" 42 42 42 -42 255 255 8 8 5 9731 9731 9731 9731 7 3 3}}',
    '{{printf "%.0f %.0f %.0f %.0f %.1f %.2f %.3f" 0.5 1.5 2.5 3.5 0.25 0.125 1.0005}}',
    '{{printf "%g %g %g %g %.3g %.10g %G %e" 100000.0 1000000.0 0.0001 0.00001 1234.5678 1.0 1e-10 0.0}}',
    '{{printf "%e %f %g" 123456789.0 123456789.0 123456789.0}}',
    '{{printf "%.3e" 0.0}}|{{printf "%g" 0.0}}|{{printf "%e" 1e300}}|{{printf "%f" 1e-7}}|{{printf "%.20f" 0.1}}',
    '{{printf "%6.3v|%.2v|%10.4g" 3.14159 "hello" 1234.5678}}',
    '{{printf "%08.3f|%-08.3f|%+08.3f|% 08.3f|%8.3e" 3.14159 3.14159 3.14159 3.14159 314.159}}',
    '{{printf "%x|%X|%b|%.1x|%x|%x" 1.5 1e3 1.0 0.1 -2.75 5e-324}}',
    '{{printf "%v|%s|%d|%q" (split "a,b" ",") (split "a,b" ",") (split "a,b" ",") (split "a,b" ",")}}',
    '{{printf "%v" (split "a" ",")}}{{printf "%5v" (split "a,b" ",")}}',
    '{{printf "%t %t %v %s" true false false true}}',
    '{{printf "%[2]d %[1]d" 1 2}}|{{printf "%[3]d" 1 2}}|{{printf "%.[2]*[1]f" 3.14159 2}}',
    '{{printf "%!%%%"}}|{{printf "%"}}|{{printf "%-"}}|{{printf "%5"}}|{{printf "%.x" 255}}|{{printf "%.0d" 0}}|{{printf "%5.0d|" 0}}',
    '{{printf "%T %T %T %T %T" 1 1.5 "s" true nil}}|{{printf "%v %d" nil nil}}|{{printf "%s" 1.5}}|{{printf "%d" true}}',
    '{{printf "%d %s"}}|{{printf "%d" 1 2}}|{{printf "%z" 1}}|{{printf "%!"}}|{{printf "%d" "x"}}|{{printf "%s" nil}}',
    '{{printf "%*d|%-*d|%.*f" 5 3 5 3 2 3.14159}}',
    '{{printf "%s %v" 12345678901234 123456789012345678}}',
    '{{printf "%q|%c|%c" 0x1F600 -1 0x110000}}',
    '{{html "<a href=\\"x\\">&\'"}}|{{js "<a=\'\\\\b\\u2028é\\n>"}}|{{urlquery "a b&c=d/é~"}}|{{html 1 "x" 2}}|{{urlquery nil}}',
    '{{len "héllo"}} {{len (split "a,b,c" ",")}} {{index "abc" 1}} {{slice "héllo" 1 3}} {{slice "abcdef" 2}} {{index (split "a,b" ",") 1}}',
    '{{eq 1 1}} {{eq "a" "b" "a"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}} {{eq nil nil}} {{lt "B" "a"}}',
    '{{and 1 2}} {{and 0 2}} {{or 0 ""}} {{or 0 "x"}} {{not ""}} {{not "a"}}',
    '{{if and .Client (eq .Client.Os "linux")}}linux{{else}}other{{end}}',
    '{{with .Server}}srv{{else}}nosrv{{end}}|{{with .Client}}{{.Arch}}{{end}}|{{with $x := .Client.Version}}{{$x}}{{end}}|{{if not .Server}}none{{end}}|{{.Server}}',
    '{{range split "a b c" " "}}[{{.}}]{{end}}|{{range $i := split "a b" " "}}{{$i}}{{end}}|{{range split "" ","}}[{{.}}]{{end}}',
    '{{range $i, $e := split "a b c d" " "}}{{if eq $i 1}}{{continue}}{{end}}{{if eq $i 3}}{{break}}{{end}}{{$e}}{{end}}',
    '{{range 0}}x{{else}}empty{{end}}|{{range $i := 3}}{{$i}}{{end}}',
    '{{$x := "a"}}{{range split "b c" " "}}{{$x = .}}{{end}}{{$x}}|{{$y := 1}}{{with 2}}{{$y := 3}}{{$y}}{{end}}{{$y}}',
    '{{define "T"}}<{{.}}|{{$}}>{{end}}{{template "T" "x"}}{{template "T"}}|{{block "B" .Client.Os}}[{{.}}]{{end}}',
    '{{json .Client}}|{{json "<&>"}}|{{json (split "a,b" ",")}}|{{json 1.5}}|{{json 1e21}}|{{json 0.0000001}}|{{json nil}}',
    '{{json "\\u2028\\x01\\b\\f\\t\\x7f"}}|{{json 100000000000.0}}|{{json -0.0}}',
    '{{title "hello wOrld foo-bar é_x 3a"}}|{{upper "straße"}}|{{lower "ÀÉİ"}}|{{truncate "abcdef" 3}}|{{truncate "ab" 5}}|{{pad "x" 2 1}}|{{pad "" 2 1}}|',
    '{{join (split "a,b,c" ",") ", "}}|{{split "a,b" ""}}|{{split "" ","}}|{{len (split "" "")}}',
    '{{"a\\tb" | printf "%q"}}|{{`raw\\n`}}|{{\'a\'}} {{\'\\n\'}} {{printf "%c" \'é\'}}',
    '{{0x10}} {{0o17}} {{0b101}} {{017}} {{1_000}} {{1e3}} {{.5}} {{-3}} {{+3}} {{1.0}} {{3.0e2}} {{0x1p4}} {{-0}} {{-0.0}}',
    '{{print 1e6 100000.0 1234567.0 0.0001 0.00001 1.5 2.0 1e21 1e20}}',
    '{{- "a" }} {{ "b" -}} {{ "c" }}\n\t {{- "d" }}|x {{- /* c */ -}} y|{{/* multi\nline */}}z',
    '{{.Client.Version | len}}|{{"abc" | printf "%s-%s" "x"}}|{{(split "a,b" ",") | len}}|{{(index (split "a,b" ",") 0) | upper}}',
    '{{$v := .Client}}{{$v.Os}}/{{$.Client.Arch}}|{{(.Client).Os}}',
    '{{printf "%-3d|" (slice (split "1,2" ",") 0 1)}}',
    // The tabwriter: columns, blocks, empty cells, display widths.
    '{{"日本\\tx\\nab\\ty\\ne\\u0301\\tz\\n👨‍👩‍👧\\tw"}}',
    '{{"a\\tb\\tc\\naaaaaaaaaaaaaaaaaaaaaaaaa\\tb\\nx\\n\\tz\\ty\\t\\n\\t\\t\\tlast"}}',
    '{{"NAME\\tIMAGE\\tSTATUS\\nweb\\tnginx:latest\\tUp 2 hours\\ndb\\tpostgres:16-alpine-with-a-long-tag\\tExited (0) 3 days ago\\nx\\t\\t\\n"}}',
    '{{"ｆｕｌｌ\\t한국어\\tΩ\\n\\u200bzero\\t\\u00adsoft\\tend\\n🇺🇸\\t⌚\\t☃\\n"}}',
    '{{range split "a,bb,ccc" ","}}{{.}}\t{{len .}}\t|\n{{end}}tail',
  ];
  for (const t of templates) {
    const d = dockerVersion(t);
    assert.equal(ours(t, data), d.stdout, `template ${JSON.stringify(t)}`);
  }
});

test('execution errors stop output where docker stops it', { skip }, () => {
  // docker version prints the output written before the error (and hides the error).
  const client = JSON.parse(dockerVersion('{{json .Client}}').stdout) as Record<string, unknown>;
  const data = { Client: client, Server: null };
  for (const t of ['a{{and}}b', 'x{{range .Client.Version}}{{end}}y', 'p{{index (split "a" ",") 3}}q', 'n{{.Server.Version}}m', 's{{len 3}}t']) {
    let partial = '';
    assert.throws(() => {
      try {
        parseTemplate(t, { name: 'version' }).execute(data);
      } catch (e) {
        partial = (e as { output: string }).output;
        throw e;
      }
    }, t);
    assert.equal(partial + '\n', dockerVersion(t).stdout, t);
  }
});
