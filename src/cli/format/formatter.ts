// docker's --format conventions for list commands (ps, images, volume ls,
// network ls, system df, history, stats ...) and for inspect, after
// docker/cli cli/command/formatter and cli/command/inspect.
//
// List commands:
//
//   // renderList parses and renders; new ListFormatter(opts).render(rows) keeps the parse.
//   process.stdout.write(renderList({
//     format: opts.format,                       // the user's --format, may be ''
//     defaultFormat: 'table {{.ID}}\t{{.Image}}\t{{.Names}}',
//     quiet: opts.quiet,
//     rows: containers.map((c) => ({
//       ID: c.Id.slice(0, 12),
//       Image: c.Image,
//       Names: c.Names.map((n) => n.slice(1)).join(','),
//       Size: () => humanSize(c.SizeRw ?? 0),      // methods are computed on use
//       Label: (k: string) => c.Labels[k] ?? '',   // {{.Label "com.example"}}
//     })),
//     headers: { ID: 'CONTAINER ID', Image: 'IMAGE', Names: 'NAMES', Size: 'SIZE' },
//     typeName: '*formatter.ContainerContext',
//   }));
//
// Inspect commands:
//
//   process.stdout.write(renderInspect(opts.format, objects));
//
// Both throw FormatError carrying docker's message, exit code, and what
// docker would still have printed to stdout.

import { FormatError } from './format-error.js';
import { TabWriter } from './tabwriter.js';
import { displayWidth } from './display-width.js';
import { marshalJSON } from './template-json.js';
import { formatterContext, goStruct } from './template-value.js';
import { HEADER_FUNCS, TemplateError, parseTemplate, type FuncMap, type Template } from './template.js';

export const TABLE_FORMAT_KEY = 'table';
export const RAW_FORMAT_KEY = 'raw';
export const JSON_FORMAT_KEY = 'json';
export const DEFAULT_QUIET_FORMAT = '{{.ID}}';
export const JSON_FORMAT = '{{json .}}';

export { FormatError } from './format-error.js';

/** Row fields: values, or methods computed on use (zero args: .Size; one: .Label "key"). */
export type Row = object;

export interface ListFormatOptions {
  /** The user's --format. '' (or undefined) and "table" select defaultFormat. */
  format?: string;
  /** The command's default, usually a "table ..." format. */
  defaultFormat: string;
  /** -q/--quiet: print only quietFormat when the default format would apply. */
  quiet?: boolean;
  /** Default "{{.ID}}" (volume ls uses "{{.Name}}"). */
  quietFormat?: string;
  /** With quiet, also ignore a custom --format (docker ps does; images and volumes do not). */
  quietOverridesFormat?: boolean;
  /** Column titles by field name, docker's SubHeaderContext: { ID: 'CONTAINER ID' }. */
  headers: Readonly<Record<string, string>>;
  /** The Go type named in errors for unknown fields; docker's contexts are e.g. "*formatter.ContainerContext". */
  typeName?: string;
  /** Extra template functions. */
  funcs?: FuncMap;
}

export interface ListOptions extends ListFormatOptions {
  rows: Iterable<Row>;
}

/** The format a list command renders with, after --format, the default and --quiet. */
export function resolveListFormat(opts: Pick<ListOptions, 'format' | 'defaultFormat' | 'quiet' | 'quietFormat' | 'quietOverridesFormat'>): string {
  const source = opts.format ?? '';
  const quietFormat = opts.quietFormat ?? DEFAULT_QUIET_FORMAT;
  if (source === '' || source === TABLE_FORMAT_KEY) return opts.quiet ? quietFormat : opts.defaultFormat;
  if (opts.quiet && opts.quietOverridesFormat) return quietFormat;
  return source;
}

export function isTableFormat(format: string): boolean {
  return format.startsWith(TABLE_FORMAT_KEY);
}

/**
 * The template text docker parses for a format: "table" removed, "json"
 * expanded, spaces trimmed, and the two-character sequences \t and \n
 * turned into a tab and a newline (users type them in shell quotes).
 */
export function templateText(format: string): string {
  let f = format;
  if (isTableFormat(f)) f = f.slice(TABLE_FORMAT_KEY.length);
  else if (f === JSON_FORMAT_KEY) f = JSON_FORMAT;
  f = trimSpaces(f);
  return f.replace(/\\[tn]/g, (m) => (m === '\\t' ? '\t' : '\n'));
}

function trimSpaces(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s[a] === ' ') a++;
  while (b > a && s[b - 1] === ' ') b--;
  return s.slice(a, b);
}

function parseOrFail(text: string, funcs: FuncMap | undefined, exitCode: number): Template {
  try {
    return parseTemplate(text, { funcs });
  } catch (e) {
    if (e instanceof TemplateError) throw new FormatError(`template parsing error: ${e.message}`, exitCode);
    throw e;
  }
}

/** docker's SubHeaderContext.Label: the title of a {{.Label "com.example.some-key"}} column ("some key"). */
export function labelHeader(name: string): string {
  const parts = name.split('.');
  return parts[parts.length - 1].replace(/[-_]/g, ' ');
}

/** A new tabwriter configured as docker's tables are. */
export function newTableWriter(): TabWriter {
  return new TabWriter({ minwidth: 10, tabwidth: 1, padding: 3, padchar: ' ', flags: 0, width: 'display' });
}

/**
 * A list command's --format, parsed once: render() it for each batch of
 * rows (docker stats re-renders every second).
 */
export class ListFormatter {
  /** The format after defaults and --quiet, e.g. "table {{.ID}}\t{{.Names}}". */
  readonly format: string;
  readonly isTable: boolean;
  readonly template: Template;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly typeName: string;

  /** Throws FormatError (exit code 1) if the format does not parse. */
  constructor(opts: ListFormatOptions) {
    this.format = resolveListFormat(opts);
    this.isTable = isTableFormat(this.format);
    this.template = parseOrFail(templateText(this.format), opts.funcs, 1);
    this.headers = opts.headers;
    this.typeName = opts.typeName ?? '*formatter.Context';
  }

  /** Whether the format reads a field, e.g. "Size" (ps then asks the daemon for sizes). */
  usesField(name: string): boolean {
    return this.template.fieldsUsed().has(name);
  }

  /**
   * The text to write to stdout: a table with a header row, custom lines,
   * or JSON lines, exactly as docker's formatter writes them. Throws
   * FormatError on a template error (docker prints nothing else then).
   */
  render(rows: Iterable<Row>): string {
    let body = '';
    for (const row of rows) {
      // A fresh object per row carries the context marking, so the caller's row stays untouched.
      const ctx = formatterContext(Object.create(row) as object, this.typeName);
      try {
        body += this.template.execute(ctx) + '\n';
      } catch (e) {
        if (e instanceof TemplateError) throw new FormatError(`template parsing error: ${e.message}`, 1);
        throw e;
      }
    }
    if (!this.isTable) return body;
    const w = newTableWriter();
    w.write(renderHeader(this.template, this.headers));
    w.write('\n');
    w.write(body);
    return w.flush();
  }
}

/** Parses the format and renders the rows: new ListFormatter(opts).render(opts.rows). */
export function renderList(opts: ListOptions): string {
  return new ListFormatter(opts).render(opts.rows);
}

/**
 * The header row of a table: the template executed against the column
 * titles with docker's header functions. Like docker, a failing header is
 * cut where it failed rather than reported.
 */
export function renderHeader(tmpl: Template, headers: Readonly<Record<string, string>>): string {
  const ctx: Record<string, unknown> = { ...headers, Label: labelHeader };
  try {
    return tmpl.execute(ctx, { funcs: HEADER_FUNCS });
  } catch (e) {
    if (e instanceof TemplateError) return e.output;
    throw e;
  }
}

export interface InspectOptions {
  /**
   * HTML-escape <, > and & in the default JSON output. docker prints the
   * daemon's JSON, which the daemon does not escape, so the default is false.
   */
  escapeHTML?: boolean;
  funcs?: FuncMap;
}

/**
 * Renders `docker inspect`-style output: without a format the objects as an
 * indented JSON array, with "json" as a compact one, otherwise each object
 * through the template, one line each.
 *
 * As in docker, an object that fails the template is retried as raw JSON
 * data with missingkey=error (so `{{.NoSuchField}}` reports
 * `map has no entry for key "NoSuchField"`); objects that still fail are
 * reported together in one FormatError (exit code 1) whose output holds the
 * lines of the objects that worked. A template that does not parse is a
 * FormatError with exit code 64.
 */
export function renderInspect(format: string | undefined, objects: readonly unknown[], opts: InspectOptions = {}): string {
  const escapeHTML = opts.escapeHTML ?? false;
  if (format === undefined || format === '' || format === JSON_FORMAT_KEY) {
    if (objects.length === 0) return '[]\n';
    const indent = format === JSON_FORMAT_KEY ? undefined : '    ';
    return marshalJSON(objects, { escapeHTML, indent }) + '\n';
  }
  const tmpl = parseOrFail(format, opts.funcs, 64);
  let out = '';
  const errors: string[] = [];
  for (const obj of objects) {
    try {
      out += inspectOne(tmpl, obj) + '\n';
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      errors.push(`template parsing error: ${e.message}`);
    }
  }
  if (out === '') out = '\n';
  if (errors.length > 0) throw new FormatError(errors.join('\n'), 1, out);
  return out;
}

function inspectOne(tmpl: Template, obj: unknown): string {
  // First as docker's typed value: its top level is a Go struct, so unknown fields fail ...
  if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
    try {
      return tmpl.execute(goStruct(Object.create(obj) as object, 'struct'));
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
    }
  }
  // ... then, like docker's fallback, as raw JSON data with missingkey=error.
  return tmpl.execute(obj, { missingKey: 'error' });
}

/** docker's stringid.TruncateID: the short 12-character form of an ID, without "sha256:". */
export function truncateID(id: string): string {
  const i = id.indexOf(':');
  if (i >= 0) id = id.slice(i + 1);
  return id.length > 12 ? id.slice(0, 12) : id;
}

/**
 * docker's formatter.Ellipsis: s cut to maxDisplayWidth terminal columns
 * with a trailing "…" (ps truncates commands to 20 this way).
 */
export function ellipsis(s: string, maxDisplayWidth: number): string {
  if (maxDisplayWidth <= 0) return '';
  const rs = Array.from(s);
  if (maxDisplayWidth === 1) return rs[0] ?? '';
  if (/^[\x00-\x7f]*$/.test(s)) return s.length <= maxDisplayWidth ? s : s.slice(0, maxDisplayWidth - 1) + '…';
  const display: number[] = [];
  let width = 0;
  for (const r of rs) {
    width += charWidth(r);
    display.push(width);
  }
  if (width <= maxDisplayWidth) return s;
  for (let i = 0; i + 1 < display.length; i++) {
    if (display[i] <= maxDisplayWidth - 1 && display[i + 1] > maxDisplayWidth - 1) return rs.slice(0, i + 1).join('') + '…';
  }
  // docker leaves s whole when even its first character is too wide.
  return s;
}

/** docker's charWidth for Ellipsis: 2 for East Asian wide and fullwidth, else 1. */
function charWidth(r: string): number {
  return displayWidth(r) === 2 ? 2 : 1;
}
