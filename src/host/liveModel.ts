// The trace model of a live recording, brought up to date in bounded steps. TraceModel.update() consumes every new
// event in one synchronous call: at 200,000 events/s the views' 4 Hz refresh handed it 50,000 events at a time, and
// each call blocked the extension host for 150–350 ms (the model costs a few µs per event). Here the model reads the
// store through a view whose count grows one batch at a time, each batch sized to fit one turn's slice of the shared
// timeline turn queue, and each update is given the slice's end as its deadline (the cost per event jumps under GC),
// so no single step blocks the event loop for long. The model may then lag the recording
// (views show it as far as it got); once the recording has ended, `complete()` finishes it (flush).
// No vscode here: the extension's TraceSession and the webview bench share this.
import { TraceModel } from '../common/model';
import type { EventStore } from '../common/store';
import type { EventSource } from '../common/traceEvent';
import { timelineTurns } from '../common/timelineData';

/** Events in the first batch, before the model's cost per event has been measured. */
const FIRST_BATCH = 1024;
const MIN_BATCH = 256;
const MAX_BATCH = 8192;

export interface LiveModelStats { steps: number; maxStepMs: number; consumed: number }

export class LiveModel {
  readonly model: TraceModel;
  /** How many store events the model has been shown so far. */
  private limit = 0;
  private stepping = false;
  private disposed = false;
  private msPerEvent = 0;
  private waiters: (() => void)[] = [];
  readonly stats: LiveModelStats = { steps: 0, maxStepMs: 0, consumed: 0 };

  constructor(private readonly store: EventStore) {
    // The model reads count, get, kindAt, readInto, tsNumberAt and connections (and onAppend, which it is not given: we
    // drive it).
    const self = this;
    const view: EventSource & Pick<EventStore, 'tsNumberAt' | 'kindAt' | 'readInto'> = {
      get count() { return Math.min(self.limit, store.count); },
      get: (i) => store.get(i),
      tsNumberAt: (i) => store.tsNumberAt(i),
      connections: () => store.connections(),
      // the hot kinds are read in place (TraceModel.eventAt)
      kindAt: (i: number) => store.kindAt(i),
      readInto: store.readInto.bind(store),
    };
    this.model = new TraceModel(view, { live: true });
  }

  private connectionsShown = -1;

  /**
   * What a view calls when it refreshes: the model as far as it has got, with the processes connected so far (a
   * processes view must list a process as soon as it connected), and catching up continues between turns. Cheap:
   * no new events are handed over here and at most 1 ms goes to events already due (three views refresh at once).
   */
  current(): TraceModel {
    const conns = this.store.connections().length;
    if (conns !== this.connectionsShown && !this.disposed) {
      this.connectionsShown = conns;
      // the same limit: reads the new connections, no new events (and at most 1 ms on events already due)
      this.model.update({ deadline: performance.now() + 1 });
    }
    if (!this.caughtUp) void this.catchUp();
    return this.model;
  }

  /** Whether the model has been shown every event stored so far and has handled those it can (all but the lag). */
  get caughtUp(): boolean { return this.limit >= this.store.count && this.model.due === 0; }

  /** Catches up with the store in bounded steps (a no-op while already stepping); resolves once caught up. */
  catchUp(): Promise<void> {
    if (this.caughtUp || this.disposed) return Promise.resolve();
    const done = new Promise<void>((r) => this.waiters.push(r));
    if (!this.stepping) { this.stepping = true; void this.run(); }
    return done;
  }

  /**
   * One bounded step now, synchronously: at least the connections (processes) the store knows reach the model, and
   * a batch of events sized to take about `budgetMs`. A view asking for the model gets this much at once.
   */
  step(budgetMs = 8): void {
    if (this.disposed) return;
    // Events the last step had no time for come first: no new ones until they are handled (the window stays ~lag).
    const batch = this.model.due > 0 ? 0
      : this.msPerEvent > 0 ? Math.max(MIN_BATCH, Math.min(MAX_BATCH, Math.floor(budgetMs / this.msPerEvent))) : FIRST_BATCH;
    this.limit = Math.min(this.store.count, this.limit + batch);
    const t0 = performance.now(), before = this.model.eventsProcessed;
    // The deadline bounds the step even when the cost per event jumps (a GC marking step, a costly kind).
    this.model.update({ deadline: t0 + budgetMs });
    const ms = performance.now() - t0;
    const n = this.model.eventsProcessed - before;
    if (n > 0) {
      // a moving average: the cost per event varies with the mix of kinds and with the GC
      const per = ms / n;
      this.msPerEvent = this.msPerEvent ? 0.7 * this.msPerEvent + 0.3 * per : per;
    }
    this.stats.steps++;
    this.stats.consumed = this.limit;
    if (ms > this.stats.maxStepMs) this.stats.maxStepMs = ms;
  }

  private async run(): Promise<void> {
    try {
      while (!this.disposed && !this.caughtUp) {
        await timelineTurns.next();
        if (this.disposed) break;
        // one batch per turn, sized from the measured cost per event to fit what is left of the slice
        this.step(Math.max(1, timelineTurns.left));
      }
    } finally {
      this.stepping = false;
      for (const w of this.waiters.splice(0)) w();
    }
  }

  /** The recording has ended: shows the model every event and flushes what it held back (one synchronous step). */
  complete(): TraceModel {
    this.limit = Number.MAX_SAFE_INTEGER;
    this.model.update({ flush: true });
    this.stats.consumed = this.store.count;
    return this.model;
  }

  dispose(): void {
    this.disposed = true;
    this.model.dispose();
    for (const w of this.waiters.splice(0)) w();
  }
}
