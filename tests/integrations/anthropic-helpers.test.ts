import { describe, expect, it } from '@jest/globals'
import Anthropic from '@anthropic-ai/sdk'
import { flush, trace } from '../../src/index.js'
import { useMemorySink } from '../helpers/memory.js'
import {
  anthropicClients, anthropicErrorBody, anthropicErrorClass, expectEndedEarly, expectHttpErrorStep, failInTrace, messageOf,
  messages, onlyStep, plainThenTraced,
} from './fixtures.js'
import { json, sse, surfaceUnhandledRejections, useLoopback } from './loopback.js'

// The SDK's helpers (messages.stream, messages.parse) against a loopback server speaking Anthropic's
// wire format. Each one must come out as exactly one llm step, and hand the caller exactly what an
// unwrapped client hands it.
const server = useLoopback()
const clients = anthropicClients(server)
const { wrapped } = clients

const events: Array<Record<string, unknown>> = [
  { type: 'message_start', message: { id: 'msg_2', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 8, output_tokens: 1, cache_read_input_tokens: 2 } } },
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo' } },
  { type: 'content_block_stop', index: 0 },
  { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } },
  { type: 'message_stop' },
]

const answerFormat = { type: 'json_schema' as const, schema: { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'], additionalProperties: false } }

describe('wrapAnthropic: messages.stream()', () => {
  it('records a stream read to the end as one llm step; text events and final message are the SDK\'s', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, events, { named: true })
    const read = async (anthropic: Anthropic): Promise<{ deltas: string[]; snapshots: string[]; final: unknown; text: string }> => {
      const stream = anthropic.messages.stream({ model: 'claude-test-model', max_tokens: 100, messages })
      const deltas: string[] = []
      const snapshots: string[] = []
      stream.on('text', (delta, snapshot) => { deltas.push(delta); snapshots.push(snapshot) })
      const final = await stream.finalMessage()
      return { deltas, snapshots, final, text: await stream.finalText() }
    }
    const { expected, got } = await plainThenTraced(clients, 'stream', read)

    expect(got).toEqual(expected)
    expect(got.deltas).toEqual(['Hel', 'lo'])
    expect(onlyStep(sink)).toMatchObject({
      name: 'anthropic.messages', kind: 'llm', status: 'success', model: 'claude-test-model',
      input: { model: 'claude-test-model', max_tokens: 100, messages, stream: true },
      output: { role: 'assistant', content: [{ type: 'text', text: 'Hello' }], stop_reason: 'end_turn' },
      usage: { inputTokens: 10, outputTokens: 5 },
      metadata: { response_model: 'claude-sonnet-4-5-20250929', cached_input_tokens: 2 },
    })
    expect(sink.traces[0]?.usage).toEqual({ inputTokens: 10, outputTokens: 5 })
  })

  it('records a stream read by async iteration as one llm step; the events are the SDK\'s', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, events, { named: true })
    const read = async (anthropic: Anthropic): Promise<unknown[]> => {
      const seen: unknown[] = []
      for await (const event of anthropic.messages.stream({ model: 'claude-test-model', max_tokens: 100, messages })) seen.push(event)
      return seen
    }
    const { expected, got } = await plainThenTraced(clients, 'iterate', read)

    expect(got).toEqual(expected)
    expect(got).toHaveLength(events.length)
    expect(onlyStep(sink)).toMatchObject({ status: 'success', output: { content: [{ type: 'text', text: 'Hello' }] }, usage: { inputTokens: 10, outputTokens: 5 } })
  })

  it('keeps the stream\'s withResponse() working, recorded once', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, events, { named: true })
    const anthropic = wrapped()
    const { response, request_id, text } = await trace({ prompt: 'raw' })(async () => {
      const stream = anthropic.messages.stream({ model: 'claude-test-model', max_tokens: 100, messages })
      const raw = await stream.withResponse()
      return { ...raw, text: await stream.finalText() }
    })()
    await flush()

    expect(response.status).toBe(200)
    expect(request_id).toBe('req_123')
    expect(text).toBe('Hello')
    expect(onlyStep(sink)).toMatchObject({ status: 'success', output: { content: [{ text: 'Hello' }] } })
  })

  it('ends the step at stream.abort() with what had arrived; nothing is left unhandled', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, events.slice(0, 3), { named: true, hold: true })
    const anthropic = wrapped()
    const caught = await trace({ prompt: 'abort' })(async () => {
      const stream = anthropic.messages.stream({ model: 'claude-test-model', max_tokens: 100, messages })
      stream.on('text', () => stream.abort())
      return stream.finalMessage().catch((error: unknown) => error)
    })()
    await flush()

    expect(caught).toBeInstanceOf(Anthropic.APIUserAbortError)
    expectEndedEarly(onlyStep(sink), { output: { content: [{ type: 'text', text: 'Hel' }], stop_reason: null } })
    await surfaceUnhandledRejections()
  })

  it('records a stream aborted before its response as a failed step with the SDK\'s abort error', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, events, { named: true })
    const anthropic = wrapped()
    const caught = await trace({ prompt: 'abort' })(async () => {
      const stream = anthropic.messages.stream({ model: 'claude-test-model', max_tokens: 100, messages })
      stream.abort()
      return stream.done().catch((error: unknown) => error)
    })()
    await flush()

    expect(caught).toBeInstanceOf(Anthropic.APIUserAbortError)
    expect(onlyStep(sink)).toMatchObject({ status: 'error', error: { type: 'APIUserAbortError' } })
    await surfaceUnhandledRejections()
  })

  it('ends the step when the caller breaks out of the iteration', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, events.slice(0, 3), { named: true, hold: true })
    const anthropic = wrapped()
    const types = await trace({ prompt: 'break' })(async () => {
      const seen: string[] = []
      for await (const event of anthropic.messages.stream({ model: 'claude-test-model', max_tokens: 100, messages })) {
        seen.push(event.type)
        if (event.type === 'content_block_delta') break
      }
      return seen
    })()
    await flush()

    expect(types).toEqual(['message_start', 'content_block_start', 'content_block_delta'])
    expectEndedEarly(onlyStep(sink), { output: { content: [{ type: 'text', text: 'Hel' }] }, usage: { inputTokens: 10, outputTokens: 1 } })
    await surfaceUnhandledRejections()
  })

  it.each([429, 500])('records an HTTP %i as a failed step; finalMessage() rejects with the SDK error', async (status) => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, status, anthropicErrorBody(status))
    const anthropic = wrapped()
    const caught = await trace({ prompt: 'fails' })(() =>
      anthropic.messages.stream({ model: 'claude-test-model', max_tokens: 100, messages }).finalMessage().catch((error: unknown) => error))()
    await flush()

    expect(caught).toBeInstanceOf(anthropicErrorClass(status))
    expectHttpErrorStep(onlyStep(sink), status, { kind: 'llm', model: 'claude-test-model' })
  })
})

describe('wrapAnthropic: messages.parse()', () => {
  it('records one llm step; the caller gets the SDK\'s parsed message', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, messageOf('{"answer":4}'))
    const parse = (anthropic: Anthropic): Promise<{ parsed_output: unknown }> =>
      anthropic.messages.parse({ model: 'claude-test-model', max_tokens: 100, messages, output_config: { format: answerFormat } })
    const { expected, got } = await plainThenTraced(clients, 'parse', parse)

    expect(got).toEqual(expected)
    expect(got.parsed_output).toEqual({ answer: 4 })
    expect(onlyStep(sink)).toMatchObject({
      name: 'anthropic.messages', kind: 'llm', status: 'success', model: 'claude-test-model',
      input: { model: 'claude-test-model', max_tokens: 100, messages, output_config: { format: answerFormat } },
      output: { role: 'assistant', content: [{ type: 'text', text: '{"answer":4}' }], stop_reason: 'end_turn' },
      usage: { inputTokens: 14, outputTokens: 6 },
    })
    expect(onlyStep(sink)?.incomplete).toBeUndefined()
  })

  it.each([429, 500])('records an HTTP %i as a failed step and rethrows the SDK error object', async (status) => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, status, anthropicErrorBody(status))
    const anthropic = wrapped()
    const { caught, inner } = await failInTrace(() => anthropic.messages.parse({ model: 'claude-test-model', max_tokens: 100, messages, output_config: { format: answerFormat } }))

    expect(caught).toBe(inner)
    expect(caught).toBeInstanceOf(anthropicErrorClass(status))
    expectHttpErrorStep(onlyStep(sink), status)
  })
})
