// Parser for text/template, following text/template/parse/parse.go so that
// the accepted language and the parse errors ("template: :1: unexpected
// EOF") match Go's.

import { lex, tokenString, type Token, type TokenType } from './template-lex.js';
import { quote } from './template-strconv.js';
import { ParseFailure, newNumber, unquote } from './template-literals.js';
import {
  TemplateError,
  nodeString,
  type ArgNode,
  type BranchNode,
  type BreakNode,
  type CommandNode,
  type ControlNode,
  type ItemNode,
  type ListNode,
  type Node,
  type PipeNode,
  type TemplateNode,
} from './template-ast.js';

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
