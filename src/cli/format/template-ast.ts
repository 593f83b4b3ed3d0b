// The syntax tree of a parsed template (text/template/parse's nodes), how
// nodes print in error messages, and the error type of the engine.

import { quote } from './template-strconv.js';

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
export interface ElseNode {
  type: 'else';
  pos: number;
  line: number;
}
export interface EndNode {
  type: 'end';
  pos: number;
  line: number;
}
export type ControlNode = ElseNode | EndNode;

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
export type ItemNode = ListNode | TextNode | ActionNode | BranchNode | TemplateNode | BreakNode;

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
