/**
 * W3C trace-context propagation: `injectTraceparent` writes the running code's position as a
 * `traceparent` header; `continueTrace` and `trace({ parent })` make a new root trace continue a
 * caller's; and a root trace started inside an active OpenTelemetry span continues that span. The
 * OpenTelemetry API is read through its global registry, never imported, so `import 'tracellm'`
 * loads no OpenTelemetry package.
 */
import type { StepId, TraceId } from '../document/document.js'
import { current, runContinuing, type ParentRef } from './context.js'
import { warnOnce } from './guard.js'

/** A `Headers`-like object that can be read (`Headers`, undici, …). @category context */
export interface HeaderReader {
  get(name: string): string | null
}

/** A `Headers`-like object that can be written. @category context */
export interface HeaderWriter {
  set(name: string, value: string): void
}

/**
 * Where a caller's trace context comes from: incoming headers (a plain object such as Node's
 * `req.headers`, any case, or a `Headers`), or a `traceparent` string.
 * @category context
 */
export type ParentHeaders = string | HeaderReader | { readonly [name: string]: string | ReadonlyArray<string> | undefined }

/**
 * Adds a W3C `traceparent` header naming the code running now, so a service called over HTTP can
 * continue this trace (`continueTrace`, `trace({ parent })`). Inside a step the span id is the step's
 * id; in the body of a trace it is the trace's root span id (the one the OTLP export uses). A
 * `tracestate` the trace was continued with is passed on. A plain object is copied with the header
 * added; a `Headers` is set and returned. Outside a trace the headers come back unchanged
 * (`injectTraceparent()` then returns `{}`). Never throws.
 *
 * @example
 * import { injectTraceparent, trace } from 'tracellm'
 * injectTraceparent({ accept: 'text/plain' })                               // => { accept: 'text/plain' }
 * const call = trace({ prompt: 'call' })(() => injectTraceparent().traceparent)
 * const header = call() ?? ''
 * header.split('-').map((part) => part.length)   // => [2, 32, 16, 2]
 *
 * @category context
 * @since 0.1.0
 */
export function injectTraceparent(): Readonly<Record<string, string>>
export function injectTraceparent<H extends HeaderWriter>(headers: H): H
export function injectTraceparent<H extends Readonly<Record<string, string>>>(headers: H): H & Readonly<Record<string, string>>
export function injectTraceparent(headers?: object): object {
  const given = headers ?? {}
  try {
    const ctx = current()
    if (ctx === undefined) return given
    const traceparent = `00-${ctx.traceId}-${ctx.stepId ?? ctx.recorder.rootSpanId}-01`
    const tracestate = ctx.recorder.parent?.tracestate
    if (isWriter(given)) {
      given.set('traceparent', traceparent)
      if (tracestate !== undefined) given.set('tracestate', tracestate)
      return given
    }
    const copy: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(given)) {
      const lower = name.toLowerCase()
      if (lower === 'traceparent' || (tracestate !== undefined && lower === 'tracestate')) continue
      copy[name] = value
    }
    copy.traceparent = traceparent
    if (tracestate !== undefined) copy.tracestate = tracestate
    return copy
  } catch (error) {
    warnOnce('propagation', `tracellm: could not add a traceparent header (${String(error)}); the headers were left unchanged.`)
    return given
  }
}

/**
 * Runs `fn` so that every root trace started inside it continues the caller named by `headers`
 * (their `traceparent` and `tracestate`): the trace takes the caller's trace id and records the
 * caller's trace and span as `parentTraceId`/`parentStepId`. Headers without a `traceparent` change nothing; a
 * malformed one is ignored with a warning. Inside a running trace `fn` simply runs there. Returns
 * what `fn` returns.
 *
 * @example
 * import { configure, continueTrace, flush, memorySink, trace } from 'tracellm'
 * const sink = memorySink()
 * configure({ sinks: [sink] })
 * const handle = trace({ prompt: 'handle' })(() => 'ok')
 * continueTrace({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }, () => handle())   // => 'ok'
 * await flush()
 * sink.traces[0]?.traceId        // => '0af7651916cd43dd8448eb211c80319c'
 * sink.traces[0]?.parentStepId   // => 'b7ad6b7169203331'
 *
 * @category context
 * @since 0.1.0
 */
export function continueTrace<T>(headers: ParentHeaders | undefined, fn: () => T): T {
  let parent: ParentRef | undefined
  try {
    parent = headers === undefined ? undefined : parentFromHeaders(headers)
  } catch {
    parent = undefined
  }
  return parent === undefined ? fn() : runContinuing(parent, fn)
}

/** @internal Whether `value` is something `trace({ parent })` accepts. */
export function isParentHeaders(value: unknown): value is ParentHeaders {
  return typeof value === 'string' || (typeof value === 'object' && value !== null && !Array.isArray(value))
}

/**
 * @internal The caller named by `headers`, or undefined when they carry no `traceparent` or a
 * malformed one (then with one warning). Never throws.
 */
export function parentFromHeaders(headers: ParentHeaders): ParentRef | undefined {
  try {
    let traceparent: string | undefined
    let tracestate: string | undefined
    if (typeof headers === 'string') {
      traceparent = headers
    } else if (typeof (headers as HeaderReader).get === 'function') {
      traceparent = (headers as HeaderReader).get('traceparent') ?? undefined
      tracestate = (headers as HeaderReader).get('tracestate') ?? undefined
    } else {
      for (const [name, value] of Object.entries(headers)) {
        const lower = name.toLowerCase()
        if (lower === 'traceparent') traceparent = single(value)
        else if (lower === 'tracestate') tracestate = typeof value === 'string' ? value : Array.isArray(value) ? value.join(',') : undefined
      }
    }
    if (traceparent === undefined) return undefined
    const parent = parseTraceparent(traceparent, tracestate)
    if (parent === undefined) malformed(traceparent)
    return parent
  } catch (error) {
    warnOnce('traceparent', `tracellm: could not read the incoming trace context (${String(error)}); a new trace was started.`)
    return undefined
  }
}

/** @internal Parses a version-00 W3C `traceparent`; undefined when it is malformed. */
export function parseTraceparent(value: string, tracestate?: string): ParentRef | undefined {
  const match = TRACEPARENT.exec(value.trim())
  if (match === null) return undefined
  const [, traceId, spanId] = match as unknown as [string, string, string]
  if (traceId === ZERO32 || spanId === ZERO16) return undefined
  const state = tracestate?.trim()
  return { traceId: traceId as TraceId, spanId: spanId as StepId, tracestate: state === undefined || state === '' ? undefined : state }
}

/**
 * @internal The active OpenTelemetry span, when an OpenTelemetry context manager is registered and a
 * valid span is active. Read through the API's global registry (`@opentelemetry/api` 1.x): without
 * OpenTelemetry this costs one property read. Never throws.
 */
export function activeSpanParent(): ParentRef | undefined {
  const api = (globalThis as Record<symbol, OtelGlobal | undefined>)[OTEL_API_KEY]
  if (api === undefined) return undefined
  try {
    const manager = api.context
    if (manager === undefined || typeof manager.active !== 'function') return undefined
    const span = manager.active()?.getValue?.(OTEL_SPAN_KEY) as OtelSpan | undefined
    if (span === undefined || span === null || typeof span.spanContext !== 'function') return undefined
    const spanContext = span.spanContext()
    const traceId = spanContext?.traceId
    const spanId = spanContext?.spanId
    if (typeof traceId !== 'string' || typeof spanId !== 'string') return undefined
    if (!HEX32.test(traceId) || !HEX16.test(spanId) || traceId === ZERO32 || spanId === ZERO16) return undefined
    const traceState = spanContext?.traceState
    const serialized = typeof traceState?.serialize === 'function' ? traceState.serialize() : undefined
    return { traceId: traceId as TraceId, spanId: spanId as StepId, tracestate: typeof serialized === 'string' && serialized !== '' ? serialized : undefined }
  } catch (error) {
    warnOnce('otel-context', `tracellm: could not read the active OpenTelemetry span (${String(error)}); traces start on their own.`)
    return undefined
  }
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/
const HEX32 = /^[0-9a-f]{32}$/
const HEX16 = /^[0-9a-f]{16}$/
const ZERO32 = '0'.repeat(32)
const ZERO16 = '0'.repeat(16)
// the keys @opentelemetry/api 1.x registers its globals and stores the active span under
const OTEL_API_KEY = Symbol.for('opentelemetry.js.api.1')
const OTEL_SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN')

interface OtelGlobal {
  readonly context?: { active?: () => { getValue?: (key: symbol) => unknown } | undefined }
}

interface OtelSpan {
  spanContext(): { traceId?: unknown; spanId?: unknown; traceState?: { serialize?: () => unknown } } | undefined
}

function isWriter(headers: object): headers is HeaderWriter {
  return typeof (headers as Partial<HeaderWriter>).set === 'function'
}

function single(value: string | ReadonlyArray<string> | undefined): string | undefined {
  if (typeof value === 'string') return value
  // W3C: more than one traceparent header is malformed
  if (Array.isArray(value)) return value.length === 1 ? (value[0] as string) : value.length === 0 ? undefined : ''
  return undefined
}

function malformed(value: string): void {
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value
  warnOnce('traceparent', `tracellm: ignored a malformed traceparent header ${JSON.stringify(shown)}; a new trace was started.`)
}
