/**
 * `wrapAnthropic`: the `@anthropic-ai/sdk` client's model calls become `llm` steps. Typed
 * structurally, so the SDK is never a dependency of tracellm.
 */
import { rebuildMessage } from './anthropic-replay.js'
import { compact, numberField, objectField, patchMethod, stringField, type LlmMethod, type LlmOutcome, type StreamAssembler } from './llm-call.js'

/**
 * The part of an `@anthropic-ai/sdk` client that `wrapAnthropic` traces.
 * @category integrations
 */
export interface AnthropicLike {
  readonly messages: { create(...args: never[]): unknown }
}

/**
 * Traces an `@anthropic-ai/sdk` client: each `messages.create` call inside a trace becomes one step
 * of kind `"llm"` named `anthropic.messages`, with the request's `model`, the request parameters as
 * input, `{ role, content, stop_reason }` as output and the token `usage`. Input tokens count the
 * cached ones too (`input_tokens + cache_read_input_tokens + cache_creation_input_tokens`); the
 * metadata keeps `cached_input_tokens` and `cache_creation_input_tokens`. A failed call is an error
 * step (metadata `status_code`) and the SDK's error reaches the caller unchanged. With
 * `stream: true` the caller gets the SDK's stream; the step ends when it ends, with the content
 * blocks assembled from the `content_block_delta` events and the usage of `message_start` and
 * `message_delta`.
 *
 * The SDK's helpers `messages.stream()` (MessageStream) and `messages.parse()` call
 * `messages.create` and are recorded through it, one step per request; `beta.messages` is not traced.
 *
 * The client is patched in place and returned; wrapping it again changes nothing. Outside any
 * trace a call runs as before and follows the orphan policy, as a `traceTool` does: it is not
 * recorded and the first one warns once (`anthropic.messages.create was called outside any
 * trace…`), or with `configure({ orphanSteps: 'trace' })` it is a trace of its own holding that one
 * step. Under `replay()` no request is sent: each call is matched to a recorded step by name and
 * order and answered with a message (or, with `stream: true`, its events) rebuilt from the recorded
 * content, stop reason, model and usage; a recorded failure is thrown again with its `status`
 * (docs/replay.md#sdk-calls-wrapopenai-wrapanthropic).
 *
 * @example
 * import Anthropic from '@anthropic-ai/sdk'
 * import { wrapAnthropic } from 'tracellm'
 * const client = wrapAnthropic(new Anthropic({ apiKey: 'test', baseURL: 'http://127.0.0.1:9' }))
 * typeof client.messages.create   // => 'function'
 *
 * @category integrations
 * @since 0.1.0
 */
export function wrapAnthropic<C extends AnthropicLike>(client: C): C {
  patchMethod((client as unknown as { readonly messages?: unknown }).messages, 'create', messages)
  return client
}

const messages: LlmMethod = {
  name: 'anthropic.messages',
  fromResponse: (response) => ({
    output: { role: objectField(response, 'role') ?? 'assistant', content: objectField(response, 'content') ?? [], stop_reason: objectField(response, 'stop_reason') ?? null },
    annotation: annotationOf(objectField(response, 'usage'), stringField(response, 'model')),
  }),
  assembler: messageAssembler,
  rebuild: rebuildMessage,
}

type Block = Record<string, unknown> & { partialJson?: string }

function messageAssembler(): StreamAssembler {
  let role = 'assistant'
  let model: string | undefined
  let stopReason: unknown = null
  let usage: Record<string, unknown> = {}
  const blocks: Block[] = []
  return {
    add: (event) => {
      switch (stringField(event, 'type')) {
        case 'message_start': {
          const message = objectField(event, 'message')
          role = stringField(message, 'role') ?? role
          model = stringField(message, 'model')
          usage = { ...usage, ...asRecord(objectField(message, 'usage')) }
          break
        }
        case 'content_block_start': {
          const index = numberField(event, 'index') ?? blocks.length
          blocks[index] = { ...asRecord(objectField(event, 'content_block')) }
          break
        }
        case 'content_block_delta': {
          const index = numberField(event, 'index') ?? blocks.length - 1
          const block = (blocks[index] ??= { type: 'text', text: '' })
          const delta = objectField(event, 'delta')
          switch (stringField(delta, 'type')) {
            case 'text_delta':
              block.text = `${typeof block.text === 'string' ? block.text : ''}${stringField(delta, 'text') ?? ''}`
              break
            case 'input_json_delta':
              block.partialJson = (block.partialJson ?? '') + (stringField(delta, 'partial_json') ?? '')
              break
            case 'thinking_delta':
              block.thinking = `${typeof block.thinking === 'string' ? block.thinking : ''}${stringField(delta, 'thinking') ?? ''}`
              break
          }
          break
        }
        case 'message_delta': {
          stopReason = objectField(objectField(event, 'delta'), 'stop_reason') ?? stopReason
          // message_delta's usage is cumulative: it replaces what message_start said
          usage = { ...usage, ...withoutNulls(asRecord(objectField(event, 'usage'))) }
          break
        }
      }
    },
    finish: (): LlmOutcome => ({
      output: { role, content: blocks.filter(Boolean).map(finishBlock), stop_reason: stopReason },
      annotation: annotationOf(usage, model),
    }),
  }
}

function finishBlock(block: Block): Record<string, unknown> {
  const { partialJson, ...rest } = block
  if (partialJson === undefined) return rest
  try {
    return { ...rest, input: JSON.parse(partialJson) as unknown }
  } catch {
    return { ...rest, input: partialJson }
  }
}

function annotationOf(usage: unknown, model: string | undefined): LlmOutcome['annotation'] {
  if (usage === null || typeof usage !== 'object') return model === undefined ? {} : { metadata: { response_model: model } }
  const cacheRead = numberField(usage, 'cache_read_input_tokens')
  const cacheCreation = numberField(usage, 'cache_creation_input_tokens')
  return {
    usage: {
      inputTokens: (numberField(usage, 'input_tokens') ?? 0) + (cacheRead ?? 0) + (cacheCreation ?? 0),
      outputTokens: numberField(usage, 'output_tokens') ?? 0,
    },
    metadata: compact({ response_model: model, cached_input_tokens: cacheRead, cache_creation_input_tokens: cacheCreation }),
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}

function withoutNulls(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== null && value !== undefined))
}
