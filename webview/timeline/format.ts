// Time formatting and ruler ticks. Relative times arrive as exact bigint strings; for the ruler and labels a double
// of nanoseconds is enough (the ruler's resolution is one pixel).

const UNITS: [number, string][] = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs'], [1, 'ns']];

/** A duration or offset in ns as the ruler writes it: unit chosen so the number is ≥ 1. */
export function formatNs(ns: number, digits = 3): string {
  const a = Math.abs(ns);
  for (const [f, u] of UNITS) if (a >= f || f === 1) return `${trim((ns / f).toFixed(f === 1 ? 0 : digits))} ${u}`;
  return `${ns} ns`;
}
function trim(s: string): string { return s.includes('.') ? s.replace(/\.?0+$/, '') : s; }

/** Exact duration text from bigint strings (details pane): 1 234 567 ns → "1.234567 ms". */
export function formatExactNs(ns: string): string {
  const v = BigInt(ns);
  const neg = v < 0n, a = neg ? -v : v;
  for (const [f, u] of UNITS) {
    const F = BigInt(f);
    if (a >= F || f === 1) {
      const whole = a / F, frac = a % F;
      const fs = f === 1 ? '' : frac.toString().padStart(String(f).length - 1, '0').replace(/0+$/, '');
      return `${neg ? '-' : ''}${whole}${fs ? `.${fs}` : ''} ${u}`;
    }
  }
  return `${ns} ns`;
}

/** Tick spacing (1, 2 or 5 × 10^n ns) giving about `minPx` pixels between ticks. */
export function tickStep(nsPerPx: number, minPx = 90): number {
  const raw = nsPerPx * minPx;
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 5, 10]) if (p * m >= raw) return Math.max(1, p * m);
  return p * 10;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
