/**
 * The OTLP sink: every trace document becomes one OpenTelemetry trace, encoded by OpenTelemetry's own
 * `@opentelemetry/otlp-transformer` and sent by OpenTelemetry's own OTLP/HTTP exporter
 * (`@opentelemetry/otlp-exporter-base`). The OTel packages are optional peer dependencies, loaded on
 * the first write (never by `import 'tracellm'`), in this file only.
 */
import type { ExportResult, ExportResultCode } from '@opentelemetry/core'
import type { IExportTraceServiceResponse, ISerializer } from '@opentelemetry/otlp-transformer'
import type { Resource } from '@opentelemetry/resources'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import type { TraceDocument } from '../document/document.js'
import type { Sink, WriteResult } from '../export/queue.js'
import { toSpans } from './spans.js'

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
  /** The OTLP/HTTP encoding (`grpc` is not supported). @default OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else "http/protobuf" */
  readonly protocol?: 'http/protobuf' | 'http/json'
  /**
   * The time budget of one export (OpenTelemetry's `timeoutMillis`): a request without an answer for
   * this long is abandoned, and the exporter starts no retry of its own that would begin after it.
   * Keep it below the export queue's `attemptTimeoutMs`.
   * @default OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, else OTEL_EXPORTER_OTLP_TIMEOUT (milliseconds), else 10000
   */
  readonly timeoutMs?: number
  /** Request body compression. @default OTEL_EXPORTER_OTLP_TRACES_COMPRESSION, else OTEL_EXPORTER_OTLP_COMPRESSION, else "none" */
  readonly compression?: 'gzip' | 'none'
}

/** What an `otlpSink()` delivered, in trace documents. @category sinks */
export interface OtlpSinkStats {
  /** Documents the receiver accepted (a partial success counts as sent). */
  readonly sent: number
  /**
   * Documents given up without retry: a status other than 2xx, 429, 502, 503 and 504; a 413 after the
   * batch was split once (or for a single trace); a failure the exporter does not retry (a TLS error);
   * or a document that cannot be encoded or is over 20 MiB alone.
   */
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
 * Requests go through OpenTelemetry's own exporter, which retries 429, 502, 503, 504, timeouts and
 * network errors itself, waiting as `Retry-After` asks, within `timeoutMs`. What it gives up on is
 * dropped, as OpenTelemetry's own exporters do: the export queue does not start the exporter's whole
 * retry sequence again (which would hold the process for `timeoutMs` each time when a collector is
 * down). Documents already accepted are not sent again. A 413 splits the batch in two halves, each
 * sent once, and a half refused with 413 again is dropped (a body over 20 MiB is split before it is
 * sent, down to single traces). Any other status drops the batch without retry. Drops are counted in
 * `stats()` and warned about once per cause (`TracellmWarning`, code `TRACELLM_OTLP`); a partial
 * success is warned about, not retried. Writes run one at a time.
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
  let exporter: Exporter | undefined
  let previous: Promise<void> = Promise.resolve()
  let sent = 0
  let dropped = 0

  const warn = (key: string, message: string): void => {
    if (warned.has(key)) return
    warned.add(key)
    process.emitWarning(message, { type: 'TracellmWarning', code: 'TRACELLM_OTLP' })
  }
  // what the write running now gave up on: handed back to the queue, which counts them as dropped
  let refused: Array<{ readonly doc: TraceDocument; readonly reason: string }> = []
  const drop = (docs: ReadonlyArray<TraceDocument>, key: string, message: string): void => {
    dropped += docs.length
    for (const doc of docs) {
      delivered.add(doc)
      refused.push({ doc, reason: message })
    }
    warn(key, 'tracellm: ' + label + ' dropped ' + docs.length + ' trace(s): ' + message)
  }

  /**
   * Exports `docs` in one request. `split` is whether a 413 may still split them: the receiver's 413
   * splits a batch once, our own 20 MiB cap as often as it takes (no request is made for those).
   * Rejects only with a failure worth retrying later.
   */
  const send = async (otel: Otel, docs: ReadonlyArray<TraceDocument>, split: boolean): Promise<void> => {
    let request: ExportRequest
    try {
      request = encode(otel, settings.protocol, docs)
    } catch (error) {
      drop(docs, 'encode', 'they could not be encoded (' + messageOf(error) + ').')
      return
    }
    if (request.body.byteLength > MAX_BODY_BYTES) {
      if (docs.length === 1) {
        drop(docs, 'too-large-local', 'a single trace encodes to more than 20 MiB.')
        return
      }
      for (const half of halves(docs)) await send(otel, half, split)
      return
    }
    exporter ??= createExporter(otel, settings)
    const outcome = await exporter.export(request)
    if (outcome.kind === 'sent') {
      sent += docs.length
      for (const doc of docs) delivered.add(doc)
      if (outcome.partial !== undefined) warn('partial', 'tracellm: ' + label + ' partial success: ' + outcome.partial)
      return
    }
    if (outcome.kind === 'gave-up') {
      drop(docs, 'gave-up', 'the exporter gave up after its retries (' + outcome.message + ').')
      return
    }
    if (outcome.kind === 'retryable') throw exportError(outcome.message, true, outcome.cause)
    if (outcome.kind === 'failed') {
      drop(docs, 'failed', 'the export failed and is not retried (' + outcome.message + ').')
      return
    }
    if (outcome.status === 413) {
      if (split && docs.length > 1) {
        for (const half of halves(docs)) await send(otel, half, false)
        return
      }
      drop(docs, 'too-large', 'the receiver refused them as too large (413)' + (docs.length > 1 ? ', also after the batch was split once.' : '.'))
      return
    }
    drop(docs, 'status-' + outcome.status, 'the receiver answered ' + outcome.status + ', which is not retried' + detailOf(outcome.detail) + '.')
  }

  const deliver = async (batch: ReadonlyArray<TraceDocument>): Promise<WriteResult | undefined> => {
    const pending = batch.filter((doc) => !delivered.has(doc))
    if (pending.length === 0) return undefined
    refused = []
    await send(await loadOtel(), pending, true)
    return refused.length === 0 ? undefined : { dropped: refused }
  }

  return {
    name: 'otlp',
    // one write at a time: a batch the queue retries after its own attempt timeout waits for the
    // write still running, then sends only what that one did not deliver
    write: (batch, options) => {
      const run = previous.then(() => deliver(batch))
      previous = run.then(noop, noop)
      // The exporter's sockets are unref'd (see unrefAgents); the export queue keeps a finished program
      // alive for its traces itself, within exitTimeoutMs. A direct caller awaiting write() gets a
      // ref'd timer instead, so that its await never ends with the process.
      if (options?.signal === undefined) {
        const keepAlive = setInterval(noop, 1 << 30)
        void run.then(() => clearInterval(keepAlive), () => clearInterval(keepAlive))
      }
      return run
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
  readonly compression: 'gzip' | 'none'
}

const OPTION_KEYS = new Set(['url', 'headers', 'protocol', 'timeoutMs', 'compression'])
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const DEFAULT_URL = 'http://localhost:4318/v1/traces'
const DEFAULT_TIMEOUT_MS = 10_000
const MAX_TIMEOUT_MS = 2_147_483_647
/** Our own cap on one request body: a bigger batch is split before it is sent. */
const MAX_BODY_BYTES = 20 * 1024 * 1024
/** OpenTelemetry's default. Writes run one at a time, so only exports abandoned by the guard timer add up. */
const CONCURRENCY_LIMIT = 30

/** @internal Validates the options against the environment `env` (a TypeError names the key, never a value). */
export function checkOptions(options: OtlpSinkOptions, env: NodeJS.ProcessEnv): Settings {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `otlpSink` options to be an object.')
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw new TypeError('Unknown `otlpSink` option `' + key + '`.')
  }
  // an option wins over the environment; a TRACES_ variable over the general one
  const [protocol, protocolSource] = setting(options.protocol, '`protocol`', env, 'PROTOCOL', 'http/protobuf')
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    const grpc = protocol === 'grpc' ? ' (otlpSink speaks OTLP over HTTP; a collector takes it on port 4318)' : ''
    throw new TypeError('Expected ' + protocolSource + ' to be "http/protobuf" or "http/json"' + grpc + '.')
  }
  const [timeoutValue, timeoutSource] = setting(options.timeoutMs, '`timeoutMs`', env, 'TIMEOUT', DEFAULT_TIMEOUT_MS)
  const timeoutMs = typeof timeoutValue === 'string' && /^\d+$/.test(timeoutValue.trim()) ? Number(timeoutValue.trim()) : timeoutValue
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new TypeError('Expected ' + timeoutSource + ' to be an integer from 1 to ' + MAX_TIMEOUT_MS + ' (milliseconds).')
  }
  const [compression, compressionSource] = setting(options.compression, '`compression`', env, 'COMPRESSION', 'none')
  if (compression !== 'gzip' && compression !== 'none') throw new TypeError('Expected ' + compressionSource + ' to be "gzip" or "none".')

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
  // credentials never travel in the URL (nor show in the exporter's own logs): Basic authentication instead
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
  return { url: parsed.href, shownUrl, headers, protocol, timeoutMs, compression }
}

/**
 * An option's value and where it came from: the option when given, else `OTEL_EXPORTER_OTLP_TRACES_<name>`,
 * else `OTEL_EXPORTER_OTLP_<name>` (a blank variable counts as unset), else the default.
 */
function setting(option: unknown, label: string, env: NodeJS.ProcessEnv, name: string, fallback: unknown): [unknown, string] {
  if (option !== undefined) return [option, label]
  for (const variable of ['OTEL_EXPORTER_OTLP_TRACES_' + name, 'OTEL_EXPORTER_OTLP_' + name]) {
    const value = env[variable]?.trim()
    if (value !== undefined && value !== '') return [value, variable]
  }
  return [fallback, label]
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
// Transport: OpenTelemetry's OTLP/HTTP export delegate

/** One encoded request body; our serializer hands it to the delegate as is. */
interface ExportRequest {
  readonly body: Uint8Array
  readonly spans: number
}

/** What one export came to, once OpenTelemetry's exporter stopped retrying it. */
type Outcome =
  | { readonly kind: 'sent'; readonly partial: string | undefined }
  /** A status the exporter does not retry (neither 2xx nor 429, 502, 503, 504), with the start of the body. */
  | { readonly kind: 'status'; readonly status: number; readonly detail: string }
  /** A 429, 502, 503, 504, a timeout or a network error, still failing when the exporter stopped retrying. */
  | { readonly kind: 'gave-up'; readonly message: string }
  /** An export that did not settle, or found the exporter busy: worth trying again later. */
  | { readonly kind: 'retryable'; readonly message: string; readonly cause: unknown }
  /** Anything else the exporter gave up on at once (a TLS error, an oversized response). */
  | { readonly kind: 'failed'; readonly message: string }

interface Exporter {
  /** Never rejects. */
  export(request: ExportRequest): Promise<Outcome>
}

const EXPORT_SUCCESS = 0 as ExportResultCode
/** The network error codes OpenTelemetry's node transport retries (`isHttpTransportNetworkErrorRetryable`). */
const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH'])

/**
 * One delegate per sink, made by `createOtlpHttpExportDelegate`, the entry point OpenTelemetry's own
 * OTLP/HTTP trace exporter uses: node `http`/`https` with a keep-alive agent (idle sockets are unref'd
 * by Node, so they never hold the process), retries of 429/502/503/504, timeouts and network errors
 * (1 s × 1.5 backoff ±20 %, or `Retry-After`; at most 5, none starting past `timeoutMs`).
 */
function createExporter(otel: Otel, settings: Settings): Exporter {
  const json = settings.protocol === 'http/json'
  const headers = { ...settings.headers, 'content-type': json ? 'application/json' : 'application/x-protobuf' }
  // the delegate reads a success's body right before it reports that success, in the same turn
  let response: IExportTraceServiceResponse | undefined
  const serializer: ISerializer<ExportRequest, IExportTraceServiceResponse> = {
    // bodies are encoded, and measured against MAX_BODY_BYTES, before they reach the delegate
    serializeRequest: (request) => request.body,
    deserializeResponse: (data) => {
      response = readResponse(otel, json, data)
      return response
    },
  }
  const delegate = otel.createOtlpHttpExportDelegate(
    {
      url: settings.url,
      // a fresh object per request: the transport adds its User-Agent to it
      headers: async () => ({ ...headers }),
      timeoutMillis: settings.timeoutMs,
      concurrencyLimit: CONCURRENCY_LIMIT,
      compression: settings.compression,
      agentFactory: unrefAgents(otel.httpAgentFactoryFromOptions({ keepAlive: true })),
    },
    serializer,
    'otlp_http_span_exporter',
    { name: 'span', countItems: (request) => request.spans },
    undefined,   // no MeterProvider: the exporter's own metrics stay off
  )
  // the delegate settles within about 2 × timeoutMs (its last retry gets what is left of the budget);
  // this unref'd timer only bounds a receiver that trickles its answer forever
  const guardMs = Math.min(2 * settings.timeoutMs + 1000, MAX_TIMEOUT_MS)
  return {
    export: (request) =>
      new Promise<Outcome>((resolve) => {
        const guard = setTimeout(() => resolve({ kind: 'retryable', message: 'The OTLP export did not settle within ' + guardMs + ' ms.', cause: undefined }), guardMs)
        guard.unref()
        try {
          delegate.export(request, (result) => {
            clearTimeout(guard)
            const answer = result.code === EXPORT_SUCCESS ? response : undefined
            response = undefined
            resolve(outcomeOf(result, answer, settings.timeoutMs))
          })
        } catch (error) {
          clearTimeout(guard)
          resolve({ kind: 'failed', message: messageOf(error) })
        }
      }),
  }
}

/**
 * The exporter's sockets never hold the process open by themselves: a program whose own work is done
 * reaches `beforeExit`, where the export queue gives the pending traces what is left of
 * `exitTimeoutMs` (holding the process that long itself), instead of a silent collector holding it
 * for a whole export per queued batch (docs/reliability.md#exit-bounds-a-dead-backend-never-holds-the-process).
 */
function unrefAgents(factory: HttpAgentFactory): HttpAgentFactory {
  return async (protocol) => {
    const agent = (await factory(protocol)) as unknown as PatchableAgent
    const createConnection = agent.createConnection
    agent.createConnection = function (this: unknown, ...args: unknown[]) {
      const socket = createConnection.apply(this, args) as Unrefable | undefined
      socket?.unref?.()
      return socket
    }
    // Node refs a keep-alive socket again when it takes it from the pool
    const reuseSocket = agent.reuseSocket
    if (typeof reuseSocket === 'function') {
      agent.reuseSocket = function (this: unknown, socket: Unrefable, request: unknown) {
        reuseSocket.call(this, socket, request)
        socket.unref?.()
      }
    }
    return agent as unknown as Awaited<ReturnType<HttpAgentFactory>>
  }
}

interface Unrefable {
  unref?: () => void
}

interface PatchableAgent {
  createConnection: (...args: unknown[]) => unknown
  reuseSocket?: (socket: Unrefable, request: unknown) => void
}

/**
 * Reads the delegate's `ExportResult`. A status it does not retry comes as an `OTLPExporterError` with
 * the status as `code` and the body as `data`; one it retried comes without either, nor its
 * `Retry-After`; a timeout and a network error come as the underlying error.
 */
function outcomeOf(result: ExportResult, response: IExportTraceServiceResponse | undefined, timeoutMs: number): Outcome {
  if (result.code === EXPORT_SUCCESS) return { kind: 'sent', partial: partialSuccessOf(response) }
  const error: unknown = result.error
  const { name, message, code, data } = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; message?: unknown; code?: unknown; data?: unknown }
  if (name === 'OTLPExporterError') {
    if (typeof code === 'number') return { kind: 'status', status: code, detail: typeof data === 'string' ? data : '' }
    return { kind: 'gave-up', message: 'the receiver still answered 429, 502, 503 or 504 when the exporter stopped retrying (timeoutMs ' + timeoutMs + ')' }
  }
  if (message === 'Request timed out') return { kind: 'gave-up', message: 'the request timed out after ' + timeoutMs + ' ms' }
  if (typeof code === 'string' && RETRYABLE_CODES.has(code)) return { kind: 'gave-up', message: code + ': ' + String(message) }
  if (message === 'Concurrent export limit reached') return { kind: 'retryable', message: 'The OTLP exporter has ' + CONCURRENCY_LIMIT + ' exports running.', cause: error }
  return { kind: 'failed', message: error === undefined ? 'no error given' : messageOf(error) }
}

function readResponse(otel: Otel, json: boolean, data: Uint8Array): IExportTraceServiceResponse {
  if (data.byteLength === 0) return {}
  try {
    return (json ? otel.JsonTraceSerializer : otel.ProtobufTraceSerializer).deserializeResponse(data)
  } catch {
    // an unreadable success body is still a success
    return {}
  }
}

function partialSuccessOf(response: IExportTraceServiceResponse | undefined): string | undefined {
  const partial = response?.partialSuccess
  const rejected = Number(partial?.rejectedSpans ?? 0)
  const message = partial?.errorMessage ?? ''
  if (!(rejected > 0) && message === '') return undefined
  return rejected + ' span(s) rejected' + (message === '' ? '' : ': ' + message) + '.'
}

/** An export failure; `retryable: false` tells the export queue not to try again. */
function exportError(message: string, retryable: boolean, cause?: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause }) as Error & { retryable: boolean }
  error.name = 'OtlpExportError'
  error.retryable = retryable
  return error
}

function detailOf(body: string): string {
  const text = body.slice(0, 300).replace(/[^\x20-\x7e]+/g, ' ').trim()
  return text === '' ? '' : ' (' + text.slice(0, 200) + ')'
}

function halves<T>(items: ReadonlyArray<T>): ReadonlyArray<ReadonlyArray<T>> {
  const middle = Math.ceil(items.length / 2)
  return [items.slice(0, middle), items.slice(middle)]
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function noop(): void {}

// ---------------------------------------------------------------------------------------------------
// Documents to requests (the spans themselves: spans.ts)

function encode(otel: Otel, protocol: Settings['protocol'], docs: ReadonlyArray<TraceDocument>): ExportRequest {
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
  return { body, spans: spans.length }
}

// ---------------------------------------------------------------------------------------------------
// The OpenTelemetry packages

type Transformer = typeof import('@opentelemetry/otlp-transformer')
type Resources = typeof import('@opentelemetry/resources')
type NodeHttp = typeof import('@opentelemetry/otlp-exporter-base/node-http')
type HttpAgentFactory = ReturnType<NodeHttp['httpAgentFactoryFromOptions']>

interface Otel {
  readonly ProtobufTraceSerializer: Transformer['ProtobufTraceSerializer']
  readonly JsonTraceSerializer: Transformer['JsonTraceSerializer']
  readonly resourceFromAttributes: Resources['resourceFromAttributes']
  readonly createOtlpHttpExportDelegate: NodeHttp['createOtlpHttpExportDelegate']
  readonly httpAgentFactoryFromOptions: NodeHttp['httpAgentFactoryFromOptions']
}

let otelModules: Promise<Otel> | undefined

/** The OTel packages are optional peer dependencies: loaded on first use, with a clear error when missing. */
function loadOtel(): Promise<Otel> {
  otelModules ??= Promise.all([
    import('@opentelemetry/otlp-transformer'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/otlp-exporter-base/node-http'),
  ]).then(
    ([transformer, resources, nodeHttp]) => {
      const t = namedExports(transformer, 'ProtobufTraceSerializer')
      const r = namedExports(resources, 'resourceFromAttributes')
      const h = namedExports(nodeHttp, 'createOtlpHttpExportDelegate')
      return {
        ProtobufTraceSerializer: t.ProtobufTraceSerializer,
        JsonTraceSerializer: t.JsonTraceSerializer,
        resourceFromAttributes: r.resourceFromAttributes,
        createOtlpHttpExportDelegate: h.createOtlpHttpExportDelegate,
        httpAgentFactoryFromOptions: h.httpAgentFactoryFromOptions,
      }
    },
    (error: unknown) => {
      otelModules = undefined
      const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        throw exportError('tracellm: install the OpenTelemetry packages otlpSink uses (npm install @opentelemetry/api @opentelemetry/otlp-exporter-base @opentelemetry/otlp-transformer @opentelemetry/resources).', false, error)
      }
      throw error
    },
  )
  return otelModules
}

/** CommonJS packages: the named exports, or the same object under `default`. */
function namedExports<T extends object>(module: T, probe: keyof T): T {
  return module[probe] === undefined ? (module as T & { default: T }).default : module
}
