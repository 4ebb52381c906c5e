/**
 * The document → span mapping, once, for both OpenTelemetry sinks (`otlpSink` encodes these spans,
 * `otelSink` replays them through the app's own tracer): a root span per document, one span per step,
 * GenAI semantic-convention attributes (docs/otlp.md). Types only from the OpenTelemetry packages.
 */
import type { Attributes, AttributeValue, HrTime, SpanContext, SpanKind, SpanStatusCode } from '@opentelemetry/api'
import type { Resource } from '@opentelemetry/resources'
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base'
import type { ErrorRecord, JsonValue, StepRecord, TraceDocument } from '../document/document.js'
import { rootSpanIdOf } from '../document/ids.js'

/** Longest `tracellm.input` / `tracellm.output` / `tracellm.metadata` value, in characters. */
const MAX_JSON_CHARS = 8 * 1024
const KIND_INTERNAL = 0 as SpanKind
const KIND_CLIENT = 2 as SpanKind
const STATUS_UNSET = 0 as SpanStatusCode
const STATUS_ERROR = 2 as SpanStatusCode
const SAMPLED = 1

/** @internal The spans of one document: its root span first, then one per step. */
export function toSpans(doc: TraceDocument, resource: Resource): ReadableSpan[] {
  const instrumentationScope = { name: doc.sdk.name, version: doc.sdk.version }
  return toSpanData(doc).map((span) => ({ ...span, resource, instrumentationScope }))
}

/** @internal A span of `toSpanData`: a `ReadableSpan` without its resource and instrumentation scope. */
export type SpanData = Omit<ReadableSpan, 'resource' | 'instrumentationScope'>

/**
 * @internal The document→span mapping shared by `otlpSink` and `otelSink`: names, kinds, attributes,
 * status, exception events, ids, parents and times of the root span (first) and of one span per step.
 */
export function toSpanData(doc: TraceDocument): SpanData[] {
  const stepIds = new Set(doc.steps.map((step) => step.stepId as string))
  // the id injectTraceparent sent from the trace body; a continued trace has the caller's trace id
  const rootId = rootSpanIdOf(doc)
  const otelTraceId = doc.traceId
  const rootContext = contextOf(otelTraceId, rootId)

  const rootAttributes: Attributes = {
    'tracellm.prompt': doc.prompt,
    'tracellm.project': doc.project,
    'tracellm.environment': doc.environment,
    'tracellm.retry_count': doc.retryCount,
    'tracellm.usage.input_tokens': doc.usage.inputTokens,
    'tracellm.usage.output_tokens': doc.usage.outputTokens,
  }
  if (doc.modelName !== undefined) rootAttributes['tracellm.model_name'] = doc.modelName
  if (doc.tags.length > 0) rootAttributes['tracellm.tags'] = [...doc.tags]
  if (doc.replayOf !== undefined) rootAttributes['tracellm.replay_of'] = doc.replayOf
  if (doc.droppedSteps !== undefined) rootAttributes['tracellm.dropped_steps'] = doc.droppedSteps
  // the GenAI conventions have no cost attribute; the root's is the trace's total
  // a total, kept apart from the steps' `tracellm.cost_usd` as the token totals are from `gen_ai.usage.*`
  if (doc.costUsd !== undefined) rootAttributes['tracellm.usage.cost_usd'] = doc.costUsd
  addCommon(rootAttributes, doc)

  const root = makeSpan({
    name: doc.prompt,
    kind: KIND_INTERNAL,
    context: rootContext,
    parent: doc.parentStepId === undefined ? undefined : contextOf(otelTraceId, doc.parentStepId),
    startedAt: doc.startedAt,
    endedAt: doc.endedAt,
    error: doc.status === 'error' ? doc.error : null,
    attributes: rootAttributes,
  })

  const steps = doc.steps.map((step) => {
    const parentId = step.parentStepId !== null && stepIds.has(step.parentStepId) ? step.parentStepId : rootId
    const llm = step.kind === 'llm'
    const attributes: Attributes = llm
      ? { 'gen_ai.operation.name': 'chat' }
      : { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': step.name }
    if (step.model !== undefined) attributes['gen_ai.request.model'] = step.model
    if (step.usage !== undefined) {
      attributes['gen_ai.usage.input_tokens'] = step.usage.inputTokens
      attributes['gen_ai.usage.output_tokens'] = step.usage.outputTokens
    }
    if (step.costUsd !== undefined) attributes['tracellm.cost_usd'] = step.costUsd
    attributes['tracellm.name'] = step.name
    attributes['tracellm.kind'] = step.kind
    attributes['tracellm.seq'] = step.seq
    attributes['tracellm.attempts'] = step.attempts
    attributes['tracellm.retries'] = step.retries
    if (step.incomplete === true) attributes['tracellm.incomplete'] = true
    addCommon(attributes, step)
    if (step.status === 'error' && step.error !== null) attributes['error.type'] = step.error.type
    return makeSpan({
      name: spanNameOf(step),
      kind: llm ? KIND_CLIENT : KIND_INTERNAL,
      context: contextOf(otelTraceId, step.stepId),
      parent: contextOf(otelTraceId, parentId),
      startedAt: step.startedAt,
      endedAt: step.endedAt,
      error: step.status === 'error' ? (step.error ?? { type: 'Error', message: 'failed' }) : null,
      attributes,
    })
  })
  return [root, ...steps]
}

function spanNameOf(step: StepRecord): string {
  if (step.kind === 'llm') return step.model === undefined ? 'chat' : 'chat ' + step.model
  return 'execute_tool ' + step.name
}

/** Input, output, metadata and truncation, shared by the root span and the step spans. */
function addCommon(attributes: Attributes, record: TraceDocument | StepRecord): void {
  if (record.input !== undefined) attributes['tracellm.input'] = capped(record.input)
  if (record.output !== undefined) attributes['tracellm.output'] = capped(record.output)
  if (record.outputKind !== undefined) attributes['tracellm.output_kind'] = record.outputKind
  if (Object.keys(record.metadata).length > 0) attributes['tracellm.metadata'] = capped(record.metadata)
  if (record.truncated !== undefined && record.truncated > 0) attributes['tracellm.truncated'] = record.truncated
}

function capped(value: JsonValue): AttributeValue {
  const text = JSON.stringify(value) ?? 'null'
  return text.length <= MAX_JSON_CHARS ? text : text.slice(0, MAX_JSON_CHARS) + '…[truncated]'
}

interface SpanParts {
  readonly name: string
  readonly kind: SpanKind
  readonly context: SpanContext
  readonly parent: SpanContext | undefined
  readonly startedAt: string
  readonly endedAt: string
  readonly error: ErrorRecord | null
  readonly attributes: Attributes
}

function makeSpan(parts: SpanParts): SpanData {
  const start = millisOf(parts.startedAt)
  const end = Math.max(start, millisOf(parts.endedAt))
  const events: TimedEvent[] = []
  if (parts.error !== null) {
    const attributes: Attributes = { 'exception.type': parts.error.type, 'exception.message': parts.error.message }
    if (parts.error.stack !== undefined) attributes['exception.stacktrace'] = parts.error.stack
    events.push({ time: hrTimeOf(end), name: 'exception', attributes })
  }
  return {
    name: parts.name,
    kind: parts.kind,
    spanContext: () => parts.context,
    parentSpanContext: parts.parent,
    startTime: hrTimeOf(start),
    endTime: hrTimeOf(end),
    duration: hrTimeOf(end - start),
    status: parts.error === null ? { code: STATUS_UNSET } : { code: STATUS_ERROR, message: parts.error.message },
    attributes: parts.attributes,
    links: [],
    events,
    ended: true,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  }
}

function contextOf(traceId: string, spanId: string): SpanContext {
  return { traceId, spanId, traceFlags: SAMPLED, isRemote: false }
}

function millisOf(iso: string): number {
  const ms = Date.parse(iso)
  return Number.isFinite(ms) ? ms : 0
}

function hrTimeOf(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000)
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)]
}

