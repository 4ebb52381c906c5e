/**
 * `wrapOpenAI` under `replay()`: the responses and stream chunks of the `openai` SDK, rebuilt from a
 * recorded step so that `openai.ts` records the same step again from them. What the record does not
 * hold is filled in plainly: ids are `replay_<step id>`, `created` is the recorded start, one choice.
 */
import { countOf, type Rebuild, type RecordedResponse } from './replayed.js'

/** @internal A chat completion, or its chunks: the message, its finish reason, then the usage. */
export const rebuildChatCompletion: Rebuild = {
  response: (recorded) => {
    const { finish_reason: finishReason = null, ...message } = asRecord(recorded.output)
    return {
      id: chatId(recorded),
      object: 'chat.completion',
      created: recorded.created,
      ...modelOf(recorded),
      choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finishReason, logprobs: null }],
      ...usageOf(recorded, 'prompt_tokens', 'completion_tokens', 'prompt_tokens_details', 'completion_tokens_details'),
    }
  },
  chunks: (recorded) => {
    const output = asRecord(recorded.output)
    const head = { id: chatId(recorded), object: 'chat.completion.chunk', created: recorded.created, ...modelOf(recorded) }
    const chunk = (delta: Record<string, unknown>, finishReason: unknown = null): unknown => ({ ...head, choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] })
    const chunks: unknown[] = [chunk({ role: typeof output.role === 'string' ? output.role : 'assistant', ...(typeof output.content === 'string' ? { content: output.content } : {}) })]
    if (typeof output.refusal === 'string') chunks.push(chunk({ refusal: output.refusal }))
    if (Array.isArray(output.tool_calls)) {
      output.tool_calls.forEach((call: unknown, index) => chunks.push(chunk({ tool_calls: [{ index, ...asRecord(call) }] })))
    }
    if (output.finish_reason !== undefined && output.finish_reason !== null) chunks.push(chunk({}, output.finish_reason))
    const usage = usageOf(recorded, 'prompt_tokens', 'completion_tokens', 'prompt_tokens_details', 'completion_tokens_details')
    if (usage.usage !== undefined) chunks.push({ ...head, choices: [], ...usage })
    return chunks
  },
}

/**
 * @internal A Responses API response, or its events: `response.created`, each output item with its
 * text parts as one delta each, then `response.completed` (or `incomplete` / `failed`, after the
 * recorded status). A recorded stream broken off before it completed has no items: its text comes
 * as one message item and no completion event.
 */
export const rebuildResponse: Rebuild = {
  response: (recorded) => responseOf(recorded),
  chunks: (recorded) => {
    const output = asRecord(recorded.output)
    const completed = Array.isArray(output.output) ? responseOf(recorded) : undefined
    const items: unknown[] = Array.isArray(output.output)
      ? output.output
      : [{ type: 'message', id: `msg_${recorded.id}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: typeof output.output_text === 'string' ? output.output_text : '', annotations: [] }] }]
    const events: Array<Record<string, unknown>> = [
      { type: 'response.created', response: { ...(completed ?? responseOf(recorded)), status: 'in_progress', output: [], usage: null } },
    ]
    items.forEach((item, outputIndex) => {
      const fields = asRecord(item)
      const content = Array.isArray(fields.content) ? fields.content : undefined
      events.push({ type: 'response.output_item.added', output_index: outputIndex, item: content === undefined ? fields : { ...fields, status: 'in_progress', content: [] } })
      content?.forEach((part: unknown, contentIndex) => {
        const at = { item_id: fields.id, output_index: outputIndex, content_index: contentIndex }
        const { text, ...rest } = asRecord(part)
        if (rest.type !== 'output_text' || typeof text !== 'string') {
          events.push({ type: 'response.content_part.added', ...at, part }, { type: 'response.content_part.done', ...at, part })
          return
        }
        events.push(
          { type: 'response.content_part.added', ...at, part: { ...rest, text: '' } },
          { type: 'response.output_text.delta', ...at, delta: text, logprobs: [] },
          { type: 'response.output_text.done', ...at, text, logprobs: [] },
          { type: 'response.content_part.done', ...at, part },
        )
      })
      events.push({ type: 'response.output_item.done', output_index: outputIndex, item })
    })
    if (completed !== undefined) events.push({ type: statusEvent(completed.status), response: completed })
    return events.map((event, index) => ({ ...event, sequence_number: index }))
  },
}

/**
 * @internal Embeddings: the record keeps how many vectors of what dimension, not the vectors, so the
 * answer holds that many zero vectors of that dimension (base64-encoded when the request asks for
 * `encoding_format: 'base64'`). Embeddings never stream.
 */
export const rebuildEmbeddings: Rebuild = {
  response: (recorded, params) => {
    const output = asRecord(recorded.output)
    const count = typeof output.embeddings === 'number' ? output.embeddings : 0
    const dimensions = typeof output.dimensions === 'number' ? output.dimensions : 0
    const base64 = asRecord(params).encoding_format === 'base64'
    const embedding = (): unknown => (base64 ? Buffer.from(new Float32Array(dimensions).buffer).toString('base64') : new Array<number>(dimensions).fill(0))
    const tokens = recorded.usage?.inputTokens
    return {
      object: 'list',
      ...modelOf(recorded),
      data: Array.from({ length: count }, (_, index) => ({ object: 'embedding', index, embedding: embedding() })),
      ...(tokens === undefined ? {} : { usage: { prompt_tokens: tokens, total_tokens: tokens } }),
    }
  },
  chunks: () => [],
}

function responseOf(recorded: RecordedResponse): Record<string, unknown> {
  const output = asRecord(recorded.output)
  return {
    id: `resp_${recorded.id}`,
    object: 'response',
    created_at: recorded.created,
    ...modelOf(recorded),
    status: output.status ?? null,
    output: Array.isArray(output.output) ? output.output : [],
    output_text: typeof output.output_text === 'string' ? output.output_text : '',
    ...usageOf(recorded, 'input_tokens', 'output_tokens', 'input_tokens_details', 'output_tokens_details'),
  }
}

function statusEvent(status: unknown): string {
  return status === 'incomplete' ? 'response.incomplete' : status === 'failed' ? 'response.failed' : 'response.completed'
}

function chatId(recorded: RecordedResponse): string {
  return `chatcmpl-${recorded.id}`
}

/** The model the vendor answered with, when the record kept it: a rebuilt answer names no other. */
function modelOf(recorded: RecordedResponse): { model?: string } {
  return recorded.model === undefined ? {} : { model: recorded.model }
}

/** `usage` in the API's own names, with the cached and reasoning tokens the record kept. */
function usageOf(recorded: RecordedResponse, input: string, output: string, inputDetails: string, outputDetails: string): { usage?: Record<string, unknown> } {
  const usage = recorded.usage
  if (usage === undefined) return {}
  const cached = countOf(recorded, 'cached_input_tokens')
  const reasoning = countOf(recorded, 'reasoning_tokens')
  return {
    usage: {
      [input]: usage.inputTokens,
      [output]: usage.outputTokens,
      total_tokens: usage.inputTokens + usage.outputTokens,
      ...(cached === undefined ? {} : { [inputDetails]: { cached_tokens: cached } }),
      ...(reasoning === undefined ? {} : { [outputDetails]: { reasoning_tokens: reasoning } }),
    },
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}
