import { describe, expect, it } from '@jest/globals'
import type OpenAI from 'openai'
import { flush, replay, ReplayMismatchError } from '../../src/index.js'
import { trace } from '../../src/index.js'
import { shape, useMemorySink } from '../helpers/memory.js'
import {
  chatChunk, completionOf, expectFaithfulReplay, messages, openAIClients, openAIErrorBody, orphanWarningsOf, recordThenReplay, responseEvents, responseOf,
  streamChunksOf,
} from './fixtures.js'
import { json, sse, useLoopback } from './loopback.js'

// A pipeline recorded against a loopback server speaking OpenAI's wire format, then replayed: every
// call is answered from the record, so not one request reaches the server, and the replay's trace
// equals the recorded one.
const server = useLoopback()
const { wrapped } = openAIClients(server)

const toolCallChunks = [
  chatChunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'search', arguments: '' } }] }),
  chatChunk({ tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] }),
  chatChunk({ tool_calls: [{ index: 0, function: { arguments: '"rag"}' } }] }),
  chatChunk({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'fetch', arguments: '{}' } }] }),
  chatChunk({}, 'tool_calls'),
]

const ask = (openai: OpenAI) => trace({ prompt: 'ask' })(async (question: string) => {
  const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: question }], temperature: 0 })
  return { text: completion.choices[0]?.message.content, model: completion.model, usage: completion.usage?.total_tokens, finish: completion.choices[0]?.finish_reason }
})

describe('replay of a wrapOpenAI pipeline', () => {
  it('answers chat.completions.create from the record: no request, the same value and an equal trace', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, completionOf('RAG is retrieval.'))

    const replayed = await recordThenReplay(server, sink, ask(wrapped()), ['What is RAG?'])

    expectFaithfulReplay(replayed)
    expect(replayed.result.value).toEqual({ text: 'RAG is retrieval.', model: 'gpt-4o-mini-2024-07-18', usage: 17, finish: 'stop' })
    expect(replayed.result.doc.steps[0]).toMatchObject({ name: 'openai.chat.completions', kind: 'llm', usage: { inputTokens: 12, outputTokens: 5 }, metadata: { cached_input_tokens: 4 } })
    expect(replayed.result.doc.usage).toEqual(replayed.recorded.usage)
  })

  it('hands back an SDK-shaped completion, with withResponse() and two calls matched in order', async () => {
    const sink = useMemorySink()
    let n = 0
    server.handler = (_body, res) => json(res, 200, completionOf(`answer ${++n}`))
    const openai = wrapped()
    const twice = trace({ prompt: 'twice' })(async () => {
      const first = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages })
      const { data, response } = await openai.chat.completions.create({ model: 'gpt-4o', messages }).withResponse()
      return { first: first.choices[0], object: first.object, second: data.choices[0]?.message.content, status: response.status }
    })

    const replayed = await recordThenReplay(server, sink, twice, [])

    expectFaithfulReplay(replayed)
    expect(replayed.result.value).toMatchObject({
      first: { index: 0, message: { role: 'assistant', content: 'answer 1' }, finish_reason: 'stop', logprobs: null },
      object: 'chat.completion', second: 'answer 2', status: 200,
    })
  })

  it('replays a streamed chat completion chunk by chunk, its usage chunk included', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, streamChunksOf(3), { done: true })
    const openai = wrapped()
    const streamed = trace({ prompt: 'stream' })(async () => {
      const deltas: string[] = []
      let usage: unknown
      for await (const chunk of await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } })) {
        deltas.push(chunk.choices[0]?.delta.content ?? '')
        usage = chunk.usage ?? usage
      }
      return { text: deltas.join(''), usage }
    })

    const replayed = await recordThenReplay(server, sink, streamed, [])

    expectFaithfulReplay(replayed)
    expect(replayed.result.doc.steps[0]).toMatchObject({ output: { content: 'Hello', finish_reason: 'stop' }, usage: { inputTokens: 7, outputTokens: 2 } })
  })

  it('replays streamed tool calls', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => sse(res, toolCallChunks, { done: true })
    const openai = wrapped()
    const streamed = trace({ prompt: 'tools' })(async () => {
      const stream = openai.chat.completions.stream({ model: 'gpt-4o-mini', messages })
      return (await stream.finalChatCompletion()).choices[0]?.message.tool_calls
    })

    const replayed = await recordThenReplay(server, sink, streamed, [])

    expectFaithfulReplay(replayed)
    expect(replayed.result.value).toMatchObject([{ id: 'call_1', function: { name: 'search', arguments: '{"q":"rag"}' } }, { id: 'call_2', function: { name: 'fetch' } }])
  })

  it('replays the chat.completions.stream() and parse() helpers', async () => {
    const sink = useMemorySink()
    server.handler = (body, res) => (body.stream === true ? sse(res, streamChunksOf(), { done: true }) : json(res, 200, completionOf('{"answer":4}')))
    const openai = wrapped()
    const format = {
      type: 'json_schema' as const,
      json_schema: { name: 'answer', strict: true, schema: { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'], additionalProperties: false } },
    }
    const helpers = trace({ prompt: 'helpers' })(async () => {
      const stream = openai.chat.completions.stream({ model: 'gpt-4o-mini', messages })
      const deltas: string[] = []
      stream.on('content', (delta) => deltas.push(delta))
      const text = await stream.finalContent()
      const parsed = await openai.chat.completions.parse({ model: 'gpt-4o-mini', messages, response_format: format })
      return { deltas: deltas.join(''), text, parsed: parsed.choices[0]?.message.parsed }
    })

    const replayed = await recordThenReplay(server, sink, helpers, [])

    expectFaithfulReplay(replayed)
    expect(replayed.result.value).toEqual({ deltas: 'Hello', text: 'Hello', parsed: { answer: 4 } })
  })

  it('replays runTools(): the model calls come from the record, the tool functions run again', async () => {
    const sink = useMemorySink()
    const toolCall = { id: 'call_1', type: 'function', function: { name: 'add', arguments: '{"a":1,"b":2}' } }
    server.handler = (body, res) => json(res, 200, (body.messages as unknown[]).length === 1
      ? { ...completionOf(''), choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null, tool_calls: [toolCall] }, finish_reason: 'tool_calls', logprobs: null }] }
      : completionOf('3'))
    const openai = wrapped()
    let added = 0
    const add = (args: { a: number; b: number }): number => { added++; return args.a + args.b }
    const tools = trace({ prompt: 'tools' })(async () => openai.chat.completions.runTools({
      model: 'gpt-4o-mini', messages, tools: [{ type: 'function', function: { name: 'add', description: 'a + b', parameters: { type: 'object', properties: {} }, function: add, parse: (text: string) => JSON.parse(text) as { a: number; b: number } } }],
    }).finalContent())

    const replayed = await recordThenReplay(server, sink, tools, [])

    expectFaithfulReplay(replayed)
    expect(replayed.result.value).toBe('3')
    expect(added).toBe(2)
    expect(replayed.result.doc.steps.map((step) => step.output)).toEqual(replayed.recorded.steps.map((step) => step.output))
  })

  it('answers responses.create, streamed or not, and the responses.stream() helper', async () => {
    const sink = useMemorySink()
    server.handler = (body, res) => (body.stream === true ? sse(res, responseEvents(['Hi', ' there']), { named: true }) : json(res, 200, responseOf('Hi there')))
    const openai = wrapped()
    const respond = trace({ prompt: 'respond' })(async () => {
      const plain = await openai.responses.create({ model: 'gpt-4.1', input: 'Say hi' })
      const events: string[] = []
      for await (const event of await openai.responses.create({ model: 'gpt-4.1', input: 'Say hi', stream: true })) events.push(event.type)
      const helper = await openai.responses.stream({ model: 'gpt-4.1', input: 'Say hi' }).finalResponse()
      return { text: plain.output_text, usage: plain.usage?.total_tokens, events: events.includes('response.completed'), helper: helper.output_text }
    })

    const replayed = await recordThenReplay(server, sink, respond, [])

    expectFaithfulReplay(replayed)
    expect(replayed.result.value).toEqual({ text: 'Hi there', usage: 12, events: true, helper: 'Hi there' })
  })

  it('answers embeddings.create with zero vectors of the recorded dimension', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, {
      object: 'list', model: 'text-embedding-3-small',
      data: [0, 1].map((index) => ({ object: 'embedding', index, embedding: Buffer.from(new Float32Array([0.5, -0.25, 1]).buffer).toString('base64') })),
      usage: { prompt_tokens: 8, total_tokens: 8 },
    })
    const openai = wrapped()
    const embed = trace({ prompt: 'embed' })(async () => (await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['What is RAG?', 'retrieval'] })).data.length)

    const replayed = await recordThenReplay(server, sink, embed, [])
    const vectors = await trace({ prompt: 'vectors' })(async () => (await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'x' })).data)
    const again = await replay(replayed.recorded, async () => vectors())

    expectFaithfulReplay(replayed)
    expect(replayed.result.doc.steps[0]).toMatchObject({ kind: 'embedding', output: { embeddings: 2, dimensions: 3 }, usage: { inputTokens: 8, outputTokens: 0 } })
    expect(again.value).toEqual([{ object: 'embedding', index: 0, embedding: [0, 0, 0] }, { object: 'embedding', index: 1, embedding: [0, 0, 0] }])
  })

  it('throws a recorded HTTP error again, with its status, and sends nothing', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 429, openAIErrorBody(429))
    const openai = wrapped()
    const failing = trace({ prompt: 'fails' })(async () => openai.chat.completions.create({ model: 'gpt-4o-mini', messages }))

    const { recorded, result, requests } = await recordThenReplay(server, sink, failing, [])

    expect(requests).toBe(0)
    expect(result.ok).toBe(false)
    expect(result.error).toMatchObject({ name: 'RateLimitError', message: expect.stringContaining('failed with 429'), status: 429 })
    expect(result.doc.steps[0]).toMatchObject({ status: 'error', metadata: { status_code: 429 } })
    expect(result.diff.steps.map((step) => step.status)).toEqual(['same'])
    expect(result.doc.steps[0]?.error).toEqual(recorded.steps[0]?.error)
  })

  it('answers a call that now asks something else by order, and the diff shows the new input', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, completionOf('RAG is retrieval.'))
    const pipeline = ask(wrapped())

    const { result, requests } = await recordThenReplay(server, sink, pipeline, ['What is RAG?'], { args: ['What is a vector?'] })

    expect(requests).toBe(0)
    expect(result.value).toMatchObject({ text: 'RAG is retrieval.' })
    expect(result.diff.equal).toBe(false)
    expect(result.diff.steps[0]?.changes).toEqual([{ field: 'input', path: '$.messages[0].content', before: 'What is RAG?', after: 'What is a vector?' }])
  })

  it('with matchInput, throws a ReplayMismatchError for a call that asks something else, and sends nothing', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, completionOf('RAG is retrieval.'))

    const { result, requests } = await recordThenReplay(server, sink, ask(wrapped()), ['What is RAG?'], { args: ['What is a vector?'], matchInput: true })

    expect(requests).toBe(0)
    expect(result.error).toBeInstanceOf(ReplayMismatchError)
    expect(result.error).toMatchObject({ tool: 'openai.chat.completions', position: 0 })
  })

  it('runs the calls for real in partial mode when the step is not named', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, completionOf('RAG is retrieval.'))

    const { result, requests } = await recordThenReplay(server, sink, ask(wrapped()), ['What is RAG?'], { mode: 'partial', tools: ['search'] })

    expect(requests).toBe(1)
    expect(result.diff.equal).toBe(true)
  })
})

describe('wrapOpenAI outside any trace', () => {
  it('runs the call, records nothing and warns once, naming the SDK method and the fix', async () => {
    const sink = useMemorySink()
    server.handler = (_body, res) => json(res, 200, completionOf('RAG is retrieval.'))
    const openai = wrapped()
    const orphans = await orphanWarningsOf(async () => {
      const first = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages })
      await openai.chat.completions.create({ model: 'gpt-4o-mini', messages })
      expect(first.choices[0]?.message.content).toBe('RAG is retrieval.')
    })

    expect(sink.traces).toEqual([])
    expect(orphans).toHaveLength(1)
    expect(orphans[0]).toContain('openai.chat.completions.create')
    expect(orphans[0]).toContain('trace(')
    expect(orphans[0]).toContain("orphanSteps: 'trace'")
  })

  it("with orphanSteps: 'trace', becomes a trace of its own holding one llm step; withResponse() keeps working", async () => {
    const sink = useMemorySink({ orphanSteps: 'trace' })
    server.handler = (_body, res) => json(res, 200, completionOf('RAG is retrieval.'))
    const openai = wrapped()

    const { data, response } = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse()
    await flush()

    expect(data.choices[0]?.message.content).toBe('RAG is retrieval.')
    expect(response.status).toBe(200)
    expect(sink.traces).toHaveLength(1)
    expect(sink.traces[0]).toMatchObject({
      prompt: 'openai.chat.completions', status: 'success',
      input: [{ model: 'gpt-4o-mini', messages }],
      output: { role: 'assistant', content: 'RAG is retrieval.', finish_reason: 'stop' },
      usage: { inputTokens: 12, outputTokens: 5 },
    })
    expect(shape(sink.traces[0]!)).toEqual(['openai.chat.completions'])
    expect(sink.traces[0]?.steps[0]).toMatchObject({ kind: 'llm', model: 'gpt-4o-mini', usage: { inputTokens: 12, outputTokens: 5 } })
  })

  it("with orphanSteps: 'trace' and flushOnReturn, the call resolves once its trace is written", async () => {
    const sink = useMemorySink({ orphanSteps: 'trace', flushOnReturn: true, queue: { scheduleDelayMs: 60_000 } })
    server.handler = (_body, res) => json(res, 200, completionOf('RAG is retrieval.'))

    await wrapped().chat.completions.create({ model: 'gpt-4o-mini', messages })

    expect(sink.traces.map((doc) => doc.prompt)).toEqual(['openai.chat.completions'])
  })

  it("with orphanSteps: 'trace', a streamed call's trace ends with its stream, and it replays", async () => {
    const sink = useMemorySink({ orphanSteps: 'trace' })
    server.handler = (_body, res) => sse(res, streamChunksOf(), { done: true })
    const openai = wrapped()
    const read = async (params: OpenAI.ChatCompletionCreateParamsStreaming): Promise<string> => {
      let text = ''
      for await (const chunk of await openai.chat.completions.create(params)) text += chunk.choices[0]?.delta.content ?? ''
      return text
    }

    const replayed = await recordThenReplay(server, sink, read, [{ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } }])

    expect(replayed.recorded).toMatchObject({ prompt: 'openai.chat.completions', status: 'success', output: { content: 'Hello' } })
    expect(replayed.recorded.steps).toHaveLength(1)
    expect(replayed.recorded.steps[0]?.incomplete).toBeUndefined()
    expectFaithfulReplay(replayed)
  })
})
