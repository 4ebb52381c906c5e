// The OTLP/protobuf body decoded with OpenTelemetry's own generated protobuf definitions
// (opentelemetry-proto, as compiled into @opentelemetry/otlp-transformer 0.57, a dev-only alias),
// not with a reader of ours: ids, parentage, names, attributes and status of the seed's workflow.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { createServer, type Server } from 'node:http'
import { createRequire } from 'node:module'
import { configure, flush, trace, traceTool } from '../../src/index.js'
import { otlpSink } from '../../src/sinks/otlp.js'
import { makeDocument, makeStep, stepIdOf } from '../helpers/documents.js'

interface KeyValue { key: string; value: { stringValue?: string; intValue?: { toString(): string } | number; boolValue?: boolean; doubleValue?: number } }
interface Span { traceId: Uint8Array; spanId: Uint8Array; parentSpanId: Uint8Array; name: string; attributes: KeyValue[]; status?: { code?: number; message?: string } }
interface Request { resourceSpans: Array<{ resource: { attributes: KeyValue[] }; scopeSpans: Array<{ spans: Span[] }> }> }

const root = createRequire(import.meta.url)('otlp-proto-0.57/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: { decode(bytes: Uint8Array): Request } } } } } }
}
const ExportTraceServiceRequest = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest

const hex = (bytes: Uint8Array | null | undefined): string => (bytes == null ? '' : Buffer.from(bytes).toString('hex'))
const attribute = (span: Span | { attributes: KeyValue[] }, key: string): unknown => {
  const value = span.attributes.find((entry) => entry.key === key)?.value
  if (value === undefined) return undefined
  if (value.stringValue !== undefined && value.stringValue !== '') return value.stringValue
  if (value.intValue !== undefined && value.intValue !== null) return Number(value.intValue.toString())
  return value.boolValue ?? value.doubleValue
}

describe('otlpSink (http/protobuf) decoded with OpenTelemetry\'s own definitions', () => {
  let server: Server
  let bodies: Buffer[]
  let url: string

  beforeEach(async () => {
    bodies = []
    server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks))
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
      })
    })
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    const address = server.address() as { port: number }
    url = `http://127.0.0.1:${address.port}/v1/traces`
  })

  afterEach(async () => {
    configure({ sinks: [] })
    await new Promise<void>((done) => server.close(() => done()))
  })

  it('exports the nested workflow as one trace with the right tree, attributes and status', async () => {
    configure({ sinks: [otlpSink({ url, protocol: 'http/protobuf' })], project: 'rag-service', queue: { scheduleDelayMs: 0 } })
    const retrieve = traceTool({ name: 'retrieve', kind: 'retriever' })(async (q: string) => [`doc about ${q}`])
    const score = traceTool({ name: 'score' })((doc: string) => doc.length)
    const rerank = traceTool({ name: 'rerank', kind: 'reranker' })((docs: string[]) => docs.map(score))
    const generate = traceTool({ name: 'generate', kind: 'llm', model: 'gpt-4o' })(async (_q: string, _docs: string[]) => {
      throw new Error('rate limited')
    })
    const answer = trace({ prompt: 'answer_question' })(async (q: string) => {
      const docs = await retrieve(q)
      rerank(docs)
      return generate(q, docs).catch(() => 'fallback')
    })

    await answer('What is RAG?')
    await flush()

    expect(bodies).toHaveLength(1)
    const request = ExportTraceServiceRequest.decode(bodies[0] as Buffer)
    const [resourceSpans] = request.resourceSpans
    expect(attribute(resourceSpans!.resource, 'service.name')).toBe('rag-service')
    const spans = resourceSpans!.scopeSpans.flatMap((scope) => scope.spans)
    const byName = new Map(spans.map((span) => [span.name, span]))
    const rootSpan = byName.get('answer_question')!
    const traceIds = new Set(spans.map((span) => hex(span.traceId)))

    expect(spans.map((span) => span.name).sort()).toEqual(['answer_question', 'chat gpt-4o', 'execute_tool rerank', 'execute_tool retrieve', 'execute_tool score'])
    expect(traceIds.size).toBe(1)
    expect(hex(rootSpan.parentSpanId)).toBe('')
    expect(hex(byName.get('execute_tool retrieve')!.parentSpanId)).toBe(hex(rootSpan.spanId))
    expect(hex(byName.get('execute_tool score')!.parentSpanId)).toBe(hex(byName.get('execute_tool rerank')!.spanId))
    const chat = byName.get('chat gpt-4o')!
    expect(attribute(chat, 'gen_ai.operation.name')).toBe('chat')
    expect(attribute(chat, 'gen_ai.request.model')).toBe('gpt-4o')
    expect(chat.status).toMatchObject({ code: 2, message: 'rate limited' })
    expect(attribute(byName.get('execute_tool retrieve')!, 'gen_ai.tool.name')).toBe('retrieve')
  })

  it('carries costUsd as a double: tracellm.usage.cost_usd on the root span, tracellm.cost_usd on the priced step span', async () => {
    const doc = makeDocument({
      costUsd: 0.0125,
      steps: [makeStep({ stepId: stepIdOf(0xc1), kind: 'llm', name: 'generate', model: 'gpt-4o', costUsd: 0.0125 }), makeStep({ stepId: stepIdOf(0xc2) })],
    })
    await otlpSink({ url }).write(Object.freeze([doc]))

    const spans = ExportTraceServiceRequest.decode(bodies[0] as Buffer).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((scope) => scope.spans))
    const cost = (span: Span | undefined, key: string): number | undefined => span?.attributes.find((entry) => entry.key === key)?.value.doubleValue ?? undefined
    expect(spans.map((span) => [span.name, cost(span, 'tracellm.usage.cost_usd'), cost(span, 'tracellm.cost_usd')])).toEqual([
      ['answer', 0.0125, undefined],
      ['chat gpt-4o', undefined, 0.0125],
      ['execute_tool search', undefined, undefined],
    ])
  })
})
