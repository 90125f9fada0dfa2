// Command-line parsing shared by the commands: node's parseArgs with errors turned into UsageError (exit 2).
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad usage: the CLI prints the message and exits with status 2. */
export class UsageError extends Error { override name = 'UsageError'; }

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function intOption(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || +v < min || +v > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${v}'`);
  return +v;
}
