// otelSink through a real BasicTracerProvider (sdk-trace-base v2), observed with InMemorySpanExporter.
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { context as otelContext, trace as otelTrace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { traceTool } from '../../src/combinators/trace-tool.js'
import { trace } from '../../src/combinators/trace.js'
import { configure, flush } from '../../src/configure.js'
import type { TraceDocument } from '../../src/document/document.js'
import { memorySink } from '../../src/sinks/memory.js'
import { otelSink, type TracerProviderLike } from '../../src/sinks/otel.js'
import { makeDocument, makeStep, stepIdOf } from '../helpers/documents.js'

afterEach(() => {
  configure({ sinks: [] })
  jest.restoreAllMocks()
})

function setup(): { provider: BasicTracerProvider; exporter: InMemorySpanExporter; second: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter()
  const second = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter), new SimpleSpanProcessor(second)] })
  return { provider, exporter, second }
}

async function runWorkflow(): Promise<void> {
  const retrieve = traceTool({ name: 'retrieve', kind: 'retriever' })(async (q: string) => [q + ' 1', q + ' 2'])
  const score = traceTool({ name: 'score' })((doc: string) => doc.length)
  const rerank = traceTool({ name: 'rerank', kind: 'reranker' })(async (docs: string[]) => docs.sort((a, b) => score(b) - score(a)))
  const generate = traceTool({ name: 'generate', kind: 'llm', model: 'gpt-4o' })(async (docs: string[]) => 'answer from ' + docs.length)
  const cite = traceTool({ name: 'cite' })(() => {
    throw new TypeError('no sources')
  })
  const answer = trace({ prompt: 'answer_question' })(async (q: string) => {
    const docs = await rerank(await retrieve(q))
    const text = await generate(docs)
    try {
      cite()
    } catch {
      // the step records the failure; the pipeline goes on
    }
    return text
  })
  await answer('What is RAG?')
  await flush()
}

const millisOf = (time: readonly [number, number]): number => time[0] * 1000 + time[1] / 1e6
const stepIdAttr = (span: ReadableSpan): unknown => span.attributes['tracellm.step_id']

describe('otelSink', () => {
  it('emits a nested workflow through the app provider: trace id, tree, times, GenAI attributes, errors', async () => {
    const { provider, exporter, second } = setup()
    const memory = memorySink()
    configure({ sinks: [otelSink({ tracerProvider: provider }), memory] })

    await runWorkflow()

    const doc = memory.traces[0] as TraceDocument
    const spans = exporter.getFinishedSpans()
    expect(spans).toHaveLength(1 + doc.steps.length)
    expect(new Set(spans.map((span) => span.spanContext().traceId))).toEqual(new Set([doc.traceId]))

    const root = spans.find((span) => span.name === 'answer_question') as ReadableSpan
    expect(root.instrumentationScope).toMatchObject({ name: doc.sdk.name, version: doc.sdk.version })
    expect(root.parentSpanContext).toMatchObject({ traceId: doc.traceId, spanId: doc.rootSpanId, isRemote: true })
    expect(root.attributes).toMatchObject({ 'tracellm.prompt': 'answer_question', 'tracellm.input': '["What is RAG?"]' })
    expect(millisOf(root.startTime)).toBe(Date.parse(doc.startedAt))
    expect(millisOf(root.endTime)).toBe(Date.parse(doc.endedAt))

    // the tree mirrors the steps: step id → span id, by the tracellm.step_id attribute
    const spanIdOfStep = new Map(spans.filter((s) => stepIdAttr(s) !== undefined).map((s) => [stepIdAttr(s), s.spanContext().spanId]))
    expect(spanIdOfStep.size).toBe(doc.steps.length)
    for (const step of doc.steps) {
      const span = spans.find((s) => stepIdAttr(s) === step.stepId) as ReadableSpan
      const parentSpanId = step.parentStepId === null ? root.spanContext().spanId : spanIdOfStep.get(step.parentStepId)
      expect(span.parentSpanContext?.spanId).toBe(parentSpanId)
      expect(millisOf(span.startTime)).toBe(Date.parse(step.startedAt))
      expect(millisOf(span.endTime)).toBe(Date.parse(step.endedAt))
    }
    const rerank = spans.find((s) => s.name === 'execute_tool rerank') as ReadableSpan
    expect(spans.filter((s) => s.parentSpanContext?.spanId === rerank.spanContext().spanId).map((s) => s.name)).toEqual(['execute_tool score', 'execute_tool score'])
    expect(spans.filter((s) => s.parentSpanContext?.spanId === root.spanContext().spanId).map((s) => s.name).sort()).toEqual(['chat gpt-4o', 'execute_tool cite', 'execute_tool rerank', 'execute_tool retrieve'])

    const llm = spans.find((s) => s.name === 'chat gpt-4o') as ReadableSpan
    expect(llm.kind).toBe(2)   // SpanKind.CLIENT
    expect(llm.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'tracellm.kind': 'llm' })
    expect(spans.find((s) => s.name === 'execute_tool retrieve')?.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'retrieve' })

    const cite = spans.find((s) => s.name === 'execute_tool cite') as ReadableSpan
    expect(cite.status).toEqual({ code: 2, message: 'no sources' })
    expect(cite.attributes).toMatchObject({ 'error.type': 'TypeError' })
    expect(cite.events.map((e) => [e.name, e.attributes?.['exception.message']])).toEqual([['exception', 'no sources']])
    expect(root.status.code).toBe(0)

    // the app's other processor sees the same spans
    expect(second.getFinishedSpans().map((s) => s.spanContext().spanId).sort()).toEqual(spans.map((s) => s.spanContext().spanId).sort())
  })

  it('parents the root span on the remote caller span of a continued trace', async () => {
    const { provider, exporter } = setup()
    const base = makeDocument({ steps: [makeStep({ stepId: stepIdOf(0xa1) })] })
    const doc = { ...base, parentTraceId: base.traceId, parentStepId: stepIdOf(0xcc) } as TraceDocument

    await otelSink({ tracerProvider: provider }).write(Object.freeze([doc]))

    const [root, step] = exporter.getFinishedSpans().sort((a, b) => (stepIdAttr(a) === undefined ? -1 : 1) - (stepIdAttr(b) === undefined ? -1 : 1))
    expect(root?.parentSpanContext).toMatchObject({ traceId: doc.traceId, spanId: stepIdOf(0xcc), isRemote: true })
    expect(step?.parentSpanContext?.spanId).toBe(root?.spanContext().spanId)
    expect(step?.spanContext().traceId).toBe(doc.traceId)
  })

  it("nests a trace started inside the app's active span under that span, in the app's own exporter", async () => {
    const { provider, exporter } = setup()
    otelContext.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    otelTrace.setGlobalTracerProvider(provider)
    try {
      configure({ sinks: [otelSink({ tracerProvider: provider })] })
      const search = traceTool({ name: 'search', kind: 'retriever' })(async (q: string) => [q])
      const answer = trace({ prompt: 'answer' })(async (q: string) => (await search(q)).length)

      const request = await otelTrace.getTracer('app').startActiveSpan('GET /answer', async (span) => {
        await answer('What is RAG?')
        span.end()
        return span.spanContext()
      })
      await flush()

      const spans = exporter.getFinishedSpans()
      const root = spans.find((span) => span.name === 'answer')
      const step = spans.find((span) => span.name === 'execute_tool search')
      expect(spans.map((span) => span.spanContext().traceId)).toEqual(spans.map(() => request.traceId))
      expect(root?.parentSpanContext?.spanId).toBe(request.spanId)
      expect(step?.parentSpanContext?.spanId).toBe(root?.spanContext().spanId)
    } finally {
      otelTrace.disable()
      otelContext.disable()
    }
  })

  it('rejects the write when the provider throws, and does not emit a document twice', async () => {
    const { provider, exporter } = setup()
    let fail = true
    const flaky: TracerProviderLike = {
      getTracer: (name, version) => {
        if (fail) throw new Error('provider down')
        return provider.getTracer(name, version)
      },
    }
    const sink = otelSink({ tracerProvider: flaky })
    const batch = Object.freeze([makeDocument()])

    await expect(sink.write(batch)).rejects.toThrow('provider down')
    fail = false
    await sink.write(batch)
    await sink.write(batch)

    expect(exporter.getFinishedSpans().filter((s) => stepIdAttr(s) === undefined).map((s) => s.name)).toEqual([batch[0]?.prompt])
  })

  it('flushes the provider on flush() and leaves it running', async () => {
    const { provider } = setup()
    const forceFlush = jest.spyOn(provider, 'forceFlush')
    const sink = otelSink({ tracerProvider: provider })

    await sink.flush?.()

    expect(forceFlush).toHaveBeenCalledTimes(1)
    expect(sink.close).toBeUndefined()
  })

  it('throws a TypeError for a missing tracerProvider', () => {
    expect(() => otelSink({} as never)).toThrow(TypeError)
  })
})
