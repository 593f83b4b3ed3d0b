/** Docker's human formats for sizes and times (go-units), and plain tables. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** Columns separated by at least three spaces, like docker's tabwriter(minwidth 10, padding 3). */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(Math.max(widths[i]! + 3, 10)))).join('')).join('\n') + '\n';
}

export function truncate(s: string, n: number): string {
  return [...s].length > n ? [...s].slice(0, n - 1).join('') + '…' : s;
}

/**
 * `--format` for list commands until the Go template engine lands: `table`
 * prefix, `{{.Field}}`, `{{json .}}` / `{{json .Field}}`, and `\t`. Rows
 * carry docker's field names (`.Repository`, `.Tag`, `.ID`, ...).
 */
export function renderRows(format: string, rows: Record<string, unknown>[], headers: Record<string, string> = {}): string {
  const isTable = format.startsWith('table');
  const tpl = (isTable ? format.slice(5).trim() : format).replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const fill = (row: Record<string, unknown>, headerRow: boolean) =>
    tpl.replace(/\{\{\s*(json\s+)?\.([\w.]*)\s*\}\}/g, (_m, json: string | undefined, path: string) => {
      if (headerRow) return headers[path] ?? path.toUpperCase();
      const v = path === '' ? row : row[path];
      if (json) return JSON.stringify(v ?? null);
      return v === undefined ? '<no value>' : String(v);
    });
  const lines = rows.map((r) => fill(r, false));
  if (!isTable) return lines.map((l) => l + '\n').join('');
  return table([fill({}, true), ...lines].map((l) => l.split('\t')));
}
