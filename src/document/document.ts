/**
 * The trace document (schema_version 1) as the TypeScript API sees it: camelCase, read-only.
 * `wire.ts` is the only place that turns it into the snake_case JSON that is stored and exported.
 */

/** Any value that survives `JSON.stringify` unchanged: what capture produces. @category models */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | ReadonlyArray<JsonValue>
  | { readonly [key: string]: JsonValue }

/** A 32-char lowercase hex W3C trace id. @category models */
export type TraceId = string & { readonly TraceId: unique symbol }
/** A 16-char lowercase hex W3C span id. @category models */
export type StepId = string & { readonly StepId: unique symbol }

/** `"success"` or `"error"`. @category models */
export type Status = 'success' | 'error'

/**
 * A captured error: `{ type, message, stack?, cause? }`. A thrown non-Error is recorded as
 * `{ type: "NonError", message, value }`.
 * @category models
 */
export interface ErrorRecord {
  readonly type: string
  readonly message: string
  readonly stack?: string
  readonly code?: JsonValue
  readonly cause?: ErrorRecord | JsonValue
  readonly errors?: ReadonlyArray<ErrorRecord | JsonValue>
  readonly value?: JsonValue
}

/** One failed attempt of a retried step. @category models */
export interface AttemptError {
  readonly attempt: number
  readonly error: ErrorRecord
}

/** Token counts, summed per trace from its `llm` steps. @category models */
export interface Usage {
  readonly inputTokens: number
  readonly outputTokens: number
}

/** One `traceTool` call (or a nested `trace`) inside a trace. @category models */
export interface StepRecord {
  readonly stepId: StepId
  readonly parentStepId: StepId | null
  readonly seq: number
  readonly name: string
  readonly kind: string
  readonly status: Status
  readonly startedAt: string
  readonly endedAt: string
  readonly durationMs: number
  /** The argument list, snapshotted when the step started; absent with `captureInput: false`. */
  readonly input?: JsonValue
  /** The (awaited) return value; absent with `captureOutput: false`. */
  readonly output?: JsonValue
  /** `"undefined"` when the function returned `undefined` (stored as `null`), `"stream"` for an async iterable. */
  readonly outputKind?: 'undefined' | 'stream'
  readonly error: ErrorRecord | null
  readonly attempts: number
  readonly retries: number
  readonly attemptErrors: ReadonlyArray<AttemptError>
  readonly metadata: { readonly [key: string]: JsonValue }
  /** How many values capture cut short (strings, arrays, depth, budget) in this step. */
  readonly truncated?: number
  /** True when the trace ended before this step did (a stream nobody finished reading). */
  readonly incomplete?: boolean
  readonly model?: string
  readonly usage?: Usage
  /** What the step cost in US dollars, from `configure({ prices })`; absent when its model is not priced. */
  readonly costUsd?: number
}

/** One top-level `trace` call: the unit that is persisted and exported. @category models */
export interface TraceDocument {
  readonly schemaVersion: 1
  readonly traceId: TraceId
  /**
   * The id of the span this document's root stands for (16 hex digits): the span id
   * `injectTraceparent` sends from the trace body, and the OTLP export's root span id. Documents that
   * share a trace id (a trace continued across services) are told apart by it. Absent in documents
   * written before it existed; `rootSpanIdOf(doc)` derives one for those.
   */
  readonly rootSpanId?: StepId
  readonly prompt: string
  readonly modelName?: string
  readonly project: string
  readonly environment: string
  readonly tags: ReadonlyArray<string>
  readonly metadata: { readonly [key: string]: JsonValue }
  readonly status: Status
  readonly startedAt: string
  readonly endedAt: string
  readonly durationMs: number
  readonly input?: JsonValue
  readonly output?: JsonValue
  readonly outputKind?: 'undefined' | 'stream'
  readonly error: ErrorRecord | null
  readonly retryCount: number
  readonly usage: Usage
  /** The sum of the steps' `costUsd`; absent when no step was priced. */
  readonly costUsd?: number
  readonly steps: ReadonlyArray<StepRecord>
  readonly truncated?: number
  /** Steps that ran but were not recorded because the trace reached `maxStepsPerTrace`. */
  readonly droppedSteps?: number
  /** The trace this one replayed (`replay()`), when it is a replay. */
  readonly replayOf?: TraceId
  /**
   * Set when this document continues a caller's trace (a W3C `traceparent`, or an active
   * OpenTelemetry span): the caller's trace id, which is also this document's `traceId`.
   */
  readonly parentTraceId?: TraceId
  /** The caller's span id in that trace: the span this document's root hangs under. */
  readonly parentStepId?: StepId
  readonly sdk: { readonly name: string; readonly version: string }
}

/** The schema version this SDK writes. @category models */
export const SCHEMA_VERSION = 1 as const
