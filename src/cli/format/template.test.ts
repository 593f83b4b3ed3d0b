import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FuncError, GoFloat, TemplateError, goStruct, parseTemplate, sprintf } from './template.js';

function run(text: string, data: unknown = {}): string {
  return parseTemplate(text).execute(data);
}

function fails(text: string, data: unknown, message: string | RegExp): void {
  assert.throws(
    () => run(text, data),
    (e: unknown) => {
      assert.ok(e instanceof TemplateError, `expected TemplateError, got ${String(e)}`);
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      return true;
    },
  );
}

test('text and actions', () => {
  assert.equal(run('plain text'), 'plain text');
  assert.equal(run(''), '');
  assert.equal(run('a{{"b"}}c'), 'abc');
  assert.equal(run('{{.}}', 'dot'), 'dot');
  assert.equal(run('{{/* a comment */}}x'), 'x');
  assert.equal(run('{{/* multi\nline */}}x'), 'x');
});

test('trim markers remove all adjacent white space, newlines included', () => {
  assert.equal(run('a  \n\t {{- "b" -}} \n  c'), 'abc');
  assert.equal(run('a {{- "b"}} c'), 'ab c');
  assert.equal(run('a {{"b" -}} c'), 'a bc');
  assert.equal(run('x {{- /* c */ -}} y'), 'xy');
  assert.equal(run('{{range .}}\n  {{- .}}\n{{- end}}', [1, 2]), '12');
  // "-3" is a number, not a trim marker: the marker needs a space.
  assert.equal(run('{{-3}}'), '-3');
  assert.equal(run('a {{- 3 -}} b'), 'a3b');
});

test('field chains on the dot, on variables and on $', () => {
  const data = { A: { B: { C: 'deep' } }, L: [{ N: 'x' }], K: 'k' };
  assert.equal(run('{{.A.B.C}}', data), 'deep');
  assert.equal(run('{{$x := .A}}{{$x.B.C}}', data), 'deep');
  assert.equal(run('{{with .A}}{{.B.C}} {{$.K}}{{end}}', data), 'deep k');
  assert.equal(run('{{range .L}}{{.N}}{{$.K}}{{end}}', data), 'xk');
  assert.equal(run('{{(index .L 0).N}}', data), 'x');
  assert.equal(run('{{index .M "a.b/c d"}}', { M: { 'a.b/c d': 'odd key' } }), 'odd key');
});

test('missing map keys print <no value>; missingkey options', () => {
  assert.equal(run('{{.Nope}}', {}), '<no value>');
  assert.equal(run('{{.A.Nope}}', { A: {} }), '<no value>');
  assert.equal(run('{{.A.Nope.Deeper}}', { A: {} }), '<no value>');
  const t = parseTemplate('{{.Labels.nope}}');
  assert.equal(t.execute({ Labels: { a: 'b' } }, { missingKey: 'zero' }), '');
  assert.equal(t.execute({ Labels: { a: 1 } }, { missingKey: 'zero' }), '<nil>');
  assert.throws(() => t.execute({ Labels: {} }, { missingKey: 'error' }), {
    // Go positions a field chain at its second field.
    message: 'template: :1:9: executing "" at <.Labels.nope>: map has no entry for key "nope"',
  });
});

test('nil values and wrong receivers fail like Go', () => {
  fails('{{.A.B}}', { A: null }, 'template: :1:4: executing "" at <.A.B>: nil pointer evaluating interface {}.B');
  fails('{{.S.X}}', { S: 'str' }, 'template: :1:4: executing "" at <.S.X>: can\'t evaluate field X in type string');
  fails('{{.N.X}}', { N: 3 }, /can't evaluate field X in type int$/);
  fails('{{.Foo}}', goStruct({ Bar: 1 }, 'types.Thing'), 'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type types.Thing');
  fails('{{.bar}}', goStruct({ bar: 1 }, 'types.Thing'), /bar is an unexported field of struct type types.Thing/);
  assert.equal(run('{{.bar}}', { bar: 1 }), '1'); // map keys need not be exported
  // JS internals are not fields.
  assert.equal(run('{{.constructor}}|{{.toString}}|{{.__proto__}}', {}), '<no value>|<no value>|<no value>');
});

test('error positions are byte columns, as Go counts them', () => {
  // docker context ls --format 'é{{.Name.X}}' reports :1:9 (é is two bytes; .X starts the chain's second field)
  fails('é{{.A.X}}', { A: 'x' }, /^template: :1:6: executing "" at <.A.X>/);
  fails('é{{.A}}{{.A.X}}', { A: 'x' }, /^template: :1:12: executing "" at <.A.X>/);
  fails('line1\n  {{.A.B}}', { A: 'x' }, /^template: :2:6: executing/);
  fails('{{.A}}', goStruct({}, 'T'), /^template: :1:2: executing "" at <.A>/);
  const t = parseTemplate('{{.X.Y}}', { name: 'version' });
  assert.throws(() => t.execute({ X: 1 }), { message: /^template: version:1:4: executing "version" at <.X.Y>/ });
});

test('literals', () => {
  assert.equal(run('{{"a\\tb\\n\\u00e9\\x41\\101\\\\\\""}}'), 'a\tb\né' + 'AA\\"');
  assert.equal(run('{{"\\xc3\\xa9"}}'), 'é'); // byte escapes form UTF-8
  assert.equal(run('{{`raw\\n{{`}}'), 'raw\\n{{');
  assert.equal(run('{{1}} {{-2}} {{+3}} {{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}}'), '1 -2 3 31 15 15 5 1000');
  assert.equal(run('{{1.5}} {{1.0}} {{1e3}} {{.5}} {{0x1p4}} {{1e21}} {{1e-7}}'), '1.5 1 1000 0.5 16 1e+21 1e-07');
  assert.equal(run("{{'a'}} {{'\\n'}} {{printf \"%c\" 'é'}}"), '97 10 é');
  assert.equal(run('{{true}} {{false}}'), 'true false');
  assert.equal(run('{{9223372036854775807}}'), '9223372036854775807');
  fails('{{nil}}', {}, 'template: :1:2: executing "" at <nil>: nil is not a command');
  fails('{{9223372036854775808}}', {}, /9223372036854775808 overflows int/);
});

test('pipelines, parentheses and arguments', () => {
  assert.equal(run('{{"x" | printf "%s-%s" "a"}}'), 'a-x');
  assert.equal(run('{{.S | len | printf "%03d"}}', { S: 'abcd' }), '004');
  assert.equal(run('{{printf "%d" (len (index .L 1))}}', { L: ['a', 'bcd'] }), '3');
  assert.equal(run('{{(.)}}', 5), '5');
  assert.equal(run('{{$x := "v"}}{{$x | printf "%q"}}'), '"v"');
});

test('if / else if / else, with / else with', () => {
  const t = parseTemplate('{{if eq .A 1}}one{{else if eq .A 2}}two{{else}}many{{end}}');
  assert.deepEqual([1, 2, 3].map((A) => t.execute({ A })), ['one', 'two', 'many']);
  assert.equal(run('{{with .A}}[{{.}}]{{else}}none{{end}}', { A: 'x' }), '[x]');
  assert.equal(run('{{with .A}}[{{.}}]{{else}}none{{end}}', { A: '' }), 'none');
  assert.equal(run('{{with .A}}a{{else with .B}}b={{.}}{{else}}c{{end}}', { B: 7 }), 'b=7');
  assert.equal(run('{{with $v := .A}}{{$v}}{{end}}', { A: 'y' }), 'y');
});

test("Go's truthiness", () => {
  const t = parseTemplate('{{if .}}T{{else}}F{{end}}');
  const falsy = [false, 0, 0n, new GoFloat(0), '', [], {}, null, undefined];
  const truthy = [true, 1, -1, 0.5, 'x', [0], { a: 0 }, goStruct({}, 'T'), () => 0];
  assert.deepEqual(falsy.map((v) => t.execute(v)), falsy.map(() => 'F'));
  assert.deepEqual(truthy.map((v) => t.execute(v)), truthy.map(() => 'T'));
  assert.equal(run('{{if .Missing}}T{{else}}F{{end}}', {}), 'F');
});

test('range over slices, maps (sorted), integers, with else', () => {
  assert.equal(run('{{range .}}<{{.}}>{{end}}', ['a', 'b']), '<a><b>');
  assert.equal(run('{{range $i, $e := .}}{{$i}}={{$e}};{{end}}', ['a', 'b']), '0=a;1=b;');
  assert.equal(run('{{range $e := .}}{{$e}}{{end}}', ['a', 'b']), 'ab');
  assert.equal(run('{{range $k, $v := .}}{{$k}}:{{$v}} {{end}}', { b: 2, a: 1, C: 3, é: 4 }), 'C:3 a:1 b:2 é:4 ');
  assert.equal(run('{{range .}}{{.}}{{end}}', { z: 'Z', y: 'Y' }), 'YZ');
  assert.equal(run('{{range 3}}{{.}}{{end}}'), '012');
  assert.equal(run('{{range $i := 2}}{{$i}}{{end}}'), '01');
  assert.equal(run('{{range .}}x{{else}}empty{{end}}', []), 'empty');
  assert.equal(run('{{range .}}x{{else}}empty{{end}}', {}), 'empty');
  assert.equal(run('{{range .Missing}}x{{else}}empty{{end}}', {}), 'empty');
  assert.equal(run('{{range .}}x{{else}}empty{{end}}', null), 'empty');
  assert.equal(run('{{range 0}}x{{else}}empty{{end}}'), 'empty');
  fails('{{range .}}{{end}}', 'str', /range can't iterate over str$/);
  fails('{{range $i, $e := 3}}{{end}}', {}, /can't use 3 to iterate over more than one variable/);
});

test('nested range with else and the $ root', () => {
  const data = {
    Name: 'root',
    Groups: [
      { G: 'a', Items: ['1', '2'] },
      { G: 'b', Items: [] },
    ],
  };
  const out = run('{{range .Groups}}{{.G}}:{{range .Items}}{{.}}@{{$.Name}},{{else}}none{{end}};{{else}}no groups{{end}}', data);
  assert.equal(out, 'a:1@root,2@root,;b:none;');
});

test('break and continue in range', () => {
  const t = '{{range $i, $e := .}}{{if eq $i 1}}{{continue}}{{end}}{{if eq $i 3}}{{break}}{{end}}{{$e}}{{end}}';
  assert.equal(run(t, ['a', 'b', 'c', 'd', 'e']), 'ac');
  // break leaves only the innermost range
  assert.equal(run('{{range .}}[{{range .}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}}]{{end}}', [[1, 2, 3], [4]]), '[1][4]');
  assert.throws(() => parseTemplate('{{break}}'), { message: 'template: :1: {{break}} outside {{range}}' });
  assert.throws(() => parseTemplate('{{range .}}{{else}}{{continue}}{{end}}'), { message: /{{continue}} outside {{range}}/ });
});

test('variables: declaration, assignment, scope', () => {
  assert.equal(run('{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}'), '2');
  assert.equal(run('{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}'), '21');
  assert.equal(run('{{$last := ""}}{{range .}}{{$last = .}}{{end}}{{$last}}', ['a', 'b']), 'b');
  assert.throws(() => parseTemplate('{{$x}}'), { message: 'template: :1: undefined variable "$x"' });
  assert.throws(() => parseTemplate('{{if true}}{{$y := 1}}{{end}}{{$y}}'), { message: /undefined variable "\$y"/ });
  fails('{{$z = 1}}', {}, /undefined variable: \$z/);
});

test('define, template and block', () => {
  assert.equal(run('{{define "T"}}<{{.}}>{{end}}{{template "T" "x"}}{{template "T" .}}', 'd'), '<x><d>');
  assert.equal(run('{{define "T"}}{{$}}{{end}}{{$v := 1}}{{template "T" 2}}'), '2');
  assert.equal(run('{{block "B" .}}[{{.}}]{{end}}', 'z'), '[z]');
  assert.throws(() => parseTemplate('{{define "B"}}x{{end}}{{block "B" .}}y{{end}}'), { message: 'template: :1: template: multiple definition of template "B"' });
  assert.equal(run('{{define "B"}} {{end}}{{block "B" .}}default{{end}}'), 'default'); // an empty definition may be replaced
  assert.deepEqual(parseTemplate('{{define "T"}}{{end}}x').templateNames(), ['', 'T']);
  fails('{{template "none"}}', {}, /template "none" not defined/);
  assert.throws(() => parseTemplate('{{define "a"}}x{{end}}{{define "a"}}y{{end}}'), { message: /multiple definition of template "a"/ });
  fails('{{define "R"}}{{template "R" .}}{{end}}{{template "R" .}}', {}, /exceeded maximum template depth/);
});

test('and, or, not: values and short-circuit', () => {
  assert.equal(run('{{and 1 2}} {{and 0 2}} {{or 0 ""}} {{or 0 "x"}} {{not ""}} {{not 1}}'), '2 0  x true false');
  let called = 0;
  const data = {
    Boom: () => {
      called++;
      throw new Error('boom');
    },
  };
  assert.equal(run('{{or 1 .Boom}} {{and 0 .Boom}}', data), '1 0');
  assert.equal(called, 0);
  fails('{{and 1 .Boom}}', data, 'template: :1:8: executing "" at <.Boom>: error calling Boom: boom');
});

test('comparisons', () => {
  assert.equal(run('{{eq 1 1}} {{eq "a" "b"}} {{eq .A "x" "y" "z"}} {{ne 1 2}}', { A: 'y' }), 'true false true true');
  assert.equal(run('{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}} {{lt "B" "a"}} {{lt 1.5 2}}'), 'true true true false true true');
  assert.equal(run('{{eq .Missing nil}} {{eq .N nil}} {{eq .S nil}}', { N: null, S: 's' }), 'true true false');
  assert.equal(run('{{eq 2 2.0}} {{lt 1 1.5}}'), 'true true'); // JS numbers compare by value
  fails('{{eq 1 "1"}}', {}, /error calling eq: incompatible types for comparison: int and string$/);
  fails('{{lt true false}}', {}, /invalid type for comparison/);
  fails('{{eq .L .L}}', { L: [1] }, /non-comparable type \[1\]: \[\]interface \{\}/);
  fails('{{eq 1}}', {}, /missing argument for comparison/);
});

test('len, index and slice count bytes for strings, as Go does', () => {
  assert.equal(run('{{len "héllo"}} {{len .L}} {{len .M}}', { L: [1, 2], M: { a: 1 } }), '6 2 1');
  assert.equal(run('{{index .L 1}} {{index .M "k"}} {{index .N "a" 1}} {{index "abc" 1}}', { L: [1, 2], M: { k: 'v' }, N: { a: [0, 9] } }), '2 v 9 98');
  assert.equal(run('{{index .Labels "missing"}}|{{index .Any "missing"}}', { Labels: { a: 'b' }, Any: { a: 1 } }), '|<nil>');
  assert.equal(run('{{slice .L 1}} {{slice .L 1 2}} {{slice .L}} {{slice "héllo" 1 3}} {{slice "abc" 1}}', { L: [1, 2, 3] }), '[2 3] [2] [1 2 3] é bc');
  fails('{{index .L 5}}', { L: [1] }, 'template: :1:2: executing "" at <index .L 5>: error calling index: index out of range: 5');
  fails('{{index .L "x"}}', { L: [1] }, /cannot index slice\/array with type string/);
  fails('{{slice .L 2 1}}', { L: [1, 2] }, /invalid slice index: 2 > 1/);
  fails('{{len 3}}', {}, /error calling len: len of type int/);
});

test('print, println and printf', () => {
  // Sprint puts spaces only between operands that are both non-strings.
  assert.equal(run('{{print 1 2 "a" "b" 3 nil 4}}'), '1 2ab3 <nil> 4');
  assert.equal(run('{{println 1 "a" nil}}'), '1 a <nil>\n');
  assert.equal(run('{{printf "%s|%d|%v|%q|%x|%t|%%" "s" 42 .L "q" "hi" true}}', { L: ['a', 'b'] }), 's|42|[a b]|"q"|6869|true|%');
  assert.equal(run('{{printf "%5s|%-5s|%.2s|%5.1f|%-8.2f|%05d|%+d|%x|%X|%o|%b|%c|%U"  "ab" "ab" "héllo" 3.14159 2.5 -42 5 255 255 8 5 65 9731}}'), '   ab|ab   |hé|  3.1|2.50    |-0042|+5|ff|FF|10|101|A|U+2603');
  assert.equal(run('{{printf "%*d|%-*d|%.*f" 4 1 4 2 2 3.14159}}'), '   1|2   |3.14');
  assert.equal(run('{{printf "%d %s"}}|{{printf "%d" 1 2}}|{{printf "%z" 1}}|{{printf "%d" "x"}}|{{printf "%s" nil}}'), '%!d(MISSING) %!s(MISSING)|1%!(EXTRA int=2)|%!z(int=1)|%!d(string=x)|%!s(<nil>)');
  assert.equal(run('{{printf "%v|%d|%s" 1.0 1.0 1}}'), '1|%!d(float64=1)|%!s(int=1)');
  assert.equal(run('{{printf "%T %T %T %T %T %T" 1 1.5 "s" true nil .L}}', { L: [] }), 'int float64 string bool <nil> []interface {}');
  // Rounding is exact and ties go to even, as in Go.
  assert.equal(run('{{printf "%.0f %.0f %.0f %.2f %.1f" 0.5 1.5 2.5 0.125 0.25}}'), '0 2 2 0.12 0.2');
  assert.equal(sprintf('%6.2f%%', [99.5]), ' 99.50%');
  // A JS integer may be an integral float64 in Go: float verbs format it.
  assert.equal(sprintf('%.2f', [2]), '2.00');
});

test('values print like Go prints JSON-decoded data', () => {
  const data = {
    M: { b: [1, 'x'], a: { z: null, y: true } },
    L: [1.5, 'x', true, null, { k: 'v' }],
    F: 1234567.5,
    Big: 1e21,
    G: new GoFloat(2),
    I: 9007199254740993n,
  };
  assert.equal(run('{{.M}}', data), 'map[a:map[y:true z:<nil>] b:[1 x]]');
  assert.equal(run('{{.L}}', data), '[1.5 x true <nil> map[k:v]]');
  assert.equal(run('{{.F}} {{.Big}} {{.G}} {{.I}} {{.Missing}}', data), '1.2345675e+06 1000000000000000000000 2 9007199254740993 <no value>');
  assert.equal(run('{{.}}', goStruct({ Name: 'n', Size: 2 }, 'T')), '{n 2}');
  assert.equal(run('{{printf "%+v" .}}', goStruct({ Name: 'n', Size: 2 }, 'T')), '{Name:n Size:2}');
});

test('methods on the dot: zero and one argument, getters, classes', () => {
  class Row {
    constructor(private readonly labels: Record<string, string>) {}
    get ID(): string {
      return 'abc';
    }
    Labels(): string {
      return Object.entries(this.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
    }
    Label(name: string): string {
      return this.labels[name] ?? '';
    }
  }
  const row = new Row({ 'com.example': 'x', b: 'y' });
  assert.equal(run('{{.ID}} {{.Labels}} {{.Label "com.example"}} [{{.Label "none"}}]', row), 'abc com.example=x,b=y x []');
  assert.equal(run('{{"b" | .Label}}', row), 'y');
  assert.equal(run('{{printf "%s" .Labels}}', row), 'com.example=x,b=y');
  fails('{{.Label}}', row, 'template: :1:2: executing "" at <.Label>: wrong number of args for Label: want 1 got 0');
  fails('{{.Labels "x"}}', row, /wrong number of args for Labels: want 0 got 1/);
  fails('{{.Bad}}', { Bad: () => { throw new FuncError('no data'); } }, 'template: :1:2: executing "" at <.Bad>: error calling Bad: no data');
  fails('{{.A "x"}}', { A: 1 }, /A is not a method but has arguments/);
});

test('docker functions: json', () => {
  assert.equal(run('{{json .}}', { b: 1, a: '<&>', c: [1.5, null], d: {} }), '{"b":1,"a":"<&>","c":[1.5,null],"d":{}}');
  assert.equal(run('{{json .}}', '\u2028\x01\b\t"\\'), '"\\u2028\\u0001\\b\\t\\"\\\\"');
  assert.equal(run('{{json 1e21}} {{json 0.0000001}} {{json 100000000000.0}} {{json nil}} {{json .Missing}}'), '1e+21 1e-7 100000000000 null null');
  fails('{{json .}}', NaN, /error calling json: json: unsupported value: NaN/);
});

test('docker functions: split, join, title, lower, upper, pad, truncate', () => {
  assert.equal(run('{{split "a,b,c" ","}} {{len (split "" ",")}} {{split "ab" ""}}'), '[a b c] 1 [a b]');
  assert.equal(run('{{join (split "a,b" ",") ", "}} {{join .L "-"}} {{join .M "+"}}', { L: [1, 'x'], M: { b: 'y', a: 'z' } }), 'a, b 1-x y+z');
  assert.equal(run('{{title "hello wORLD foo-bar é_x"}}|{{upper "straße"}}|{{lower "ÀÉİ"}}'), 'Hello WORLD Foo-Bar É_x|STRAßE|àéi');
  assert.equal(run('[{{pad "x" 1 2}}][{{pad "" 1 2}}]'), '[ x  ][]');
  assert.equal(run('{{truncate "abcdef" 3}}|{{truncate "ab" 5}}|{{truncate "abc" 3}}'), 'abc|ab|abc');
  // docker cuts bytes: a split character shows as U+FFFD, as the terminal would show the bytes docker writes.
  assert.equal(run('{{truncate "héllo" 2}}|{{truncate "日本語" 3}}'), 'h\ufffd|日');
  fails('{{truncate "abc" 1.5}}', {}, /expected integer; found 1.5/);
  fails('{{upper 1}}', {}, /expected string; found 1/);
  fails('{{upper .N}}', { N: 1 }, /wrong type for value; expected string; got int/);
});

test('html, js, urlquery and call', () => {
  assert.equal(run(`{{html "<a href=\\"x\\">&'"}}`), '&lt;a href=&#34;x&#34;&gt;&amp;&#39;');
  assert.equal(run(`{{js "<a='b'>"}}`), "\\u003Ca\\u003D\\'b\\'\\u003E");
  assert.equal(run('{{urlquery "a b&c=d/é~"}}'), 'a+b%26c%3Dd%2F%C3%A9~');
  assert.equal(run('{{call .F 2 3}}', { F: (a: number, b: number) => a * b }), '6');
  fails('{{call .F 1}}', { F: (a: number, b: number) => a + b }, /error calling call: wrong number of args for .F: got 1 want 2/);
  fails('{{call .X}}', { X: 1 }, /error calling call: non-function .X of type int/);
});

test('extra functions and execution-time overrides', () => {
  const t = parseTemplate('{{shout .}}|{{upper .}}', { funcs: { shout: (s: string) => `${s}!` } });
  assert.equal(t.execute('hi'), 'hi!|HI');
  assert.equal(t.execute('hi', { funcs: { upper: (s: string) => `<${s}>` } }), 'hi!|<hi>');
  assert.throws(() => parseTemplate('{{shout .}}'), { message: 'template: :1: function "shout" not defined' });
});

test('parse errors match Go', () => {
  const cases: Array<[string, string]> = [
    ['{{.Foo', 'unclosed action'],
    ['{{if .X}}', 'unexpected EOF'],
    ['{{end}}', 'unexpected {{end}}'],
    ['{{else}}', 'unexpected {{else}}'],
    ['{{}}', 'missing value for command'],
    ['{{.X | "a"}}', 'non executable command in pipeline stage 2'],
    ['{{(1}}', 'unclosed left paren'],
    ['{{)}}', 'unexpected right paren'],
    ['{{.X.}}', 'unexpected <.> in operand'],
    ['{{"abc}}', 'unterminated quoted string'],
    ['{{3x}}', 'bad number syntax: "3x"'],
    ['{{/* x', 'unclosed comment'],
    ['{{range $i, $e, $f := .}}{{end}}', 'too many declarations in range'],
    ['{{@}}', 'unexpected "@" in command'],
    ['{{"\\q"}}', 'invalid syntax'],
    ['{{if 1}}{{else}}{{else}}{{end}}', 'expected end; found {{else}}'],
    ['{{nil.X}}', 'unexpected . after term "nil"'],
  ];
  for (const [text, msg] of cases) assert.throws(() => parseTemplate(text), { name: 'TemplateError', message: `template: :1: ${msg}` }, text);
  assert.throws(() => parseTemplate('a\nb\n{{.X'), { message: 'template: :3: unclosed action' });
  assert.throws(() => parseTemplate('{{if 1}}\n{{else}}\n{{end'), { message: 'template: :3: unclosed action' });
});

test('an execution error keeps the output written before it', () => {
  try {
    run('before {{.A.B}} after', { A: 1 });
    assert.fail('no error');
  } catch (e) {
    assert.ok(e instanceof TemplateError);
    assert.equal(e.output, 'before ');
  }
});

test('fieldsUsed lists the top-level fields a format reads', () => {
  const t = parseTemplate('{{.ID}} {{if .Size}}{{$.Labels}}{{end}}{{range .Mounts}}{{.Inner}}{{end}}{{len (.Label "x")}}');
  assert.deepEqual([...t.fieldsUsed()].sort(), ['ID', 'Inner', 'Label', 'Labels', 'Mounts', 'Size']);
});
