/**
 * The OpenTelemetry sink: every trace document is replayed through the application's own
 * `TracerProvider` (its samplers, span processors and exporters apply). The provider is typed
 * structurally; `@opentelemetry/api` is loaded on the first write only, so `import 'tracellm'` never
 * loads OpenTelemetry.
 */
import type { Context, SpanContext } from '@opentelemetry/api'
import type { TraceDocument } from '../document/document.js'
import type { Sink } from '../export/queue.js'
import { toSpanData, type SpanData } from './spans.js'

/** An attribute value as OpenTelemetry's `AttributeValue` defines it. @category sinks */
export type OtelAttributeValue =
  | string
  | number
  | boolean
  | Array<null | undefined | string>
  | Array<null | undefined | number>
  | Array<null | undefined | boolean>

/** The part of an OpenTelemetry `Span` that `otelSink()` uses. @category sinks */
export interface SpanLike {
  spanContext(): { readonly traceId: string; readonly spanId: string; readonly traceFlags: number }
  setStatus(status: { code: number; message?: string }): unknown
  addEvent(name: string, attributes?: Record<string, OtelAttributeValue | undefined>, time?: [number, number]): unknown
  end(endTime?: [number, number]): void
}

/** The part of an OpenTelemetry `Tracer` that `otelSink()` uses. @category sinks */
export interface TracerLike {
  startSpan(
    name: string,
    options?: { kind?: number; startTime?: [number, number]; attributes?: Record<string, OtelAttributeValue | undefined> },
    context?: Context,
  ): SpanLike
}

/** The part of an OpenTelemetry `TracerProvider` that `otelSink()` uses. @category sinks */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): TracerLike
  /** Called by `flush()` when present (the SDK's `BasicTracerProvider` has it). */
  forceFlush?(): Promise<void>
}

/** Options of `otelSink()`. @category sinks */
export interface OtelSinkOptions {
  /** The application's provider, e.g. a `BasicTracerProvider` or `NodeTracerProvider`, or `trace.getTracerProvider()`. */
  readonly tracerProvider: TracerProviderLike
}

/**
 * Builds a sink that emits each trace document through the application's own OpenTelemetry
 * `TracerProvider`, so the spans go wherever its span processors and exporters send them. The spans are
 * those of `otlpSink()` (a root span named after the prompt, one child span per step, GenAI attributes,
 * error status and `exception` events, the document's start and end times), started with the public
 * `tracer.startSpan` under a tracer named after the SDK.
 *
 * The trace keeps its trace id; span ids come from the provider's id generator, so each step span
 * carries its step id as `tracellm.step_id`. The root span's parent is the remote caller's span for a
 * continued trace, and otherwise a remote parent that is never exported (the document's `rootSpanId`,
 * the span id `otlpSink()` gives the root): OpenTelemetry takes a trace id only from a parent. Step
 * spans get the provider's ids, so a service that continued this trace from one of its steps points
 * at the step id (`tracellm.step_id`), not at the span; `otlpSink()` keeps the ids as they are. `flush()` calls the provider's
 * `forceFlush()` when it has one; `shutdown()` leaves the provider to the application. A provider that
 * throws rejects the write, which the export queue reports and retries; documents already emitted
 * are not emitted again. Throws a `TypeError` when `tracerProvider` has no `getTracer`.
 *
 * @example
 * import { configure, otelSink, type TracerProviderLike } from 'tracellm'
 * declare const tracerProvider: TracerProviderLike   // e.g. new BasicTracerProvider({ spanProcessors })
 * const sink = otelSink({ tracerProvider })
 * configure({ sinks: [sink] })
 * sink.name   // => 'otel'
 *
 * @category sinks
 * @since 0.1.0
 */
export function otelSink(options: OtelSinkOptions): Sink {
  const provider = (options as Partial<OtelSinkOptions> | undefined)?.tracerProvider
  if (typeof provider !== 'object' || provider === null || typeof provider.getTracer !== 'function') {
    throw new TypeError('Expected `tracerProvider` to be an OpenTelemetry TracerProvider (an object with `getTracer`).')
  }
  const emitted = new WeakSet<TraceDocument>()
  const tracers = new Map<string, TracerLike>()
  const tracerOf = (doc: TraceDocument): TracerLike => {
    const key = doc.sdk.name + '@' + doc.sdk.version
    let tracer = tracers.get(key)
    if (tracer === undefined) {
      tracer = provider.getTracer(doc.sdk.name, doc.sdk.version)
      tracers.set(key, tracer)
    }
    return tracer
  }

  return {
    name: 'otel',
    write: async (batch) => {
      const pending = batch.filter((doc) => !emitted.has(doc))
      if (pending.length === 0) return
      const api = await loadApi()
      for (const doc of pending) {
        emit(api, tracerOf(doc), doc)
        emitted.add(doc)
      }
    },
    flush: async () => {
      if (typeof provider.forceFlush === 'function') await provider.forceFlush()
    },
  }
}

/** Starts and ends the spans of one document, parents before children. */
function emit(api: Api, tracer: TracerLike, doc: TraceDocument): void {
  const [root, ...steps] = toSpanData(doc)
  if (root === undefined) return
  const rootId = root.spanContext().spanId
  const byId = new Map<string, SpanData>(steps.map((span) => [span.spanContext().spanId, span]))
  const started = new Map<string, SpanLike>()

  const remote: SpanContext = {
    traceId: root.spanContext().traceId,
    spanId: root.parentSpanContext?.spanId ?? rootId,
    traceFlags: 1,
    isRemote: true,
  }
  const rootSpan = start(tracer, root, api.trace.setSpanContext(api.ROOT_CONTEXT, remote), undefined)
  started.set(rootId, rootSpan)

  // steps arrive in `seq` order, which starts parents first; the lookup keeps any order correct
  const open = (data: SpanData, seen: Set<string>): SpanLike => {
    const id = data.spanContext().spanId
    const existing = started.get(id)
    if (existing !== undefined) return existing
    seen.add(id)
    const parentId = data.parentSpanContext?.spanId ?? rootId
    const parentData = byId.get(parentId)
    const parent = parentData === undefined || seen.has(parentId) ? rootSpan : open(parentData, seen)
    const span = start(tracer, data, api.trace.setSpanContext(api.ROOT_CONTEXT, parent.spanContext()), id)
    started.set(id, span)
    return span
  }
  const ends: Array<[SpanLike, SpanData]> = []
  for (const data of steps) ends.push([open(data, new Set()), data])
  // children end before their parents, as they would have live
  for (const [span, data] of ends.reverse()) finish(span, data)
  finish(rootSpan, root)
}

function start(tracer: TracerLike, data: SpanData, context: Context, stepId: string | undefined): SpanLike {
  const attributes: Record<string, OtelAttributeValue | undefined> = { ...(data.attributes as Record<string, OtelAttributeValue | undefined>) }
  if (stepId !== undefined) attributes['tracellm.step_id'] = stepId
  return tracer.startSpan(data.name, { kind: data.kind, startTime: [...data.startTime], attributes }, context)
}

function finish(span: SpanLike, data: SpanData): void {
  for (const event of data.events) {
    span.addEvent(event.name, event.attributes as Record<string, OtelAttributeValue | undefined> | undefined, [...event.time])
  }
  if (data.status.code !== 0) span.setStatus(data.status.message === undefined ? { code: data.status.code } : { code: data.status.code, message: data.status.message })
  span.end([...data.endTime])
}

// ---------------------------------------------------------------------------------------------------
// @opentelemetry/api, loaded on first use

type ApiModule = typeof import('@opentelemetry/api')
type Api = Pick<ApiModule, 'trace' | 'ROOT_CONTEXT'>

let apiModule: Promise<Api> | undefined

function loadApi(): Promise<Api> {
  apiModule ??= import('@opentelemetry/api').then(
    (module) => {
      // a CommonJS build: the named exports, or the same object under `default`
      const api = (module as ApiModule & { default?: ApiModule }).trace === undefined ? (module as { default: ApiModule }).default : module
      return { trace: api.trace, ROOT_CONTEXT: api.ROOT_CONTEXT }
    },
    (error: unknown) => {
      apiModule = undefined
      const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        throw new Error('tracellm: install @opentelemetry/api to use otelSink (npm install @opentelemetry/api).')
      }
      throw error
    },
  )
  return apiModule
}
