import { describe, expect, it } from '@jest/globals'
import { flush, trace } from '../../src/index.js'
import { useMemorySink } from '../helpers/memory.js'
import {
  anthropicClients, anthropicErrorBody, anthropicErrorClass, expectHttpErrorStep, failInTrace, messageOf, messages, onlyStep,
} from './fixtures.js'
import { json, sse, useLoopback } from './loopback.js'

// A loopback server speaking Anthropic's wire format; each test sets how it answers.
const server = useLoopback()
const { wrapped } = anthropicClients(server)

const message = messageOf('RAG is retrieval.')

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

describe('wrapAnthropic', () => {
  it('records messages.create as an llm step with model, input, content and usage', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, message)
    const anthropic = wrapped()
    const text = await trace({ prompt: 'ask' })(async () => {
      const reply = await anthropic.messages.create({ model: 'claude-test-model', max_tokens: 100, messages })
      return reply.content[0]?.type === 'text' ? reply.content[0].text : ''
    })()
    await flush()

    expect(text).toBe('RAG is retrieval.')
    expect(onlyStep(sink)).toMatchObject({
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
    server.handler = (_body, res) => sse(res, events, { named: true })
    const anthropic = wrapped()
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
    expect(onlyStep(sink)).toMatchObject({
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
    server.handler = (_body, res) => json(res, status, anthropicErrorBody(status))
    const anthropic = wrapped()
    const { caught, inner } = await failInTrace(() => anthropic.messages.create({ model: 'claude-test-model', max_tokens: 100, messages }))

    expect(caught).toBe(inner)
    expect(caught).toBeInstanceOf(anthropicErrorClass(status))
    expectHttpErrorStep(onlyStep(sink), status, { kind: 'llm', model: 'claude-test-model' })
  })

  it('records a stream cut off mid-way as an error step; the caller gets the SDK error', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, events.slice(0, 4), { named: true, cut: true })
    const anthropic = wrapped()
    const { caught } = await failInTrace(async () => {
      for await (const _ of await anthropic.messages.create({ model: 'claude-test-model', max_tokens: 100, messages, stream: true })) { /* drain */ }
    }, 'cut')

    expect(onlyStep(sink)).toMatchObject({
      status: 'error',
      error: { message: (caught as Error).message },
      metadata: { partial_output: { content: [{ type: 'text', text: 'Hel' }] } },
    })
  })
})
