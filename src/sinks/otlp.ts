/**
 * The OTLP sink: every trace document becomes one OpenTelemetry trace, encoded by OpenTelemetry's own
 * `@opentelemetry/otlp-transformer` and POSTed over OTLP/HTTP. The OTel packages are optional peer
 * dependencies, loaded on the first write (never by `import 'tracellm'`), in this file only.
 */
import type { Attributes, AttributeValue, HrTime, SpanContext, SpanKind, SpanStatusCode } from '@opentelemetry/api'
import type { Resource } from '@opentelemetry/resources'
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base'
import type { ErrorRecord, JsonValue, StepRecord, TraceDocument } from '../document/document.js'
import type { Sink } from '../export/queue.js'
import { rootSpanId } from '../document/ids.js'

/** @internal */
export { rootSpanId }

/** Options of `otlpSink()`. @category sinks */
export interface OtlpSinkOptions {
  /**
   * The full OTLP/HTTP traces URL, e.g. `http://localhost:4318/v1/traces`. Credentials in it are sent
   * as Basic authentication and never shown by `String(sink)`.
   * @default OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces", else "http://localhost:4318/v1/traces"
   */
  readonly url?: string
  /** Extra request headers (an API key, a tenant). Values are never printed. They override the environment's. @default OTEL_EXPORTER_OTLP_TRACES_HEADERS, else OTEL_EXPORTER_OTLP_HEADERS (`k=v,k2=v2`, URL-decoded) */
  readonly headers?: Readonly<Record<string, string>>
  /** The OTLP/HTTP encoding. @default "http/protobuf" */
  readonly protocol?: 'http/protobuf' | 'http/json'
  /** How long one request may take before it is aborted (and retried by the export queue). @default 10000 */
  readonly timeoutMs?: number
}

/** What an `otlpSink()` delivered, in trace documents. @category sinks */
export interface OtlpSinkStats {
  /** Documents the receiver accepted (a partial success counts as sent). */
  readonly sent: number
  /** Documents given up without retry: a 4xx other than 429, a 413 even alone, or one that cannot be encoded. */
  readonly dropped: number
}

/** The sink `otlpSink()` builds: a `Sink` with delivery counters. @category sinks */
export interface OtlpSink extends Sink {
  stats(): OtlpSinkStats
  /** `otlpSink(<protocol> <url without credentials or query>)`. */
  toString(): string
}

/**
 * Builds a sink that exports each trace document as one OpenTelemetry trace over OTLP/HTTP, to an
 * OpenTelemetry Collector, Jaeger, Langfuse or any OTLP receiver. The trace keeps its trace id; a root
 * span named after the prompt carries the trace, and each step becomes a child span (span id = step
 * id) under its parent step, named and attributed after the OpenTelemetry GenAI conventions
 * (`chat {model}` for `llm` steps, `execute_tool {name}` for the others) plus `tracellm.*` attributes.
 *
 * Delivery follows the OTLP specification: 429, 502, 503, 504, timeouts and network errors reject the
 * write with an error carrying `retryable: true` (and `retryAfterMs` from a `Retry-After` header), so
 * the export queue retries it; documents already accepted are not sent again. A 413 (or a body over
 * 20 MiB) splits the batch in halves, and a single document that is still too big is dropped; any
 * other 4xx or 5xx drops the batch. Drops are counted in `stats()` and warned about once per cause
 * (`TracellmWarning`, code `TRACELLM_OTLP`); a partial success is warned about, not retried.
 * Throws a `TypeError` for an invalid or unknown option, or a malformed OTEL_* variable.
 *
 * @example
 * import { configure, otlpSink } from 'tracellm'
 * const sink = otlpSink({ url: 'https://user:s3cret@otel.example.com/v1/traces', headers: { 'x-api-key': 'k3y' } })
 * configure({ sinks: [sink] })
 * String(sink)   // => 'otlpSink(http/protobuf https://otel.example.com/v1/traces)'
 * sink.stats()   // => { sent: 0, dropped: 0 }
 *
 * @category sinks
 * @since 0.1.0
 */
export function otlpSink(options: OtlpSinkOptions = {}): OtlpSink {
  const settings = checkOptions(options, process.env)
  const label = 'otlpSink(' + settings.protocol + ' ' + settings.shownUrl + ')'
  const delivered = new WeakSet<TraceDocument>()
  const warned = new Set<string>()
  let sent = 0
  let dropped = 0

  const warn = (key: string, message: string): void => {
    if (warned.has(key)) return
    warned.add(key)
    process.emitWarning(message, { type: 'TracellmWarning', code: 'TRACELLM_OTLP' })
  }
  const drop = (docs: ReadonlyArray<TraceDocument>, key: string, message: string): void => {
    dropped += docs.length
    for (const doc of docs) delivered.add(doc)
    warn(key, 'tracellm: ' + label + ' dropped ' + docs.length + ' trace(s): ' + message)
  }

  /** Sends `docs` in one request; splits on 413. Rejects only with a retryable (or unknown) failure. */
  const send = async (otel: Otel, docs: ReadonlyArray<TraceDocument>): Promise<void> => {
    let body: Uint8Array
    try {
      body = encode(otel, settings.protocol, docs)
    } catch (error) {
      drop(docs, 'encode', 'they could not be encoded (' + messageOf(error) + ').')
      return
    }
    const response = body.byteLength > MAX_BODY_BYTES ? TOO_LARGE : await post(settings, body)
    if (response.status >= 200 && response.status < 300) {
      sent += docs.length
      for (const doc of docs) delivered.add(doc)
      reportPartialSuccess(otel, settings.protocol, response.body, (message) => warn('partial', 'tracellm: ' + label + ' partial success: ' + message))
      return
    }
    if (response.status === 413) {
      if (docs.length === 1) {
        drop(docs, 'too-large', 'the receiver refused a single trace as too large (413).')
        return
      }
      const middle = Math.ceil(docs.length / 2)
      await send(otel, docs.slice(0, middle))
      await send(otel, docs.slice(middle))
      return
    }
    if (RETRYABLE_STATUS.has(response.status)) {
      throw exportError('The OTLP receiver answered ' + response.status + '.', true, response.status, retryAfterOf(response.retryAfter))
    }
    drop(docs, 'status-' + response.status, 'the receiver answered ' + response.status + ', which is not retried' + detailOf(response.body) + '.')
  }

  return {
    name: 'otlp',
    write: async (batch) => {
      const pending = batch.filter((doc) => !delivered.has(doc))
      if (pending.length === 0) return
      await send(await loadOtel(), pending)
    },
    stats: () => ({ sent, dropped }),
    toString: () => label,
    [Symbol.for('nodejs.util.inspect.custom')]: () => label,
  } as OtlpSink
}

// ---------------------------------------------------------------------------------------------------
// Options and the environment

interface Settings {
  readonly url: string
  readonly shownUrl: string
  readonly headers: Readonly<Record<string, string>>
  readonly protocol: 'http/protobuf' | 'http/json'
  readonly timeoutMs: number
}

const OPTION_KEYS = new Set(['url', 'headers', 'protocol', 'timeoutMs'])
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const DEFAULT_URL = 'http://localhost:4318/v1/traces'
const DEFAULT_TIMEOUT_MS = 10_000
const MAX_TIMEOUT_MS = 2_147_483_647
const MAX_BODY_BYTES = 20 * 1024 * 1024

/** @internal Validates the options against the environment `env` (a TypeError names the key, never a value). */
export function checkOptions(options: OtlpSinkOptions, env: NodeJS.ProcessEnv): Settings {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `otlpSink` options to be an object.')
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw new TypeError('Unknown `otlpSink` option `' + key + '`.')
  }
  const protocol: unknown = options.protocol ?? 'http/protobuf'
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') throw new TypeError('Expected `protocol` to be "http/protobuf" or "http/json".')
  const timeoutMs: unknown = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new TypeError('Expected `timeoutMs` to be an integer from 1 to ' + MAX_TIMEOUT_MS + '.')
  }

  const [rawUrl, source] = endpointOf(options.url, env)
  let parsed: URL
  try {
    parsed = new URL(rawUrl)
  } catch {
    // the value is never quoted back: it may hold credentials
    throw new TypeError('Expected ' + source + ' to be an http:// or https:// URL.')
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError('Expected ' + source + ' to be an http:// or https:// URL.')

  const headers: Record<string, string> = {}
  const envHeaders = env.OTEL_EXPORTER_OTLP_TRACES_HEADERS !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_HEADERS' : 'OTEL_EXPORTER_OTLP_HEADERS'
  Object.assign(headers, parseHeaderList(env[envHeaders], envHeaders))
  if (options.headers !== undefined) {
    if (typeof options.headers !== 'object' || options.headers === null || Array.isArray(options.headers)) throw new TypeError('Expected `headers` to be an object of strings.')
    for (const [name, value] of Object.entries(options.headers)) {
      if (!HEADER_NAME.test(name)) throw new TypeError('Expected `headers` to hold valid header names; `' + name.slice(0, 40) + '` is not one.')
      if (typeof value !== 'string' || /[\r\n\0]/.test(value)) throw new TypeError('Expected the value of header `' + name + '` to be a string without line breaks.')
      headers[name.toLowerCase()] = value
    }
  }
  // fetch refuses URLs with credentials: they travel as Basic authentication instead
  if (parsed.username !== '' || parsed.password !== '') {
    if (headers.authorization === undefined) {
      const user = decodeURIComponent(parsed.username)
      const password = decodeURIComponent(parsed.password)
      headers.authorization = 'Basic ' + Buffer.from(user + ':' + password).toString('base64')
    }
    parsed.username = ''
    parsed.password = ''
  }
  const shownUrl = parsed.origin + parsed.pathname + (parsed.search === '' ? '' : '?***')
  return { url: parsed.href, shownUrl, headers, protocol, timeoutMs }
}

function endpointOf(url: unknown, env: NodeJS.ProcessEnv): [string, string] {
  if (url !== undefined) {
    if (typeof url !== 'string') throw new TypeError('Expected `url` to be an http:// or https:// URL.')
    return [url.trim(), '`url`']
  }
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()
  if (traces !== undefined && traces !== '') return [traces, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()
  if (base !== undefined && base !== '') return [base.replace(/\/+$/, '') + '/v1/traces', 'OTEL_EXPORTER_OTLP_ENDPOINT']
  return [DEFAULT_URL, 'the default endpoint']
}

/** `k=v,k2=v2`, each side URL-decoded; names are lowercased. */
function parseHeaderList(text: string | undefined, variable: string): Record<string, string> {
  const headers: Record<string, string> = {}
  if (text === undefined || text.trim() === '') return headers
  text.split(',').forEach((entry, index) => {
    if (entry.trim() === '') return
    const equals = entry.indexOf('=')
    let name: string
    let value: string
    try {
      name = decodeURIComponent(entry.slice(0, equals).trim())
      value = decodeURIComponent(entry.slice(equals + 1).trim())
    } catch {
      name = ''
      value = ''
    }
    if (equals <= 0 || !HEADER_NAME.test(name) || /[\r\n\0]/.test(value)) {
      throw new TypeError('Expected ' + variable + ' to be a list of key=value pairs; entry ' + (index + 1) + ' is not one.')
    }
    headers[name.toLowerCase()] = value
  })
  return headers
}

// ---------------------------------------------------------------------------------------------------
// Transport

interface Reply {
  readonly status: number
  readonly retryAfter: string | null
  readonly body: Uint8Array
}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504])
const TOO_LARGE: Reply = { status: 413, retryAfter: null, body: new Uint8Array() }
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
])

/** One POST; resolves any HTTP answer, rejects with an export error when none came. */
async function post(settings: Settings, body: Uint8Array): Promise<Reply> {
  try {
    const response = await fetch(settings.url, {
      method: 'POST',
      headers: { ...settings.headers, 'content-type': settings.protocol === 'http/json' ? 'application/json' : 'application/x-protobuf' },
      body,
      signal: AbortSignal.timeout(settings.timeoutMs),
      redirect: 'follow',
    })
    const bytes = new Uint8Array(await response.arrayBuffer())
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: bytes }
  } catch (error) {
    if (isTimeout(error)) throw exportError('The OTLP request timed out after ' + settings.timeoutMs + ' ms.', true)
    const code = networkCodeOf(error)
    throw exportError('The OTLP request failed' + (code === undefined ? '' : ' (' + code + ')') + ': ' + messageOf(error), code !== undefined && RETRYABLE_CODES.has(code))
  }
}

function isTimeout(error: unknown): boolean {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined
  return name === 'TimeoutError' || name === 'AbortError'
}

/** The `code` of the error or of its `cause` chain (undici wraps socket errors in a TypeError). */
function networkCodeOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; typeof current === 'object' && current !== null && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

/** @internal `Retry-After` as milliseconds from now: delay-seconds or an HTTP-date; undefined when absent or invalid. */
export function retryAfterOf(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (header === null || header === undefined) return undefined
  const text = header.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const at = Date.parse(text)
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined
}

/** An export failure: `retryable` tells the OTLP spec's verdict; the export queue retries any rejection. */
function exportError(message: string, retryable: boolean, status?: number, retryAfterMs?: number): Error {
  const error = new Error(message) as Error & { retryable: boolean; status?: number; retryAfterMs?: number }
  error.name = 'OtlpExportError'
  error.retryable = retryable
  if (status !== undefined) error.status = status
  if (retryAfterMs !== undefined) error.retryAfterMs = retryAfterMs
  return error
}

function detailOf(body: Uint8Array): string {
  if (body.byteLength === 0) return ''
  const text = new TextDecoder().decode(body.subarray(0, 300)).replace(/[^\x20-\x7e]+/g, ' ').trim()
  return text === '' ? '' : ' (' + text.slice(0, 200) + ')'
}

function reportPartialSuccess(otel: Otel, protocol: Settings['protocol'], body: Uint8Array, warn: (message: string) => void): void {
  if (body.byteLength === 0) return
  try {
    const serializer = protocol === 'http/json' ? otel.JsonTraceSerializer : otel.ProtobufTraceSerializer
    const partial = serializer.deserializeResponse(body).partialSuccess
    const rejected = Number(partial?.rejectedSpans ?? 0)
    if (rejected > 0 || (partial?.errorMessage ?? '') !== '') {
      warn(rejected + ' span(s) rejected' + (partial?.errorMessage ? ': ' + partial.errorMessage : '') + '.')
    }
  } catch {
    // an unreadable success body is still a success
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

// ---------------------------------------------------------------------------------------------------
// Documents to spans

/** Longest `tracellm.input` / `tracellm.output` / `tracellm.metadata` value, in characters. */
const MAX_JSON_CHARS = 8 * 1024
const KIND_INTERNAL = 0 as SpanKind
const KIND_CLIENT = 2 as SpanKind
const STATUS_UNSET = 0 as SpanStatusCode
const STATUS_ERROR = 2 as SpanStatusCode
const SAMPLED = 1

function encode(otel: Otel, protocol: Settings['protocol'], docs: ReadonlyArray<TraceDocument>): Uint8Array {
  const resources = new Map<string, Resource>()
  const spans: ReadableSpan[] = []
  for (const doc of docs) {
    const key = JSON.stringify([doc.project, doc.environment, doc.sdk.name, doc.sdk.version])
    let resource = resources.get(key)
    if (resource === undefined) {
      resource = otel.resourceFromAttributes({
        'service.name': doc.project,
        'deployment.environment.name': doc.environment,
        'telemetry.sdk.name': doc.sdk.name,
        'telemetry.sdk.language': 'nodejs',
        'telemetry.sdk.version': doc.sdk.version,
      })
      resources.set(key, resource)
    }
    spans.push(...toSpans(doc, resource))
  }
  const serializer = protocol === 'http/json' ? otel.JsonTraceSerializer : otel.ProtobufTraceSerializer
  const body = serializer.serializeRequest(spans)
  if (body === undefined) throw new Error('the OTLP serializer returned nothing')
  return body
}

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
  // a continued trace: the root must not reuse the caller's span id (injectTraceparent agrees)
  const rootId = rootSpanId(doc.traceId, doc.parentStepId === undefined ? stepIds : new Set([...stepIds, doc.parentStepId]))
  // a continued trace joins its caller's OpenTelemetry trace
  const otelTraceId = doc.parentTraceId ?? doc.traceId
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

// ---------------------------------------------------------------------------------------------------
// The OpenTelemetry packages

type Transformer = typeof import('@opentelemetry/otlp-transformer')
type Resources = typeof import('@opentelemetry/resources')

interface Otel {
  readonly ProtobufTraceSerializer: Transformer['ProtobufTraceSerializer']
  readonly JsonTraceSerializer: Transformer['JsonTraceSerializer']
  readonly resourceFromAttributes: Resources['resourceFromAttributes']
}

let otelModules: Promise<Otel> | undefined

/** The OTel packages are optional peer dependencies: loaded on first use, with a clear error when missing. */
function loadOtel(): Promise<Otel> {
  otelModules ??= Promise.all([import('@opentelemetry/otlp-transformer'), import('@opentelemetry/resources')]).then(
    ([transformer, resources]) => {
      // CommonJS packages: the named exports, or the same object under `default`
      const t = (transformer as Transformer & { default?: Transformer }).ProtobufTraceSerializer === undefined ? (transformer as { default: Transformer }).default : transformer
      const r = (resources as Resources & { default?: Resources }).resourceFromAttributes === undefined ? (resources as { default: Resources }).default : resources
      return { ProtobufTraceSerializer: t.ProtobufTraceSerializer, JsonTraceSerializer: t.JsonTraceSerializer, resourceFromAttributes: r.resourceFromAttributes }
    },
    (error: unknown) => {
      otelModules = undefined
      const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        throw new Error('tracellm: install @opentelemetry/otlp-transformer and @opentelemetry/resources to use otlpSink (npm install @opentelemetry/api @opentelemetry/otlp-transformer @opentelemetry/resources).')
      }
      throw error
    },
  )
  return otelModules
}
