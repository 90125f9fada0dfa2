// Colours come only from the editor's theme (--vscode-* variables), read once per theme and re-read when VS Code
// swaps themes (it rewrites the <html> style and the body's vscode-light/dark/high-contrast class).

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export function themeKind(): ThemeKind {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-light')) return 'light';
  return 'dark';
}

/** A CSS variable of the current theme, or the fallback when the theme does not define it. */
export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** Calls `redraw` after any theme change (coalesced to one call per frame). */
export function onThemeChange(redraw: () => void): () => void {
  let queued = false;
  const fire = () => { if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; redraw(); }); } };
  const mo = new MutationObserver(fire);
  mo.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  mo.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind', 'data-vscode-theme-id'] });
  return () => mo.disconnect();
}

/** `color` with alpha `a` (0–1), for any CSS colour the theme gives (hex, rgb(), rgba()). */
export function withAlpha(color: string, a: number): string {
  const c = color.trim();
  let m = /^#([0-9a-f]{3,8})$/i.exec(c);
  if (m) {
    let h = m[1];
    if (h.length === 3 || h.length === 4) h = [...h].map((x) => x + x).join('');
    const r = parseInt(h.slice(0, 2), 16), g = parseInt(h.slice(2, 4), 16), b = parseInt(h.slice(4, 6), 16);
    return `rgba(${r},${g},${b},${a})`;
  }
  m = /^rgba?\(([^)]+)\)$/i.exec(c);
  if (m) { const p = m[1].split(/[ ,/]+/).filter(Boolean); return `rgba(${p[0]},${p[1]},${p[2]},${a})`; }
  return c;
}
