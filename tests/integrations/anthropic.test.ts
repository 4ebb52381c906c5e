import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import Anthropic from '@anthropic-ai/sdk'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { flush, trace } from '../../src/index.js'
import { wrapAnthropic } from '../../src/integrations/anthropic.js'
import { useMemorySink } from '../helpers/memory.js'

// A loopback server speaking Anthropic's wire format; each test sets how it answers.
type Handler = (body: Record<string, unknown>, res: ServerResponse) => void
let handler: Handler = (_body, res) => res.end()
let server: Server
let baseURL = ''

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = ''
    req.on('data', (chunk: Buffer) => { raw += chunk.toString() })
    req.on('end', () => handler(JSON.parse(raw === '' ? '{}' : raw) as Record<string, unknown>, res))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const client = (): Anthropic => wrapAnthropic(new Anthropic({ apiKey: 'test-key', baseURL, maxRetries: 0 }))

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_1' })
  res.end(JSON.stringify(body))
}

function sse(res: ServerResponse, events: ReadonlyArray<Record<string, unknown>>, cut = false): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  for (const event of events) res.write(`event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`)
  if (cut) {
    setTimeout(() => res.socket?.destroy(), 10)
    return
  }
  res.end()
}

const message = {
  id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929',
  content: [{ type: 'text', text: 'RAG is retrieval.' }],
  stop_reason: 'end_turn', stop_sequence: null,
  usage: { input_tokens: 10, output_tokens: 6, cache_read_input_tokens: 4, cache_creation_input_tokens: 0 },
}

const events: Array<Record<string, unknown>> = [
  { type: 'message_start', message: { id: 'msg_2', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 8, output_tokens: 1, cache_read_input_tokens: 2 } } },
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  { type: 'ping' },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo' } },
  { type: 'content_block_stop', index: 0 },
  { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'tu_1', name: 'search', input: {} } },
  { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"q":' } },
  { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"rag"}' } },
  { type: 'content_block_stop', index: 1 },
  { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 5 } },
  { type: 'message_stop' },
]

const messages = [{ role: 'user' as const, content: 'What is RAG?' }]

describe('wrapAnthropic', () => {
  it('records messages.create as an llm step with model, input, content and usage', async () => {
    const sink = useMemorySink()
    handler = (_body, res) => json(res, 200, message)
    const anthropic = client()
    const text = await trace({ prompt: 'ask' })(async () => {
      const reply = await anthropic.messages.create({ model: 'claude-test-model', max_tokens: 100, messages })
      return reply.content[0]?.type === 'text' ? reply.content[0].text : ''
    })()
    await flush()

    expect(text).toBe('RAG is retrieval.')
    expect(sink.traces[0]?.steps[0]).toMatchObject({
      name: 'anthropic.messages', kind: 'llm', status: 'success', model: 'claude-test-model',
      input: { model: 'claude-test-model', max_tokens: 100, messages },
      output: { role: 'assistant', content: [{ type: 'text', text: 'RAG is retrieval.' }], stop_reason: 'end_turn' },
      usage: { inputTokens: 14, outputTokens: 6 },
      metadata: { cached_input_tokens: 4, cache_creation_input_tokens: 0 },
    })
    expect(sink.traces[0]?.usage).toEqual({ inputTokens: 14, outputTokens: 6 })
  })

  it('hands back the SDK stream and records the assembled content and usage', async () => {
    const sink = useMemorySink()
    handler = (_body, res) => sse(res, events)
    const anthropic = client()
    const seen: string[] = []
    let sawController = false
    await trace({ prompt: 'stream' })(async () => {
      const stream = await anthropic.messages.create({ model: 'claude-test-model', max_tokens: 100, messages, stream: true })
      sawController = stream.controller instanceof AbortController
      for await (const event of stream) seen.push(event.type)
    })()
    await flush()

    expect(sawController).toBe(true)
    expect(seen).toEqual(events.map((event) => event.type).filter((type) => type !== 'ping'))   // the SDK drops pings
    expect(sink.traces[0]?.steps[0]).toMatchObject({
      kind: 'llm', status: 'success', model: 'claude-test-model',
      output: {
        role: 'assistant',
        content: [{ type: 'text', text: 'Hello' }, { type: 'tool_use', id: 'tu_1', name: 'search', input: { q: 'rag' } }],
        stop_reason: 'tool_use',
      },
      usage: { inputTokens: 10, outputTokens: 5 },
      metadata: { cached_input_tokens: 2 },
    })
    expect(sink.traces[0]?.usage).toEqual({ inputTokens: 10, outputTokens: 5 })
  })

  it.each([429, 500])('records an HTTP %i as an error step and rethrows the SDK error object', async (status) => {
    const sink = useMemorySink()
    handler = (_body, res) => json(res, status, { type: 'error', error: { type: status === 429 ? 'rate_limit_error' : 'api_error', message: `failed with ${status}` } })
    const anthropic = client()
    let inner: unknown
    const caught = await trace({ prompt: 'fails' })(async () => {
      try {
        return await anthropic.messages.create({ model: 'claude-test-model', max_tokens: 100, messages })
      } catch (error) {
        inner = error
        throw error
      }
    })().catch((error: unknown) => error)
    await flush()

    expect(caught).toBe(inner)
    expect(caught).toBeInstanceOf(status === 429 ? Anthropic.RateLimitError : Anthropic.InternalServerError)
    expect(sink.traces[0]?.steps[0]).toMatchObject({
      kind: 'llm', status: 'error', model: 'claude-test-model',
      error: { type: status === 429 ? 'RateLimitError' : 'InternalServerError', message: expect.stringContaining(`failed with ${status}`) },
      metadata: { status_code: status },
    })
  })

  it('records a stream cut off mid-way as an error step; the caller gets the SDK error', async () => {
    const sink = useMemorySink()
    handler = (_body, res) => sse(res, events.slice(0, 4), true)
    const anthropic = client()
    const caught = await trace({ prompt: 'cut' })(async () => {
      for await (const _ of await anthropic.messages.create({ model: 'claude-test-model', max_tokens: 100, messages, stream: true })) { /* drain */ }
    })().catch((error: unknown) => error)
    await flush()

    expect(sink.traces[0]?.steps[0]).toMatchObject({
      status: 'error',
      error: { message: (caught as Error).message },
      metadata: { partial_output: { content: [{ type: 'text', text: 'Hel' }] } },
    })
  })

  it('runs unrecorded outside a trace', async () => {
    const sink = useMemorySink()
    handler = (_body, res) => json(res, 200, message)
    const reply = await client().messages.create({ model: 'claude-test-model', max_tokens: 100, messages })
    await flush()

    expect(reply.id).toBe('msg_1')
    expect(sink.traces).toEqual([])
  })
})
