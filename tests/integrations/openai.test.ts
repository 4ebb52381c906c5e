import { describe, expect, it } from '@jest/globals'
import OpenAI from 'openai'
import { flush, trace } from '../../src/index.js'
import { wrapOpenAI } from '../../src/integrations/openai.js'
import { useMemorySink } from '../helpers/memory.js'
import {
  chatChunk, completionOf, expectEndedEarly, expectHttpErrorStep, failInTrace, messages, onlyStep, openAIClients,
  openAIErrorBody, openAIErrorClass, plainThenTraced, streamChunksOf,
} from './fixtures.js'
import { json, sse, useLoopback } from './loopback.js'

// A loopback server speaking OpenAI's wire format; each test sets how it answers.
const server = useLoopback()
const clients = openAIClients(server)
const { plain, wrapped } = clients

const completion = completionOf('RAG is retrieval.')
const streamChunks = streamChunksOf()

describe('wrapOpenAI', () => {
  it('records chat.completions.create as an llm step with model, input, message and usage', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, completion)
    const openai = wrapped()
    const ask = trace({ prompt: 'ask' })(async (q: string) => {
      const answer = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: q }], temperature: 0 })
      return answer.choices[0]?.message.content
    })

    const result = await ask('What is RAG?')
    await flush()

    expect(result).toBe('RAG is retrieval.')
    expect(onlyStep(sink)).toMatchObject({
      name: 'openai.chat.completions',
      kind: 'llm',
      status: 'success',
      model: 'gpt-4o-mini',
      input: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is RAG?' }], temperature: 0 },
      output: { role: 'assistant', content: 'RAG is retrieval.', finish_reason: 'stop' },
      usage: { inputTokens: 12, outputTokens: 5 },
      metadata: { cached_input_tokens: 4, response_model: 'gpt-4o-mini-2024-07-18' },
    })
    expect(sink.traces[0]?.usage).toEqual({ inputTokens: 12, outputTokens: 5 })
  })

  it('sums the usage of several llm steps into the trace usage', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, completion)
    const openai = wrapped()
    await trace({ prompt: 'twice' })(async () => {
      await openai.chat.completions.create({ model: 'gpt-4o-mini', messages })
      await openai.chat.completions.create({ model: 'gpt-4o', messages })
    })()
    await flush()

    expect(sink.traces[0]?.steps.map((step) => step.model)).toEqual(['gpt-4o-mini', 'gpt-4o'])
    expect(sink.traces[0]?.usage).toEqual({ inputTokens: 24, outputTokens: 10 })
  })

  it('keeps withResponse() working and records the step once', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, completion)
    const openai = wrapped()
    const { data, response, request_id } = await trace({ prompt: 'raw' })(() =>
      openai.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse())()
    await flush()

    expect(data.choices[0]?.message.content).toBe('RAG is retrieval.')
    expect(response.status).toBe(200)
    expect(request_id).toBe('req_123')
    expect(onlyStep(sink)?.usage).toEqual({ inputTokens: 12, outputTokens: 5 })
  })

  it('records a failed withResponse() call as an error step; the caller gets the SDK error', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 500, openAIErrorBody(500))
    const openai = wrapped()
    const { caught } = await failInTrace(() => openai.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse(), 'raw')

    expect(caught).toBeInstanceOf(OpenAI.InternalServerError)
    const step = onlyStep(sink)
    expectHttpErrorStep(step, 500)
    expect(step?.incomplete).toBeUndefined()
  })

  it('records responses.create with its output text and usage', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, {
      id: 'resp_1', object: 'response', created_at: 1, model: 'gpt-4.1', status: 'completed',
      output: [{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hi there', annotations: [] }] }],
      usage: { input_tokens: 9, output_tokens: 3, total_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } },
    })
    const openai = wrapped()
    const text = await trace({ prompt: 'respond' })(async () => (await openai.responses.create({ model: 'gpt-4.1', input: 'Say hi' })).output_text)()
    await flush()

    expect(text).toBe('Hi there')
    expect(onlyStep(sink)).toMatchObject({
      name: 'openai.responses', kind: 'llm', model: 'gpt-4.1',
      input: { model: 'gpt-4.1', input: 'Say hi' },
      output: { output_text: 'Hi there', status: 'completed' },
      usage: { inputTokens: 9, outputTokens: 3 },
    })
    expect(sink.traces[0]?.usage).toEqual({ inputTokens: 9, outputTokens: 3 })
  })

  it('hands back the SDK stream, passes chunks through and records the assembled message', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, streamChunks, { done: true })
    const openai = wrapped()
    let sawController = false
    const seen: string[] = []
    await trace({ prompt: 'stream' })(async () => {
      const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } })
      sawController = stream.controller instanceof AbortController
      for await (const part of stream) seen.push(part.choices[0]?.delta.content ?? '')
    })()
    await flush()

    expect(sawController).toBe(true)
    expect(seen.join('')).toBe('Hello')
    expect(server.requests.at(-1)).toMatchObject({ stream: true, stream_options: { include_usage: true } })
    expect(onlyStep(sink)).toMatchObject({
      name: 'openai.chat.completions', kind: 'llm', status: 'success', model: 'gpt-4o-mini',
      output: { role: 'assistant', content: 'Hello', finish_reason: 'stop' },
      usage: { inputTokens: 7, outputTokens: 2 },
    })
    expect(sink.traces[0]?.usage).toEqual({ inputTokens: 7, outputTokens: 2 })
  })

  it('ends the step when iteration is broken off, with what had arrived', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, streamChunks, { done: true })
    const openai = wrapped()
    await trace({ prompt: 'lazy' })(async () => {
      const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true })
      const iterator = stream[Symbol.asyncIterator]()
      const first = await iterator.next()
      expect(first.value?.choices[0]?.delta.role).toBe('assistant')
      await iterator.return?.()
    })()
    await flush()

    // broken off after one chunk: a success whose output is what had arrived
    expectEndedEarly(onlyStep(sink), { output: { role: 'assistant', content: '' } })
  })

  it('traces the first branch of tee() and leaves the other working', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, streamChunks, { done: true })
    const openai = wrapped()
    const texts = await trace({ prompt: 'tee' })(async () => {
      const [left, right] = (await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true })).tee()
      const read = async (stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<string> => {
        let text = ''
        for await (const part of stream) text += part.choices[0]?.delta.content ?? ''
        return text
      }
      return [await read(left), await read(right)]
    })()
    await flush()

    expect(texts).toEqual(['Hello', 'Hello'])
    expect(onlyStep(sink)).toMatchObject({ status: 'success', output: { content: 'Hello' }, usage: { inputTokens: 7, outputTokens: 2 } })
  })

  it('assembles streamed tool calls', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, [
      chatChunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'search', arguments: '' } }] }),
      chatChunk({ tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] }),
      chatChunk({ tool_calls: [{ index: 0, function: { arguments: '"rag"}' } }] }),
      chatChunk({}, 'tool_calls'),
    ], { done: true })
    const openai = wrapped()
    await trace({ prompt: 'tools' })(async () => {
      for await (const _ of await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true })) { /* drain */ }
    })()
    await flush()

    expect(onlyStep(sink)?.output).toEqual({
      role: 'assistant', content: null, finish_reason: 'tool_calls',
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'search', arguments: '{"q":"rag"}' } }],
    })
  })

  it.each([429, 500])('records an HTTP %i as an error step and rethrows the SDK error object', async (status) => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, status, openAIErrorBody(status))
    const openai = wrapped()
    const { caught, inner } = await failInTrace(() => openai.chat.completions.create({ model: 'gpt-4o-mini', messages }))

    expect(caught).toBe(inner)
    expect(caught).toBeInstanceOf(OpenAI.APIError)
    expect((caught as InstanceType<typeof OpenAI.APIError>).status).toBe(status)
    expect(caught).toBeInstanceOf(openAIErrorClass(status))
    const step = onlyStep(sink)
    expectHttpErrorStep(step, status, { kind: 'llm', model: 'gpt-4o-mini' })
    expect(step?.usage).toBeUndefined()
  })

  it('records a stream cut off mid-way as an error step; the caller gets the SDK error', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, streamChunks.slice(0, 2), { cut: true })
    const openai = wrapped()
    const seen: string[] = []
    const { caught } = await failInTrace(async () => {
      const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true })
      for await (const part of stream) seen.push(part.choices[0]?.delta.content ?? '')
    }, 'cut')

    // undici's TypeError('terminated'), from Node's realm rather than the test's
    expect((caught as Error).message).toEqual(expect.any(String))
    expect(seen).toEqual(['', 'Hel'])
    expect(onlyStep(sink)).toMatchObject({ status: 'error', error: { message: (caught as Error).message }, metadata: { partial_output: { content: 'Hel' } } })
    expect(sink.traces[0]?.status).toBe('error')
  })

  it.each([undefined, 'float' as const])('records embeddings.create (encoding_format %s) as an embedding step with counts and usage', async (encodingFormat) => {
    const sink = useMemorySink()
    const vectors = [[0.5, -0.25, 1], [0, 0.125, -1]]
    server.handler = (body, res) => json(res, 200, {
      object: 'list', model: 'text-embedding-3-small',
      data: vectors.map((vector, index) => ({
        object: 'embedding', index,
        embedding: body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
      })),
      usage: { prompt_tokens: 8, total_tokens: 8 },
    })
    const params = { model: 'text-embedding-3-small', input: ['What is RAG?', 'retrieval'], ...(encodingFormat === undefined ? {} : { encoding_format: encodingFormat }) }
    const { expected, got } = await plainThenTraced(clients, 'embed', (openai) => openai.embeddings.create(params))

    expect(got).toEqual(expected)
    expect(got.data.map((item) => item.embedding)).toEqual(vectors)
    expect(onlyStep(sink)).toMatchObject({
      name: 'openai.embeddings', kind: 'embedding', status: 'success', model: 'text-embedding-3-small',
      input: params,
      output: { embeddings: 2, dimensions: 3 },
      usage: { inputTokens: 8, outputTokens: 0 },
    })
    expect(sink.traces[0]?.usage).toEqual({ inputTokens: 8, outputTokens: 0 })
  })

  it('records a failed embeddings.create as an error step with the status code', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 429, openAIErrorBody(429))
    const openai = wrapped()
    const { caught } = await failInTrace(() => openai.embeddings.create({ model: 'text-embedding-3-small', input: 'What is RAG?' }), 'embed')

    expect(caught).toBeInstanceOf(OpenAI.RateLimitError)
    expectHttpErrorStep(onlyStep(sink), 429, { kind: 'embedding' })
  })

  it('returns the same client and wraps it only once', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, completion)
    const openai = plain()
    expect(wrapOpenAI(wrapOpenAI(openai))).toBe(openai)
    await trace({ prompt: 'once' })(() => openai.chat.completions.create({ model: 'gpt-4o-mini', messages }))()
    await flush()

    expect(sink.traces[0]?.steps).toHaveLength(1)
  })
})
