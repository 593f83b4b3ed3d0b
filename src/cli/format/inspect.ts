/** `inspect` output: a pretty JSON array like Go's MarshalIndent, or a template per object. */
export function goJson(v: unknown, indent = '    '): string {
  // Go escapes <, > and & in JSON strings
  return JSON.stringify(v, null, indent).replace(/[<>&]/g, (ch) => `\\u00${ch.charCodeAt(0).toString(16)}`);
}

export function renderInspect(format: string | undefined, objects: unknown[]): string {
  if (!format) return goJson(objects) + '\n';
  return objects.map((o) => simpleTemplate(format, o) + '\n').join('');
}

/** Until the Go template engine lands: `{{.A.B}}` and `{{json .A}}` only. */
export function simpleTemplate(format: string, data: unknown): string {
  return format.replace(/\{\{\s*(json\s+)?\.([\w.]*)\s*\}\}/g, (_m, json: string | undefined, path: string) => {
    let v: unknown = data;
    for (const p of path.split('.').filter(Boolean)) v = (v as Record<string, unknown> | undefined)?.[p];
    if (json) return JSON.stringify(v ?? null);
    return v === undefined ? '<no value>' : v === null ? '<nil>' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}
