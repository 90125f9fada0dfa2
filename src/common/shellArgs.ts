// Program arguments typed as in a shell ("a 'b c' d\ e"), split by shell-quote. Variables stay literal ($HOME is
// passed as typed: no shell runs) and shell operators (|, >, &&, ;) are refused, because we exec the program
// directly: a pipeline belongs in a script that is traced as a whole.
import { parse } from 'shell-quote';

export function parseArgs(text: string): { args: string[] } | { error: string } {
  let parts: ReturnType<typeof parse>;
  try {
    parts = parse(text, (name) => `$${name}`);
  } catch (e) {
    return { error: (e as Error).message };
  }
  const args: string[] = [];
  for (const p of parts) {
    if (typeof p === 'string') { args.push(p); continue; }
    if ('comment' in p) break;
    if ('op' in p && p.op === 'glob') { args.push(p.pattern); continue; }
    return { error: `'${'op' in p ? p.op : '?'}' is a shell operator; the program is run directly (put a pipeline or redirection in a script and trace that)` };
  }
  return { args };
}

/** The inverse, for showing remembered arguments: each argument quoted only when it must be. */
export function formatArgs(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
