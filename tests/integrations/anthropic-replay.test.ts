import { describe, expect, it } from '@jest/globals'
import type Anthropic from '@anthropic-ai/sdk'
import { flush, trace } from '../../src/index.js'
import { shape, useMemorySink } from '../helpers/memory.js'
import { anthropicClients, anthropicErrorBody, expectFaithfulReplay, messageOf, messages, orphanWarningsOf, recordThenReplay } from './fixtures.js'
import { json, sse, useLoopback } from './loopback.js'

// A pipeline recorded against a loopback server speaking Anthropic's wire format, then replayed:
// every call is answered from the record, so not one request reaches the server, and the replay's
// trace equals the recorded one.
const server = useLoopback()
const { wrapped } = anthropicClients(server)

const events: Array<Record<string, unknown>> = [
  { type: 'message_start', message: { id: 'msg_2', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 8, output_tokens: 1, cache_read_input_tokens: 2 } } },
  { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: 'sig' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me see.' } },
  { type: 'content_block_stop', index: 0 },
  { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
  { type: 'ping' },
  { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Hel' } },
  { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'lo' } },
  { type: 'content_block_stop', index: 1 },
  { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'tu_1', name: 'search', input: {} } },
  { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"q":' } },
  { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '"rag"}' } },
  { type: 'content_block_stop', index: 2 },
  { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 5 } },
  { type: 'message_stop' },
]

const ask = (anthropic: Anthropic) => trace({ prompt: 'ask' })(async (question: string) => {
  const reply = await anthropic.messages.create({ model: 'claude-test-model', max_tokens: 100, messages: [{ role: 'user', content: question }] })
  return { content: reply.content, model: reply.model, stop: reply.stop_reason, type: reply.type, input: reply.usage.input_tokens, cached: reply.usage.cache_read_input_tokens }
})

describe('replay of a wrapAnthropic pipeline', () => {
  it('answers messages.create from the record: no request, the same value and an equal trace', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, messageOf('RAG is retrieval.'))

    const replayed = await recordThenReplay(server, sink, ask(wrapped()), ['What is RAG?'])

    expectFaithfulReplay(replayed)
    expect(replayed.result.value).toEqual({
      content: [{ type: 'text', text: 'RAG is retrieval.' }], model: 'claude-sonnet-4-5-20250929', stop: 'end_turn', type: 'message', input: 10, cached: 4,
    })
    expect(replayed.result.doc.steps[0]).toMatchObject({ usage: { inputTokens: 14, outputTokens: 6 }, metadata: { cached_input_tokens: 4, cache_creation_input_tokens: 0 } })
  })

  it('replays a streamed message event by event: thinking, text and tool_use blocks', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, events, { named: true })
    const anthropic = wrapped()
    const streamed = trace({ prompt: 'stream' })(async () => {
      const text: string[] = []
      for await (const event of await anthropic.messages.create({ model: 'claude-test-model', max_tokens: 100, messages, stream: true })) {
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text.push(event.delta.text)
      }
      return text.join('')
    })

    const replayed = await recordThenReplay(server, sink, streamed, [])

    expectFaithfulReplay(replayed)
    expect(replayed.result.value).toBe('Hello')
    expect(replayed.result.doc.steps[0]).toMatchObject({
      output: { content: [{ type: 'thinking', thinking: 'Let me see.', signature: 'sig' }, { type: 'text', text: 'Hello' }, { type: 'tool_use', input: { q: 'rag' } }], stop_reason: 'tool_use' },
      usage: { inputTokens: 10, outputTokens: 5 },
    })
  })

  it('replays the messages.stream() helper, whose final message is rebuilt from the record', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, events, { named: true })
    const anthropic = wrapped()
    const helper = trace({ prompt: 'helper' })(async () => {
      const stream = anthropic.messages.stream({ model: 'claude-test-model', max_tokens: 100, messages })
      const deltas: string[] = []
      stream.on('text', (delta) => deltas.push(delta))
      const final = await stream.finalMessage()
      return { text: deltas.join(''), content: final.content, stop: final.stop_reason, usage: final.usage.output_tokens }
    })

    const replayed = await recordThenReplay(server, sink, helper, [])

    expectFaithfulReplay(replayed)
    expect(replayed.result.value).toMatchObject({ text: 'Hello', stop: 'tool_use', usage: 5 })
  })

  it('throws a recorded HTTP error again, with its status, and sends nothing', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 500, anthropicErrorBody(500))
    const anthropic = wrapped()
    const failing = trace({ prompt: 'fails' })(async () => anthropic.messages.create({ model: 'claude-test-model', max_tokens: 100, messages }))

    const { recorded, result, requests } = await recordThenReplay(server, sink, failing, [])

    expect(requests).toBe(0)
    expect(result.error).toMatchObject({ name: 'InternalServerError', status: 500 })
    expect(result.doc.steps[0]).toMatchObject({ status: 'error', metadata: { status_code: 500 } })
    expect(result.diff.steps.map((step) => step.status)).toEqual(['same'])
    expect(result.doc.steps[0]?.error).toEqual(recorded.steps[0]?.error)
  })

  it('replays a stream cut off mid-way: the chunks that had arrived, then the recorded error', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, events.slice(0, 7), { named: true, cut: true })
    const anthropic = wrapped()
    const cut = trace({ prompt: 'cut' })(async () => {
      const seen: string[] = []
      try {
        for await (const event of await anthropic.messages.create({ model: 'claude-test-model', max_tokens: 100, messages, stream: true })) seen.push(event.type)
      } catch {
        return seen.length > 0
      }
      return false
    })

    const { recorded, result, requests } = await recordThenReplay(server, sink, cut, [])

    expect(requests).toBe(0)
    expect(result.value).toBe(true)
    expect(recorded.steps[0]).toMatchObject({ status: 'error', metadata: { partial_output: { content: [{ type: 'thinking' }, { type: 'text', text: 'Hel' }] } } })
    expect(result.doc.steps[0]?.metadata).toEqual(recorded.steps[0]?.metadata)
    expect(result.diff.steps.map((step) => step.status)).toEqual(['same'])
  })
})

describe('wrapAnthropic outside any trace', () => {
  it('runs the call, records nothing and warns once, naming the SDK method', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, messageOf('RAG is retrieval.'))
    const anthropic = wrapped()
    const orphans = await orphanWarningsOf(async () => {
      expect((await anthropic.messages.create({ model: 'claude-test-model', max_tokens: 100, messages })).id).toBe('msg_1')
      await anthropic.messages.create({ model: 'claude-test-model', max_tokens: 100, messages })
    })

    expect(sink.traces).toEqual([])
    expect(orphans).toHaveLength(1)
    expect(orphans[0]).toContain('anthropic.messages.create')
  })

  it("with orphanSteps: 'trace', the messages.stream() helper becomes a trace of one llm step", async () => {
    const sink = useMemorySink({ orphanSteps: 'trace' })
    server.handler = (_body, res) => sse(res, events, { named: true })

    const text = await wrapped().messages.stream({ model: 'claude-test-model', max_tokens: 100, messages }).finalText()
    await flush()

    expect(text).toBe('Hello')
    expect(sink.traces).toHaveLength(1)
    expect(shape(sink.traces[0]!)).toEqual(['anthropic.messages'])
    expect(sink.traces[0]).toMatchObject({ prompt: 'anthropic.messages', status: 'success', usage: { inputTokens: 10, outputTokens: 5 } })
  })
})
