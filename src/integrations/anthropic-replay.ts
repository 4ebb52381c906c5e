/**
 * `wrapAnthropic` under `replay()`: the messages and stream events of `@anthropic-ai/sdk`, rebuilt
 * from a recorded step so that `anthropic.ts` records the same step again from them. The message id
 * is `msg_replay_<step id>`; `stop_sequence`, not recorded, is null.
 */
import { countOf, type Rebuild, type RecordedResponse } from './replayed.js'

/**
 * @internal A message, or its events: `message_start` with the input usage, each content block as a
 * `content_block_start` and one delta (text, thinking, or the tool input as JSON), `message_delta`
 * with the stop reason and output tokens, `message_stop`.
 */
export const rebuildMessage: Rebuild = {
  response: (recorded) => {
    const output = asRecord(recorded.output)
    return {
      id: `msg_${recorded.id}`,
      type: 'message',
      role: output.role ?? 'assistant',
      ...modelOf(recorded),
      content: Array.isArray(output.content) ? output.content : [],
      stop_reason: output.stop_reason ?? null,
      stop_sequence: null,
      ...(recorded.usage === undefined ? {} : { usage: { ...inputUsage(recorded), output_tokens: recorded.usage.outputTokens } }),
    }
  },
  chunks: (recorded) => {
    const output = asRecord(recorded.output)
    const blocks: unknown[] = Array.isArray(output.content) ? output.content : []
    const events: unknown[] = [{
      type: 'message_start',
      message: {
        id: `msg_${recorded.id}`, type: 'message', role: output.role ?? 'assistant', ...modelOf(recorded),
        content: [], stop_reason: null, stop_sequence: null, usage: { ...inputUsage(recorded), output_tokens: 0 },
      },
    }]
    blocks.forEach((block, index) => {
      const [start, delta] = blockEvents(asRecord(block))
      events.push({ type: 'content_block_start', index, content_block: start })
      if (delta !== undefined) events.push({ type: 'content_block_delta', index, delta })
      events.push({ type: 'content_block_stop', index })
    })
    events.push(
      { type: 'message_delta', delta: { stop_reason: output.stop_reason ?? null, stop_sequence: null }, usage: { output_tokens: recorded.usage?.outputTokens ?? 0 } },
      { type: 'message_stop' },
    )
    return events
  },
}

/** How a content block starts, and the one delta that completes it (none for a block that has no delta type). */
function blockEvents(block: Record<string, unknown>): [Record<string, unknown>, Record<string, unknown> | undefined] {
  switch (block.type) {
    case 'text':
      if (typeof block.text === 'string') return [{ ...block, text: '' }, { type: 'text_delta', text: block.text }]
      break
    case 'thinking':
      if (typeof block.thinking === 'string') return [{ ...block, thinking: '' }, { type: 'thinking_delta', thinking: block.thinking }]
      break
    case 'tool_use':
    case 'server_tool_use': {
      // an input the stream could not parse was recorded as its raw text: sent as it is, it fails to parse again
      const json = typeof block.input === 'string' ? block.input : JSON.stringify(block.input ?? {})
      return [{ ...block, input: {} }, { type: 'input_json_delta', partial_json: json }]
    }
  }
  return [block, undefined]
}

/**
 * Anthropic's `input_tokens` leaves out the cached tokens that the recorded `inputTokens` counts:
 * they come back out of it, into the cache fields the record kept.
 */
function inputUsage(recorded: RecordedResponse): Record<string, number> {
  const read = countOf(recorded, 'cached_input_tokens')
  const creation = countOf(recorded, 'cache_creation_input_tokens')
  return {
    input_tokens: (recorded.usage?.inputTokens ?? 0) - (read ?? 0) - (creation ?? 0),
    ...(read === undefined ? {} : { cache_read_input_tokens: read }),
    ...(creation === undefined ? {} : { cache_creation_input_tokens: creation }),
  }
}

function modelOf(recorded: RecordedResponse): { model?: string } {
  return recorded.model === undefined ? {} : { model: recorded.model }
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}
