// What a captured value is, for drawing it (docs/ui.md#content-rendering): the chat shapes wrapOpenAI
// and wrapAnthropic record (OpenAI chat and Responses, Anthropic messages), retriever documents,
// embeddings and reranker orders. Pure functions of the value: no DOM, nothing fetched, nothing parsed
// as HTML. Anything unrecognised is `null` and is drawn as a JSON tree.
import type { PathKey } from './path.js'

/** One piece of a message. `path` is where it sits in the field, for copy and deep links. */
export type Part =
  | { readonly type: 'text'; readonly text: string; readonly path: PathKey[] }
  | { readonly type: 'thinking'; readonly text: string; readonly redacted?: boolean; readonly path: PathKey[] }
  | { readonly type: 'refusal'; readonly text: string; readonly path: PathKey[] }
  | { readonly type: 'image'; readonly mime?: string; readonly size?: number; readonly url?: string; readonly path: PathKey[] }
  | { readonly type: 'tool-call'; readonly id?: string; readonly name: string; readonly args: unknown; readonly path: PathKey[] }
  | { readonly type: 'tool-result'; readonly id?: string; readonly isError?: boolean; readonly parts: Part[]; readonly path: PathKey[] }
  | { readonly type: 'json'; readonly label: string; readonly value: unknown; readonly path: PathKey[] }

export interface Message { readonly role: string; readonly name?: string; readonly parts: Part[]; readonly path: PathKey[] }

export interface Doc { readonly id?: string; readonly text: string; readonly score?: number; readonly metadata?: unknown; readonly path: PathKey[] }

export type Shape =
  | { readonly kind: 'chat'; readonly flavor: 'openai-chat' | 'openai-responses' | 'anthropic'; readonly messages: Message[]; readonly finish?: string; readonly params: Record<string, unknown> }
  | { readonly kind: 'documents'; readonly docs: Doc[] }
  | { readonly kind: 'embeddings'; readonly count: number; readonly dimensions?: number }
  | { readonly kind: 'rerank'; readonly order: Array<{ readonly index: number; readonly score?: number; readonly text?: string }> }

type Obj = Record<string, unknown>
const isObj = (value: unknown): value is Obj => value !== null && typeof value === 'object' && !Array.isArray(value)
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined)
const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function'])
const TEXT_KEYS = ['text', 'pageContent', 'page_content', 'content', 'document', 'chunk'] as const
const SCORE_KEYS = ['score', 'relevance_score', 'relevanceScore', 'similarity', 'distance'] as const

/**
 * The shape of a step's `input` or `output` (`field`), given the step's `kind`. A traced function's
 * input is its argument list: a one-argument list is looked into.
 */
export function detectShape(value: unknown, field: 'input' | 'output', kind = ''): { shape: Shape; base: PathKey[] } | null {
  const direct = detectAt(value, field, kind, [])
  if (direct !== null || !Array.isArray(value) || value.length !== 1) return direct === null ? null : { shape: direct, base: [] }
  const inner = detectAt(value[0], field, kind, [0])
  return inner === null ? null : { shape: inner, base: [0] }
}

function detectAt(value: unknown, field: 'input' | 'output', kind: string, base: PathKey[]): Shape | null {
  return chatInput(value, base) ?? chatOutput(value, base) ?? embeddings(value) ?? rerank(value, kind, base) ?? documents(value, kind, base)
}

/** `{messages}` (OpenAI chat, Anthropic with `system`) or `{input}` (Responses, with `instructions`). */
export function chatInput(value: unknown, base: PathKey[] = []): Shape | null {
  if (!isObj(value)) return null
  const { messages, input, system, instructions, ...params } = value
  if (Array.isArray(messages) && messages.length > 0 && messages.every((m) => isObj(m) && typeof m.role === 'string')) {
    const anthropic = system !== undefined || messages.some((m) => Array.isArray((m as Obj).content) && ((m as Obj).content as unknown[]).some((b) => isObj(b) && ['tool_use', 'tool_result', 'thinking', 'redacted_thinking'].includes(String(b.type))))
    const out: Message[] = []
    if (system !== undefined) out.push({ role: 'system', parts: partsOf(system, [...base, 'system']), path: [...base, 'system'] })
    messages.forEach((m, i) => out.push(messageOf(m as Obj, [...base, 'messages', i])))
    return { kind: 'chat', flavor: anthropic ? 'anthropic' : 'openai-chat', messages: out, params: paramsOf(params) }
  }
  if (messages === undefined && (typeof input === 'string' || (Array.isArray(input) && input.length > 0 && input.every((item) => isObj(item) && (typeof item.role === 'string' || typeof item.type === 'string'))))) {
    if (typeof input === 'string' && typeof params.model !== 'string') return null
    const out: Message[] = []
    if (instructions !== undefined) out.push({ role: 'system', parts: partsOf(instructions, [...base, 'instructions']), path: [...base, 'instructions'] })
    if (typeof input === 'string') out.push({ role: 'user', parts: [{ type: 'text', text: input, path: [...base, 'input'] }], path: [...base, 'input'] })
    else out.push(...itemsOf(input as Obj[], [...base, 'input']))
    return { kind: 'chat', flavor: 'openai-responses', messages: out, params: paramsOf(params) }
  }
  return null
}

/** A recorded response: an OpenAI chat message (or a whole completion), a Responses output, an Anthropic message. */
export function chatOutput(value: unknown, base: PathKey[] = []): Shape | null {
  if (!isObj(value)) return null
  if (Array.isArray(value.choices) && isObj(value.choices[0]) && isObj(value.choices[0].message)) {
    const choice = value.choices[0]
    return { kind: 'chat', flavor: 'openai-chat', messages: [messageOf(choice.message as Obj, [...base, 'choices', 0, 'message'])], finish: str(choice.finish_reason), params: {} }
  }
  if (typeof value.output_text === 'string' || (Array.isArray(value.output) && value.output.every((item) => isObj(item) && typeof item.type === 'string') && value.output.length > 0)) {
    const items = Array.isArray(value.output) ? (value.output as Obj[]) : []
    const messages = itemsOf(items, [...base, 'output'])
    if (messages.length === 0 && typeof value.output_text === 'string') messages.push({ role: 'assistant', parts: [{ type: 'text', text: value.output_text, path: [...base, 'output_text'] }], path: [...base, 'output_text'] })
    if (value.output_parsed !== undefined && value.output_parsed !== null) messages.push({ role: 'assistant', parts: [{ type: 'json', label: 'parsed', value: value.output_parsed, path: [...base, 'output_parsed'] }], path: [...base, 'output_parsed'] })
    return { kind: 'chat', flavor: 'openai-responses', messages, finish: str(value.status), params: {} }
  }
  if (typeof value.role === 'string' && ROLES.has(value.role) && ('content' in value || Array.isArray(value.tool_calls))) {
    const anthropic = 'stop_reason' in value || Array.isArray(value.content)
    return { kind: 'chat', flavor: anthropic ? 'anthropic' : 'openai-chat', messages: [messageOf(value, base)], finish: str(value.finish_reason) ?? str(value.stop_reason), params: {} }
  }
  return null
}

/** wrapOpenAI's embeddings output `{embeddings: N, dimensions: D}`, or an array of number vectors. */
export function embeddings(value: unknown): Shape | null {
  if (isObj(value) && typeof value.embeddings === 'number' && Object.keys(value).every((key) => key === 'embeddings' || key === 'dimensions')) {
    const dimensions = num(value.dimensions)
    return dimensions === undefined ? { kind: 'embeddings', count: value.embeddings } : { kind: 'embeddings', count: value.embeddings, dimensions }
  }
  if (Array.isArray(value) && value.length > 0 && value.every((v) => Array.isArray(v) && v.length > 0 && typeof v[0] === 'number')) {
    return { kind: 'embeddings', count: value.length, dimensions: (value[0] as unknown[]).length }
  }
  return null
}

/** A reranker's output: `[{index, relevance_score}]` (in the new order), or `{results: [...]}`. */
export function rerank(value: unknown, kind: string, base: PathKey[] = []): Shape | null {
  const list = isObj(value) && Array.isArray(value.results) ? value.results : value
  if (kind !== 'reranker' || !Array.isArray(list) || list.length === 0 || !list.every((item) => isObj(item) && num(item.index) !== undefined)) return null
  void base
  return {
    kind: 'rerank',
    order: (list as Obj[]).map((item) => {
      const score = scoreOf(item)
      const text = textOf(item) ?? (isObj(item.document) ? str(item.document.text) : undefined)
      return { index: item.index as number, ...(score === undefined ? {} : { score }), ...(text === undefined ? {} : { text }) }
    }),
  }
}

/**
 * Retrieved documents: an array (or `{documents | results | docs}`) of objects with a text (`text`,
 * `pageContent`, `content`…), maybe an id, a score and metadata. Outside retriever and reranker steps
 * the items must also carry a score or a `pageContent`, so that any list of records is not taken for one.
 */
export function documents(value: unknown, kind: string, base: PathKey[] = []): Shape | null {
  let list = value
  let at = base
  if (isObj(value)) {
    const key = ['documents', 'results', 'docs'].find((name) => Array.isArray(value[name]))
    if (key === undefined) return null
    list = value[key]
    at = [...base, key]
  }
  if (!Array.isArray(list) || list.length === 0 || !list.every((item) => isObj(item) && textOf(item) !== undefined)) return null
  const items = list as Obj[]
  const known = kind === 'retriever' || kind === 'reranker'
  if (!known && !items.every((item) => scoreOf(item) !== undefined || typeof item.pageContent === 'string' || typeof item.page_content === 'string')) return null
  return {
    kind: 'documents',
    docs: items.map((item, i) => {
      const id = item.id ?? (isObj(item.metadata) ? item.metadata.id ?? item.metadata.source : undefined)
      const score = scoreOf(item)
      return {
        text: textOf(item)!, path: [...at, i],
        ...(typeof id === 'string' || typeof id === 'number' ? { id: String(id) } : {}),
        ...(score === undefined ? {} : { score }),
        ...(item.metadata === undefined ? {} : { metadata: item.metadata }),
      }
    }),
  }
}

/** One chat message: OpenAI (`content` string or parts, `tool_calls`, `refusal`, `parsed`) or Anthropic (content blocks). */
export function messageOf(m: Obj, path: PathKey[]): Message {
  const parts = partsOf(m.content, [...path, 'content'])
  if (typeof m.refusal === 'string') parts.push({ type: 'refusal', text: m.refusal, path: [...path, 'refusal'] })
  if (Array.isArray(m.tool_calls)) {
    m.tool_calls.forEach((call, i) => {
      if (!isObj(call)) return
      const fn = isObj(call.function) ? call.function : call
      parts.push({ type: 'tool-call', name: str(fn.name) ?? '?', args: parseArgs(fn.arguments ?? fn.input), path: [...path, 'tool_calls', i], ...(typeof call.id === 'string' ? { id: call.id } : {}) })
    })
  }
  if (isObj(m.function_call)) parts.push({ type: 'tool-call', name: str(m.function_call.name) ?? '?', args: parseArgs(m.function_call.arguments), path: [...path, 'function_call'] })
  if (m.parsed !== undefined && m.parsed !== null) parts.push({ type: 'json', label: 'parsed', value: m.parsed, path: [...path, 'parsed'] })
  const role = str(m.role) ?? 'assistant'
  if (role === 'tool' && typeof m.tool_call_id === 'string') return { role, name: m.tool_call_id, parts: [{ type: 'tool-result', id: m.tool_call_id, parts, path: [...path, 'content'] }], path }
  const name = str(m.name)
  return name === undefined ? { role, parts, path } : { role, name, parts, path }
}

/** A message's content: a string, or a list of parts/blocks of any of the three APIs. */
export function partsOf(content: unknown, path: PathKey[]): Part[] {
  if (content === undefined || content === null) return []
  if (typeof content === 'string') return [{ type: 'text', text: content, path }]
  if (!Array.isArray(content)) return [{ type: 'json', label: 'content', value: content, path }]
  return content.map((block, i) => blockOf(block, [...path, i]))
}

function blockOf(block: unknown, path: PathKey[]): Part {
  if (typeof block === 'string') return { type: 'text', text: block, path }
  if (!isObj(block)) return { type: 'json', label: 'part', value: block, path }
  switch (block.type) {
    case 'text': case 'input_text': case 'output_text':
      if (typeof block.text === 'string') return block.parsed != null ? { type: 'json', label: 'parsed', value: block.parsed, path: [...path, 'parsed'] } : { type: 'text', text: block.text, path: [...path, 'text'] }
      break
    case 'refusal':
      return { type: 'refusal', text: str(block.refusal) ?? '', path: [...path, 'refusal'] }
    case 'thinking':
      return { type: 'thinking', text: str(block.thinking) ?? '', path: [...path, 'thinking'] }
    case 'redacted_thinking':
      return { type: 'thinking', text: '', redacted: true, path }
    case 'tool_use': case 'server_tool_use':
      return { type: 'tool-call', name: str(block.name) ?? '?', args: block.input, path, ...(typeof block.id === 'string' ? { id: block.id } : {}) }
    case 'tool_result':
      return { type: 'tool-result', parts: partsOf(block.content, [...path, 'content']), path, ...(typeof block.tool_use_id === 'string' ? { id: block.tool_use_id } : {}), ...(block.is_error === true ? { isError: true } : {}) }
    case 'image_url': case 'input_image': case 'image': case 'document': case 'file': case 'input_file': case 'input_audio':
      return imageOf(block, path)
  }
  return { type: 'json', label: str(block.type) ?? 'part', value: block, path }
}

/** An image (or file) part, as what it is: never its bytes, never a fetch. */
function imageOf(block: Obj, path: PathKey[]): Part {
  const source = isObj(block.source) ? block.source : block
  const nested = isObj(block.image_url) ? block.image_url : undefined
  const url = str(nested?.url) ?? str(block.image_url) ?? str(source.url) ?? str(block.file_data)
  const data = str(source.data) ?? (url?.startsWith('data:') ? url : undefined)
  const mime = str(source.media_type) ?? str(block.mime_type) ?? (data?.startsWith('data:') ? /^data:([^;,]+)/.exec(data)?.[1] : undefined)
  const base64 = data?.startsWith('data:') ? data.slice(data.indexOf(',') + 1) : data
  const size = base64 === undefined ? undefined : Math.floor((base64.length * 3) / 4)
  return {
    type: 'image', path,
    ...(mime === undefined ? (block.type === 'image_url' || block.type === 'input_image' || block.type === 'image' ? {} : { mime: String(block.type) }) : { mime }),
    ...(size === undefined ? {} : { size }),
    ...(url !== undefined && !url.startsWith('data:') ? { url } : {}),
  }
}

/** Responses items: messages, function calls and their outputs, reasoning summaries. */
function itemsOf(items: Obj[], path: PathKey[]): Message[] {
  const out: Message[] = []
  items.forEach((item, i) => {
    const at = [...path, i]
    if (typeof item.role === 'string') out.push(messageOf(item, at))
    else if (item.type === 'function_call' || item.type === 'custom_tool_call') out.push({ role: 'assistant', parts: [{ type: 'tool-call', name: str(item.name) ?? '?', args: parseArgs(item.arguments ?? item.input), path: at, ...(typeof item.call_id === 'string' ? { id: item.call_id } : {}) }], path: at })
    else if (item.type === 'function_call_output' || item.type === 'custom_tool_call_output') out.push({ role: 'tool', parts: [{ type: 'tool-result', parts: partsOf(item.output, [...at, 'output']), path: at, ...(typeof item.call_id === 'string' ? { id: item.call_id } : {}) }], path: at })
    else if (item.type === 'reasoning') {
      const summary = Array.isArray(item.summary) ? item.summary.map((s) => (isObj(s) ? str(s.text) ?? '' : '')).join('\n') : ''
      out.push({ role: 'assistant', parts: [{ type: 'thinking', text: summary, path: [...at, 'summary'] }], path: at })
    } else out.push({ role: 'assistant', parts: [{ type: 'json', label: str(item.type) ?? 'item', value: item, path: at }], path: at })
  })
  return out
}

/** Tool-call arguments: the JSON string parsed when it parses (never deep-merged), else the string. */
export function parseArgs(args: unknown): unknown {
  if (typeof args !== 'string') return args
  try { return JSON.parse(args) as unknown } catch { return args }
}

function paramsOf(params: Obj): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(params)) if (key !== 'tools' && key !== 'stream') out[key] = value
  if (Array.isArray(params.tools)) out.tools = params.tools.length
  return out
}

function textOf(item: Obj): string | undefined {
  for (const key of TEXT_KEYS) if (typeof item[key] === 'string') return item[key] as string
  return undefined
}

function scoreOf(item: Obj): number | undefined {
  for (const key of SCORE_KEYS) if (num(item[key]) !== undefined) return item[key] as number
  return undefined
}
