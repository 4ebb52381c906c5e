// The viewer's pure content functions (docs/ui.md#content-rendering): which shape a captured value has,
// how invisible characters are made visible, and the JSON paths that "copy JSON path" and `&path=` use.
import { describe, expect, it } from '@jest/globals'
import { jsonPath, parsePath, pathPattern } from '../../src/ui/client/content/path.js'
import { chatInput, chatOutput, detectShape, parseArgs } from '../../src/ui/client/content/shapes.js'
import { hasInvisible, visibleSegments, visibleText } from '../../src/ui/client/content/visible.js'

describe('detectShape', () => {
  it('reads an OpenAI chat request: system, user, assistant tool_calls with parsed arguments, tool result', () => {
    const input = {
      model: 'gpt-4o', temperature: 0.2, tools: [{ type: 'function' }],
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'weather?' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
      ],
    }
    const found = detectShape(input, 'input', 'llm')
    expect(found?.shape).toMatchObject({ kind: 'chat', flavor: 'openai-chat', params: { model: 'gpt-4o', temperature: 0.2, tools: 1 } })
    const messages = (found!.shape as { messages: Array<{ role: string; parts: unknown[] }> }).messages
    expect(messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool'])
    expect(messages[1]!.parts[1]).toEqual({ type: 'image', url: 'https://example.com/cat.png', path: ['messages', 1, 'content', 1] })
    expect(messages[2]!.parts).toEqual([{ type: 'tool-call', id: 'call_1', name: 'get_weather', args: { city: 'Paris' }, path: ['messages', 2, 'tool_calls', 0] }])
    expect(messages[3]!.parts[0]).toMatchObject({ type: 'tool-result', id: 'call_1', parts: [{ type: 'text', text: '18°C' }] })
  })

  it('reads what wrapOpenAI records as a chat output: the message, its parsed value and finish_reason', () => {
    const shape = chatOutput({ role: 'assistant', content: '{"a":1}', parsed: { a: 1 }, finish_reason: 'stop' })
    expect(shape).toMatchObject({ kind: 'chat', flavor: 'openai-chat', finish: 'stop' })
    expect((shape as { messages: Array<{ parts: unknown[] }> }).messages[0]!.parts).toEqual([
      { type: 'text', text: '{"a":1}', path: ['content'] },
      { type: 'json', label: 'parsed', value: { a: 1 }, path: ['parsed'] },
    ])
    expect(chatOutput({ choices: [{ message: { role: 'assistant', content: 'hi' }, finish_reason: 'length' }] })).toMatchObject({ finish: 'length', messages: [{ role: 'assistant', path: ['choices', 0, 'message'] }] })
  })

  it('reads a Responses request and output: instructions, items, function calls and reasoning', () => {
    const input = chatInput({ model: 'gpt-5', instructions: 'terse', input: [{ role: 'user', content: [{ type: 'input_text', text: 'sum 2+2' }] }, { type: 'function_call_output', call_id: 'c1', output: '4' }] })
    expect(input).toMatchObject({ kind: 'chat', flavor: 'openai-responses' })
    expect((input as { messages: Array<{ role: string }> }).messages.map((message) => message.role)).toEqual(['system', 'user', 'tool'])
    expect(chatInput({ model: 'gpt-5', input: 'hello' })).toMatchObject({ messages: [{ role: 'user', parts: [{ type: 'text', text: 'hello' }] }] })
    const output = chatOutput({
      output_text: 'four', status: 'completed',
      output: [{ type: 'reasoning', summary: [{ type: 'summary_text', text: 'add' }] }, { type: 'function_call', name: 'add', arguments: '{"a":2}', call_id: 'c1' }, { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'four' }] }],
    })
    expect(output).toMatchObject({ kind: 'chat', flavor: 'openai-responses', finish: 'completed' })
    expect((output as { messages: Array<{ parts: Array<{ type: string }> }> }).messages.map((message) => message.parts[0]!.type)).toEqual(['thinking', 'tool-call', 'text'])
  })

  it('reads Anthropic messages: system, tool_use, tool_result, thinking, a base64 image as mime and size', () => {
    const input = detectShape({
      model: 'claude', system: 'be kind', max_tokens: 100,
      messages: [
        { role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(400) } }, { type: 'text', text: 'what is it?' }] },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm' }, { type: 'tool_use', id: 'tu_1', name: 'look', input: { q: 'x' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu_1', content: 'a cat', is_error: true }] },
      ],
    }, 'input')!.shape as { flavor: string; messages: Array<{ role: string; parts: Array<Record<string, unknown>> }> }
    expect(input.flavor).toBe('anthropic')
    expect(input.messages[0]).toMatchObject({ role: 'system', parts: [{ type: 'text', text: 'be kind' }] })
    expect(input.messages[1]!.parts[0]).toEqual({ type: 'image', mime: 'image/png', size: 300, path: ['messages', 0, 'content', 0] })
    expect(input.messages[2]!.parts.map((part) => part.type)).toEqual(['thinking', 'tool-call'])
    expect(input.messages[3]!.parts[0]).toMatchObject({ type: 'tool-result', id: 'tu_1', isError: true })
    expect(chatOutput({ role: 'assistant', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn' })).toMatchObject({ flavor: 'anthropic', finish: 'end_turn' })
  })

  it('looks into a one-argument list, and leaves plain values alone', () => {
    expect(detectShape([{ messages: [{ role: 'user', content: 'hi' }] }], 'input')).toMatchObject({ base: [0], shape: { kind: 'chat', messages: [{ path: [0, 'messages', 0] }] } })
    expect(detectShape(['What is RAG?'], 'input')).toBeNull()
    expect(detectShape([{ id: 1, title: 'RAG paper' }], 'output', 'tool')).toBeNull()
    expect(detectShape({ messages: 'not a list' }, 'input')).toBeNull()
    expect(detectShape({ input: 'a string without a model' }, 'input')).toBeNull()
  })

  it('reads retriever documents with scores, embeddings as a count, and a reranker order', () => {
    expect(detectShape([{ id: 'd1', text: 'RAG is…', score: 0.91 }, { id: 'd2', text: 'other', score: 0.5 }], 'output', 'retriever')?.shape).toEqual({
      kind: 'documents', docs: [{ id: 'd1', text: 'RAG is…', score: 0.91, path: [0] }, { id: 'd2', text: 'other', score: 0.5, path: [1] }],
    })
    expect(detectShape([{ pageContent: 'lc doc', metadata: { source: 'a.md' } }], 'output', 'tool')?.shape).toMatchObject({ kind: 'documents', docs: [{ id: 'a.md', text: 'lc doc' }] })
    expect(detectShape([{ id: 'x', text: 'no score' }], 'output', 'tool')).toBeNull()
    expect(detectShape({ embeddings: 3, dimensions: 1536 }, 'output', 'embedding')?.shape).toEqual({ kind: 'embeddings', count: 3, dimensions: 1536 })
    expect(detectShape([[0.1, 0.2], [0.3, 0.4]], 'output')?.shape).toEqual({ kind: 'embeddings', count: 2, dimensions: 2 })
    expect(detectShape([{ index: 2, relevance_score: 0.9 }, { index: 0, relevance_score: 0.4 }], 'output', 'reranker')?.shape).toEqual({
      kind: 'rerank', order: [{ index: 2, score: 0.9 }, { index: 0, score: 0.4 }],
    })
  })

  it('parses tool-call arguments only when they are JSON', () => {
    expect(parseArgs('{"a":[1]}')).toEqual({ a: [1] })
    expect(parseArgs('{"a":')).toBe('{"a":')
    expect(parseArgs({ a: 1 })).toEqual({ a: 1 })
  })
})

describe('visibleSegments', () => {
  it('shows C0 controls as control pictures, and C1 and bidi controls as code points', () => {
    expect(visibleText('a\u0000b\u001bc\u007f')).toBe('a␀b␛c␡')
    expect(visibleText('x\u202Ey\u2066z\u200F\u061C\u0085')).toBe('x⟨U+202E⟩y⟨U+2066⟩z⟨U+200F⟩⟨U+061C⟩⟨U+0085⟩')
    expect(visibleSegments('ab\u202Ecd')).toEqual([{ text: 'ab' }, { text: '⟨U+202E⟩', special: 'U+202E RLO' }, { text: 'cd' }])
  })

  it('keeps newlines, tabs and ordinary text as they are', () => {
    expect(visibleSegments('line 1\n\tline 2 — é 日本')).toEqual([{ text: 'line 1\n\tline 2 — é 日本' }])
    expect(visibleSegments('')).toEqual([{ text: '' }])
    expect(hasInvisible('plain\n')).toBe(false)
    expect(hasInvisible('\u2069')).toBe(true)
  })
})

describe('jsonPath', () => {
  it('writes identifiers with dots, indices in brackets and odd keys quoted', () => {
    expect(jsonPath([])).toBe('$')
    expect(jsonPath(['messages', 3, 'content'])).toBe('$.messages[3].content')
    expect(jsonPath(['content-type', "it's", 'a\\b', '', '0', 'line\nbreak'])).toBe("$['content-type']['it\\'s']['a\\\\b']['']['0']['line\\nbreak']")
    expect(jsonPath(['\u202Eevil'])).toBe("$['\\u202eevil']")
  })

  it('reads back every path it writes', () => {
    for (const keys of [[], ['messages', 3, 'content'], ['content-type', "it's", 'a\\b', '', 7, 'line\nbreak\t', '\u202Eevil', '$ok_1']]) {
      expect(parsePath(jsonPath(keys))).toEqual(keys)
    }
    expect(parsePath('messages[0]')).toBeNull()
    expect(parsePath('$.choices[x]')).toBeNull()
    expect(parsePath("$['open")).toBeNull()
  })

  it('names a field pattern with indices as [*], for the saved Text / Markdown / JSON choice', () => {
    expect(pathPattern(['messages', 3, 'content', 0, 'text'])).toBe('$.messages[*].content[*].text')
  })
})
