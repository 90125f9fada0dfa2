// Saved webview state with a version, so a state saved by an older build is dropped instead of misread.
export function restoreState<S extends { version: number }>(saved: unknown, version: number, defaults: S): S {
  if (!saved || typeof saved !== 'object' || (saved as { version?: unknown }).version !== version) return defaults;
  return { ...defaults, ...(saved as Partial<S>) };
}
