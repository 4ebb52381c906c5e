// otlpSink against a loopback OTLP/HTTP receiver. @opentelemetry/otlp-transformer 0.223 encodes protobuf with
// its own writer and ships no generated decoder (nor protobufjs), so the receiver reads protobuf with the
// small wire-format reader below, by the field numbers of opentelemetry/proto/trace/v1/trace.proto, and
// reads http/json as the OTLP JSON mapping.
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFile } from 'node:child_process'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { inspect } from 'node:util'
import { promisify } from 'node:util'
import { traceTool } from '../../src/combinators/trace-tool.js'
import { trace } from '../../src/combinators/trace.js'
import { configure, flush } from '../../src/configure.js'
import type { TraceDocument } from '../../src/document/document.js'
import { checkOptions, otlpSink } from '../../src/sinks/otlp.js'
import { rootSpanId, rootSpanIdOf } from '../../src/document/ids.js'
import { makeDocument, makeDocuments, makeStep, stepIdOf } from '../helpers/documents.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

// --- the receiver ---

interface Received {
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

interface Answer {
  readonly status: number
  readonly headers?: Record<string, string>
  readonly body?: string
  /** Answers only once the test calls the function this is given. */
  readonly hold?: (release: () => void) => void
}

let server: Server
let url: string
const received: Received[] = []
/** Decides each answer; 200 with an empty body by default. */
let answer: (request: Received) => Answer = () => ({ status: 200 })

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const request = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) }
      received.push(request)
      const { status, headers = {}, body = '', hold } = answer(request)
      const respond = (): void => void res.writeHead(status, headers).end(body)
      if (hold === undefined) respond()
      else hold(respond)
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`
})

afterAll(async () => {
  await new Promise((done) => server.close(done))
})

afterEach(() => {
  jest.useRealTimers()
  received.length = 0
  answer = () => ({ status: 200 })
  configure({ sinks: [] })
  jest.restoreAllMocks()
})

function silenceWarnings(): jest.SpiedFunction<typeof process.emitWarning> {
  return jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
}

/**
 * Fake timers for the exporter's waits between retries; I/O stays real. `retryScheduled` is true while
 * OpenTelemetry's retry timer is pending (besides it, only the sink's guard timer is).
 */
function useFakeTimers(): { retryScheduled(): boolean } {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] })
  return { retryScheduled: () => jest.getTimerCount() === 2 }
}

/** The options the export queue passes to `write`: with them, the sink leaves keeping the process alive to the queue. */
function asTheQueueDoes(): { readonly signal: AbortSignal } {
  return { signal: new AbortController().signal }
}

/** Lets real I/O run until `condition` holds. */
/** An OTLP URL on loopback where nothing listens: connecting to it is refused at once. */
async function refusedOtlpUrl(): Promise<string> {
  const closed = createServer()
  await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done))
  const port = (closed.address() as AddressInfo).port
  await new Promise((done) => closed.close(done))
  return `http://127.0.0.1:${port}/v1/traces`
}

/** Runs `script` as an ES module in a child Node from the package root (dist/ as users run it); its timeout is the hang check. */
function runModule(script: string): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, ['--input-type=module', '--no-warnings', '-e', script], { cwd: ROOT, timeout: 15_000 })
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve))
}

/** The root span names of an OTLP/JSON request, in order. */
function rootNames(request: Received): string[] {
  return jsonSpans(request).filter((span) => span.parentSpanId === undefined || span.parentSpanId === '').map((span) => span.name)
}

// --- OTLP JSON ---

interface JsonAttribute { key: string; value: Record<string, unknown> }
interface JsonSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: JsonAttribute[]
  events: Array<{ name: string; attributes: JsonAttribute[] }>
  status: { code: number; message?: string }
}
interface JsonRequest {
  resourceSpans: Array<{ resource: { attributes: JsonAttribute[] }; scopeSpans: Array<{ scope: { name: string }; spans: JsonSpan[] }> }>
}

function attributesOf(list: ReadonlyArray<JsonAttribute>): Record<string, unknown> {
  return Object.fromEntries(list.map(({ key, value }) => [key, Object.values(value)[0]]))
}

function jsonSpans(request: Received): JsonSpan[] {
  const parsed = JSON.parse(request.body.toString('utf8')) as JsonRequest
  return parsed.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans))
}

// --- OTLP protobuf: a minimal wire-format reader ---

type Field = bigint | Buffer
type Message = Map<number, Field[]>

function decode(buffer: Buffer): Message {
  const fields: Message = new Map()
  let pos = 0
  const varint = (): bigint => {
    let result = 0n
    let shift = 0n
    for (;;) {
      const byte = buffer[pos++] as number
      result |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return result
      shift += 7n
    }
  }
  while (pos < buffer.length) {
    const tag = Number(varint())
    const [number, wire] = [tag >>> 3, tag & 7]
    let value: Field
    if (wire === 0) value = varint()
    else if (wire === 1) { value = buffer.readBigUInt64LE(pos); pos += 8 }
    else if (wire === 5) { value = BigInt(buffer.readUInt32LE(pos)); pos += 4 }
    else if (wire === 2) { const length = Number(varint()); value = buffer.subarray(pos, pos + length); pos += length }
    else throw new Error(`wire type ${wire}`)
    fields.set(number, [...(fields.get(number) ?? []), value])
  }
  return fields
}

const bytes = (message: Message, field: number): Buffer | undefined => message.get(field)?.[0] as Buffer | undefined
const text = (message: Message, field: number): string | undefined => bytes(message, field)?.toString('utf8')
const messages = (message: Message, field: number): Message[] => (message.get(field) ?? []).map((value) => decode(value as Buffer))

interface ProtoSpan { traceId: string; spanId: string; parentSpanId: string | undefined; name: string; kind: number; attributes: Record<string, unknown>; statusCode: number }

/** ExportTraceServiceRequest.resource_spans(1) → scope_spans(2) → spans(2). */
function protoSpans(body: Buffer): ProtoSpan[] {
  return messages(decode(body), 1).flatMap((rs) => messages(rs, 2)).flatMap((ss) => messages(ss, 2)).map((span) => {
    const attributes = Object.fromEntries(messages(span, 9).map((kv) => {
      const value = messages(kv, 2)[0] as Message
      // AnyValue: string_value 1, bool_value 2, int_value 3
      return [text(kv, 1), value.has(1) ? text(value, 1) : value.has(3) ? Number(value.get(3)?.[0]) : value.get(2)?.[0] === 1n]
    }))
    const status = messages(span, 15)[0]
    return {
      traceId: (bytes(span, 1) as Buffer).toString('hex'),
      spanId: (bytes(span, 2) as Buffer).toString('hex'),
      parentSpanId: bytes(span, 4)?.toString('hex'),
      name: text(span, 5) as string,
      kind: Number(span.get(6)?.[0]),
      attributes,
      statusCode: Number(status?.get(3)?.[0] ?? 0n),
    }
  })
}

// --- the workflow of the seed ---

async function runWorkflow(): Promise<void> {
  const score = traceTool({ name: 'score' })(async (doc: string) => doc.length)
  const retrieve = traceTool({ name: 'retrieve', kind: 'retriever' })(async (q: string) => [`${q} doc A`, `${q} doc B`])
  const rerank = traceTool({ name: 'rerank' })(async (docs: string[]) => {
    const scores = await Promise.all(docs.map((doc) => score(doc)))
    return docs.filter((_, i) => (scores[i] ?? 0) > 0)
  })
  const cite = traceTool({ name: 'cite' })(async () => { throw new TypeError('no sources') })
  const generate = traceTool({ name: 'generate', kind: 'llm', model: 'gpt-4o' })(async (docs: string[]) => `answer from ${docs.length}`)
  const answerQuestion = trace({ prompt: 'answer_question', project: 'rag-app' })(async (q: string) => {
    const docs = await rerank(await retrieve(q))
    await cite().catch(() => undefined)
    return generate(docs)
  })
  await answerQuestion('What is RAG?')
  await flush()
}

describe('otlpSink: one OTel trace per document', () => {
  it('exports the workflow as http/json: ids, parentage, names, GenAI and tracellm attributes, error status', async () => {
    const sink = otlpSink({ url, protocol: 'http/json' })
    configure({ sinks: [sink] })
    await runWorkflow()

    expect(received).toHaveLength(1)
    const request = received[0] as Received
    expect(request.url).toBe('/v1/traces')
    expect(request.headers['content-type']).toBe('application/json')
    const parsed = JSON.parse(request.body.toString('utf8')) as JsonRequest
    expect(attributesOf(parsed.resourceSpans[0]?.resource.attributes ?? [])).toMatchObject({ 'service.name': 'rag-app', 'telemetry.sdk.name': 'tracellm', 'telemetry.sdk.language': 'nodejs' })
    expect(parsed.resourceSpans[0]?.scopeSpans[0]?.scope.name).toBe('tracellm')

    const spans = jsonSpans(request)
    const byName = new Map(spans.map((span) => [span.name, span]))
    expect([...byName.keys()].sort()).toEqual(['answer_question', 'chat gpt-4o', 'execute_tool cite', 'execute_tool rerank', 'execute_tool retrieve', 'execute_tool score'])
    expect(spans).toHaveLength(7)   // score runs twice

    const root = byName.get('answer_question') as JsonSpan
    expect(root.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(root.spanId).toMatch(/^[0-9a-f]{16}$/)
    expect(root.parentSpanId ?? '').toBe('')
    expect(root.kind).toBe(1)   // SPAN_KIND_INTERNAL in OTLP
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([root.traceId]))
    expect(attributesOf(root.attributes)).toMatchObject({ 'tracellm.prompt': 'answer_question', 'tracellm.project': 'rag-app', 'tracellm.retry_count': 0, 'tracellm.input': '["What is RAG?"]', 'tracellm.output': '"answer from 2"' })

    const rerank = byName.get('execute_tool rerank') as JsonSpan
    for (const name of ['execute_tool retrieve', 'execute_tool rerank', 'execute_tool cite', 'chat gpt-4o']) {
      expect(byName.get(name)?.parentSpanId).toBe(root.spanId)
    }
    for (const span of spans.filter((s) => s.name === 'execute_tool score')) expect(span.parentSpanId).toBe(rerank.spanId)
    expect(BigInt(rerank.startTimeUnixNano)).toBeLessThanOrEqual(BigInt(rerank.endTimeUnixNano))

    const llm = byName.get('chat gpt-4o') as JsonSpan
    expect(llm.kind).toBe(3)   // SPAN_KIND_CLIENT
    expect(attributesOf(llm.attributes)).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'tracellm.kind': 'llm', 'tracellm.attempts': 1, 'tracellm.retries': 0 })
    expect(attributesOf(byName.get('execute_tool retrieve')?.attributes ?? [])).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'retrieve', 'tracellm.kind': 'retriever' })

    const cite = byName.get('execute_tool cite') as JsonSpan
    expect(cite.status).toEqual({ code: 2, message: 'no sources' })
    expect(attributesOf(cite.attributes)).toMatchObject({ 'error.type': 'TypeError' })
    expect(cite.events).toHaveLength(1)
    expect(cite.events[0]?.name).toBe('exception')
    expect(attributesOf(cite.events[0]?.attributes ?? [])).toMatchObject({ 'exception.type': 'TypeError', 'exception.message': 'no sources', 'exception.stacktrace': expect.stringContaining('no sources') })
    expect(root.status.code ?? 0).toBe(0)
    expect(sink.stats()).toEqual({ sent: 1, dropped: 0 })
  })

  it('exports the same workflow as http/protobuf (the default) with the same tree', async () => {
    configure({ sinks: [otlpSink({ url })] })
    await runWorkflow()

    expect(received).toHaveLength(1)
    expect(received[0]?.headers['content-type']).toBe('application/x-protobuf')
    const spans = protoSpans(received[0]?.body as Buffer)
    expect(spans).toHaveLength(7)
    const root = spans.find((span) => span.name === 'answer_question') as ProtoSpan
    expect(root.parentSpanId).toBeUndefined()
    expect(root.spanId).toMatch(/^[0-9a-f]{16}$/)
    const rerank = spans.find((span) => span.name === 'execute_tool rerank') as ProtoSpan
    expect(spans.filter((span) => span.parentSpanId === root.spanId).map((span) => span.name).sort()).toEqual(['chat gpt-4o', 'execute_tool cite', 'execute_tool rerank', 'execute_tool retrieve'])
    expect(spans.filter((span) => span.parentSpanId === rerank.spanId).map((span) => span.name)).toEqual(['execute_tool score', 'execute_tool score'])
    expect(spans.find((span) => span.name === 'chat gpt-4o')?.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'tracellm.attempts': 1 })
    expect(spans.find((span) => span.name === 'execute_tool cite')?.statusCode).toBe(2)
  })

  it('maps a document as given: step id as span id, usage, root error, orphaned parent under the root', async () => {
    const doc = makeDocument({
      status: 'error',
      error: { type: 'RangeError', message: 'boom', stack: 'RangeError: boom\n    at x' },
      steps: [
        makeStep({ stepId: stepIdOf(0xa1), kind: 'llm', name: 'generate', model: 'gpt-4o', usage: { inputTokens: 120, outputTokens: 48 } }),
        makeStep({ stepId: stepIdOf(0xa2), parentStepId: stepIdOf(0xff), input: { big: 'x'.repeat(20_000) } }),
      ],
    })
    const sink = otlpSink({ url, protocol: 'http/json' })
    await sink.write(Object.freeze([doc]))

    const spans = jsonSpans(received[0] as Received)
    const [root, llm, orphan] = spans as [JsonSpan, JsonSpan, JsonSpan]
    expect(root.traceId).toBe(doc.traceId)
    expect(root.status).toEqual({ code: 2, message: 'boom' })
    expect(attributesOf(root.events[0]?.attributes ?? [])).toMatchObject({ 'exception.type': 'RangeError', 'exception.stacktrace': 'RangeError: boom\n    at x' })
    expect(root.startTimeUnixNano).toBe(String(Date.parse(doc.startedAt) * 1_000_000))
    expect(llm.spanId).toBe(stepIdOf(0xa1))
    expect(attributesOf(llm.attributes)).toMatchObject({ 'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 48 })
    expect(orphan.parentSpanId).toBe(root.spanId)
    const input = attributesOf(orphan.attributes)['tracellm.input'] as string
    expect(input.length).toBeLessThan(8 * 1024 + 20)
    expect(input.endsWith('…[truncated]')).toBe(true)
  })

  it('exports the trace cost as tracellm.usage.cost_usd on the root span and tracellm.cost_usd on each priced step span', async () => {
    const doc = makeDocument({
      costUsd: 0.0375,
      steps: [
        makeStep({ stepId: stepIdOf(0xb1), kind: 'llm', name: 'generate', model: 'gpt-4o', costUsd: 0.0375 }),
        makeStep({ stepId: stepIdOf(0xb2), name: 'search' }),
      ],
    })
    const sink = otlpSink({ url, protocol: 'http/json' })
    await sink.write(Object.freeze([doc]))

    const [root, llm, tool] = jsonSpans(received[0] as Received) as [JsonSpan, JsonSpan, JsonSpan]
    expect(root.attributes.find((attribute) => attribute.key === 'tracellm.usage.cost_usd')?.value).toEqual({ doubleValue: 0.0375 })
    expect(attributesOf(root.attributes)).not.toHaveProperty('tracellm.cost_usd')
    expect(attributesOf(llm.attributes)['tracellm.cost_usd']).toBe(0.0375)
    expect(attributesOf(tool.attributes)).not.toHaveProperty('tracellm.cost_usd')
    expect(Object.keys(attributesOf(llm.attributes)).filter((key) => key.startsWith('gen_ai.') && key.includes('cost'))).toEqual([])
  })

  it("uses the document's root span id, and derives one for a document written before it existed", () => {
    const steps = [{ stepId: '00f067aa0ba902b7' }]
    expect(rootSpanIdOf({ traceId: '0af7651916cd43dd8448eb211c80319c', rootSpanId: 'b7ad6b7169203331', steps })).toBe('b7ad6b7169203331')
    const derived = rootSpanIdOf({ traceId: '0af7651916cd43dd8448eb211c80319c', steps })
    expect(derived).toBe(rootSpanId('0af7651916cd43dd8448eb211c80319c', new Set(['00f067aa0ba902b7'])))
    expect(rootSpanIdOf({ traceId: '0af7651916cd43dd8448eb211c80319c', steps: [{ stepId: derived }] })).not.toBe(derived)
  })

  it('derives a stable, non-zero root span id that no step uses', () => {
    const id = rootSpanId('0af7651916cd43dd8448eb211c80319c')
    expect(id).toMatch(/^[0-9a-f]{16}$/)
    expect(id).not.toBe('0000000000000000')
    expect(rootSpanId('0af7651916cd43dd8448eb211c80319c')).toBe(id)
    expect(rootSpanId('0af7651916cd43dd8448eb211c80319c', new Set([id]))).not.toBe(id)
  })
})

describe('otlpSink: delivery (OTLP retry semantics, docs/otlp.md)', () => {
  it("retries a 503 itself, after OpenTelemetry's backoff, and resolves once it is accepted", async () => {
    const timers = useFakeTimers()
    answer = () => (received.length === 1 ? { status: 503 } : { status: 200 })
    const sink = otlpSink({ url, timeoutMs: 60_000 })
    const write = sink.write(Object.freeze([makeDocument()]), asTheQueueDoes())
    await until(() => timers.retryScheduled())
    expect(received).toHaveLength(1)

    jest.advanceTimersByTime(1200)   // 1 s ± 20 %
    await write
    expect(received).toHaveLength(2)
    expect(sink.stats()).toEqual({ sent: 1, dropped: 0 })
  })

  it('waits as long as Retry-After asks before retrying a 429, not its own backoff', async () => {
    const timers = useFakeTimers()
    answer = () => (received.length === 1 ? { status: 429, headers: { 'retry-after': '30' } } : { status: 200 })
    const sink = otlpSink({ url, timeoutMs: 60_000 })
    const write = sink.write(Object.freeze([makeDocument()]), asTheQueueDoes())
    await until(() => timers.retryScheduled())

    jest.advanceTimersByTime(29_999)
    expect(timers.retryScheduled()).toBe(true)   // its backoff alone would have fired by now
    expect(received).toHaveLength(1)
    jest.advanceTimersByTime(1)
    await write
    expect(received).toHaveLength(2)
    expect(sink.stats()).toEqual({ sent: 1, dropped: 0 })
  })

  it('drops the batch at once when Retry-After outlasts timeoutMs, counted and warned', async () => {
    const warnings = silenceWarnings()
    answer = () => ({ status: 429, headers: { 'retry-after': '3600' } })
    const sink = otlpSink({ url, timeoutMs: 2000 })
    await sink.write(Object.freeze([makeDocument()]))
    expect(received).toHaveLength(1)
    expect(sink.stats()).toEqual({ sent: 0, dropped: 1 })
    expect(warnings.mock.calls[0]?.[0]).toMatch(/gave up after its retries \(the receiver still answered 429, 502, 503 or 504/)
  })

  it('does not let the export queue start the exporter over: a batch it gave up on is dropped once', async () => {
    const warnings = silenceWarnings()
    answer = () => (received.length === 1 ? { status: 503 } : { status: 200 })
    // 50 ms leave the exporter no time for a retry of its own (its first backoff is at least 800 ms)
    const sink = otlpSink({ url, timeoutMs: 50 })
    configure({ sinks: [sink], queue: { retry: { initialDelayMs: 10, maxDelayMs: 10 } } })
    trace({ prompt: 'flaky' })(() => 'ok')()
    await flush()
    // at most the exporter's own 5 retries per batch (docs/otlp.md), never the queue's on top of them
    expect(received).toHaveLength(1)
    expect(sink.stats()).toEqual({ sent: 0, dropped: 1 })
    expect(warnings.mock.calls.map(([message]) => String(message)).filter((message) => message.includes('gave up'))).toHaveLength(1)
  })

  it('drops a network error and a timeout once the exporter gave up, counted and warned', async () => {
    const warnings = silenceWarnings()
    const refused = otlpSink({ url: await refusedOtlpUrl(), timeoutMs: 100 })
    await refused.write([makeDocument()])
    expect(refused.stats()).toEqual({ sent: 0, dropped: 1 })

    const hanging = createServer(() => undefined)   // never answers
    await new Promise<void>((done) => hanging.listen(0, '127.0.0.1', done))
    const slow = otlpSink({ url: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/v1/traces`, timeoutMs: 100 })
    await slow.write([makeDocument()])
    hanging.closeAllConnections()
    await new Promise((done) => hanging.close(done))
    expect(slow.stats()).toEqual({ sent: 0, dropped: 1 })
    const messages = warnings.mock.calls.map(([message]) => String(message))
    expect(messages.some((message) => message.includes('ECONNREFUSED'))).toBe(true)
    expect(messages.some((message) => message.includes('timed out after 100 ms'))).toBe(true)
  })

  it('drops a 400 without retrying, with one warning for repeated failures', async () => {
    const warnings = silenceWarnings()
    answer = () => ({ status: 400, body: 'bad span' })
    const sink = otlpSink({ url, headers: { 'x-api-key': 'sup3r-s3cret' } })
    await sink.write(Object.freeze(makeDocuments(2)))
    await sink.write(Object.freeze([makeDocument()]))
    expect(received).toHaveLength(2)
    expect(sink.stats()).toEqual({ sent: 0, dropped: 3 })
    expect(warnings).toHaveBeenCalledTimes(1)
    const [message, options] = warnings.mock.calls[0] as [string, { type: string; code: string }]
    expect(options).toEqual({ type: 'TracellmWarning', code: 'TRACELLM_OTLP' })
    expect(message).toMatch(/400, which is not retried \(bad span\)/)
    expect(message).not.toContain('sup3r-s3cret')
  })

  it('drops a 400 through the queue after one attempt', async () => {
    silenceWarnings()
    answer = () => ({ status: 401 })
    configure({ sinks: [otlpSink({ url })], queue: { retry: { initialDelayMs: 10 } } })
    trace({ prompt: 'denied' })(() => 'ok')()
    await flush()
    expect(received).toHaveLength(1)
  })

  it('splits a batch of 4 refused with 413 into two halves sent once each, and drops a half refused again', async () => {
    const warnings = silenceWarnings()
    answer = (request) => (request.body.includes('doc-0') ? { status: 413 } : { status: 200 })
    const sink = otlpSink({ url, protocol: 'http/json' })
    await sink.write(Object.freeze(makeDocuments(4)))
    // [0 1 2 3] → 413; [0 1] → 413, dropped: no third level; [2 3] accepted
    expect(received.map(rootNames)).toEqual([['doc-0', 'doc-1', 'doc-2', 'doc-3'], ['doc-0', 'doc-1'], ['doc-2', 'doc-3']])
    expect(sink.stats()).toEqual({ sent: 2, dropped: 2 })
    expect(warnings).toHaveBeenCalledTimes(1)
    expect(warnings.mock.calls[0]?.[0]).toMatch(/dropped 2 trace\(s\): the receiver refused them as too large \(413\), also after the batch was split once/)
  })

  it('splits on 413 once, so only the half holding the trace that is too big is dropped', async () => {
    const warnings = silenceWarnings()
    answer = (request) => (request.body.includes('TOO_BIG') ? { status: 413 } : { status: 200 })
    const sink = otlpSink({ url, protocol: 'http/json' })
    const [big, a, b] = [makeDocument({ prompt: 'TOO_BIG' }), makeDocument({ prompt: 'a' }), makeDocument({ prompt: 'b' })]
    await sink.write(Object.freeze([big, a, b]))
    await sink.write(Object.freeze([makeDocument({ prompt: 'TOO_BIG' })]))
    // [big a b] → 413; [big a] → 413, dropped; [b] ok; then [big] alone → 413, dropped at once
    expect(received.map(rootNames)).toEqual([['TOO_BIG', 'a', 'b'], ['TOO_BIG', 'a'], ['b'], ['TOO_BIG']])
    expect(sink.stats()).toEqual({ sent: 1, dropped: 3 })
    expect(warnings).toHaveBeenCalledTimes(1)
  })

  it('splits a body over 20 MiB before sending it, and drops a trace over 20 MiB alone without a request', async () => {
    const warnings = silenceWarnings()
    // 900 steps with input, output and metadata cut at 8 KiB each: about 21 MiB of OTLP JSON
    const big = 'x'.repeat(9000)
    const steps = Array.from({ length: 900 }, (_, index) => makeStep({ stepId: stepIdOf(index + 1), seq: index, input: big, output: big, metadata: { big } }))
    const huge = makeDocument({ prompt: 'huge', steps })
    const sink = otlpSink({ url, protocol: 'http/json' })
    await sink.write(Object.freeze([huge, makeDocument({ prompt: 'small' })]))
    expect(received.map(rootNames)).toEqual([['small']])
    expect(sink.stats()).toEqual({ sent: 1, dropped: 1 })
    expect(warnings.mock.calls[0]?.[0]).toMatch(/more than 20 MiB/)
  })

  it('does not send a document again when the queue retries a half-delivered batch', async () => {
    // [first second] → 413; [first] accepted; [second] never settles, so the queue's attempt times out
    const stalled: Array<() => void> = []
    answer = (request) => {
      const [first, second] = [request.body.includes('first'), request.body.includes('second')]
      if (first && second) return { status: 413 }
      return second && stalled.length === 0 ? { status: 200, hold: (release) => stalled.push(release) } : { status: 200 }
    }
    const sink = otlpSink({ url, protocol: 'http/json', timeoutMs: 5000 })
    const batch: ReadonlyArray<TraceDocument> = Object.freeze([makeDocument({ prompt: 'first' }), makeDocument({ prompt: 'second' })])
    const firstWrite = sink.write(batch)
    await until(() => stalled.length === 1)
    expect(received.map(rootNames)).toEqual([['first', 'second'], ['first'], ['second']])
    // the queue gave up waiting and writes the batch again: it waits for the first write, then sends nothing
    const secondWrite = sink.write(batch)
    stalled[0]?.()
    await Promise.all([firstWrite, secondWrite])
    expect(received).toHaveLength(3)
    expect(sink.stats()).toEqual({ sent: 2, dropped: 0 })
  })

  it('runs one write at a time: a retry of a batch still being written waits for it and sends nothing twice', async () => {
    const timers = useFakeTimers()
    answer = () => (received.length === 1 ? { status: 503 } : { status: 200 })
    const sink = otlpSink({ url, timeoutMs: 60_000 })
    const batch: ReadonlyArray<TraceDocument> = Object.freeze([makeDocument()])
    const first = sink.write(batch, asTheQueueDoes())
    await until(() => timers.retryScheduled())
    const second = sink.write(batch, asTheQueueDoes())   // as the export queue does after its own attempt timeout
    jest.advanceTimersByTime(1200)
    await Promise.all([first, second])
    expect(received).toHaveLength(2)   // the 503 and the exporter's own retry; nothing from the second write
    expect(sink.stats()).toEqual({ sent: 1, dropped: 0 })
  })

  it('warns about a partial success without retrying it', async () => {
    const warnings = silenceWarnings()
    answer = () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ partialSuccess: { rejectedSpans: 2, errorMessage: 'too old' } }) })
    const sink = otlpSink({ url, protocol: 'http/json' })
    await sink.write([makeDocument()])
    expect(received).toHaveLength(1)
    expect(sink.stats()).toEqual({ sent: 1, dropped: 0 })
    expect(warnings.mock.calls[0]?.[0]).toMatch(/2 span\(s\) rejected: too old/)
  })
})

describe('otlpSink: configuration', () => {
  it('reads the endpoint and headers from the OTEL_EXPORTER_OTLP_* variables', () => {
    expect(checkOptions({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318' }).url).toBe('http://collector:4318/custom')
    expect(checkOptions({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com:4318/' }).url).toBe('https://otel.example.com:4318/v1/traces')
    expect(checkOptions({}, {}).url).toBe('http://localhost:4318/v1/traces')
    expect(checkOptions({ url: 'http://given:4318/v1/traces' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318' }).url).toBe('http://given:4318/v1/traces')
    const settings = checkOptions({ headers: { 'X-Tenant': 'b' } }, { OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc, x-tenant=a' })
    expect(settings.headers).toEqual({ authorization: 'Bearer abc', 'x-tenant': 'b' })
  })

  it('reads the protocol, timeout and compression from the OTEL_EXPORTER_OTLP_* variables, TRACES_ first, options over both', () => {
    const env = { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }
    expect(checkOptions({}, env)).toMatchObject({ protocol: 'http/json', timeoutMs: 2500, compression: 'gzip' })
    expect(checkOptions({}, { ...env, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: ' 700 ', OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'none' }))
      .toMatchObject({ protocol: 'http/protobuf', timeoutMs: 700, compression: 'none' })
    expect(checkOptions({ protocol: 'http/protobuf', timeoutMs: 50, compression: 'none' }, env)).toMatchObject({ protocol: 'http/protobuf', timeoutMs: 50, compression: 'none' })
    expect(checkOptions({}, { OTEL_EXPORTER_OTLP_TIMEOUT: '  ' })).toMatchObject({ protocol: 'http/protobuf', timeoutMs: 10_000, compression: 'none' })
  })

  it('names the variable that holds a bad protocol, timeout or compression', () => {
    expect(() => checkOptions({}, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL .*OTLP over HTTP/)
    expect(() => checkOptions({}, { OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '10s' })).toThrow(/OTEL_EXPORTER_OTLP_TRACES_TIMEOUT/)
    expect(() => checkOptions({}, { OTEL_EXPORTER_OTLP_COMPRESSION: 'brotli' })).toThrow(/OTEL_EXPORTER_OTLP_COMPRESSION/)
    expect(() => otlpSink({ compression: 'zstd' as never })).toThrow(/`compression`/)
  })

  it('sends a gzip body with compression: "gzip", which decodes to the same request', async () => {
    const doc = makeDocument()
    await otlpSink({ url, protocol: 'http/json' }).write(Object.freeze([doc]))
    await otlpSink({ url, protocol: 'http/json', compression: 'gzip' }).write(Object.freeze([doc]))

    const [plain, zipped] = received as [Received, Received]
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(JSON.parse(gunzipSync(zipped.body).toString('utf8'))).toEqual(JSON.parse(plain.body.toString('utf8')))
  })

  it('sends the environment headers and URL credentials, and never shows them', async () => {
    const saved = { ...process.env }
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = url.replace('http://', 'http://alice:pa%24%24@') + '?token=t0ken'
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-api-key=env%2Dk3y'
    try {
      const sink = otlpSink()
      const label = `otlpSink(http/protobuf ${url}?***)`
      expect(String(sink)).toBe(label)
      expect(inspect(sink)).toBe(label)
      for (const secret of ['pa$$', 'pa%24%24', 'alice', 't0ken', 'env-k3y']) expect(String(sink) + inspect(sink, { depth: 5 })).not.toContain(secret)
      await sink.write([makeDocument()])
      expect(received[0]?.headers['x-api-key']).toBe('env-k3y')
      expect(received[0]?.headers.authorization).toBe('Basic ' + Buffer.from('alice:pa$$').toString('base64'))
      expect(received[0]?.url).toBe('/v1/traces?token=t0ken')
    } finally {
      process.env = saved
    }
  })

  it('throws a TypeError at creation for a bad option, never quoting a value', () => {
    expect(() => otlpSink({ url: 'ftp://x' })).toThrow(TypeError)
    expect(() => otlpSink({ url: 'not a url s3cret' })).toThrow(/`url`/)
    expect(() => otlpSink({ url: 'not a url s3cret' })).not.toThrow(/s3cret/)
    expect(() => otlpSink({ protocol: 'grpc' as never })).toThrow(/protocol/)
    expect(() => otlpSink({ timeoutMs: 0 })).toThrow(/timeoutMs/)
    expect(() => otlpSink({ headers: { 'bad name': 'v' } })).toThrow(TypeError)
    expect(() => otlpSink({ headers: { ok: 'a\r\nb' } })).toThrow(TypeError)
    expect(() => otlpSink({ endpoint: url } as never)).toThrow(/Unknown `otlpSink` option `endpoint`/)
    expect(() => checkOptions({}, { OTEL_EXPORTER_OTLP_HEADERS: 'novalue-s3cret' })).toThrow(/OTEL_EXPORTER_OTLP_HEADERS/)
    expect(() => checkOptions({}, { OTEL_EXPORTER_OTLP_HEADERS: 'novalue-s3cret' })).not.toThrow(/s3cret/)
  })
})

describe('otlpSink: loading', () => {
  it('lets the process exit on its own after writes, with no unhandled rejection', async () => {
    // dist/, as a user runs it: an idle keep-alive connection, the guard timer or a failed export
    // must not keep the event loop busy (execFile would wait for the child until its timeout)
    const refusedUrl = await refusedOtlpUrl()
    const script = [
      "process.on('unhandledRejection', () => { process.exitCode = 3 })",
      "const { otlpSink } = await import('./dist/sinks/otlp.js')",
      `const sink = otlpSink({ url: ${JSON.stringify(url)}, timeoutMs: 2000 })`,
      `await sink.write([${JSON.stringify(makeDocument())}])`,
      `const refused = otlpSink({ url: ${JSON.stringify(refusedUrl)}, timeoutMs: 100 })`,
      `await refused.write([${JSON.stringify(makeDocument())}])`,
      "console.log(JSON.stringify({ stats: sink.stats(), refused: refused.stats() }))",
    ].join('\n')
    const { stdout } = await runModule(script)
    expect(JSON.parse(stdout)).toEqual({ stats: { sent: 1, dropped: 0 }, refused: { sent: 0, dropped: 1 } })
    expect(received).toHaveLength(1)
  })

  it('lets a traced program exit when the collector is down, the queue flushing at exit included', async () => {
    // the whole pipeline at exit: beforeExit flushes, the exporter retries within timeoutMs, gives up,
    // and nothing starts it over (execFile's timeout is the hang check: the child would otherwise be
    // held by the exporter's retry timers once per queue retry)
    const refusedUrl = await refusedOtlpUrl()
    const script = [
      "const { configure, otlpSink, trace } = await import('./dist/index.js')",
      `const sink = otlpSink({ url: ${JSON.stringify(refusedUrl)}, timeoutMs: 1500 })`,
      'configure({ sinks: [sink] })',
      "await trace({ prompt: 'p' })(async () => 1)()",
      "process.on('exit', () => console.log(JSON.stringify(sink.stats())))",
    ].join('\n')
    const { stdout } = await runModule(script)
    expect(JSON.parse(stdout)).toEqual({ sent: 0, dropped: 1 })
  })

  it('does not load any @opentelemetry package on import, only on the first write', async () => {
    // a resolve hook that refuses every @opentelemetry/* specifier: a static import anywhere in the
    // graph of dist/index.js or dist/sinks/otlp.js would make the import itself fail
    const hook = "export async function resolve(s, c, next) { if (s.startsWith('@opentelemetry/')) throw new Error('blocked ' + s); return next(s, c) }"
    const script = [
      "import { register } from 'node:module'",
      `register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}))`,
      "await import('./dist/index.js')",
      "const { otlpSink } = await import('./dist/sinks/otlp.js')",
      "const sink = otlpSink({ url: 'http://127.0.0.1:9/v1/traces' })",
      "const probe = await import('@opentelemetry/api').then(() => 'loaded', () => 'blocked')",
      "const write = await sink.write([]).then(() => 'empty ok', (e) => e.message)",
      `const doc = ${JSON.stringify(makeDocument())}`,
      "const loads = await sink.write([doc]).then(() => 'sent', (e) => e.message)",
      "console.log(JSON.stringify({ probe, write, loads }))",
    ].join('\n')
    const { stdout } = await runModule(script)
    expect(JSON.parse(stdout)).toEqual({ probe: 'blocked', write: 'empty ok', loads: expect.stringMatching(/^blocked @opentelemetry\//) })
  })
})
