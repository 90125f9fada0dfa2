// The Demo Gallery's pure part: reading demos/<id>/demo.json (schema in docs/demos.md), grouping by topic,
// picking the UI language's text and turning a demo's `run` into a program to trace. No vscode import, so the
// unit tests run it in plain Node against the real demos folder.
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

export const DEMO_TOPICS = ['memory', 'signals', 'pipes', 'queues', 'shared-memory', 'locks', 'sockets', 'multiplexing', 'models'] as const;
export type DemoTopic = typeof DEMO_TOPICS[number];
export const DEMO_PANELS = ['timeline', 'pages', 'locks', 'map'] as const;
export type DemoPanel = typeof DEMO_PANELS[number];

export interface Bilingual { readonly en: string; readonly ko: string }

export interface DemoPart { readonly id: string; readonly title: Bilingual; readonly command: readonly string[]; readonly long?: boolean }

export interface DemoManifest {
  readonly id: string;
  readonly topic: DemoTopic;
  readonly title: Bilingual;
  readonly run: { readonly command: readonly string[]; readonly cwd: string };
  readonly observation: Bilingual;
  readonly panel: DemoPanel;
  /** `part`: the part whose run reaches `line` (a mode of a multi-mode program), when it is not the first that runs `file`. */
  readonly stopAt: { readonly file: string; readonly line: number; readonly why: Bilingual; readonly part?: string };
  readonly long: boolean;
  readonly parts: readonly DemoPart[];
}

/** A demo found on disk: its manifest, its folder and its README (undefined when missing). */
export interface Demo {
  readonly manifest: DemoManifest;
  readonly dir: string;
  readonly readme: string | undefined;
}

export interface DemoLoadError { readonly dir: string; readonly message: string }

export interface DemoCatalog {
  /** The demos folder (holds the Makefile that builds the C demos). */
  readonly root: string;
  readonly demos: readonly Demo[];
  /** Folders whose demo.json could not be used, each with why: shown in the gallery, never silently dropped. */
  readonly errors: readonly DemoLoadError[];
}

export class DemoManifestError extends Error {}

const TOPIC_NAMES: Record<DemoTopic, Bilingual> = {
  memory: { en: 'Memory', ko: '메모리' },
  signals: { en: 'Signals', ko: '시그널' },
  pipes: { en: 'Pipes', ko: '파이프' },
  queues: { en: 'Message queues', ko: '메시지 큐' },
  'shared-memory': { en: 'Shared memory', ko: '공유 메모리' },
  locks: { en: 'Locks and synchronization', ko: '락과 동기화' },
  sockets: { en: 'Sockets', ko: '소켓' },
  multiplexing: { en: 'I/O multiplexing', ko: 'I/O 멀티플렉싱' },
  models: { en: 'Programming models', ko: '프로그래밍 모델' },
};

/** Korean when the UI language is Korean (`vscode.env.language` "ko", "ko-KR"), English otherwise. */
export function pick(text: Bilingual, language: string): string {
  return language.toLowerCase().startsWith('ko') ? text.ko : text.en;
}

export function topicName(topic: DemoTopic, language: string): string { return pick(TOPIC_NAMES[topic], language); }

function fail(id: string, what: string): never { throw new DemoManifestError(`${id}/demo.json: ${what}`); }

function bilingual(id: string, v: unknown, field: string): Bilingual {
  const o = v as { en?: unknown; ko?: unknown } | null;
  if (typeof o !== 'object' || o === null || typeof o.en !== 'string' || typeof o.ko !== 'string' || !o.en || !o.ko)
    fail(id, `"${field}" must be an object with non-empty "en" and "ko" strings`);
  return { en: o.en, ko: o.ko };
}

function argv(id: string, v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((a) => typeof a === 'string' && a.length > 0))
    fail(id, `"${field}" must be a non-empty array of strings`);
  return [...v] as string[];
}

/** Checks one parsed demo.json against docs/demos.md; throws DemoManifestError naming the field when it is wrong. */
export function parseManifest(value: unknown, folder: string): DemoManifest {
  const m = value as Record<string, unknown> | null;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) fail(folder, 'must be a JSON object');
  if (m.id !== folder) fail(folder, `"id" must equal the folder name "${folder}" (found ${JSON.stringify(m.id)})`);
  if (!DEMO_TOPICS.includes(m.topic as DemoTopic)) fail(folder, `"topic" must be one of ${DEMO_TOPICS.join(', ')} (found ${JSON.stringify(m.topic)})`);
  if (!DEMO_PANELS.includes(m.panel as DemoPanel)) fail(folder, `"panel" must be one of ${DEMO_PANELS.join(', ')} (found ${JSON.stringify(m.panel)})`);
  const run = m.run as { command?: unknown; cwd?: unknown } | undefined;
  if (typeof run !== 'object' || run === null) fail(folder, '"run" must be an object with "command" and "cwd"');
  const cwd = run.cwd === undefined ? '.' : run.cwd;
  if (typeof cwd !== 'string' || isAbsolute(cwd)) fail(folder, '"run.cwd" must be a path relative to the demo folder');
  const stop = m.stopAt as { file?: unknown; line?: unknown; why?: unknown; part?: unknown } | undefined;
  if (typeof stop !== 'object' || stop === null || typeof stop.file !== 'string' || !stop.file || isAbsolute(stop.file)
    || !Number.isInteger(stop.line) || (stop.line as number) < 1)
    fail(folder, '"stopAt" must have a relative "file" and a 1-based integer "line"');
  if (stop.part !== undefined && typeof stop.part !== 'string') fail(folder, '"stopAt.part" must be a part id');
  if (typeof m.long !== 'boolean') fail(folder, '"long" must be true or false');
  const parts: DemoPart[] = [];
  if (m.parts !== undefined) {
    if (!Array.isArray(m.parts)) fail(folder, '"parts" must be an array');
    for (const [i, p] of (m.parts as Record<string, unknown>[]).entries()) {
      if (typeof p?.id !== 'string' || !p.id) fail(folder, `parts[${i}] needs an "id"`);
      if (parts.some((q) => q.id === p.id)) fail(folder, `part id "${p.id}" is repeated`);
      if (p.long !== undefined && typeof p.long !== 'boolean') fail(folder, `parts[${i}].long must be true or false`);
      parts.push({ id: p.id, title: bilingual(folder, p.title, `parts[${i}].title`), command: argv(folder, p.command, `parts[${i}].command`), long: p.long as boolean | undefined });
    }
  }
  if (stop.part !== undefined && !parts.some((q) => q.id === stop.part)) fail(folder, `"stopAt.part" names no part: ${String(stop.part)}`);
  return {
    id: folder,
    topic: m.topic as DemoTopic,
    title: bilingual(folder, m.title, 'title'),
    run: { command: argv(folder, run.command, 'run.command'), cwd },
    observation: bilingual(folder, m.observation, 'observation'),
    panel: m.panel as DemoPanel,
    stopAt: { file: stop.file as string, line: stop.line as number, why: bilingual(folder, stop.why, 'stopAt.why'), ...(stop.part !== undefined ? { part: stop.part as string } : {}) },
    long: m.long,
    parts,
  };
}

/** Every demos/<id>/demo.json under `root`, sorted by id; unreadable or invalid ones land in `errors`. */
export function loadDemos(root: string): DemoCatalog {
  const demos: Demo[] = [];
  const errors: DemoLoadError[] = [];
  let names: string[];
  try { names = readdirSync(root).sort(); } catch (e) {
    return { root, demos, errors: [{ dir: root, message: `cannot read the demos folder: ${(e as Error).message}` }] };
  }
  for (const name of names) {
    const dir = join(root, name);
    const file = join(dir, 'demo.json');
    if (!existsSync(file)) continue;
    try {
      let json: unknown;
      try { json = JSON.parse(readFileSync(file, 'utf8')); } catch (e) { throw new DemoManifestError(`${name}/demo.json: ${(e as Error).message}`); }
      const manifest = parseManifest(json, name);
      const readme = join(dir, 'README.md');
      demos.push({ manifest, dir, readme: existsSync(readme) ? readme : undefined });
    } catch (e) {
      errors.push({ dir, message: (e as Error).message });
    }
  }
  return { root, demos, errors };
}

/** Whether `dir` is a demos folder: at least one child folder with a demo.json. */
export function isDemosFolder(dir: string): boolean {
  try { return readdirSync(dir).some((n) => existsSync(join(dir, n, 'demo.json'))); } catch { return false; }
}

/**
 * The demos folder to show: the first candidate workspace folder that is one (`npm start` opens demos/ itself)
 * or holds one as `demos/`, else the extension's own copy.
 */
export function findDemosRoot(workspaceFolders: readonly string[], extensionPath: string): string | undefined {
  for (const f of workspaceFolders) {
    if (isDemosFolder(f)) return f;
    if (isDemosFolder(join(f, 'demos'))) return join(f, 'demos');
  }
  const own = join(extensionPath, 'demos');
  return isDemosFolder(own) ? own : undefined;
}

export interface TopicGroup { readonly topic: DemoTopic; readonly demos: readonly Demo[] }

/** Demos grouped by topic in the study notes' order (memory first, models last); empty topics left out. */
export function groupByTopic(demos: readonly Demo[]): TopicGroup[] {
  return DEMO_TOPICS.map((topic) => ({ topic, demos: demos.filter((d) => d.manifest.topic === topic) })).filter((g) => g.demos.length > 0);
}

/** Whether the demo has C sources that `make -C demos` builds (scripts-only demos need no build). */
export function hasCSources(demo: Demo): boolean {
  try { return readdirSync(demo.dir).some((n) => n.endsWith('.c')); } catch { return false; }
}

/** A program for the extension's Trace Program: the file to run, its arguments, its working folder. */
export interface DemoProgram { readonly file: string; readonly args: string[]; readonly cwd: string }

function onPath(name: string, pathVar: string): string | undefined {
  for (const d of pathVar.split(delimiter)) {
    if (!d) continue;
    const p = join(d, name);
    try { if (statSync(p).isFile()) { accessSync(p, constants.X_OK); return p; } } catch { /* next */ }
  }
  return undefined;
}

/** The interpreter of a script's `#!` line, unless it is plain sh (Trace Program runs .sh files with sh). */
function shebangInterpreter(file: string): string[] | undefined {
  let first: string;
  try { first = readFileSync(file, 'utf8').split('\n', 1)[0]; } catch { return undefined; }
  const m = /^#!\s*(\S+)(?:\s+(.*))?$/.exec(first);
  if (!m) return undefined;
  const words = [m[1], ...(m[2] ? m[2].trim().split(/\s+/) : [])];
  if (words[0] === '/usr/bin/env') words.shift();
  if (words.length === 0 || /(^|\/)sh$/.test(words[0])) return undefined;
  return words;
}

/**
 * What to trace for a demo's argv (its `run.command` or a part's `command`): `./x` is relative to the demo's cwd,
 * a bare name (python3, sh) is looked up in PATH. Scripts whose `#!` names another interpreter than sh (bash)
 * run under that interpreter, since Trace Program runs `.sh` files with sh. Throws a clear Error when the
 * program is missing.
 */
export function demoProgram(demo: Demo, command: readonly string[] = demo.manifest.run.command, pathVar = process.env.PATH ?? ''): DemoProgram {
  const cwd = join(demo.dir, demo.manifest.run.cwd);
  const [exe, ...rest] = command;
  if (exe.includes('/')) {
    const file = isAbsolute(exe) ? exe : join(cwd, exe);
    if (!existsSync(file)) throw new Error(`${demo.manifest.id}: ${exe} does not exist in ${cwd}${exe.includes('build/') ? ' (run make -C demos)' : ''}`);
    const interp = file.endsWith('.sh') ? shebangInterpreter(file) : undefined;
    if (interp) {
      const path = isAbsolute(interp[0]) ? interp[0] : onPath(interp[0], pathVar);
      if (!path) throw new Error(`${demo.manifest.id}: ${interp[0]} (the interpreter of ${exe}) is not on PATH`);
      return { file: path, args: [...interp.slice(1), file, ...rest], cwd };
    }
    return { file, args: rest, cwd };
  }
  const found = onPath(exe, pathVar);
  if (!found) throw new Error(`${demo.manifest.id}: ${exe} is not on PATH`);
  return { file: found, args: rest, cwd };
}

/** The `ipcscope` debug launch configuration that steps a demo (docs/stepping.md), stopping at its `stopAt` line. */
export interface DemoLaunchConfig {
  type: 'ipcscope'; request: 'launch'; name: string; program: string; args: string[]; cwd: string; stopOnEntry: boolean;
  stopAt?: { file: string; line: number };
}

/**
 * What Step launches: the debugger resolves source lines in the launched program's own binary only (not in programs
 * it execs), so a stop in a C file needs the demo part that runs that program (`pipe-eof.c` → `./build/pipe-eof`),
 * and a stop in a Python file the part that runs that script. Without one, the whole run with a stop on entry.
 */
export function stepTarget(demo: Demo): { command: readonly string[]; stopAt?: { file: string; line: number } } {
  const m = demo.manifest;
  const file = m.stopAt.file;
  const candidates = [m.run.command, ...m.parts.filter((p) => !p.long).map((p) => p.command)];
  const stopAt = { file: join(demo.dir, file), line: m.stopAt.line };
  const named = m.stopAt.part !== undefined ? m.parts.find((p) => p.id === m.stopAt.part) : undefined;
  if (named) return { command: named.command, stopAt };
  const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  if (file.endsWith('.c')) {
    const c = candidates.find((cmd) => cmd[0].includes('/') && base(cmd[0]) === base(file).slice(0, -2));
    if (c) return { command: c, stopAt };
  } else if (file.endsWith('.py')) {
    const c = candidates.find((cmd) => cmd[0] === 'python3' && cmd[1] === file);
    if (c) return { command: c, stopAt };
  }
  return { command: m.run.command };
}

export function demoLaunchConfig(demo: Demo, program: DemoProgram, language: string, stopAt?: { file: string; line: number }): DemoLaunchConfig {
  return {
    type: 'ipcscope', request: 'launch', name: `IPC Scope: ${pick(demo.manifest.title, language)}`, program: program.file, args: program.args, cwd: program.cwd,
    stopOnEntry: !stopAt, ...(stopAt ? { stopAt } : {}),
  };
}

/** The stepping stop as an absolute file and 1-based line. */
export function stopLocation(demo: Demo): { file: string; line: number } {
  return { file: join(demo.dir, demo.manifest.stopAt.file), line: demo.manifest.stopAt.line };
}

/**
 * The command that opens a demo's panel (issue 5's page tables, locks, IPC map) among the registered ones, or
 * undefined when that panel is not in this build. Known spellings first, then any ipcScope.show…/open… command
 * naming the panel.
 */
export function panelCommand(panel: DemoPanel, registered: readonly string[]): string | undefined {
  if (panel === 'timeline') return 'ipcScope.showTimeline';
  const cap = panel[0].toUpperCase() + panel.slice(1);
  const words: Record<Exclude<DemoPanel, 'timeline'>, string[]> = { pages: ['Pages', 'PageTables', 'PageTable'], locks: ['Locks', 'LockContention'], map: ['Map', 'IpcMap'] };
  const known = [...words[panel].flatMap((w) => [`ipcScope.show${w}`, `ipcScope.open${w}`, `ipcScope.show${w}Panel`]), `ipcScope.${panel}.show`, `ipcScope.${panel}.open`, `ipcScope.panels.${panel}`, `ipcScope.show${cap}`];
  const set = new Set(registered);
  const k = known.find((c) => set.has(c));
  if (k) return k;
  const re = new RegExp(`^ipcScope\\.(show|open)(${words[panel].join('|')})`, 'i');
  return registered.find((c) => re.test(c));
}
