import { expect } from '@jest/globals'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { diffTraces, flush, renderDiff, replay, trace, type ReplayOptions, type ReplayResult, type TraceDocument } from '../../src/index.js'
import { wrapAnthropic } from '../../src/integrations/anthropic.js'
import { wrapOpenAI } from '../../src/integrations/openai.js'
import { spyWarnings } from '../helpers/memory.js'
import type { Loopback } from './loopback.js'

// What the integration tests share: clients pointed at the loopback server, each vendor's wire
// fixtures, and the checks on the steps a traced SDK call leaves behind.

type Step = TraceDocument['steps'][number]

/** The same client twice: as the SDK builds it, and wrapped by tracellm. */
export interface Clients<Client> {
  readonly plain: () => Client
  readonly wrapped: () => Client
}

export const messages = [{ role: 'user' as const, content: 'What is RAG?' }]

// OpenAI

export function openAIClients(server: Loopback): Clients<OpenAI> {
  const options = (): ConstructorParameters<typeof OpenAI>[0] => ({ apiKey: 'sk-test-key', baseURL: `${server.url}/v1`, maxRetries: 0 })
  return { plain: () => new OpenAI(options()), wrapped: () => wrapOpenAI(new OpenAI(options())) }
}

export const completionOf = (content: string, finish = 'stop'): Record<string, unknown> => ({
  id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: finish, logprobs: null }],
  usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, prompt_tokens_details: { cached_tokens: 4 } },
})

export const chatChunk = (delta: Record<string, unknown>, finish: string | null = null): unknown => ({
  id: 'chatcmpl-2', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
})

/** A chat completion streamed as 'Hel' + 'lo', its usage in a last chunk; cached tokens only if given. */
export const streamChunksOf = (cachedTokens?: number): unknown[] => [
  chatChunk({ role: 'assistant', content: '' }),
  chatChunk({ content: 'Hel' }),
  chatChunk({ content: 'lo' }),
  chatChunk({}, 'stop'),
  {
    id: 'chatcmpl-2', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini-2024-07-18', choices: [],
    usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9, ...(cachedTokens === undefined ? {} : { prompt_tokens_details: { cached_tokens: cachedTokens } }) },
  },
]

export const openAIErrorBody = (status: number): unknown => ({ error: { message: `failed with ${status}`, type: 'server_error', code: null } })
export const openAIErrorClass = (status: number): typeof OpenAI.RateLimitError | typeof OpenAI.InternalServerError =>
  (status === 429 ? OpenAI.RateLimitError : OpenAI.InternalServerError)

/** A Responses API response whose one message says `text`. */
export const responseOf = (text: string, status = 'completed'): Record<string, unknown> => ({
  id: 'resp_1', object: 'response', created_at: 1, model: 'gpt-4.1-2025-04-14', status,
  output: [{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] }],
  usage: { input_tokens: 9, output_tokens: 3, total_tokens: 12, input_tokens_details: { cached_tokens: 2 }, output_tokens_details: { reasoning_tokens: 1 } },
})

/** The events of a Responses API stream, numbered as the API numbers them. */
export const responseEvents = (text: ReadonlyArray<string>): Array<Record<string, unknown>> => {
  const done = responseOf(text.join(''))
  const item = { type: 'message', id: 'msg_1', role: 'assistant', status: 'in_progress', content: [] }
  const events: Array<Record<string, unknown>> = [
    { type: 'response.created', response: { ...done, status: 'in_progress', output: [], usage: null } },
    { type: 'response.output_item.added', output_index: 0, item },
    { type: 'response.content_part.added', item_id: 'msg_1', output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } },
    ...text.map((delta) => ({ type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta, logprobs: [] })),
    { type: 'response.output_text.done', item_id: 'msg_1', output_index: 0, content_index: 0, text: text.join(''), logprobs: [] },
    { type: 'response.content_part.done', item_id: 'msg_1', output_index: 0, content_index: 0, part: { type: 'output_text', text: text.join(''), annotations: [] } },
    { type: 'response.output_item.done', output_index: 0, item: (done.output as unknown[])[0] },
    { type: 'response.completed', response: done },
  ]
  return events.map((event, index) => ({ ...event, sequence_number: index }))
}

// Anthropic

export function anthropicClients(server: Loopback): Clients<Anthropic> {
  const options = (): ConstructorParameters<typeof Anthropic>[0] => ({ apiKey: 'test-key', baseURL: server.url, maxRetries: 0 })
  return { plain: () => new Anthropic(options()), wrapped: () => wrapAnthropic(new Anthropic(options())) }
}

export const messageOf = (text: string, stop = 'end_turn'): Record<string, unknown> => ({
  id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929',
  content: [{ type: 'text', text }], stop_reason: stop, stop_sequence: null,
  usage: { input_tokens: 10, output_tokens: 6, cache_read_input_tokens: 4, cache_creation_input_tokens: 0 },
})

export const anthropicErrorBody = (status: number): unknown =>
  ({ type: 'error', error: { type: status === 429 ? 'rate_limit_error' : 'api_error', message: `failed with ${status}` } })
export const anthropicErrorClass = (status: number): typeof Anthropic.RateLimitError | typeof Anthropic.InternalServerError =>
  (status === 429 ? Anthropic.RateLimitError : Anthropic.InternalServerError)

// Running a call and checking its step

/** Runs `read` on the plain client, then on the wrapped one inside a trace (and flushes): both results. */
export async function plainThenTraced<Client, T>(clients: Clients<Client>, prompt: string, read: (client: Client) => Promise<T>): Promise<{ readonly expected: T; readonly got: T }> {
  const expected = await read(clients.plain())
  const client = clients.wrapped()
  const got = await trace({ prompt })(() => read(client))()
  await flush()
  return { expected, got }
}

/**
 * Runs `call` inside a trace that rethrows what it throws, and flushes: `caught` is what the trace
 * rejected with, `inner` what the call threw inside it.
 */
export async function failInTrace(call: () => Promise<unknown>, prompt = 'fails'): Promise<{ readonly caught: unknown; readonly inner: unknown }> {
  let inner: unknown
  const caught = await trace({ prompt })(async () => {
    try {
      return await call()
    } catch (error) {
      inner = error
      throw error
    }
  })().catch((error: unknown) => error)
  await flush()
  return { caught, inner }
}

/** The one step of the one trace in the sink. */
export function onlyStep(sink: { readonly traces: ReadonlyArray<TraceDocument> }): Step | undefined {
  expect(sink.traces).toHaveLength(1)
  expect(sink.traces[0]?.steps).toHaveLength(1)
  return sink.traces[0]?.steps[0]
}

/** A step the caller ended early (break, abort): a success with what had arrived, not marked incomplete. */
export function expectEndedEarly(step: Step | undefined, fields: Record<string, unknown>): void {
  expect(step).toMatchObject({ ...fields, status: 'success' })
  expect(step?.incomplete).toBeUndefined()
}

/** A step an HTTP error status failed: the SDK's error class by name, the API's message, the status code. */
export function expectHttpErrorStep(step: Step | undefined, status: number, fields: Record<string, unknown> = {}): void {
  expect(step).toMatchObject({
    ...fields,
    status: 'error',
    error: { type: status === 429 ? 'RateLimitError' : 'InternalServerError', message: expect.stringContaining(`failed with ${status}`) },
    metadata: { status_code: status },
  })
}

// Replaying a recorded pipeline

/** What `recordThenReplay` saw: the recorded trace, the replay's result and the requests the replay sent. */
export interface Replayed<R> {
  readonly recorded: TraceDocument
  /** What the pipeline returned (or threw) when it was recorded. */
  readonly live: R
  readonly result: ReplayResult<R>
  /** Requests that reached the loopback server during the replay. */
  readonly requests: number
}

/**
 * Runs `pipeline(...args)` for real (against the loopback server) and flushes, then replays its trace
 * with `replayArgs` (the recorded arguments when not given), counting the requests the replay sends.
 */
export async function recordThenReplay<A extends unknown[], R>(
  server: Loopback,
  sink: { readonly traces: ReadonlyArray<TraceDocument> },
  pipeline: (...args: A) => Promise<R>,
  args: A,
  options: ReplayOptions<A> = {},
): Promise<Replayed<R>> {
  // a pipeline that fails is recorded too: what it threw stands in for its value
  const live = await pipeline(...args).catch((error: unknown) => error as R)
  await flush()
  const recorded = sink.traces.at(-1)
  if (recorded === undefined) throw new Error('nothing recorded')
  const before = server.requests.length
  const result = await replay(recorded, pipeline as never, options as never) as ReplayResult<R>
  return { recorded, live, result, requests: server.requests.length - before }
}

/** A replay that sent no request and matches its record: same value, nothing unused, an equal diff. */
export function expectFaithfulReplay<R>({ recorded, live, result, requests }: Replayed<R>): void {
  expect(requests).toBe(0)
  expect(result.mismatches).toEqual([])
  expect(result.unused).toEqual([])
  expect(result.ok).toBe(true)
  expect(result.value).toEqual(live)
  expect(result.doc.replayOf).toBe(recorded.traceId)
  // the rendered diff when it is not equal: the failure then shows what changed
  const diff = diffTraces(recorded, result.doc)
  expect(diff.equal ? '' : renderDiff(diff)).toBe('')
  expect(result.diff.equal).toBe(true)
}

/** Runs `calls` outside any trace (and flushes): the orphan warnings tracellm emitted meanwhile. */
export async function orphanWarningsOf(calls: () => Promise<void>): Promise<string[]> {
  const warnings = spyWarnings()
  try {
    await calls()
    await flush()
  } finally {
    warnings.restore()
  }
  return warnings.messages().filter((message) => message.includes('outside any trace'))
}
