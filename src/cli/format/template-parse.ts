// Parser for text/template, following text/template/parse/parse.go so that
// the accepted language and the parse errors ("template: :1: unexpected
// EOF") match Go's.

import { lex, tokenString, type Token, type TokenType } from './template-lex.js';
import { quote } from './template-fmt.js';

// ---------------------------------------------------------------------------
// Nodes

export interface ListNode {
  type: 'list';
  pos: number;
  nodes: Node[];
}
export interface TextNode {
  type: 'text';
  pos: number;
  text: string;
}
export interface ActionNode {
  type: 'action';
  pos: number;
  line: number;
  pipe: PipeNode;
}
export interface PipeNode {
  type: 'pipe';
  pos: number;
  line: number;
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}
export interface CommandNode {
  type: 'command';
  pos: number;
  args: ArgNode[];
}
export interface FieldNode {
  type: 'field';
  pos: number;
  ident: string[];
}
export interface VariableNode {
  type: 'variable';
  pos: number;
  ident: string[];
}
export interface ChainNode {
  type: 'chain';
  pos: number;
  node: ArgNode;
  field: string[];
}
export interface IdentifierNode {
  type: 'identifier';
  pos: number;
  ident: string;
}
export interface DotNode {
  type: 'dot';
  pos: number;
}
export interface NilNode {
  type: 'nil';
  pos: number;
}
export interface BoolNode {
  type: 'bool';
  pos: number;
  value: boolean;
}
export interface NumberNode {
  type: 'number';
  pos: number;
  text: string;
  isInt: boolean; // fits an int64
  isUint: boolean; // fits a uint64
  isFloat: boolean;
  int: number | bigint; // valid if isInt
  float: number; // valid if isFloat
}
export interface StringNode {
  type: 'string';
  pos: number;
  quoted: string;
  text: string;
}
export interface BranchNode {
  type: 'if' | 'range' | 'with';
  pos: number;
  line: number;
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | undefined;
}
export interface TemplateNode {
  type: 'template';
  pos: number;
  line: number;
  name: string;
  pipe: PipeNode | undefined;
}
export interface BreakNode {
  type: 'break' | 'continue';
  pos: number;
  line: number;
}
/** {{else}} and {{end}} exist only while parsing. */
interface ElseNode {
  type: 'else';
  pos: number;
  line: number;
}
interface EndNode {
  type: 'end';
  pos: number;
  line: number;
}
type ControlNode = ElseNode | EndNode;

export type ArgNode =
  | FieldNode
  | ChainNode
  | IdentifierNode
  | PipeNode
  | VariableNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode;
export type Node = ListNode | TextNode | ActionNode | BranchNode | TemplateNode | BreakNode | PipeNode | CommandNode | ArgNode;
type ItemNode = ListNode | TextNode | ActionNode | BranchNode | TemplateNode | BreakNode;

/** Go's Node.String(): how a node is quoted in error messages. */
export function nodeString(n: Node | ControlNode): string {
  switch (n.type) {
    case 'list':
      return n.nodes.map(nodeString).join('');
    case 'text':
      return n.text;
    case 'action':
      return `{{${nodeString(n.pipe)}}}`;
    case 'pipe': {
      let s = '';
      if (n.decl.length > 0) s = n.decl.map(nodeString).join(', ') + (n.isAssign ? ' = ' : ' := ');
      return s + n.cmds.map(nodeString).join(' | ');
    }
    case 'command':
      return n.args.map((a) => (a.type === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case 'field':
      return '.' + n.ident.join('.');
    case 'variable':
      return n.ident.join('.');
    case 'chain':
      return (n.node.type === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node)) + n.field.map((f) => '.' + f).join('');
    case 'identifier':
      return n.ident;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return String(n.value);
    case 'number':
      return n.text;
    case 'string':
      return n.quoted;
    case 'if':
    case 'range':
    case 'with': {
      let s = `{{${n.type} ${nodeString(n.pipe)}}}${nodeString(n.list)}`;
      if (n.elseList) s += `{{else}}${nodeString(n.elseList)}`;
      return s + '{{end}}';
    }
    case 'template':
      return n.pipe ? `{{template ${quote(n.name)} ${nodeString(n.pipe)}}}` : `{{template ${quote(n.name)}}}`;
    case 'break':
      return '{{break}}';
    case 'continue':
      return '{{continue}}';
    case 'else':
      return '{{else}}';
    case 'end':
      return '{{end}}';
  }
}

// ---------------------------------------------------------------------------
// Errors

export class TemplateError extends Error {
  /**
   * @param output what an execution had written before it failed (Go's
   *   Execute leaves it in the writer; docker prints it for table headers)
   */
  constructor(
    message: string,
    readonly output = '',
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** Thrown inside the parser; carries the message without the "template: name:line:" prefix. */
class ParseFailure {
  constructor(readonly message: string) {}
}

// ---------------------------------------------------------------------------
// Literals

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };

const decoder = new TextDecoder();

/**
 * strconv.UnquoteChar: one possibly escaped character of a quoted literal.
 * Returns [value, isByte, rest] where isByte marks \x and octal escapes,
 * which denote raw bytes rather than code points.
 */
function unquoteChar(s: string, i: number, q: string): [value: number, isByte: boolean, next: number] | null {
  const c = s.codePointAt(i);
  if (c === undefined) return null;
  if (String.fromCodePoint(c) === q && (q === "'" || q === '"')) return null;
  if (c !== 0x5c) return [c, false, i + (c > 0xffff ? 2 : 1)];
  const e = s[i + 1];
  if (e === undefined) return null;
  if (e in SIMPLE_ESCAPES) return [SIMPLE_ESCAPES[e], false, i + 2];
  const hexDigits = (n: number): number | null => {
    const h = s.slice(i + 2, i + 2 + n);
    if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) return null;
    return parseInt(h, 16);
  };
  switch (e) {
    case 'x': {
      const v = hexDigits(2);
      return v === null ? null : [v, true, i + 4];
    }
    case 'u':
    case 'U': {
      const n = e === 'u' ? 4 : 8;
      const v = hexDigits(n);
      if (v === null || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return null;
      return [v, false, i + 2 + n];
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      const o = s.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(o)) return null;
      const v = parseInt(o, 8);
      return v > 255 ? null : [v, true, i + 4];
    }
    case "'":
    case '"':
      if (e !== q) return null;
      return [e.charCodeAt(0), false, i + 2];
  }
  return null;
}

/** strconv.Unquote for "..." and `...` literals; null on invalid syntax. */
function unquote(lit: string): string | null {
  if (lit.length < 2) return null;
  const q = lit[0];
  if (lit[lit.length - 1] !== q) return null;
  const body = lit.slice(1, -1);
  if (q === '`') return body.includes('`') ? null : body.replaceAll('\r', '');
  if (q !== '"') return null;
  if (!body.includes('\\')) return body.includes('"') ? null : body;
  let out = '';
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length > 0) {
      out += decoder.decode(new Uint8Array(bytes));
      bytes = [];
    }
  };
  for (let i = 0; i < body.length; ) {
    const r = unquoteChar(body, i, q);
    if (!r) return null;
    const [v, isByte, next] = r;
    if (isByte && v >= 0x80) bytes.push(v);
    else {
      flush();
      out += String.fromCodePoint(v);
    }
    i = next;
  }
  flush();
  return out;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** Valid use of underscores in a number literal, per Go's underscoreOK. */
function underscoreOK(s: string): boolean {
  if (!s.includes('_')) return true;
  let i = 0;
  if (s[0] === '+' || s[0] === '-') i++;
  let saw = '^'; // ^ start, 0 digit or prefix, _ underscore, ! other
  let hex = false;
  if (s.length - i >= 2 && s[i] === '0' && 'bBoOxX'.includes(s[i + 1])) {
    hex = s[i + 1] === 'x' || s[i + 1] === 'X';
    i += 2;
    saw = '0';
  }
  for (; i < s.length; i++) {
    const c = s[i];
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** strconv.ParseInt(s, 0, 64)-style parsing into a bigint, or null. */
function parseGoInt(text: string): bigint | null {
  if (!underscoreOK(text)) return null;
  let s = text.replaceAll('_', '');
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  let base = 10;
  if (/^0[xX]/.test(s)) {
    base = 16;
    s = s.slice(2);
  } else if (/^0[oO]/.test(s)) {
    base = 8;
    s = s.slice(2);
  } else if (/^0[bB]/.test(s)) {
    base = 2;
    s = s.slice(2);
  } else if (s.length > 1 && s[0] === '0') {
    base = 8;
    s = s.slice(1);
  }
  const re = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (!re.test(s)) return null;
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
  const v = BigInt(prefix + s);
  return neg ? -v : v;
}

/** strconv.ParseFloat(s, 64) for decimal and hexadecimal literals, or null. */
function parseGoFloat(text: string): number | null {
  if (!underscoreOK(text)) return null;
  const s = text.replaceAll('_', '');
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/.exec(s);
  if (hex) {
    const [, sign, int, frac = '', exp] = hex;
    if (int === '' && frac === '') return null;
    const mant = Number(BigInt('0x' + (int + frac || '0')));
    const v = mant * 2 ** (Number(exp) - 4 * frac.length);
    return sign === '-' ? -v : v;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return null;
  return Number(s);
}

function newNumber(pos: number, text: string, typ: TokenType): NumberNode {
  const n: NumberNode = { type: 'number', pos, text, isInt: false, isUint: false, isFloat: false, int: 0, float: 0 };
  if (typ === 'charConstant') {
    const r = unquoteChar(text, 1, "'");
    if (!r || r[2] !== text.length - 1) {
      if (r && text[r[2]] !== "'") throw new ParseFailure(`malformed character constant: ${text}`);
      throw new ParseFailure('invalid syntax');
    }
    n.isInt = n.isUint = n.isFloat = true;
    n.int = r[0];
    n.float = r[0];
    return n;
  }
  if (typ === 'complex' || text.endsWith('i')) throw new ParseFailure(`complex numbers are not supported: ${quote(text)}`);
  const i = parseGoInt(text);
  if (i !== null) {
    if (i >= 0n && i <= UINT64_MAX) n.isUint = true;
    if (i >= INT64_MIN && i <= INT64_MAX) {
      n.isInt = true;
      n.int = i >= BigInt(Number.MIN_SAFE_INTEGER) && i <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(i) : i;
    }
  }
  if (n.isInt || n.isUint) {
    n.isFloat = true;
    n.float = Number(i);
  } else {
    const f = parseGoFloat(text);
    if (f !== null) {
      // Looks like an integer but did not fit: Go calls that overflow.
      if (!/[.eEpP]/.test(text)) throw new ParseFailure(`integer overflow: ${quote(text)}`);
      n.isFloat = true;
      n.float = f;
      if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) {
        n.isInt = true;
        n.int = Number.isSafeInteger(f) ? f : BigInt(f);
      }
      if (Number.isInteger(f) && f >= 0 && f < 2 ** 64) n.isUint = true;
    }
  }
  if (!n.isInt && !n.isUint && !n.isFloat) throw new ParseFailure(`illegal number syntax: ${quote(text)}`);
  return n;
}

// ---------------------------------------------------------------------------
// Parser

/** Deepest nesting of parentheses and blocks accepted (Go allows more; JS stacks are smaller). */
const MAX_DEPTH = 1000;

export interface ParsedTemplates {
  /** Trees by template name; the top-level one is under the name given to parse. */
  trees: Map<string, ListNode>;
}

function isEmptyTree(n: Node): boolean {
  if (n.type === 'list') return n.nodes.every(isEmptyTree);
  if (n.type === 'text') return n.text.trim() === '';
  return false;
}

class Parser {
  private idx = 0;
  private furthest = 0; // the last token read, which Go's errors take the line from
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private depth = 0;
  private actionLine = 0;

  constructor(
    private readonly name: string,
    private readonly tokens: Token[],
    private readonly hasFunction: (name: string) => boolean,
    private readonly trees: Map<string, ListNode>,
  ) {}

  // -- token stream

  private next(): Token {
    const t = this.tokens[Math.min(this.idx, this.tokens.length - 1)];
    if (this.idx > this.furthest) this.furthest = this.idx;
    this.idx++;
    return t;
  }

  private backup(n = 1): void {
    this.idx -= n;
  }

  private peek(): Token {
    const t = this.next();
    this.backup();
    return t;
  }

  private nextNonSpace(): Token {
    let t: Token;
    do t = this.next();
    while (t.typ === 'space');
    return t;
  }

  private peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  // -- errors

  errorf(msg: string): never {
    throw new ParseFailure(msg);
  }

  /** The line Go reports: that of the last token taken from the lexer. */
  errorLine(): number {
    return this.tokens[Math.min(this.furthest, this.tokens.length - 1)].line;
  }

  private expect(typ: TokenType, context: string): Token {
    const t = this.nextNonSpace();
    if (t.typ !== typ) this.unexpected(t, context);
    return t;
  }

  private unexpected(t: Token, context: string): never {
    if (t.typ === 'error') {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== t.line) {
        extra = ` in action started at ${this.name}:${this.actionLine}`;
        if (t.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(t.val + extra);
    }
    this.errorf(`unexpected ${tokenString(t)} in ${context}`);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.errorf('max expression depth exceeded');
  }

  // -- grammar

  parse(): ListNode {
    const root: ListNode = { type: 'list', pos: this.peek().pos, nodes: [] };
    while (this.peek().typ !== 'eof') {
      if (this.peek().typ === 'leftDelim') {
        const at = this.idx;
        this.next();
        if (this.nextNonSpace().typ === 'define') {
          this.parseDefinition();
          continue;
        }
        this.idx = at;
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${nodeString(n)}`);
      root.nodes.push(n);
    }
    return root;
  }

  private add(name: string, root: ListNode): void {
    const existing = this.trees.get(name);
    if (!existing || isEmptyTree(existing)) {
      this.trees.set(name, root);
      return;
    }
    if (!isEmptyTree(root)) this.errorf(`template: multiple definition of template ${quote(name)}`);
  }

  /** Parses a nested template body ({{define}} or {{block}}) with fresh variables. */
  private subTree(context: string): ListNode {
    const vars = this.vars;
    const rangeDepth = this.rangeDepth;
    this.vars = ['$'];
    this.rangeDepth = 0;
    try {
      const [list, end] = this.itemList();
      if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
      return list;
    } finally {
      this.vars = vars;
      this.rangeDepth = rangeDepth;
    }
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const t = this.nextNonSpace();
    if (t.typ !== 'string' && t.typ !== 'rawString') this.unexpected(t, context);
    const name = unquote(t.val);
    if (name === null) this.errorf('invalid syntax');
    this.expect('rightDelim', context);
    this.add(name, this.subTree(context));
  }

  private itemList(): [ListNode, ControlNode] {
    const list: ListNode = { type: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().typ !== 'eof') {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): ItemNode | ControlNode {
    const t = this.nextNonSpace();
    if (t.typ === 'text') return { type: 'text', pos: t.pos, text: t.val };
    if (t.typ === 'leftDelim') {
      this.actionLine = t.line;
      try {
        return this.action();
      } finally {
        this.actionLine = 0;
      }
    }
    this.unexpected(t, 'input');
  }

  private action(): ItemNode | ControlNode {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case 'block':
        return this.blockControl();
      case 'break':
      case 'continue':
        return this.breakControl(t);
      case 'else':
        return this.elseControl();
      case 'end':
        return { type: 'end', pos: this.expect('rightDelim', 'end').pos, line: t.line };
      case 'if':
      case 'range':
      case 'with':
        return this.branchControl(t.typ);
      case 'template':
        return this.templateControl();
    }
    this.backup();
    const p = this.peek();
    // Variables declared here persist until the enclosing {{end}}.
    return { type: 'action', pos: p.pos, line: p.line, pipe: this.pipeline('command', 'rightDelim') };
  }

  private breakControl(t: Token): BreakNode {
    const kw = t.typ as 'break' | 'continue';
    const n = this.nextNonSpace();
    if (n.typ !== 'rightDelim') this.unexpected(n, `{{${kw}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${kw}}} outside {{range}}`);
    return { type: kw, pos: t.pos, line: t.line };
  }

  private elseControl(): ControlNode {
    const p = this.peekNonSpace();
    // {{else if ...}} and {{else with ...}} leave the keyword for branchControl.
    if (p.typ === 'if' || p.typ === 'with') return { type: 'else', pos: p.pos, line: p.line };
    const t = this.expect('rightDelim', 'else');
    return { type: 'else', pos: t.pos, line: t.line };
  }

  private branchControl(context: 'if' | 'range' | 'with'): BranchNode {
    const nvars = this.vars.length;
    this.enter();
    try {
      const pipe = this.pipeline(context, 'rightDelim');
      if (context === 'range') this.rangeDepth++;
      let [list, next] = this.itemList();
      if (context === 'range') this.rangeDepth--;
      let elseList: ListNode | undefined;
      if (next.type === 'else') {
        // {{if a}}x{{else if b}}y{{end}} is {{if a}}x{{else}}{{if b}}y{{end}}{{end}}
        const p = this.peek();
        if ((context === 'if' && p.typ === 'if') || (context === 'with' && p.typ === 'with')) {
          this.next();
          elseList = { type: 'list', pos: next.pos, nodes: [this.branchControl(context)] };
        } else {
          [elseList, next] = this.itemList();
          if (next.type !== 'end') this.errorf(`expected end; found ${nodeString(next)}`);
        }
      }
      return { type: context, pos: pipe.pos, line: pipe.line, pipe, list, elseList };
    } finally {
      this.vars.length = nvars;
      this.depth--;
    }
  }

  private templateName(t: Token, context: string): string {
    if (t.typ !== 'string' && t.typ !== 'rawString') this.unexpected(t, context);
    const name = unquote(t.val);
    if (name === null) this.errorf('invalid syntax');
    return name;
  }

  private blockControl(): TemplateNode {
    const context = 'block clause';
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    const pipe = this.pipeline(context, 'rightDelim');
    this.enter();
    try {
      this.add(name, this.subTree(context));
    } finally {
      this.depth--;
    }
    return { type: 'template', pos: t.pos, line: t.line, name, pipe };
  }

  private templateControl(): TemplateNode {
    const context = 'template clause';
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    let pipe: PipeNode | undefined;
    if (this.nextNonSpace().typ !== 'rightDelim') {
      this.backup();
      pipe = this.pipeline(context, 'rightDelim');
    }
    return { type: 'template', pos: t.pos, line: t.line, name, pipe };
  }

  private pipeline(context: string, end: TokenType): PipeNode {
    const t = this.peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', pos: t.pos, line: t.line, isAssign: false, decl: [], cmds: [] };
    // Declarations or assignments: $x := ..., $i, $e := ...
    for (;;) {
      const v = this.peekNonSpace();
      if (v.typ !== 'variable') break;
      const vAt = this.idx;
      this.nextNonSpace();
      const next = this.peekNonSpace();
      if (next.typ === 'assign' || next.typ === 'declare') {
        pipe.isAssign = next.typ === 'assign';
        this.nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: v.pos, ident: [v.val] });
        this.vars.push(v.val);
        break;
      }
      if (next.typ === 'char' && next.val === ',') {
        this.nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: v.pos, ident: [v.val] });
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = this.peekNonSpace().typ;
          if (p === 'variable' || p === 'rightDelim' || p === 'rightParen') continue;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      }
      // Not a declaration: $x is the first operand.
      this.idx = vAt;
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.typ === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (t.typ) {
        case 'bool':
        case 'charConstant':
        case 'complex':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      switch (c.args[0].type) {
        case 'bool':
        case 'dot':
        case 'nil':
        case 'number':
        case 'string':
          this.errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.typ === 'space') continue;
      if (t.typ === 'rightDelim' || t.typ === 'rightParen') this.backup();
      else if (t.typ !== 'pipe') this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): ArgNode | null {
    let node = this.term();
    if (!node) return null;
    if (this.peek().typ === 'field') {
      const pos = this.peek().pos;
      const fields: string[] = [];
      while (this.peek().typ === 'field') fields.push(this.next().val.slice(1));
      const t = node.type;
      if (t === 'bool' || t === 'string' || t === 'number' || t === 'nil' || t === 'dot') {
        this.errorf(`unexpected . after term ${quote(nodeString(node))}`);
      }
      if (node.type === 'field') node = { type: 'field', pos, ident: [...node.ident, ...fields] };
      else if (node.type === 'variable') node = { type: 'variable', pos, ident: [...node.ident, ...fields] };
      else node = { type: 'chain', pos, node, field: fields };
    }
    return node;
  }

  private term(): ArgNode | null {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case 'identifier':
        if (!this.hasFunction(t.val)) this.errorf(`function ${quote(t.val)} not defined`);
        return { type: 'identifier', pos: t.pos, ident: t.val };
      case 'dot':
        return { type: 'dot', pos: t.pos };
      case 'nil':
        return { type: 'nil', pos: t.pos };
      case 'variable': {
        const ident = t.val.split('.');
        if (!this.vars.includes(ident[0])) this.errorf(`undefined variable ${quote(ident[0])}`);
        return { type: 'variable', pos: t.pos, ident };
      }
      case 'field':
        return { type: 'field', pos: t.pos, ident: t.val.slice(1).split('.') };
      case 'bool':
        return { type: 'bool', pos: t.pos, value: t.val === 'true' };
      case 'charConstant':
      case 'complex':
      case 'number':
        return newNumber(t.pos, t.val, t.typ);
      case 'leftParen': {
        this.enter();
        try {
          return this.pipeline('parenthesized pipeline', 'rightParen');
        } finally {
          this.depth--;
        }
      }
      case 'string':
      case 'rawString': {
        const s = unquote(t.val);
        if (s === null) this.errorf('invalid syntax');
        return { type: 'string', pos: t.pos, quoted: t.val, text: s };
      }
    }
    this.backup();
    return null;
  }
}

/**
 * Parses a template. Returns the trees of the top-level template (under
 * `name`) and of every {{define}}/{{block}} in it. Throws TemplateError with
 * Go's message, e.g. `template: :1: function "nope" not defined`.
 */
export function parse(name: string, text: string, hasFunction: (name: string) => boolean): ParsedTemplates {
  const trees = new Map<string, ListNode>();
  const p = new Parser(name, lex(text), hasFunction, trees);
  try {
    const root = p.parse();
    const existing = trees.get(name);
    if (!existing || isEmptyTree(existing)) trees.set(name, root);
    else if (!isEmptyTree(root)) p.errorf(`template: multiple definition of template ${quote(name)}`);
  } catch (e) {
    if (e instanceof ParseFailure) throw new TemplateError(`template: ${name}:${p.errorLine()}: ${e.message}`);
    if (e instanceof RangeError) throw new TemplateError(`template: ${name}: template is nested too deeply`);
    throw e;
  }
  return { trees };
}
