import { describe, expect, it } from '@jest/globals'
import { getEventListeners } from 'node:events'
import OpenAI from 'openai'
import { LengthFinishReasonError } from 'openai/error'
import type { ParsedChatCompletion } from 'openai/resources/chat/completions/completions'
import type { ParsedResponse } from 'openai/resources/responses/responses'
import { flush, trace } from '../../src/index.js'
import { useMemorySink } from '../helpers/memory.js'
import {
  completionOf, expectEndedEarly, expectHttpErrorStep, failInTrace, messages, onlyStep, openAIClients, openAIErrorBody,
  openAIErrorClass, plainThenTraced, responseEvents, responseOf, streamChunksOf,
} from './fixtures.js'
import { json, sse, surfaceUnhandledRejections, useLoopback } from './loopback.js'

// The SDK's higher-level helpers (stream, parse, runTools) against a loopback server speaking OpenAI's
// wire format. Each one must come out as exactly one llm step per model call, and hand the caller
// exactly what an unwrapped client hands it.
const server = useLoopback()
const clients = openAIClients(server)
const { plain, wrapped } = clients

const streamChunks = streamChunksOf(3)

const answerFormat = {
  type: 'json_schema' as const,
  json_schema: { name: 'answer', strict: true, schema: { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'], additionalProperties: false } },
}

describe('wrapOpenAI: chat.completions.stream()', () => {
  it('records a stream read to the end as one llm step; events and final completion are the SDK\'s', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, streamChunks, { done: true })
    const read = async (openai: OpenAI): Promise<{ deltas: string[]; snapshots: string[]; final: unknown; text: string }> => {
      const stream = openai.chat.completions.stream({ model: 'gpt-4o-mini', messages, stream_options: { include_usage: true } })
      const deltas: string[] = []
      const snapshots: string[] = []
      stream.on('content', (delta, snapshot) => { deltas.push(delta); snapshots.push(snapshot) })
      const final = await stream.finalChatCompletion()
      return { deltas, snapshots, final, text: await stream.finalContent() ?? '' }
    }
    const { expected, got } = await plainThenTraced(clients, 'stream', read)

    expect(got).toEqual(expected)
    expect(got.text).toBe('Hello')
    expect(onlyStep(sink)).toMatchObject({
      name: 'openai.chat.completions', kind: 'llm', status: 'success', model: 'gpt-4o-mini',
      input: { model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } },
      output: { role: 'assistant', content: 'Hello', finish_reason: 'stop' },
      usage: { inputTokens: 7, outputTokens: 2 },
      metadata: { response_model: 'gpt-4o-mini-2024-07-18', cached_input_tokens: 3 },
    })
    expect(sink.traces[0]?.usage).toEqual({ inputTokens: 7, outputTokens: 2 })
  })

  it('records a stream read by async iteration as one llm step; the chunks are the SDK\'s', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, streamChunks, { done: true })
    const read = async (openai: OpenAI): Promise<unknown[]> => {
      const chunks: unknown[] = []
      for await (const part of openai.chat.completions.stream({ model: 'gpt-4o-mini', messages, stream_options: { include_usage: true } })) chunks.push(part)
      return chunks
    }
    const { expected, got } = await plainThenTraced(clients, 'iterate', read)

    expect(got).toEqual(expected)
    expect(got).toHaveLength(streamChunks.length)
    expect(onlyStep(sink)).toMatchObject({ status: 'success', output: { content: 'Hello', finish_reason: 'stop' }, usage: { inputTokens: 7, outputTokens: 2 } })
  })

  it('ends the step at stream.abort() with what had arrived; nothing is left unhandled', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, streamChunks.slice(0, 2), { hold: true })
    const openai = wrapped()
    const caught = await trace({ prompt: 'abort' })(async () => {
      const stream = openai.chat.completions.stream({ model: 'gpt-4o-mini', messages })
      stream.on('content', (delta) => { if (delta === 'Hel') stream.abort() })
      return stream.done().catch((error: unknown) => error)
    })()
    await flush()

    expect(caught).toBeInstanceOf(OpenAI.APIUserAbortError)
    const step = onlyStep(sink)
    expectEndedEarly(step, { output: { role: 'assistant', content: 'Hel', finish_reason: null } })
    expect(step?.usage).toBeUndefined()
    await surfaceUnhandledRejections()
  })

  it('records a stream aborted before its response as a failed step with the SDK\'s abort error', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, streamChunks, { done: true })
    const openai = wrapped()
    const caught = await trace({ prompt: 'abort' })(async () => {
      const stream = openai.chat.completions.stream({ model: 'gpt-4o-mini', messages })
      stream.abort()
      return stream.done().catch((error: unknown) => error)
    })()
    await flush()

    expect(caught).toBeInstanceOf(OpenAI.APIUserAbortError)
    expect(onlyStep(sink)).toMatchObject({ status: 'error', error: { type: 'APIUserAbortError' } })
    await surfaceUnhandledRejections()
  })

  it('ends the step when the caller breaks out of the iteration', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, streamChunks.slice(0, 2), { hold: true })
    const openai = wrapped()
    const seen = await trace({ prompt: 'break' })(async () => {
      const deltas: string[] = []
      for await (const part of openai.chat.completions.stream({ model: 'gpt-4o-mini', messages })) {
        deltas.push(part.choices[0]?.delta.content ?? '')
        if (deltas.length === 2) break
      }
      return deltas
    })()
    await flush()

    expect(seen).toEqual(['', 'Hel'])
    expectEndedEarly(onlyStep(sink), { output: { content: 'Hel' } })
    await surfaceUnhandledRejections()
  })

  it.each([429, 500])('records an HTTP %i as a failed step; finalChatCompletion() rejects with the SDK error', async (status) => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, status, openAIErrorBody(status))
    const openai = wrapped()
    const caught = await trace({ prompt: 'fails' })(() =>
      openai.chat.completions.stream({ model: 'gpt-4o-mini', messages }).finalChatCompletion().catch((error: unknown) => error))()
    await flush()

    expect(caught).toBeInstanceOf(openAIErrorClass(status))
    expectHttpErrorStep(onlyStep(sink), status, { kind: 'llm', model: 'gpt-4o-mini' })
  })
})

describe('wrapOpenAI: the abort signal of a streamed request', () => {
  it('ends the step when the caller\'s signal aborts mid-stream, though the stream is not read again', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, streamChunks.slice(0, 2), { hold: true })
    const openai = wrapped()
    const controller = new AbortController()
    await trace({ prompt: 'abort' })(async () => {
      const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true }, { signal: controller.signal })
      const iterator = stream[Symbol.asyncIterator]()
      await iterator.next()
      await iterator.next()
      controller.abort()
    })()
    await flush()

    expectEndedEarly(onlyStep(sink), { output: { content: 'Hel', finish_reason: null } })
    await surfaceUnhandledRejections()
  })

  it('leaves no listener of its own on the caller\'s signal once the stream ends', async () => {
    useMemorySink()
    server.handler = (_body, res) => sse(res, streamChunks, { done: true })
    const listenersAfter = async (openai: OpenAI): Promise<number> => {
      const signal = new AbortController().signal
      for await (const _ of await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true }, { signal })) { /* drain */ }
      return getEventListeners(signal, 'abort').length
    }
    const expected = await trace({ prompt: 'plain' })(() => listenersAfter(plain()))()

    const openai = wrapped()
    expect(await trace({ prompt: 'wrapped' })(() => listenersAfter(openai))()).toBe(expected)
  })
})

describe('wrapOpenAI: chat.completions.parse()', () => {
  it('records one llm step whose output carries the parsed object; the caller gets the SDK\'s parsed completion', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, completionOf('{"answer":4}'))
    const parse = (openai: OpenAI): Promise<unknown> => openai.chat.completions.parse({ model: 'gpt-4o-mini', messages, response_format: answerFormat })
    const { expected, got } = await plainThenTraced(clients, 'parse', parse)

    expect(got).toEqual(expected)
    expect((got as ParsedChatCompletion<{ answer: number }>).choices[0]?.message.parsed).toEqual({ answer: 4 })
    expect(onlyStep(sink)).toMatchObject({
      name: 'openai.chat.completions', kind: 'llm', status: 'success', model: 'gpt-4o-mini',
      input: { model: 'gpt-4o-mini', messages, response_format: answerFormat },
      output: { role: 'assistant', content: '{"answer":4}', parsed: { answer: 4 }, finish_reason: 'stop' },
      usage: { inputTokens: 12, outputTokens: 5 },
      metadata: { response_model: 'gpt-4o-mini-2024-07-18', cached_input_tokens: 4 },
    })
    expect(onlyStep(sink)?.incomplete).toBeUndefined()
  })

  it('keeps withResponse() working on the parse() promise, recorded once', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, completionOf('{"answer":4}'))
    const openai = wrapped()
    const { data, response, request_id } = await trace({ prompt: 'raw' })(() =>
      openai.chat.completions.parse({ model: 'gpt-4o-mini', messages, response_format: answerFormat }).withResponse())()
    await flush()

    expect(data.choices[0]?.message.parsed).toEqual({ answer: 4 })
    expect(response.status).toBe(200)
    expect(request_id).toBe('req_123')
    expect(onlyStep(sink)).toMatchObject({ status: 'success', output: { parsed: { answer: 4 } }, usage: { inputTokens: 12, outputTokens: 5 } })
  })

  it('records a completion the SDK cannot parse as a failed step that keeps the usage', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, completionOf('{"answer":', 'length'))
    const openai = wrapped()
    const { caught, inner } = await failInTrace(() => openai.chat.completions.parse({ model: 'gpt-4o-mini', messages, response_format: answerFormat }), 'cut')

    expect(caught).toBe(inner)
    expect(caught).toBeInstanceOf(LengthFinishReasonError)
    expect(onlyStep(sink)).toMatchObject({
      status: 'error', error: { type: 'LengthFinishReasonError' },
      usage: { inputTokens: 12, outputTokens: 5 },
      metadata: { response_model: 'gpt-4o-mini-2024-07-18' },
    })
  })

  it.each([429, 500])('records an HTTP %i as a failed step and rethrows the SDK error object', async (status) => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, status, openAIErrorBody(status))
    const openai = wrapped()
    const { caught, inner } = await failInTrace(() => openai.chat.completions.parse({ model: 'gpt-4o-mini', messages, response_format: answerFormat }))

    expect(caught).toBe(inner)
    expect(caught).toBeInstanceOf(openAIErrorClass(status))
    expectHttpErrorStep(onlyStep(sink), status)
  })
})

describe('wrapOpenAI: chat.completions.runTools()', () => {
  it('records each model round trip of the tool loop as its own llm step', async () => {
    const sink = useMemorySink()
    let round = 0
    server.handler = (_body, res) => {
      round++
      if (round === 1) {
        json(res, 200, {
          ...completionOf(''),
          choices: [{ index: 0, finish_reason: 'tool_calls', logprobs: null, message: { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'add', arguments: '{"a":1,"b":2}' } }] } }],
        })
      } else json(res, 200, completionOf('3'))
    }
    const openai = wrapped()
    const content = await trace({ prompt: 'tools' })(() =>
      openai.chat.completions.runTools({
        model: 'gpt-4o-mini',
        messages,
        tools: [{ type: 'function', function: { name: 'add', description: 'Adds two numbers', parse: JSON.parse, function: ({ a, b }: { a: number; b: number }) => String(a + b), parameters: { type: 'object', properties: {} } } }],
      }).finalContent())()
    await flush()

    expect(content).toBe('3')
    expect(sink.traces[0]?.steps.map((step) => [step.name, step.status, step.output])).toEqual([
      ['openai.chat.completions', 'success', expect.objectContaining({ finish_reason: 'tool_calls', tool_calls: [expect.objectContaining({ id: 'call_1' })] })],
      ['openai.chat.completions', 'success', expect.objectContaining({ content: '3', finish_reason: 'stop' })],
    ])
    expect(sink.traces[0]?.usage).toEqual({ inputTokens: 24, outputTokens: 10 })
  })
})

describe('wrapOpenAI: responses.stream()', () => {
  it('records a stream read to the end as one llm step; events and final response are the SDK\'s', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, responseEvents(['Hel', 'lo']), { named: true })
    const read = async (openai: OpenAI): Promise<{ deltas: string[]; types: string[]; final: unknown }> => {
      const stream = openai.responses.stream({ model: 'gpt-4.1', input: 'Say hello' })
      const deltas: string[] = []
      const types: string[] = []
      stream.on('response.output_text.delta', (event) => deltas.push(event.delta))
      stream.on('event', (event) => types.push(event.type))
      return { deltas, types, final: await stream.finalResponse() }
    }
    const { expected, got } = await plainThenTraced(clients, 'respond', read)

    expect(got).toEqual(expected)
    expect(got.deltas).toEqual(['Hel', 'lo'])
    expect(onlyStep(sink)).toMatchObject({
      name: 'openai.responses', kind: 'llm', status: 'success', model: 'gpt-4.1',
      input: { model: 'gpt-4.1', input: 'Say hello', stream: true },
      output: { output_text: 'Hello', status: 'completed', output: [{ type: 'message', content: [{ type: 'output_text', text: 'Hello' }] }] },
      usage: { inputTokens: 9, outputTokens: 3 },
      metadata: { response_model: 'gpt-4.1-2025-04-14', cached_input_tokens: 2, reasoning_tokens: 1 },
    })
  })

  it('ends the step at stream.abort() with the text that had arrived; nothing is left unhandled', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, responseEvents(['Hel', 'lo']).slice(0, 4), { named: true, hold: true })
    const openai = wrapped()
    const caught = await trace({ prompt: 'abort' })(async () => {
      const stream = openai.responses.stream({ model: 'gpt-4.1', input: 'Say hello' })
      stream.on('response.output_text.delta', () => stream.abort())
      return stream.finalResponse().catch((error: unknown) => error)
    })()
    await flush()

    expect(caught).toBeInstanceOf(OpenAI.APIUserAbortError)
    expectEndedEarly(onlyStep(sink), { output: { output_text: 'Hel' } })
    await surfaceUnhandledRejections()
  })

  it('ends the step when the caller breaks out of the iteration', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, responseEvents(['Hel', 'lo']).slice(0, 4), { named: true, hold: true })
    const openai = wrapped()
    const types = await trace({ prompt: 'break' })(async () => {
      const seen: string[] = []
      for await (const event of openai.responses.stream({ model: 'gpt-4.1', input: 'Say hello' })) {
        seen.push(event.type)
        if (event.type === 'response.output_text.delta') break
      }
      return seen
    })()
    await flush()

    expect(types).toEqual(['response.created', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta'])
    expectEndedEarly(onlyStep(sink), { output: { output_text: 'Hel' } })
    await surfaceUnhandledRejections()
  })

  it.each([429, 500])('records an HTTP %i as a failed step; finalResponse() rejects with the SDK error', async (status) => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, status, openAIErrorBody(status))
    const openai = wrapped()
    const caught = await trace({ prompt: 'fails' })(() =>
      openai.responses.stream({ model: 'gpt-4.1', input: 'Say hello' }).finalResponse().catch((error: unknown) => error))()
    await flush()

    expect(caught).toBeInstanceOf(openAIErrorClass(status))
    expectHttpErrorStep(onlyStep(sink), status, { model: 'gpt-4.1' })
  })
})

describe('wrapOpenAI: responses.parse()', () => {
  const textFormat = { format: { type: 'json_schema' as const, name: 'answer', strict: true, schema: answerFormat.json_schema.schema } }

  it('records one llm step; the caller gets the SDK\'s parsed response', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, responseOf('{"answer":4}'))
    const parse = (openai: OpenAI): Promise<ParsedResponse<unknown>> => openai.responses.parse({ model: 'gpt-4.1', input: 'What is 2+2?', text: textFormat })
    const { expected, got } = await plainThenTraced(clients, 'parse', parse)

    expect(got).toEqual(expected)
    expect(got.output_parsed).toEqual({ answer: 4 })
    expect(onlyStep(sink)).toMatchObject({
      name: 'openai.responses', kind: 'llm', status: 'success', model: 'gpt-4.1',
      input: { model: 'gpt-4.1', input: 'What is 2+2?', text: textFormat },
      output: { output_text: '{"answer":4}', status: 'completed', output: [{ content: [{ text: '{"answer":4}', parsed: { answer: 4 } }] }] },
      usage: { inputTokens: 9, outputTokens: 3 },
    })
    expect(onlyStep(sink)?.incomplete).toBeUndefined()
  })

  it.each([429, 500])('records an HTTP %i as a failed step and rethrows the SDK error object', async (status) => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, status, openAIErrorBody(status))
    const openai = wrapped()
    const caught = await trace({ prompt: 'fails' })(() =>
      openai.responses.parse({ model: 'gpt-4.1', input: 'What is 2+2?', text: textFormat }))().catch((error: unknown) => error)
    await flush()

    expect(caught).toBeInstanceOf(openAIErrorClass(status))
    expectHttpErrorStep(onlyStep(sink), status)
  })
})
