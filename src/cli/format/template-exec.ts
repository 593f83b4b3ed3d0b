// Executes parsed templates against JS data, following text/template's
// exec.go: field and method evaluation, pipelines, variables, control
// structures, and Go's error messages ("template: :1:2: executing "" at
// <.Foo>: ..."). See template-value.ts for how JS values stand in for Go's.

import { fieldValue, formatValue } from './template-fmt.js';
import { quote } from './template-strconv.js';
import { BUILTINS, toSpec, zeroValueOf, type FuncMap, type FuncSpec, type ParamType } from './template-funcs.js';
import {
  nodeString,
  TemplateError,
  type ArgNode,
  type BranchNode,
  type ChainNode,
  type CommandNode,
  type FieldNode,
  type IdentifierNode,
  type ListNode,
  type Node,
  type NumberNode,
  type PipeNode,
  type TemplateNode,
  type VariableNode,
} from './template-ast.js';
import { GoFloat, byteLength, hasField, isExported, isTrue, kindOf, sortedKeys, toBigInt, typeName } from './template-value.js';

/** What a missing map key yields: Go's missingkey=default ("<no value>"), =zero, or =error. */
export type MissingKey = 'default' | 'zero' | 'error';

/** Deepest {{template}} recursion (Go allows 100000; JS stacks are smaller). */
const MAX_EXEC_DEPTH = 1000;

const MISSING: unique symbol = Symbol('missing');
type Final = unknown;

/** break/continue unwind to their range through exceptions, as in Go. */
const BREAK = { signal: 'break' };
const CONTINUE = { signal: 'continue' };

/** An execution error, already formatted like Go's. */
class ExecFailure {
  constructor(readonly message: string) {}
}

interface Variable {
  name: string;
  value: unknown;
}

export interface ResolvedFunc {
  spec: FuncSpec;
  builtin: boolean;
}

export interface ExecEnv {
  /** Template source, for error positions. */
  text: string;
  /** Name given at parse time: the "template: NAME:1:2" part of errors. */
  parseName: string;
  trees: ReadonlyMap<string, ListNode>;
  lookup: (name: string) => ResolvedFunc | undefined;
  missingKey: MissingKey;
}

const PARAM_TYPE_NAMES: Readonly<Record<ParamType, string>> = {
  any: 'interface {}',
  value: 'reflect.Value',
  string: 'string',
  int: 'int',
  bool: 'bool',
};

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Converts a function map to specs once; maps are reused across executions. */
const specCache = new WeakMap<FuncMap, Map<string, FuncSpec>>();
export function specsOf(funcs: FuncMap): Map<string, FuncSpec> {
  let m = specCache.get(funcs);
  if (!m) {
    m = new Map(Object.entries(funcs).map(([k, f]) => [k, toSpec(f)]));
    specCache.set(funcs, m);
  }
  return m;
}

/** The line and byte column Go reports for a position in the template text. */
function location(text: string, pos: number): [line: number, col: number] {
  const before = text.slice(0, pos);
  const nl = before.lastIndexOf('\n');
  let line = 1;
  for (let i = 0; i < before.length; i++) if (before.charCodeAt(i) === 0x0a) line++;
  return [line, byteLength(before.slice(nl + 1))];
}

class State {
  out = '';
  vars: Variable[] = [];
  node: Node | undefined;
  depth = 0;

  constructor(
    private readonly env: ExecEnv,
    private tmplName: string,
  ) {}

  // -- errors

  errorf(msg: string): never {
    const name = this.tmplName;
    if (!this.node) throw new ExecFailure(`template: ${name}: ${msg}`);
    const [line, col] = location(this.env.text, this.node.pos);
    throw new ExecFailure(`template: ${this.env.parseName}:${line}:${col}: executing ${quote(name)} at <${nodeString(this.node)}>: ${msg}`);
  }

  at(n: Node): void {
    this.node = n;
  }

  // -- variables

  private push(name: string, value: unknown): void {
    this.vars.push({ name, value });
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i].name === name) {
        this.vars[i].value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private setTopVar(n: number, value: unknown): void {
    this.vars[this.vars.length - n].value = value;
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i].value;
    this.errorf(`undefined variable: ${name}`);
  }

  // -- walking

  walk(dot: unknown, node: Node): void {
    this.at(node);
    switch (node.type) {
      case 'action': {
        // Declared variables persist until the enclosing {{end}}; declarations print nothing.
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'if':
      case 'with':
        this.walkIfOrWith(dot, node);
        return;
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'template':
        this.walkTemplate(dot, node);
        return;
      case 'text':
        this.out += node.text;
        return;
      default:
        this.errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  private walkIfOrWith(dot: unknown, n: BranchNode): void {
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, n.pipe);
      if (isTrue(val)) this.walk(n.type === 'with' ? val : dot, n.list);
      else if (n.elseList) this.walk(dot, n.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private walkRange(dot: unknown, r: BranchNode): void {
    this.at(r);
    const mark0 = this.vars.length;
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.vars.length; // before any variable of the body
      const decl = r.pipe.decl;
      const oneIteration = (index: unknown, elem: unknown): void => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0].ident[0], decl.length > 1 ? index : elem);
          else this.setTopVar(1, elem); // lexically the last variable gets the element
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1].ident[0], elem);
          else this.setTopVar(2, index);
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e !== CONTINUE) throw e;
        } finally {
          this.vars.length = mark;
        }
      };
      let ran = false;
      switch (kindOf(val)) {
        case 'slice': {
          const a = val as unknown[];
          for (let i = 0; i < a.length; i++) {
            ran = true;
            oneIteration(i, a[i]);
          }
          break;
        }
        case 'map': {
          const o = val as Record<string, unknown>;
          for (const k of sortedKeys(o)) {
            ran = true;
            oneIteration(k, fieldValue(o, k));
          }
          break;
        }
        case 'int': {
          // Go 1.22+: range over an integer counts from 0.
          if (decl.length > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
          const n = toBigInt(val);
          for (let i = 0n; i < n; i++) {
            ran = true;
            const v = i <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(i) : i;
            oneIteration(v, v);
          }
          break;
        }
        case 'invalid':
        case 'nil':
          break; // like an empty map
        default:
          this.errorf(`range can't iterate over ${formatValue(val)}`);
      }
      if (!ran && r.elseList) this.walk(dot, r.elseList);
    } catch (e) {
      if (e !== BREAK) throw e;
    } finally {
      this.vars.length = mark0;
    }
  }

  private walkTemplate(dot: unknown, t: TemplateNode): void {
    this.at(t);
    const tree = this.env.trees.get(t.name);
    if (!tree) this.errorf(`template ${quote(t.name)} not defined`);
    if (this.depth >= MAX_EXEC_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    const newDot = this.evalPipeline(dot, t.pipe);
    const saved = { vars: this.vars, name: this.tmplName };
    // No dynamic scoping: the invoked template sees only $.
    this.vars = [{ name: '$', value: newDot }];
    this.tmplName = t.name;
    this.depth++;
    try {
      this.walk(newDot, tree);
    } finally {
      this.depth--;
      this.vars = saved.vars;
      this.tmplName = saved.name;
    }
  }

  private printValue(n: Node, v: unknown): void {
    this.at(n);
    if (typeof v === 'function') this.errorf(`can't print ${nodeString(n)} of type func()`);
    this.out += formatValue(v);
  }

  // -- evaluation

  evalPipeline(dot: unknown, pipe: PipeNode | undefined): unknown {
    if (!pipe) return undefined;
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0], value);
      else this.push(v.ident[0], value);
    }
    return value;
  }

  private notAFunction(args: readonly ArgNode[] | null, final: Final): void {
    if ((args && args.length > 1) || final !== MISSING) {
      this.errorf(`can't give argument to non-function ${nodeString((args ?? [])[0] ?? this.node!)}`);
    }
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0];
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        return this.errorf('nil is not a command');
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
    }
  }

  /** A number literal where no type is expected: a float if written like one, else an int. */
  private idealConstant(n: NumberNode): unknown {
    this.at(n);
    // As Go's isHexInt: an unsigned hex literal (so -0x1E counts as a float: it contains an E).
    const isHexInt = /^0[xX]/.test(n.text) && !/[pP]/.test(n.text);
    if (n.isFloat && !isHexInt && n.text[0] !== "'" && /[.eEpP]/.test(n.text)) return new GoFloat(n.float);
    if (n.isInt) return n.int;
    this.errorf(`${n.text} overflows int`);
  }

  private evalFieldNode(dot: unknown, field: FieldNode, args: readonly ArgNode[] | null, final: Final): unknown {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: unknown, chain: ChainNode, args: readonly ArgNode[] | null, final: Final): unknown {
    this.at(chain);
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, 'value', chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: unknown, v: VariableNode, args: readonly ArgNode[] | null, final: Final): unknown {
    this.at(v);
    const value = this.varValue(v.ident[0]);
    if (v.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(dot: unknown, receiver: unknown, node: Node, ident: readonly string[], args: readonly ArgNode[] | null, final: Final): unknown {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, ident[i], node, null, MISSING, receiver);
    return this.evalField(dot, ident[n - 1], node, args, final, receiver);
  }

  private evalField(dot: unknown, name: string, node: Node, args: readonly ArgNode[] | null, final: Final, receiver: unknown): unknown {
    if (receiver === undefined) {
      if (this.env.missingKey === 'error') this.errorf(`nil data; no entry for key ${quote(name)}`);
      return undefined;
    }
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${name}`);
    const kind = kindOf(receiver);
    if (kind !== 'map' && kind !== 'struct') this.errorf(`can't evaluate field ${name} in type ${typeName(receiver)}`);
    const obj = receiver as Record<string, unknown>;
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    // Go reaches only exported (capitalised) fields and methods of a struct.
    if (kind === 'struct' && !isExported(name)) {
      if (hasField(obj, name)) this.errorf(`${name} is an unexported field of struct type ${typeName(receiver)}`);
      this.errorf(`can't evaluate field ${name} in type ${typeName(receiver)}`);
    }
    if (hasField(obj, name)) {
      let v: unknown;
      try {
        v = obj[name]; // may run a getter
      } catch (e) {
        this.errorf(`error calling ${name}: ${errorMessage(e)}`);
      }
      if (typeof v === 'function') {
        const method = v as (...a: unknown[]) => unknown;
        const spec: FuncSpec = { params: new Array<ParamType>(method.length).fill('any'), fn: (...a) => method.apply(obj, a) };
        return this.evalCall(dot, spec, false, node, name, args, final);
      }
      if (hasArgs) {
        if (kind === 'struct') this.errorf(`${name} has arguments but cannot be invoked as function`);
        this.errorf(`${name} is not a method but has arguments`);
      }
      return v;
    }
    if (kind === 'struct') this.errorf(`can't evaluate field ${name} in type ${typeName(receiver)}`);
    if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
    switch (this.env.missingKey) {
      case 'zero':
        return zeroValueOf(obj);
      case 'error':
        return this.errorf(`map has no entry for key ${quote(name)}`);
      default:
        return undefined;
    }
  }

  private evalFunction(dot: unknown, node: IdentifierNode, cmd: Node, args: readonly ArgNode[] | null, final: Final): unknown {
    this.at(node);
    const f = this.env.lookup(node.ident);
    if (!f) this.errorf(`${quote(node.ident)} is not a defined function`);
    return this.evalCall(dot, f.spec, f.builtin, cmd, node.ident, args, final);
  }

  private evalCall(dot: unknown, spec: FuncSpec, builtin: boolean, node: Node, name: string, args: readonly ArgNode[] | null, final: Final): unknown {
    const argNodes = args ? args.slice(1) : [];
    const numIn = argNodes.length + (final !== MISSING ? 1 : 0);
    const numFixed = spec.params.length;
    if (spec.variadic) {
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${argNodes.length}`);
    } else if (numIn !== numFixed) {
      this.errorf(`wrong number of args for ${name}: want ${numFixed} got ${numIn}`);
    }

    if (builtin && (spec.special === 'and' || spec.special === 'or')) {
      // Short-circuit: return the first false (and) or true (or) argument, else the last.
      const wantTruth = spec.special === 'or';
      let v: unknown;
      for (const a of argNodes) {
        v = this.evalArg(dot, 'value', a);
        if (isTrue(v) === wantTruth) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }

    if (builtin && spec.special === 'call') {
      // The callee is taken as a function value: a method named as
      // .Fn is not invoked first (JS has no func-valued fields apart
      // from methods).
      const [first, ...rest] = argNodes;
      const fn = first ? this.evalFuncValue(dot, first) : final;
      const callee = first ? nodeString(first) : formatValue(final);
      const argv = rest.map((a) => this.evalArg(dot, 'value', a));
      if (first && final !== MISSING) argv.push(final);
      return this.callFunction(node, callee, fn, argv);
    }

    const argv: unknown[] = [];
    let i = 0;
    for (; i < numFixed && i < argNodes.length; i++) argv.push(this.evalArg(dot, spec.params[i], argNodes[i]));
    if (spec.variadic) for (; i < argNodes.length; i++) argv.push(this.evalArg(dot, spec.variadic, argNodes[i]));
    if (final !== MISSING) {
      const t = spec.variadic && numIn - 1 >= numFixed ? spec.variadic : spec.params[numIn - 1];
      argv.push(this.validateType(final, t));
    }

    try {
      return spec.fn(...argv);
    } catch (e) {
      if (e instanceof ExecFailure || e === BREAK || e === CONTINUE) throw e;
      if (e instanceof RangeError && /call stack/.test(e.message)) throw e;
      this.at(node);
      this.errorf(`error calling ${name}: ${errorMessage(e)}`);
    }
  }

  /** Evaluates a node to a function value without calling it when it names a method. */
  private evalFuncValue(dot: unknown, n: ArgNode): unknown {
    let receiver: unknown;
    let fields: readonly string[];
    switch (n.type) {
      case 'field':
        this.at(n);
        receiver = dot;
        fields = n.ident;
        break;
      case 'variable':
        if (n.ident.length === 1) return this.evalArg(dot, 'value', n);
        this.at(n);
        receiver = this.varValue(n.ident[0]);
        fields = n.ident.slice(1);
        break;
      case 'chain':
        this.at(n);
        receiver = this.evalArg(dot, 'value', n.node);
        fields = n.field;
        break;
      default:
        return this.evalArg(dot, 'value', n);
    }
    for (let i = 0; i < fields.length - 1; i++) receiver = this.evalField(dot, fields[i], n, null, MISSING, receiver);
    const last = fields[fields.length - 1];
    const k = kindOf(receiver);
    if ((k === 'map' || k === 'struct') && hasField(receiver as object, last)) {
      const v = (receiver as Record<string, unknown>)[last];
      // bind keeps the arity that call checks
      if (typeof v === 'function') return (v as (...b: unknown[]) => unknown).bind(receiver);
    }
    return this.evalField(dot, last, n, null, MISSING, receiver);
  }

  /** The call builtin: calls a function value with the remaining arguments. */
  private callFunction(node: Node, callee: string, fn: unknown, args: unknown[]): unknown {
    const fail = (msg: string): never => {
      this.at(node);
      this.errorf(`error calling call: ${msg}`);
    };
    if (fn === undefined || fn === null) fail('call of nil');
    if (typeof fn !== 'function') fail(`non-function ${callee} of type ${typeName(fn)}`);
    const f = fn as (...a: unknown[]) => unknown;
    if (f.length !== args.length) fail(`wrong number of args for ${callee}: got ${args.length} want ${f.length}`);
    try {
      return f(...args.map((a) => (a === undefined ? null : a)));
    } catch (e) {
      if (e instanceof ExecFailure) throw e;
      return fail(errorMessage(e));
    }
  }

  private validateType(value: unknown, typ: ParamType): unknown {
    if (value === undefined) {
      if (typ === 'value') return undefined;
      if (typ === 'any') return null; // an untyped nil
      this.errorf(`invalid value; expected ${PARAM_TYPE_NAMES[typ]}`);
    }
    const got = (): string => (value === null ? 'interface {}' : typeName(value));
    switch (typ) {
      case 'any':
      case 'value':
        return value;
      case 'string':
        if (typeof value !== 'string') this.errorf(`wrong type for value; expected string; got ${got()}`);
        return value;
      case 'int':
        if (kindOf(value) !== 'int') this.errorf(`wrong type for value; expected int; got ${got()}`);
        return value;
      case 'bool':
        if (typeof value !== 'boolean') this.errorf(`wrong type for value; expected bool; got ${got()}`);
        return value;
    }
  }

  private evalArg(dot: unknown, typ: ParamType, n: ArgNode): unknown {
    this.at(n);
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, typ);
      case 'nil':
        if (typ === 'any') return null;
        if (typ === 'value') return undefined;
        return this.errorf(`cannot assign nil to ${PARAM_TYPE_NAMES[typ]}`);
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, null, MISSING), typ);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), typ);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, null, MISSING), typ);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, null, MISSING), typ);
    }
    switch (typ) {
      case 'bool':
        if (n.type === 'bool') return n.value;
        return this.errorf(`expected bool; found ${nodeString(n)}`);
      case 'int':
        if (n.type === 'number' && n.isInt) return n.int;
        return this.errorf(`expected integer; found ${nodeString(n)}`);
      case 'string':
        if (n.type === 'string') return n.text;
        return this.errorf(`expected string; found ${nodeString(n)}`);
      default:
        switch (n.type) {
          case 'bool':
            return n.value;
          case 'number':
            return this.idealConstant(n);
          case 'string':
            return n.text;
        }
    }
  }
}

/** Runs the template called name against data; returns its output. */
export function execute(env: ExecEnv, name: string, data: unknown): string {
  // Execute(w, nil) in Go: the data is an invalid value.
  if (data === null) data = undefined;
  const s: State = new State(env, name);
  s.vars = [{ name: '$', value: data }];
  const root = env.trees.get(name);
  try {
    if (!root) s.errorf(`${quote(name)} is an incomplete or empty template`);
    s.walk(data, root);
  } catch (e) {
    if (e instanceof ExecFailure) throw new TemplateError(e.message, s.out);
    if (e instanceof RangeError) throw new TemplateError(`template: ${name}: execution nested too deeply`, s.out);
    throw e;
  }
  return s.out;
}

export function resolveFunc(name: string, ...maps: ReadonlyArray<Map<string, FuncSpec> | undefined>): ResolvedFunc | undefined {
  for (const m of maps) {
    const f = m?.get(name);
    if (f) return { spec: f, builtin: false };
  }
  const b = BUILTINS.get(name);
  return b ? { spec: b, builtin: true } : undefined;
}
