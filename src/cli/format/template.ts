// Go text/template for docker's --format, with docker's template functions.
//
//   const t = parseTemplate('{{range .Names}}{{.}} {{end}}');   // parse once
//   t.execute({ Names: ['a', 'b'] });                            // 'a b '
//
// Errors (parse and execution) are TemplateError with Go's message text.
// The modules behind this one:
//   template-value.ts     how JS values stand in for Go values
//   template-lex.ts       tokens              template-parse.ts  the parser
//   template-ast.ts       syntax tree, errors template-literals.ts  strings, numbers
//   template-exec.ts      execution           template-funcs.ts  functions
//   template-fmt.ts       Go's fmt            template-strconv.ts  Go's strconv
//   template-json.ts      Go's encoding/json

import { execute, resolveFunc, specsOf, type ExecEnv, type MissingKey } from './template-exec.js';
import { BUILTINS, DOCKER_FUNCS, type FuncMap } from './template-funcs.js';
import { parse } from './template-parse.js';
import type { ListNode, Node } from './template-ast.js';

export { TemplateError } from './template-ast.js';
export { GoFloat, goStruct } from './template-value.js';
export { FuncError, HEADER_FUNCS, DOCKER_FUNCS } from './template-funcs.js';
export type { FuncMap, FuncSpec, ParamType, TemplateFunc } from './template-funcs.js';
export type { MissingKey } from './template-exec.js';
export { formatValue, sprint, sprintf } from './template-fmt.js';
export { marshalJSON } from './template-json.js';

export interface ParseOptions {
  /** The template name shown in errors ("template: NAME:1: ..."); docker uses "". */
  name?: string;
  /** Functions beyond Go's builtins and docker's (json, split, join, ...). */
  funcs?: FuncMap;
}

export interface ExecuteOptions {
  /** Functions that replace the parse-time ones for this execution (docker's header rendering). */
  funcs?: FuncMap;
  /** Go's missingkey option; default prints "<no value>" for a missing map key. */
  missingKey?: MissingKey;
}

export class Template {
  private readonly parseFuncs;

  /** @internal use parseTemplate */
  constructor(
    readonly name: string,
    private readonly text: string,
    private readonly trees: ReadonlyMap<string, ListNode>,
    funcs: FuncMap | undefined,
  ) {
    this.parseFuncs = funcs ? specsOf(funcs) : undefined;
  }

  /** Executes the template (or the {{define}}d one called `name`) against data. */
  execute(data: unknown, opts: ExecuteOptions = {}): string {
    return this.executeTemplate(this.name, data, opts);
  }

  executeTemplate(name: string, data: unknown, opts: ExecuteOptions = {}): string {
    const override = opts.funcs ? specsOf(opts.funcs) : undefined;
    const env: ExecEnv = {
      text: this.text,
      parseName: this.name,
      trees: this.trees,
      lookup: (fn) => resolveFunc(fn, override, this.parseFuncs, dockerSpecs),
      missingKey: opts.missingKey ?? 'default',
    };
    return execute(env, name, data);
  }

  /**
   * The field names used on the dot or on $ (".Size", "$.Size" give
   * "Size"), the way docker checks whether a format needs sizes computed.
   */
  fieldsUsed(): Set<string> {
    const used = new Set<string>();
    const visit = (n: Node | undefined): void => {
      if (!n) return;
      switch (n.type) {
        case 'list':
          n.nodes.forEach(visit);
          return;
        case 'action':
          visit(n.pipe);
          return;
        case 'if':
        case 'range':
        case 'with':
          visit(n.pipe);
          visit(n.list);
          visit(n.elseList);
          return;
        case 'template':
          visit(n.pipe);
          return;
        case 'pipe':
          n.cmds.forEach(visit);
          return;
        case 'command':
          n.args.forEach(visit);
          return;
        case 'chain':
          visit(n.node);
          return;
        case 'field':
          used.add(n.ident[0]);
          return;
        case 'variable':
          if (n.ident[0] === '$' && n.ident.length > 1) used.add(n.ident[1]);
          return;
      }
    };
    this.trees.forEach((t) => visit(t));
    return used;
  }

  /** Names of the templates defined in this one (including itself), sorted. */
  templateNames(): string[] {
    return [...this.trees.keys()].sort();
  }
}

const dockerSpecs = specsOf(DOCKER_FUNCS);

/** Parses a template; throws TemplateError on a syntax error. */
export function parseTemplate(text: string, opts: ParseOptions = {}): Template {
  const name = opts.name ?? '';
  const extra = opts.funcs;
  const hasFunction = (fn: string): boolean =>
    (extra !== undefined && Object.prototype.hasOwnProperty.call(extra, fn)) ||
    Object.prototype.hasOwnProperty.call(DOCKER_FUNCS, fn) ||
    BUILTINS.has(fn);
  const { trees } = parse(name, text, hasFunction);
  return new Template(name, text, trees, extra);
}
