import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  FormatError,
  ListFormatter,
  ellipsis,
  labelHeader,
  renderInspect,
  renderList,
  resolveListFormat,
  templateText,
  truncateID,
  type ListOptions,
} from './formatter.js';

const PS_DEFAULT = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
const PS_HEADERS = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  RunningFor: 'CREATED',
  Status: 'STATUS',
  Ports: 'PORTS',
  Names: 'NAMES',
  Size: 'SIZE',
  Labels: 'LABELS',
};

function psRows() {
  const labels: Record<string, string> = { 'com.example.app': 'shop', tier: 'web' };
  return [
    {
      ID: '3f4e8a1b2c9d',
      Image: 'nginx:latest',
      Command: '"/docker-entrypoint.…"',
      RunningFor: '2 hours ago',
      Status: 'Up 2 hours',
      Ports: '0.0.0.0:8080->80/tcp',
      Names: 'web',
      Size: () => '1.09kB (virtual 187MB)',
      Labels: () => 'com.example.app=shop,tier=web',
      Label: (k: string) => labels[k] ?? '',
    },
    {
      ID: 'a1b2c3d4e5f6',
      Image: 'postgres:16',
      Command: '"docker-entrypoint.s…"',
      RunningFor: '3 days ago',
      Status: 'Exited (0) 2 days ago',
      Ports: '',
      Names: 'データベース',
      Size: () => '0B',
      Labels: () => '',
      Label: (_key: string) => '',
    },
  ];
}

function ps(format: string | undefined, extra: Partial<ListOptions> = {}): string {
  return renderList({ format, defaultFormat: PS_DEFAULT, rows: psRows(), headers: PS_HEADERS, typeName: '*formatter.ContainerContext', ...extra });
}

test('format text: table prefix, json, trimmed spaces, \\t and \\n', () => {
  assert.equal(templateText('table {{.ID}}\\t{{.Names}}'), '{{.ID}}\t{{.Names}}');
  assert.equal(templateText('table'), '');
  assert.equal(templateText('json'), '{{json .}}');
  assert.equal(templateText('  {{.ID}}\\n{{.Names}}  '), '{{.ID}}\n{{.Names}}');
  assert.equal(templateText('{{"\\\\t"}}'), '{{"\\\t"}}');
  assert.equal(resolveListFormat({ format: '', defaultFormat: 'table X' }), 'table X');
  assert.equal(resolveListFormat({ format: 'table', defaultFormat: 'table X', quiet: true }), '{{.ID}}');
  assert.equal(resolveListFormat({ format: '{{.Names}}', defaultFormat: 'table X', quiet: true }), '{{.Names}}');
  assert.equal(resolveListFormat({ format: '{{.Names}}', defaultFormat: 'table X', quiet: true, quietOverridesFormat: true }), '{{.ID}}');
});

test('default table: header row and aligned columns, unicode by display width', () => {
  const expected = [
    'CONTAINER ID   IMAGE          COMMAND                  CREATED       STATUS                  PORTS                  NAMES',
    '3f4e8a1b2c9d   nginx:latest   "/docker-entrypoint.…"   2 hours ago   Up 2 hours              0.0.0.0:8080->80/tcp   web',
    'a1b2c3d4e5f6   postgres:16    "docker-entrypoint.s…"   3 days ago    Exited (0) 2 days ago                          データベース',
    '',
  ].join('\n');
  assert.equal(ps(undefined), expected);
  assert.equal(ps(''), expected);
  assert.equal(ps('table'), expected);
});

test('custom table: the header comes from the same template', () => {
  assert.equal(ps('table {{.ID}}\\t{{.Image}}'), 'CONTAINER ID   IMAGE\n3f4e8a1b2c9d   nginx:latest\na1b2c3d4e5f6   postgres:16\n');
  // Functions that would change the title are identities in the header; pad is not.
  assert.equal(
    ps('table {{.Names | upper}}\\t{{json .Ports}}\\t[{{pad .Status 1 1}}]'),
    'NAMES          PORTS                    [ STATUS ]\n' +
      'WEB            "0.0.0.0:8080->80/tcp"   [ Up 2 hours ]\n' +
      'データベース   ""                       [ Exited (0) 2 days ago ]\n',
  );
  // .Label "key" is titled by the key's last part; methods are called on use.
  assert.equal(ps('table {{.Names}}\\t{{.Label "com.example.app"}}\\t{{.Size}}'), 'NAMES          app       SIZE\nweb            shop      1.09kB (virtual 187MB)\nデータベース             0B\n');
  // Text outside actions is part of the header too; minwidth is 10.
  assert.equal(ps('table ID={{.ID}}\\tx'), 'ID=CONTAINER ID   x\nID=3f4e8a1b2c9d   x\nID=a1b2c3d4e5f6   x\n');
});

test('non-table formats: one line per row, no header', () => {
  assert.equal(ps('{{.ID}}: {{.Names}}'), '3f4e8a1b2c9d: web\na1b2c3d4e5f6: データベース\n');
  assert.equal(ps('{{.ID}}\\t{{.Names}}'), '3f4e8a1b2c9d\tweb\na1b2c3d4e5f6\tデータベース\n');
  assert.equal(ps('{{.Names}}', { rows: [] }), '');
  assert.equal(ps('table {{.Names}}', { rows: [] }), 'NAMES\n');
});

test('json: sorted keys, methods without arguments included, HTML escaped', () => {
  const out = ps('json');
  assert.equal(ps('{{json .}}'), out);
  const first = out.split('\n')[0];
  assert.equal(
    first,
    '{"Command":"\\"/docker-entrypoint.…\\"","ID":"3f4e8a1b2c9d","Image":"nginx:latest","Labels":"com.example.app=shop,tier=web","Names":"web","Ports":"0.0.0.0:8080-\\u003e80/tcp","RunningFor":"2 hours ago","Size":"1.09kB (virtual 187MB)","Status":"Up 2 hours"}',
  );
  assert.equal(out.split('\n').length, 3);
  // Only exported (capitalised) members are marshalled, as with docker's contexts.
  const rows = [{ ID: 'x', helper: 'hidden', Names: 'n' }];
  assert.equal(ps('json', { rows }), '{"ID":"x","Names":"n"}\n');
  assert.throws(() => ps('{{.helper}}', { rows }), { message: /helper is an unexported field of struct type \*formatter.ContainerContext/ });
});

test('quiet', () => {
  assert.equal(ps('', { quiet: true }), '3f4e8a1b2c9d\na1b2c3d4e5f6\n');
  assert.equal(ps('{{.Names}}', { quiet: true }), 'web\nデータベース\n');
  assert.equal(ps('{{.Names}}', { quiet: true, quietOverridesFormat: true }), '3f4e8a1b2c9d\na1b2c3d4e5f6\n');
});

test('template errors are FormatErrors with docker wording', () => {
  assert.throws(() => ps('table {{.Nope}}'), (e: unknown) => {
    assert.ok(e instanceof FormatError);
    assert.equal(e.message, 'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext');
    assert.equal(e.exitCode, 1);
    return true;
  });
  assert.throws(() => ps('{{.ID'), { name: 'FormatError', message: 'template parsing error: template: :1: unclosed action' });
  assert.throws(() => ps('{{.Label}}'), { message: /wrong number of args for Label: want 1 got 0/ });
});

test('a failing header is cut where it fails, as docker prints it', () => {
  // With no rows nothing else fails; the header stops at .Names.X.
  assert.equal(ps('table {{.ID}}\\t{{.Names.X}}\\t{{.Image}}', { rows: [] }), 'CONTAINER ID   \n');
  // Unknown fields in the header print <no value>.
  assert.equal(ps('table {{.Bogus}}', { rows: [] }), '<no value>\n');
});

test('ListFormatter parses once and reports the fields a format uses', () => {
  const f = new ListFormatter({ format: 'table {{.Names}}\\t{{if .Size}}{{.Size}}{{end}}', defaultFormat: PS_DEFAULT, headers: PS_HEADERS });
  assert.equal(f.isTable, true);
  assert.equal(f.usesField('Size'), true);
  assert.equal(f.usesField('ID'), false);
  assert.equal(f.render(psRows()), f.render(psRows()));
  assert.equal(f.render([]), 'NAMES     SIZE\n');
  assert.equal(new ListFormatter({ defaultFormat: PS_DEFAULT, headers: PS_HEADERS }).usesField('Size'), false);
  assert.throws(() => new ListFormatter({ format: '{{', defaultFormat: '', headers: {} }), { name: 'FormatError' });
});

test('labelHeader, truncateID, ellipsis', () => {
  assert.equal(labelHeader('com.docker.compose.project'), 'project');
  assert.equal(labelHeader('com.example.some-key_name'), 'some key name');
  assert.equal(truncateID('sha256:3f4e8a1b2c9d7e6f5a4b'), '3f4e8a1b2c9d');
  assert.equal(truncateID('abc'), 'abc');
  assert.equal(ellipsis('/docker-entrypoint.sh nginx -g daemon off;', 20), '/docker-entrypoint.…');
  assert.equal(ellipsis('short', 20), 'short');
  assert.equal(ellipsis('日本語のテキストです', 7), '日本語…');
  assert.equal(ellipsis('日本語', 6), '日本語');
  assert.equal(ellipsis('abc', 1), 'a');
  assert.equal(ellipsis('abc', 0), '');
});

test('inspect: indented JSON array by default, compact with "json"', () => {
  const objs = [{ Id: 'abc', Config: { Labels: { a: '<b>&' }, Env: [], Volumes: {} }, Size: 1.5, Count: 3, Ok: true, Nil: null }];
  const indented = [
    '[',
    '    {',
    '        "Id": "abc",',
    '        "Config": {',
    '            "Labels": {',
    '                "a": "<b>&"',
    '            },',
    '            "Env": [],',
    '            "Volumes": {}',
    '        },',
    '        "Size": 1.5,',
    '        "Count": 3,',
    '        "Ok": true,',
    '        "Nil": null',
    '    }',
    ']',
    '',
  ].join('\n');
  assert.equal(renderInspect(undefined, objs), indented);
  assert.equal(renderInspect('', objs), indented);
  assert.equal(renderInspect('', objs, { escapeHTML: true }), indented.replace('<b>&', '\\u003cb\\u003e\\u0026'));
  assert.equal(renderInspect('json', objs), '[{"Id":"abc","Config":{"Labels":{"a":"<b>&"},"Env":[],"Volumes":{}},"Size":1.5,"Count":3,"Ok":true,"Nil":null}]\n');
  assert.equal(renderInspect(undefined, []), '[]\n');
  assert.equal(renderInspect('json', []), '[]\n');
});

test('inspect with a template: one line per object, docker fallback errors', () => {
  const objs = [
    { Id: 'a', State: { Status: 'running' }, Config: { Labels: { x: '1' } } },
    { Id: 'b', State: { Status: 'exited' }, Config: { Labels: {} } },
  ];
  assert.equal(renderInspect('{{.Id}} {{.State.Status}} [{{.Config.Labels.x}}] [{{index .Config.Labels "x"}}]', objs), 'a running [1] [1]\nb exited [<no value>] []\n');
  assert.equal(renderInspect('{{json .Config}}', objs), '{"Labels":{"x":"1"}}\n{"Labels":{}}\n');
  // docker ranges over the raw JSON when the typed value cannot be ranged.
  assert.equal(renderInspect('{{range $k, $v := .}}{{$k}} {{end}}', [objs[0]]), 'Config Id State \n');
  assert.equal(renderInspect('{{.Id}}', []), '\n');
  try {
    renderInspect('{{.Nope}}', [objs[0], { Nope: 'here' }]);
    assert.fail('no error');
  } catch (e) {
    assert.ok(e instanceof FormatError);
    assert.equal(e.message, 'template parsing error: template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"');
    assert.equal(e.exitCode, 1);
    assert.equal(e.output, 'here\n');
  }
  assert.throws(() => renderInspect('{{.Id', objs), (e: unknown) => e instanceof FormatError && e.exitCode === 64 && e.message === 'template parsing error: template: :1: unclosed action');
});

// ---------------------------------------------------------------------------
// Against docker: `docker context ls` and `docker context inspect` run
// without a daemon and use the same formatter code as ps, images, etc.

const DOCKER = '/usr/local/bin/docker';
const skip = existsSync(DOCKER) ? false : 'the docker CLI is not installed';

test('renderList matches docker context ls', { skip }, (t) => {
  const config = mkdtempSync(join(tmpdir(), 'berth-format-'));
  t.after(() => rmSync(config, { recursive: true, force: true }));
  const docker = (...args: string[]) =>
    spawnSync(DOCKER, args, { encoding: 'utf8', env: { ...process.env, DOCKER_CONFIG: config, DOCKER_HOST: '', DOCKER_CONTEXT: '' } });
  for (const [name, desc, host] of [
    ['zeta', 'Ünïcödé 日本語 <b>&', 'unix:///tmp/zeta.sock'],
    ['alpha-long-name-context', '', 'tcp://10.0.0.1:2376'],
    ['mid', 'tabs\tand "quotes"', 'unix:///run/mid.sock'],
  ]) {
    const r = docker('context', 'create', name, '--description', desc, '--docker', `host=${host}`);
    assert.equal(r.status, 0, r.stderr);
  }
  // The rows as docker's context formatter sees them.
  const rows = docker('context', 'ls', '--format', '{{json .}}')
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(rows.length, 4);
  const headers = { Name: 'NAME', Description: 'DESCRIPTION', DockerEndpoint: 'DOCKER ENDPOINT', Error: 'ERROR' };
  const list = (format: string, quiet = false) =>
    renderList({
      format,
      defaultFormat: 'table {{.Name}}{{if .Current}} *{{end}}\t{{.Description}}\t{{.DockerEndpoint}}\t{{.Error}}',
      quiet,
      quietFormat: '{{.Name}}',
      quietOverridesFormat: true,
      rows,
      headers,
      typeName: '*formatter.clientContextContext',
    });
  const formats = [
    '',
    'table',
    'json',
    '{{json .}}',
    'table {{.Name}}\\t{{.DockerEndpoint}}',
    '{{.Name}}: {{.Description}}',
    'table {{.Name | upper}}\\t{{json .Description}}\\t{{pad .Error 1 1}}|',
    'table {{printf "%-30s" .Name}}|{{.Current}}',
    'table {{.Name}}{{if .Current}} (current){{end}}\\t{{title .Description}}\\t{{len .Name}}',
    '  {{.Name}}  ',
    'table{{.Name}}',
    'table {{.Name}}\\n{{.Description}}',
    'table {{.Name}}\\t{{truncate .Description 8}}\\t{{split .DockerEndpoint ":"}}',
    '{{.Name}}\\t{{.Description}}',
    'table {{range $i, $p := split .DockerEndpoint "/"}}{{if $i}}/{{end}}{{upper $p}}{{end}}\\tEND',
  ];
  for (const format of formats) {
    const r = docker('context', 'ls', '--format', format);
    assert.equal(r.status, 0, `${format}: ${r.stderr}`);
    assert.equal(list(format), r.stdout, `--format ${JSON.stringify(format)}`);
  }
  assert.equal(list('{{.Description}}', true), docker('context', 'ls', '-q', '--format', '{{.Description}}').stdout);
  for (const format of ['table {{.Nope}}', '{{.Name.X}}', '{{.Label "x"}}', '{{if}}', '{{index .Name 99}}']) {
    const r = docker('context', 'ls', '--format', format);
    assert.notEqual(r.status, 0);
    assert.throws(() => list(format), (e: unknown) => e instanceof FormatError && e.message === r.stderr.trim(), `--format ${JSON.stringify(format)}`);
  }
  // inspect output of typed values (docker context inspect has no raw JSON): HTML-escaped.
  const inspected = docker('context', 'inspect', 'zeta', 'mid');
  assert.equal(inspected.status, 0, inspected.stderr);
  const objects = JSON.parse(inspected.stdout) as unknown[];
  assert.equal(renderInspect(undefined, objects, { escapeHTML: true }), inspected.stdout);
  assert.equal(renderInspect('json', objects, { escapeHTML: true }), docker('context', 'inspect', '--format', 'json', 'zeta', 'mid').stdout);
  // (Only fields whose Go type matches their JSON: a context's Metadata is a different struct.)
  const f = '{{.Name}} {{.Endpoints.docker.Host}} {{len .Endpoints}} {{range $k, $v := .Endpoints}}{{$k}}{{end}}';
  assert.equal(renderInspect(f, objects), docker('context', 'inspect', '--format', f, 'zeta', 'mid').stdout);
});
