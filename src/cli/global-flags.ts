/**
 * The docker CLI's global flags take Go's `--flag=false` form for booleans
 * (`--tls=false`, `--tlsverify=false`); commander's booleans do not. Before
 * parsing, those are rewritten to `--flag` / `--no-flag`, in the global part
 * of the command line only (before the command name), so that a container's
 * own arguments are never touched.
 */
export const BOOLEAN_GLOBALS = ['tls', 'tlsverify', 'debug'];
/** Global flags that take a value as the next argument. */
const VALUE_GLOBALS = new Set(['-H', '--host', '-c', '--context', '--config', '--tlscacert', '--tlscert', '--tlskey', '-l', '--log-level']);
const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

export function rewriteBooleanGlobals(argv: string[]): string[] {
  const out: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--' || !a.startsWith('-') || a === '-') break;
    const m = /^--([a-z]+)=(.*)$/.exec(a);
    if (m && BOOLEAN_GLOBALS.includes(m[1]!) && (TRUE.has(m[2]!) || FALSE.has(m[2]!))) {
      out.push(TRUE.has(m[2]!) ? `--${m[1]}` : `--no-${m[1]}`);
      continue;
    }
    out.push(a);
    if (VALUE_GLOBALS.has(a) && i + 1 < argv.length) out.push(argv[++i]!);
  }
  return [...out, ...argv.slice(i)];
}
