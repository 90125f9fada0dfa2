// Colours of the timeline, all from the theme's --vscode-* variables (with fallbacks for themes that lack one).
import { cssVar, themeKind, withAlpha, type ThemeKind } from '../shared/theme';

/** Per kind class: the theme variable that colours it. Chart colours exist in every built-in theme. */
const CLASS_VARS: Record<string, [string, string]> = {
  meta: ['--vscode-descriptionForeground', '#8b8b8b'],
  process: ['--vscode-charts-purple', '#b180d7'],
  fd: ['--vscode-terminal-ansiCyan', '#11a8cd'],
  pipe: ['--vscode-charts-blue', '#3794ff'],
  socket: ['--vscode-charts-green', '#89d185'],
  mq: ['--vscode-terminal-ansiMagenta', '#bc3fbc'],
  shm: ['--vscode-charts-yellow', '#cca700'],
  signal: ['--vscode-charts-red', '#f14c4c'],
  lock: ['--vscode-charts-orange', '#d18616'],
  readiness: ['--vscode-terminal-ansiBrightBlue', '#3b8eea'],
  memory: ['--vscode-terminal-ansiYellow', '#e5e510'],
};

export interface Palette {
  readonly kind: ThemeKind;
  readonly highContrast: boolean;
  readonly background: string;
  readonly foreground: string;
  readonly muted: string;
  readonly laneAlt: string;
  readonly processRow: string;
  readonly border: string;
  readonly contrastBorder: string | null;
  readonly focus: string;
  readonly selection: string;
  readonly error: string;
  readonly flow: string;
  readonly labelBackground: string;
  readonly font: string;
  readonly monoFont: string;
  /** Per class index: fill, span fill (blocking), wait hatch. */
  readonly cls: string[];
  readonly clsSpan: string[];
  readonly hatch: (CanvasPattern | string)[];
}

export function readPalette(classes: readonly string[], ctx: CanvasRenderingContext2D): Palette {
  const kind = themeKind();
  const hc = kind === 'high-contrast' || kind === 'high-contrast-light';
  const background = cssVar('--vscode-editor-background', kind === 'light' ? '#ffffff' : '#1e1e1e');
  const foreground = cssVar('--vscode-editor-foreground', kind === 'light' ? '#333333' : '#cccccc');
  const contrastBorder = hc ? cssVar('--vscode-contrastBorder', '#6fc3df') : null;
  const cls = classes.map((c) => cssVar(...(CLASS_VARS[c] ?? ['--vscode-foreground', foreground])));
  const hatch = cls.map((c) => makeHatch(ctx, c, background, hc));
  const family = cssVar('--vscode-font-family', 'system-ui, sans-serif');
  const mono = cssVar('--vscode-editor-font-family', 'monospace');
  return {
    kind, highContrast: hc, background, foreground,
    muted: cssVar('--vscode-descriptionForeground', withAlpha(foreground, 0.7)),
    laneAlt: hc ? background : withAlpha(foreground, kind === 'light' ? 0.035 : 0.04),
    processRow: hc ? background : withAlpha(foreground, kind === 'light' ? 0.07 : 0.08),
    border: cssVar('--vscode-panel-border', withAlpha(foreground, 0.2)),
    contrastBorder,
    focus: cssVar('--vscode-focusBorder', '#007fd4'),
    selection: cssVar('--vscode-editor-selectionBackground', withAlpha('#264f78', 0.6)),
    error: cssVar('--vscode-errorForeground', '#f48771'),
    flow: hc ? foreground : withAlpha(foreground, 0.55),
    labelBackground: cssVar('--vscode-sideBar-background', background),
    font: family, monoFont: mono,
    cls, clsSpan: cls.map((c) => (hc ? c : withAlpha(c, 0.85))), hatch,
  };
}

/** Waiting is drawn as diagonal stripes of the class colour (holding a lock as a solid bar): readable in any theme. */
function makeHatch(ctx: CanvasRenderingContext2D, color: string, background: string, hc: boolean): CanvasPattern | string {
  const c = document.createElement('canvas');
  c.width = 8; c.height = 8;
  const g = c.getContext('2d');
  if (!g) return color;
  g.fillStyle = hc ? background : withAlpha(color, 0.18);
  g.fillRect(0, 0, 8, 8);
  g.strokeStyle = color;
  g.lineWidth = 2;
  g.beginPath();
  g.moveTo(-2, 10); g.lineTo(10, -2);
  g.moveTo(6, 10); g.lineTo(10, 6);
  g.moveTo(-2, 2); g.lineTo(2, -2);
  g.stroke();
  return ctx.createPattern(c, 'repeat') ?? color;
}
