/**
 * `wrapOpenAI`: the `openai` client's model calls become `llm` steps. Typed structurally, so the
 * `openai` package is never a dependency of tracellm.
 */
import { compact, numberField, objectField, patchMethod, stringField, type LlmMethod, type LlmOutcome, type StreamAssembler } from './llm-call.js'
import { rebuildChatCompletion, rebuildEmbeddings, rebuildResponse } from './openai-replay.js'

/**
 * The part of an `openai` client (v4 and later) that `wrapOpenAI` traces.
 * @category integrations
 */
export interface OpenAILike {
  readonly chat: { readonly completions: { create(...args: never[]): unknown } }
  readonly responses?: { create(...args: never[]): unknown }
  readonly embeddings?: { create(...args: never[]): unknown }
}

/**
 * Traces an `openai` client: each `chat.completions.create` and `responses.create` call inside a
 * trace becomes one step of kind `"llm"` (named `openai.chat.completions` / `openai.responses`),
 * with the request's `model`, the request parameters as input, the response message as output and
 * the token `usage` (cached prompt tokens in the metadata as `cached_input_tokens`); the trace's
 * `usage` sums its steps'. A failed call is an error step (metadata `status_code` for an HTTP error)
 * and the SDK's error reaches the caller unchanged. With `stream: true` the caller gets the SDK's
 * stream (its `controller`, `tee()`, `toReadableStream()` keep working); chunks pass through as
 * they are read and the step ends when the stream ends, with the assembled message as output and
 * the usage of the final chunk (`stream_options: { include_usage: true }`).
 *
 * The SDK's helpers go through `create` and are recorded the same way, one step per request:
 * `chat.completions.stream()` / `.parse()` / `.runTools()`, `responses.stream()` / `.parse()` (the
 * parsed value is in the output). `embeddings.create` is a step of kind `"embedding"` named
 * `openai.embeddings`, with the input token usage and `{ embeddings, dimensions }` as output.
 *
 * The client is patched in place and returned; wrapping it again changes nothing. The returned
 * promise keeps `.withResponse()` and `.asResponse()` (the latter ends the step without output: the
 * body is the caller's to read).
 *
 * Outside any trace a call runs as before and follows the orphan policy, as a `traceTool` does: it
 * is not recorded and the first one per method warns once (`openai.chat.completions.create was
 * called outside any trace…`), or with `configure({ orphanSteps: 'trace' })` it is a trace of its
 * own, named after the step, holding that one step. Under `replay()` no request is sent: each call
 * is matched to a recorded step by name and order, and answered with an SDK-shaped response (or,
 * with `stream: true`, a stream of chunks) rebuilt from the recorded output, model and usage;
 * embeddings come back as zero vectors of the recorded dimension; a recorded failure is thrown
 * again with its `status` (docs/replay.md#sdk-calls-wrapopenai-wrapanthropic).
 *
 * @example
 * import OpenAI from 'openai'
 * import { wrapOpenAI } from 'tracellm'
 * const client = wrapOpenAI(new OpenAI({ apiKey: 'sk-test', baseURL: 'http://127.0.0.1:9/v1' }))
 * typeof client.chat.completions.create   // => 'function'
 *
 * @category integrations
 * @since 0.1.0
 */
export function wrapOpenAI<C extends OpenAILike>(client: C): C {
  const resources = client as unknown as { readonly chat?: { readonly completions?: unknown }; readonly responses?: unknown; readonly embeddings?: unknown }
  patchMethod(resources.chat?.completions, 'create', chatCompletions)
  patchMethod(resources.responses, 'create', responses)
  patchMethod(resources.embeddings, 'create', embeddings)
  return client
}

const chatCompletions: LlmMethod = {
  name: 'openai.chat.completions',
  fromResponse: (response) => {
    const choice = firstChoice(response)
    const message = objectField(choice, 'message')
    return {
      output: { ...(isObject(message) ? message : {}), finish_reason: objectField(choice, 'finish_reason') ?? null },
      annotation: annotationOf(response),
    }
  },
  assembler: chatAssembler,
  rebuild: rebuildChatCompletion,
}

const responses: LlmMethod = {
  name: 'openai.responses',
  fromResponse: (response) => ({ output: responseOutput(response), annotation: annotationOf(response) }),
  assembler: responsesAssembler,
  rebuild: rebuildResponse,
}

/** The vectors are left out of the output (thousands of numbers each): how many, of what dimension. */
const embeddings: LlmMethod = {
  name: 'openai.embeddings',
  kind: 'embedding',
  fromResponse: (response) => {
    const data = objectField(response, 'data')
    const vector = Array.isArray(data) ? objectField(data[0], 'embedding') : undefined
    return {
      output: { embeddings: Array.isArray(data) ? data.length : 0, ...(Array.isArray(vector) ? { dimensions: vector.length } : {}) },
      annotation: annotationOf(response),
    }
  },
  // embeddings never stream; should an SDK ever return a stream, the step records no output
  assembler: () => ({ add: () => undefined, finish: () => ({ output: undefined, annotation: {} }) }),
  rebuild: rebuildEmbeddings,
}

interface ToolCallDraft {
  id?: string
  type?: string
  function: { name: string; arguments: string }
}

function chatAssembler(): StreamAssembler {
  let role: string | undefined
  let content: string | undefined
  let refusal: string | undefined
  let finishReason: unknown = null
  let last: unknown
  const toolCalls: ToolCallDraft[] = []
  return {
    add: (chunk) => {
      if (objectField(chunk, 'usage') != null || objectField(chunk, 'model') !== undefined) last = { ...(last as object), ...pick(chunk, ['model', 'usage']) }
      const choice = firstChoice(chunk)
      if (choice === undefined) return
      const delta = objectField(choice, 'delta')
      role = stringField(delta, 'role') ?? role
      const text = stringField(delta, 'content')
      if (text !== undefined) content = (content ?? '') + text
      const refused = stringField(delta, 'refusal')
      if (refused !== undefined) refusal = (refusal ?? '') + refused
      const calls = objectField(delta, 'tool_calls')
      if (Array.isArray(calls)) {
        for (const call of calls) {
          const index = numberField(call, 'index') ?? toolCalls.length
          const draft = (toolCalls[index] ??= { function: { name: '', arguments: '' } })
          draft.id = stringField(call, 'id') ?? draft.id
          draft.type = stringField(call, 'type') ?? draft.type
          const fn = objectField(call, 'function')
          draft.function.name += stringField(fn, 'name') ?? ''
          draft.function.arguments += stringField(fn, 'arguments') ?? ''
        }
      }
      finishReason = objectField(choice, 'finish_reason') ?? finishReason
    },
    finish: () => ({
      output: {
        role: role ?? 'assistant',
        content: content ?? null,
        ...(refusal === undefined ? {} : { refusal }),
        ...(toolCalls.length === 0 ? {} : { tool_calls: toolCalls.filter(Boolean) }),
        finish_reason: finishReason,
      },
      annotation: annotationOf(last),
    }),
  }
}

function responsesAssembler(): StreamAssembler {
  let text = ''
  let completed: unknown
  return {
    add: (event) => {
      const type = stringField(event, 'type')
      if (type === 'response.output_text.delta') text += stringField(event, 'delta') ?? ''
      else if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') completed = objectField(event, 'response')
    },
    finish: (): LlmOutcome => {
      if (completed === undefined) return { output: { output_text: text }, annotation: {} }
      const output = responseOutput(completed) as Record<string, unknown>
      return { output: { ...output, output_text: text === '' ? output.output_text : text }, annotation: annotationOf(completed) }
    },
  }
}

/** A Responses API response: its text, items and status. */
function responseOutput(response: unknown): unknown {
  const items = objectField(response, 'output')
  const given = stringField(response, 'output_text')
  return { output_text: given ?? textOf(items), output: items ?? [], status: objectField(response, 'status') ?? null }
}

function textOf(items: unknown): string {
  if (!Array.isArray(items)) return ''
  let text = ''
  for (const item of items) {
    const content = objectField(item, 'content')
    if (!Array.isArray(content)) continue
    for (const part of content) if (stringField(part, 'type') === 'output_text') text += stringField(part, 'text') ?? ''
  }
  return text
}

/** Model and usage of a chat completion (prompt/completion tokens) or a response (input/output tokens). */
function annotationOf(response: unknown): LlmOutcome['annotation'] {
  const usage = objectField(response, 'usage')
  const model = stringField(response, 'model')
  if (!isObject(usage)) return model === undefined ? {} : { metadata: { response_model: model } }
  const inputTokens = numberField(usage, 'prompt_tokens') ?? numberField(usage, 'input_tokens') ?? 0
  const outputTokens = numberField(usage, 'completion_tokens') ?? numberField(usage, 'output_tokens') ?? 0
  const details = objectField(usage, 'prompt_tokens_details') ?? objectField(usage, 'input_tokens_details')
  const outputDetails = objectField(usage, 'completion_tokens_details') ?? objectField(usage, 'output_tokens_details')
  return {
    usage: { inputTokens, outputTokens },
    metadata: compact({
      response_model: model,
      cached_input_tokens: numberField(details, 'cached_tokens'),
      reasoning_tokens: numberField(outputDetails, 'reasoning_tokens'),
    }),
  }
}

function firstChoice(response: unknown): unknown {
  const choices = objectField(response, 'choices')
  return Array.isArray(choices) ? (choices[0] as unknown) : undefined
}

function pick(value: unknown, keys: ReadonlyArray<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of keys) {
    const field = objectField(value, key)
    if (field != null) out[key] = field
  }
  return out
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
