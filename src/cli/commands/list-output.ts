/** Output of `volume ls` / `network ls`: a table, `--format` per row (`table` prefix keeps the header), or `-q`. */
import type { CliContext } from '../context.js';
import { simpleTemplate } from '../format/inspect.js';
import { table } from '../format/simple.js';

export interface Column<T> {
  header: string;
  /** The template field (`{{.Name}}`) this column shows. */
  field: string;
  value: (row: T) => string;
}

export function printList<T>(ctx: CliContext, rows: T[], cols: Column<T>[], format: string | undefined): void {
  if (!format) {
    ctx.out.write(table([cols.map((c) => c.header), ...rows.map((r) => cols.map((c) => c.value(r)))]));
    return;
  }
  const isTable = format.startsWith('table');
  const tmpl = isTable ? format.slice(5).trim() : format;
  const view = (r: T) => Object.fromEntries(cols.map((c) => [c.field, c.value(r)]));
  if (isTable) {
    const header = tmpl.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_m, f: string) => cols.find((c) => c.field === f)?.header ?? f.toUpperCase());
    const lines = [header, ...rows.map((r) => simpleTemplate(tmpl, view(r)))];
    ctx.out.write(table(lines.map((l) => l.split('\t'))));
    return;
  }
  for (const r of rows) ctx.print(simpleTemplate(tmpl.replace(/\\t/g, '\t'), view(r)));
}
