// The `tracellm` barrel: every export named, so growing the API is a visible one-line diff.

// combinators
export { trace } from './combinators/trace.js'
export { traceTool } from './combinators/trace-tool.js'
export type { AnyFunction, Retrying, ToolOptions, ToolWrapped, TraceOptions, Traced, WithReader } from './combinators/options.js'

// context
export { currentTrace } from './core/context.js'
export type { TraceContext } from './core/context.js'

// configuration
export { configure, exportStats, flush, shutdown } from './configure.js'
export type { ConfigureOptions } from './configure.js'
export type { ModelPrice, Prices } from './core/prices.js'

// sinks
export { memorySink } from './sinks/memory.js'
export { jsonlSink } from './sinks/jsonl.js'
export { sqliteSink } from './stores/sqlite/sink.js'
export type { SqliteSink, SqliteSinkOptions } from './stores/sqlite/sink.js'
export { postgresSink } from './stores/postgres/sink.js'
export type { PostgresSink, PostgresSinkOptions } from './stores/postgres/sink.js'
export { otlpSink } from './sinks/otlp.js'
export type { OtlpSink, OtlpSinkOptions, OtlpSinkStats } from './sinks/otlp.js'
export { otelSink } from './sinks/otel.js'
export type { OtelAttributeValue, OtelSinkOptions, SpanLike, TracerLike, TracerProviderLike } from './sinks/otel.js'
export { consoleSink, renderTree } from './sinks/console.js'
export { SinkError } from './export/sink.js'
export type { DropCounts, DropReason, ExportCounts, ExportStats, FlushReport, QueueOptions, Sink, SinkStats, WriteOptions, WriteResult } from './export/queue.js'

// store
export { openImportedStore, openStore } from './stores/open-store.js'
export type { OpenStoreOptions } from './stores/open-store.js'
export type {
  FacetCount,
  FacetField,
  FailingStepRow,
  ListQuery,
  ListSort,
  OverviewQuery,
  PruneOptions,
  ReadOptions,
  RetriedStepRow,
  SlowStepRow,
  StepField,
  StepSkeleton,
  StepsOptions,
  StoreOverview,
  StoreStats,
  TextScope,
  TraceHeader,
  TracePage,
  TraceStore,
  TraceSummary,
  UsageRow,
  VacuumResult,
} from './stores/types.js'

// replay
export { replay, ReplayedError, ReplayMismatchError } from './replay/replay.js'
export type { ReplayOptions, ReplayResult } from './replay/replay.js'
export { expectReplayToMatch } from './replay/testing.js'
export { toTree, MalformedTraceError } from './replay/tree.js'
export type { MalformedTraceReason, TraceTree, TreeNode } from './replay/tree.js'
export { diffTraces, renderDiff } from './replay/diff.js'
export type { DiffChange, DiffOptions, DiffStatus, DiffSummary, JsonChange, OmittedChanges, RenderDiffOptions, StepDiff, TraceDiff, TraceLevelDiff } from './replay/diff.js'

// integrations
export { wrapOpenAI } from './integrations/openai.js'
export type { OpenAILike } from './integrations/openai.js'
export { wrapAnthropic } from './integrations/anthropic.js'
export type { AnthropicLike } from './integrations/anthropic.js'

// propagation
export { continueTrace, injectTraceparent } from './core/propagation.js'
export type { HeaderReader, HeaderWriter, ParentHeaders } from './core/propagation.js'

// models
export { toWire, fromWire } from './document/wire.js'
export type { AttemptError, ErrorRecord, JsonValue, Status, StepId, StepRecord, TraceDocument, TraceId, Usage } from './document/document.js'
export type { WireDocument, WireStep, WireUsage } from './document/wire.js'

// serialization
export type { CaptureLimits } from './serialization/capture.js'
export type { RedactOptions } from './serialization/redact.js'
