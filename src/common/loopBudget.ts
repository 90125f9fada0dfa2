// One budget of synchronous work per turn of the event loop, shared by everything on the live path that works in
// slices: the collector's ingest, the timeline feed, and the timeline's turn queue (tile builds, flow rebuilds, the
// live model). Each had a slice of its own (4-8 ms); when all of them were behind at once (a burst at connect, a
// host starved of CPU for a moment) they ran in the same check phase and added up to 30-45 ms of one turn.

/** Wall time of sliced work per turn of the event loop, all participants together. */
export const LOOP_BUDGET_MS = 10;
/** Every participant gets at least this much per turn, however much the others took, so each keeps moving. */
export const MIN_SLICE_MS = 1;

/**
 * The turn is measured from the first slice taken in it. It ends at the next timers phase: a 0 ms timer set by that
 * first slice cannot fire before the next turn (timers come before the poll and check phases), and fires there once
 * 1 ms has passed (a shorter turn leaves the budget a little smaller, never larger).
 */
class LoopBudget {
  private start = 0;
  private active = false;
  private readonly reset = (): void => { this.active = false; };

  /** Milliseconds the caller may work now: at most `maxMs`, at most what is left of this turn's budget, at least MIN_SLICE_MS. */
  slice(maxMs: number): number {
    const now = performance.now();
    if (!this.active) {
      this.active = true;
      this.start = now;
      setTimeout(this.reset, 0).unref();
    }
    return Math.max(Math.min(MIN_SLICE_MS, maxMs), Math.min(maxMs, LOOP_BUDGET_MS - (now - this.start)));
  }
}

/** The one budget of this process (the extension host, the CLI, a bench). */
export const loopBudget = new LoopBudget();
