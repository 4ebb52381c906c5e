import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from '@jest/globals'
import { context as otelContext, trace as otelTrace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  configure, continueTrace, currentTrace, flush, fromWire, injectTraceparent, openStore, shutdown, sqliteSink, toWire, trace, traceTool, type TraceDocument,
} from '../../src/index.js'
import { spyWarnings, useMemorySink } from '../helpers/memory.js'

const CALLER_TRACE = '0af7651916cd43dd8448eb211c80319c'
const CALLER_SPAN = 'b7ad6b7169203331'
const TRACEPARENT = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`
const FORMAT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/

describe('injectTraceparent', () => {
  it('names the running step inside a tool', async () => {
    const sink = useMemorySink()
    const call = traceTool({ name: 'call' })(() => injectTraceparent({ accept: 'json' }))
    const headers = trace({ prompt: 'outer' })(() => call())()
    await flush()

    const doc = sink.traces[0] as TraceDocument
    expect(headers).toEqual({ accept: 'json', traceparent: `00-${doc.traceId}-${doc.steps[0]?.stepId}-01` })
  })

  it('names the root span the OTLP export uses in the trace body', async () => {
    const sink = useMemorySink()
    const headers = trace({ prompt: 'body' })(() => injectTraceparent())()
    await flush()

    const doc = sink.traces[0] as TraceDocument
    expect(doc.rootSpanId).toMatch(/^[0-9a-f]{16}$/)
    expect(headers.traceparent).toBe(`00-${doc.traceId}-${doc.rootSpanId}-01`)
  })

  it('sets the header on a Headers and returns it', () => {
    useMemorySink()
    const given = new Headers({ accept: 'json' })
    const result = trace({ prompt: 'h' })(() => injectTraceparent(given))()

    expect(result).toBe(given)
    expect(given.get('traceparent')).toMatch(FORMAT)
    expect(given.get('accept')).toBe('json')
  })

  it('replaces a traceparent given in another case and passes on an incoming tracestate', () => {
    useMemorySink()
    const run = trace({ prompt: 'p', parent: { traceparent: TRACEPARENT, tracestate: 'vendor=abc' } })(() => injectTraceparent({ TraceParent: 'old' }))
    const headers = run()

    expect(Object.keys(headers).sort()).toEqual(['traceparent', 'tracestate'])
    expect(headers.traceparent?.slice(3, 35)).toBe(CALLER_TRACE)
    expect(headers.tracestate).toBe('vendor=abc')
  })

  it('returns the headers unchanged outside a trace', () => {
    const given = { accept: 'json' }
    expect(injectTraceparent(given)).toBe(given)
    expect(injectTraceparent()).toEqual({})
    const headers = new Headers()
    expect(injectTraceparent(headers).has('traceparent')).toBe(false)
  })
})

describe('trace({ parent })', () => {
  it('continues the caller named by incoming headers, in any case', async () => {
    const sink = useMemorySink()
    const run = trace({ prompt: 'handler', parent: { TraceParent: TRACEPARENT } })(() => injectTraceparent({}).traceparent)

    // what this service passes on is the caller's distributed trace
    expect(run()).toMatch(new RegExp(`^00-${CALLER_TRACE}-[0-9a-f]{16}-01$`))
    await flush()
    // the document is part of the caller's trace: same trace id, its root under the caller's span
    expect(sink.traces[0]).toMatchObject({ traceId: CALLER_TRACE, parentTraceId: CALLER_TRACE, parentStepId: CALLER_SPAN })
    expect(sink.traces[0]?.rootSpanId).not.toBe(CALLER_SPAN)
  })

  it('accepts a traceparent string and a Headers', async () => {
    const sink = useMemorySink()
    trace({ prompt: 'a', parent: TRACEPARENT })(() => 1)()
    trace({ prompt: 'b', parent: new Headers({ traceparent: TRACEPARENT }) })(() => 1)()
    await flush()

    expect(sink.traces.map((doc) => [doc.parentTraceId, doc.parentStepId])).toEqual([[CALLER_TRACE, CALLER_SPAN], [CALLER_TRACE, CALLER_SPAN]])
    // two documents of one trace, told apart by their root span ids
    expect(sink.traces.map((doc) => doc.traceId)).toEqual([CALLER_TRACE, CALLER_TRACE])
    expect(new Set(sink.traces.map((doc) => doc.rootSpanId)).size).toBe(2)
  })

  it('starts a fresh trace when the headers carry no traceparent, without a warning', async () => {
    const sink = useMemorySink()
    const warnings = spyWarnings()
    trace({ prompt: 'none', parent: { accept: 'json' } })(() => 1)()
    await flush()
    warnings.restore()

    expect(sink.traces[0]?.parentStepId).toBeUndefined()
    expect(warnings.messages()).toEqual([])
  })

  it.each([
    ['a bad version', `01-${CALLER_TRACE}-${CALLER_SPAN}-01`],
    ['version ff', `ff-${CALLER_TRACE}-${CALLER_SPAN}-01`],
    ['a zero trace id', `00-${'0'.repeat(32)}-${CALLER_SPAN}-01`],
    ['a zero span id', `00-${CALLER_TRACE}-${'0'.repeat(16)}-01`],
    ['a short trace id', `00-${CALLER_TRACE.slice(1)}-${CALLER_SPAN}-01`],
    ['a long span id', `00-${CALLER_TRACE}-${CALLER_SPAN}0-01`],
    ['non-hex digits', `00-${CALLER_TRACE.replace('a', 'g')}-${CALLER_SPAN}-01`],
    ['upper-case hex', `00-${CALLER_TRACE.toUpperCase()}-${CALLER_SPAN}-01`],
    ['junk', 'not a traceparent'],
  ])('ignores a traceparent with %s: a fresh id and one warning', async (_, value) => {
    const sink = useMemorySink()
    const warnings = spyWarnings()
    const run = trace({ prompt: 'bad', parent: { traceparent: value } })(() => 'ran')
    expect(run()).toBe('ran')
    expect(run()).toBe('ran')
    await flush()
    warnings.restore()

    expect(sink.traces).toHaveLength(2)
    for (const doc of sink.traces) {
      expect(doc.traceId).not.toBe(CALLER_TRACE)
      expect(doc.parentTraceId).toBeUndefined()
      expect(doc.parentStepId).toBeUndefined()
    }
    expect(warnings.messages().filter((message) => message.includes('malformed traceparent'))).toHaveLength(1)
  })

  it('rejects an unsupported parent at wrap time', () => {
    expect(() => trace({ parent: 42 as never })).toThrow(new TypeError('Expected `parent` to be incoming headers (an object or a Headers) or a traceparent string, got 42.'))
    expect(() => trace({ parent: [TRACEPARENT] as never })).toThrow(TypeError)
  })

  it('keeps a nested trace in its outer trace', async () => {
    const sink = useMemorySink()
    const inner = trace({ prompt: 'inner', parent: TRACEPARENT })(() => 1)
    trace({ prompt: 'outer' })(() => inner())()
    await flush()

    expect(sink.traces).toHaveLength(1)
    expect(sink.traces[0]?.traceId).not.toBe(CALLER_TRACE)
    expect(sink.traces[0]?.steps.map((step) => step.kind)).toEqual(['trace'])
  })
})

describe('continueTrace', () => {
  it('makes the root traces started inside continue the caller', async () => {
    const sink = useMemorySink()
    const handle = trace({ prompt: 'handle' })(async () => 'ok')

    await expect(continueTrace({ traceparent: TRACEPARENT }, () => handle())).resolves.toBe('ok')
    await handle()
    await flush()

    expect(sink.traces.map((doc) => doc.parentStepId)).toEqual([CALLER_SPAN, undefined])
    expect(sink.traces[0]?.parentTraceId).toBe(CALLER_TRACE)
  })

  it('runs fn as it is without a traceparent, or inside a running trace', async () => {
    const sink = useMemorySink()
    expect(continueTrace(undefined, () => currentTrace())).toBeUndefined()
    const outer = trace({ prompt: 'outer' })(() => continueTrace(TRACEPARENT, () => currentTrace()?.traceId))
    const seen = outer()
    await flush()

    expect(seen).toBe(sink.traces[0]?.traceId)
    expect(seen).not.toBe(CALLER_TRACE)
  })
})

describe('propagation between two services', () => {
  const servers: Server[] = []
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
  })

  const listen = async (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> => {
    const server = createServer(handler)
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  it('joins service B to the step of service A that called it, and a store keeps both documents', async () => {
    const sink = useMemorySink()
    // both services write to one SQLite store too, as two services sharing a database would
    const dir = mkdtempSync(join(tmpdir(), 'tracellm-propagation-'))
    const file = join(dir, 'traces.db')
    configure({ sinks: [sink, sqliteSink({ path: file })], queue: { scheduleDelayMs: 0 } })
    // service B: a traced handler continuing whoever called it
    const answer = trace({ prompt: 'service_b' })(async (q: string) => `answer to ${q}`)
    const urlB = await listen((req, res) => {
      void continueTrace(req.headers, () => answer(req.url ?? '')).then((body) => res.end(body))
    })
    // service A: a traced pipeline whose tool calls B over HTTP
    const callB = traceTool({ name: 'call_b' })(async (q: string) => (await fetch(`${urlB}/${q}`, { headers: injectTraceparent({ accept: 'text/plain' }) })).text())
    const handleA = trace({ prompt: 'service_a' })(async (q: string) => callB(q))
    const urlA = await listen((req, res) => {
      void handleA(req.url?.slice(1) ?? '').then((body) => res.end(body))
    })

    const reply = await (await fetch(`${urlA}/rag`)).text()
    await flush()

    expect(reply).toBe('answer to /rag')
    const a = sink.traces.find((doc) => doc.prompt === 'service_a') as TraceDocument
    const b = sink.traces.find((doc) => doc.prompt === 'service_b') as TraceDocument
    expect(b.traceId).toBe(a.traceId)
    expect(b.parentTraceId).toBe(a.traceId)
    expect(b.parentStepId).toBe(a.steps.find((step) => step.name === 'call_b')?.stepId)
    expect(b.rootSpanId).not.toBe(a.rootSpanId)
    expect(a.parentStepId).toBeUndefined()

    const store = await openStore(file)
    try {
      expect((await store.getAll(a.traceId)).map((doc) => doc.prompt)).toEqual(['service_a', 'service_b'])
      expect((await store.get(a.traceId))?.prompt).toBe('service_a')
      expect(await store.count()).toBe(2)
    } finally {
      await store.close()
      await shutdown()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('an app with the OpenTelemetry SDK', () => {
  afterEach(() => {
    otelTrace.disable()
    otelContext.disable()
  })

  it('continues the active OpenTelemetry span', async () => {
    const sink = useMemorySink()
    const exporter = new InMemorySpanExporter()
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
    otelContext.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    otelTrace.setGlobalTracerProvider(provider)
    const traced = trace({ prompt: 'inside_otel' })(async () => 'done')

    const ids = await otelTrace.getTracer('app').startActiveSpan('http.request', async (span) => {
      await traced()
      span.end()
      return span.spanContext()
    })
    const outside = trace({ prompt: 'outside_otel' })(() => 1)
    outside()
    await flush()

    const inside = sink.traces.find((doc) => doc.prompt === 'inside_otel')
    expect(inside).toMatchObject({ traceId: ids.traceId, parentTraceId: ids.traceId, parentStepId: ids.spanId })
    expect(exporter.getFinishedSpans().map((span) => span.spanContext().spanId)).toEqual([ids.spanId])
    expect(sink.traces.find((doc) => doc.prompt === 'outside_otel')?.parentStepId).toBeUndefined()
    await provider.shutdown()
  })

  it('never fails a call when the registered context manager throws', async () => {
    const sink = useMemorySink()
    const warnings = spyWarnings()
    const key = Symbol.for('opentelemetry.js.api.1')
    const holder = globalThis as unknown as Record<symbol, unknown>
    const before = holder[key]
    holder[key] = { version: '1.9.0', context: { active: () => { throw new Error('broken manager') } } }
    try {
      expect(trace({ prompt: 'x' })(() => 'ok')()).toBe('ok')
      expect(trace({ prompt: 'y' })(() => 'ok')()).toBe('ok')
    } finally {
      holder[key] = before
      warnings.restore()
    }
    await flush()

    expect(sink.traces).toHaveLength(2)
    expect(warnings.messages().filter((message) => message.includes('OpenTelemetry'))).toHaveLength(1)
  })
})

describe('toWire / fromWire', () => {
  it('round-trips parentTraceId and parentStepId as parent_trace_id and parent_step_id', async () => {
    const sink = useMemorySink()
    trace({ prompt: 'wire', parent: TRACEPARENT })(() => 1)()
    await flush()

    const doc = sink.traces[0] as TraceDocument
    const wire = JSON.parse(JSON.stringify(toWire(doc))) as Record<string, unknown>
    expect(wire).toMatchObject({ parent_trace_id: CALLER_TRACE, parent_step_id: CALLER_SPAN })
    expect(fromWire(wire)).toEqual(doc)
  })
})
