// The event vocabulary as TypeScript sees it: lookups over the one declaration in events.json.
import vocab from './events.json';

export type Phase = 0 | 1 | 2;
export const PHASE = { instant: 0, begin: 1, end: 2 } as const;
export const EVENT_FLAG = vocab.flags;
export const VOCABULARY_VERSION: number = vocab.version;

export interface KindInfo {
  readonly id: number;
  readonly name: string;
  readonly cls: string;
  readonly blocking: boolean;
  /** Argument names in wire order. */
  readonly args: readonly string[];
  /** Enumeration name per argument (undefined when the argument is a plain number). */
  readonly argEnums: readonly (string | undefined)[];
  readonly blob?: string;
  readonly doc: string;
}

export const KINDS: readonly KindInfo[] = vocab.kinds.map((k) => ({
  id: k.id,
  name: k.name,
  cls: k.class,
  blocking: Boolean((k as { blocking?: boolean }).blocking),
  args: k.args.map((a) => a.split(':')[0]),
  argEnums: k.args.map((a) => a.split(':')[1]),
  blob: (k as { blob?: string }).blob,
  doc: k.doc,
}));

export const MAX_KIND_ID = Math.max(...KINDS.map((k) => k.id));
const byId: (KindInfo | undefined)[] = new Array(MAX_KIND_ID + 1);
const byName = new Map<string, KindInfo>();
for (const k of KINDS) { byId[k.id] = k; byName.set(k.name, k); }

export function kindById(id: number): KindInfo | undefined { return byId[id]; }
export function kindByName(name: string): KindInfo | undefined { return byName.get(name); }
/** The numeric id of a kind by name; throws on a typo so callers fail loudly. */
export function kindId(name: string): number {
  const k = byName.get(name);
  if (!k) throw new Error(`unknown event kind '${name}'`);
  return k.id;
}
/** Index of argument `arg` of kind `name`; throws on a typo. */
export function argIndex(name: string, arg: string): number {
  const k = byName.get(name);
  const i = k ? k.args.indexOf(arg) : -1;
  if (i < 0) throw new Error(`event kind '${name}' has no argument '${arg}'`);
  return i;
}

export type EnumName = keyof typeof vocab.enums;
export const ENUMS: Readonly<Record<EnumName, readonly string[]>> = vocab.enums;
export function enumValue(e: EnumName, value: string): number {
  const i = ENUMS[e].indexOf(value);
  if (i < 0) throw new Error(`enumeration '${e}' has no value '${value}'`);
  return i;
}
export function enumName(e: string, value: number): string {
  const values = (ENUMS as Record<string, readonly string[]>)[e];
  return values?.[value] ?? String(value);
}
export const CLASSES: readonly string[] = vocab.classes;
