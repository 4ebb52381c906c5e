/**
 * camelCase in, snake_case out: the only translation between the TypeScript API and the stored JSON.
 * User data (input, output, metadata, errors) is copied as it is: only the document's own keys change.
 */
import type { AttemptError, ErrorRecord, JsonValue, StepId, StepRecord, TraceDocument, TraceId, Usage } from './document.js'

/** A step as stored and exported. @category models */
export interface WireStep {
  readonly step_id: string
  readonly parent_step_id: string | null
  readonly seq: number
  readonly name: string
  readonly kind: string
  readonly status: 'success' | 'error'
  readonly started_at: string
  readonly ended_at: string
  readonly duration_ms: number
  readonly input?: JsonValue
  readonly output?: JsonValue
  readonly output_kind?: 'undefined' | 'stream'
  readonly error: ErrorRecord | null
  readonly attempts: number
  readonly retries: number
  readonly attempt_errors: ReadonlyArray<AttemptError>
  readonly metadata: { readonly [key: string]: JsonValue }
  readonly truncated?: number
  readonly incomplete?: boolean
  readonly model?: string
  readonly usage?: WireUsage
  readonly cost_usd?: number
}

/** Token counts as stored. @category models */
export interface WireUsage {
  readonly input_tokens: number
  readonly output_tokens: number
}

/** A trace document as stored and exported (`schema_version: 1`). @category models */
export interface WireDocument {
  readonly schema_version: 1
  readonly trace_id: string
  readonly root_span_id?: string
  readonly prompt: string
  readonly model_name?: string
  readonly project: string
  readonly environment: string
  readonly tags: ReadonlyArray<string>
  readonly metadata: { readonly [key: string]: JsonValue }
  readonly status: 'success' | 'error'
  readonly started_at: string
  readonly ended_at: string
  readonly duration_ms: number
  readonly input?: JsonValue
  readonly output?: JsonValue
  readonly output_kind?: 'undefined' | 'stream'
  readonly error: ErrorRecord | null
  readonly retry_count: number
  readonly usage: WireUsage
  readonly cost_usd?: number
  readonly steps: ReadonlyArray<WireStep>
  readonly truncated?: number
  readonly dropped_steps?: number
  readonly replay_of?: string
  readonly parent_trace_id?: string
  readonly parent_step_id?: string
  readonly sdk: { readonly name: string; readonly version: string }
}

/**
 * Converts a document to its stored, snake_case form.
 *
 * @example
 * import { toWire, type TraceDocument } from 'tracellm'
 * declare const doc: TraceDocument
 * JSON.stringify(toWire(doc))   // => '{"schema_version":1,"trace_id":…}'
 *
 * @category models
 * @since 0.1.0
 */
export function toWire(doc: TraceDocument): WireDocument {
  return {
    schema_version: doc.schemaVersion,
    trace_id: doc.traceId,
    ...(doc.rootSpanId === undefined ? {} : { root_span_id: doc.rootSpanId }),
    prompt: doc.prompt,
    ...(doc.modelName === undefined ? {} : { model_name: doc.modelName }),
    project: doc.project,
    environment: doc.environment,
    tags: doc.tags,
    metadata: doc.metadata,
    status: doc.status,
    started_at: doc.startedAt,
    ended_at: doc.endedAt,
    duration_ms: doc.durationMs,
    ...('input' in doc ? { input: doc.input } : {}),
    ...('output' in doc ? { output: doc.output } : {}),
    ...(doc.outputKind === undefined ? {} : { output_kind: doc.outputKind }),
    error: doc.error,
    retry_count: doc.retryCount,
    usage: usageToWire(doc.usage),
    ...(doc.costUsd === undefined ? {} : { cost_usd: doc.costUsd }),
    steps: doc.steps.map(stepToWire),
    ...(doc.truncated ? { truncated: doc.truncated } : {}),
    ...(doc.droppedSteps ? { dropped_steps: doc.droppedSteps } : {}),
    ...(doc.replayOf === undefined ? {} : { replay_of: doc.replayOf }),
    ...(doc.parentTraceId === undefined ? {} : { parent_trace_id: doc.parentTraceId }),
    ...(doc.parentStepId === undefined ? {} : { parent_step_id: doc.parentStepId }),
    sdk: doc.sdk,
  }
}

/**
 * Reads a stored, snake_case document back into the camelCase API form.
 * Throws a `TypeError` naming the field when the value is not a version-1 document.
 *
 * @example
 * import { fromWire, toWire, type TraceDocument } from 'tracellm'
 * declare const doc: TraceDocument
 * fromWire(JSON.parse(JSON.stringify(toWire(doc)))).traceId === doc.traceId   // => true
 *
 * @category models
 * @since 0.1.0
 */
export function fromWire(value: unknown): TraceDocument {
  const wire = expectObject(value, 'document') as unknown as WireDocument
  if (wire.schema_version !== 1) {
    throw new TypeError(`Expected \`schema_version\` to be 1, got ${JSON.stringify(wire.schema_version)}.`)
  }
  if (typeof wire.trace_id !== 'string') throw new TypeError('Expected `trace_id` to be a string.')
  if (!Array.isArray(wire.steps)) throw new TypeError('Expected `steps` to be an array.')
  return {
    schemaVersion: 1,
    traceId: wire.trace_id as TraceId,
    ...(typeof wire.root_span_id === 'string' ? { rootSpanId: wire.root_span_id as StepId } : {}),
    prompt: wire.prompt,
    ...(wire.model_name === undefined ? {} : { modelName: wire.model_name }),
    project: wire.project,
    environment: wire.environment,
    tags: wire.tags ?? [],
    metadata: wire.metadata ?? {},
    status: wire.status,
    startedAt: wire.started_at,
    endedAt: wire.ended_at,
    durationMs: wire.duration_ms,
    ...('input' in wire ? { input: wire.input } : {}),
    ...('output' in wire ? { output: wire.output } : {}),
    ...(wire.output_kind === undefined ? {} : { outputKind: wire.output_kind }),
    error: wire.error ?? null,
    retryCount: wire.retry_count ?? 0,
    usage: usageFromWire(wire.usage),
    ...(typeof wire.cost_usd === 'number' ? { costUsd: wire.cost_usd } : {}),
    steps: wire.steps.map((step, index) => stepFromWire(expectObject(step, `steps[${index}]`) as unknown as WireStep)),
    ...(wire.truncated ? { truncated: wire.truncated } : {}),
    ...(wire.dropped_steps ? { droppedSteps: wire.dropped_steps } : {}),
    ...(typeof wire.replay_of === 'string' ? { replayOf: wire.replay_of as TraceId } : {}),
    ...(typeof wire.parent_trace_id === 'string' ? { parentTraceId: wire.parent_trace_id as TraceId } : {}),
    ...(typeof wire.parent_step_id === 'string' ? { parentStepId: wire.parent_step_id as StepId } : {}),
    sdk: wire.sdk,
  }
}

function stepToWire(step: StepRecord): WireStep {
  return {
    step_id: step.stepId,
    parent_step_id: step.parentStepId,
    seq: step.seq,
    name: step.name,
    kind: step.kind,
    status: step.status,
    started_at: step.startedAt,
    ended_at: step.endedAt,
    duration_ms: step.durationMs,
    ...('input' in step ? { input: step.input } : {}),
    ...('output' in step ? { output: step.output } : {}),
    ...(step.outputKind === undefined ? {} : { output_kind: step.outputKind }),
    error: step.error,
    attempts: step.attempts,
    retries: step.retries,
    attempt_errors: step.attemptErrors,
    metadata: step.metadata,
    ...(step.truncated ? { truncated: step.truncated } : {}),
    ...(step.incomplete ? { incomplete: true } : {}),
    ...(step.model === undefined ? {} : { model: step.model }),
    ...(step.usage === undefined ? {} : { usage: usageToWire(step.usage) }),
    ...(step.costUsd === undefined ? {} : { cost_usd: step.costUsd }),
  }
}

/** @internal One stored (snake_case) step as the API sees it. */
export function stepFromWire(step: WireStep): StepRecord {
  return {
    stepId: step.step_id as StepId,
    parentStepId: (step.parent_step_id ?? null) as StepId | null,
    seq: step.seq,
    name: step.name,
    kind: step.kind,
    status: step.status,
    startedAt: step.started_at,
    endedAt: step.ended_at,
    durationMs: step.duration_ms,
    ...('input' in step ? { input: step.input } : {}),
    ...('output' in step ? { output: step.output } : {}),
    ...(step.output_kind === undefined ? {} : { outputKind: step.output_kind }),
    error: step.error ?? null,
    attempts: step.attempts ?? 1,
    retries: step.retries ?? 0,
    attemptErrors: step.attempt_errors ?? [],
    metadata: step.metadata ?? {},
    ...(step.truncated ? { truncated: step.truncated } : {}),
    ...(step.incomplete ? { incomplete: true } : {}),
    ...(step.model === undefined ? {} : { model: step.model }),
    ...(step.usage === undefined ? {} : { usage: usageFromWire(step.usage) }),
    ...(typeof step.cost_usd === 'number' ? { costUsd: step.cost_usd } : {}),
  }
}

function usageToWire(usage: Usage): WireUsage {
  return { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens }
}

function usageFromWire(usage: WireUsage | undefined): Usage {
  return { inputTokens: usage?.input_tokens ?? 0, outputTokens: usage?.output_tokens ?? 0 }
}

function expectObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`Expected ${what} to be an object.`)
  }
  return value as Record<string, unknown>
}
