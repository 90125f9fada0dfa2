// The trace model (issue 3): one entry point for the CLI, the extension and the tests. See docs/model.md.
export { TraceModel, threadKey, type TraceModelOptions, type ImageMapping } from './model';
export * from './types';
export { ByteStreamMatcher, MessageMatcher, PriorityQueueMatcher, stronglyConnected, cycleThrough } from './matchers';
export { LaneIndex } from './lanes';
export { PageModel, PageTrack, type PageTimelineChange } from './pages';
export { waitForGraph, lockOrderCycles, findings, describe, type WaitForGraph, type WaitEdge } from './analysis';
export { CallSiteResolver, type CallSite } from './callsites';
export { summarize, formatSummary, SUMMARY_VERSION, type Summary, type SummaryOptions } from './summary';
export { encodePerfetto, decodePerfetto, perfettoRoot, perfettoProtoPath, layout } from './exportPerfetto';
export { chromeTrace } from './exportChrome';
