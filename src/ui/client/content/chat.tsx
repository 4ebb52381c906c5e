// Drawing a recognised shape (docs/ui.md#content-rendering): chat messages as role-coloured bubbles,
// tool calls as cards with their arguments as a tree, images as chips (a remote address is text, with
// at most a click-to-open link), retrieved documents as a list with scores, embeddings as a count,
// a reranker's output as its new order. Every string is a text node.
import { JsonTree, StringView } from './json-tree.js'
import type { PathKey } from './path.js'
import type { Doc, Message, Part, Shape } from './shapes.js'
import { MarkedText, VisibleText } from './text.js'

export interface ViewProps {
  /** The field (`input`, `output`): names the saved Text / Markdown / JSON choices. */
  readonly field: string
  readonly selected: PathKey[] | null
  readonly onPath?: (path: PathKey[]) => void
}

export function ShapeView(props: ViewProps & { shape: Shape }) {
  const { shape } = props
  switch (shape.kind) {
    case 'chat':
      return (
        <div class="chat" data-shape={shape.flavor}>
          <Params params={shape.params} />
          {shape.messages.map((message) => <Bubble message={message} {...props} />)}
          {shape.finish !== undefined && <p class="finish muted">{'finish: '}<span class="chip">{shape.finish}</span></p>}
        </div>
      )
    case 'documents':
      return <Documents docs={shape.docs} {...props} />
    case 'embeddings':
      return <p class="embeddings" data-shape="embeddings">{`${shape.count.toLocaleString()} vector${shape.count === 1 ? '' : 's'}${shape.dimensions === undefined ? '' : ` × ${shape.dimensions.toLocaleString()}`}`}<span class="muted"> (the vectors are not recorded)</span></p>
    case 'rerank':
      return (
        <ol class="rerank" data-shape="rerank">
          {shape.order.map((item, rank) => (
            <li>
              <span class="chip">{`#${rank + 1}`}</span>{` ← document ${item.index}`}
              {item.score !== undefined && <span class="score">{` score ${formatScore(item.score)}`}</span>}
              {item.text !== undefined && <div class="doc-text"><MarkedText text={item.text} /></div>}
            </li>
          ))}
        </ol>
      )
  }
}

function Params(props: { params: Record<string, unknown> }) {
  const entries = Object.entries(props.params).filter(([, value]) => value !== null && typeof value !== 'object')
  if (entries.length === 0) return null
  return <p class="chat-params muted">{entries.map(([key, value]) => <span class="chip"><VisibleText text={`${key}: ${String(value)}`} /></span>)}</p>
}

/** One message: its role as a coloured bubble, its parts in order. */
export function Bubble(props: ViewProps & { message: Message }) {
  const { message } = props
  const role = ['system', 'developer', 'user', 'assistant', 'tool', 'function'].includes(message.role) ? message.role : 'other'
  return (
    <div class={`bubble role-${role}`} data-role={message.role}>
      <div class="bubble-role"><VisibleText text={message.role} />{message.name !== undefined && <span class="muted"> <VisibleText text={message.name} /></span>}</div>
      {message.parts.length === 0 && <span class="muted">(no content)</span>}
      {message.parts.map((part) => <PartView part={part} {...props} />)}
    </div>
  )
}

function PartView(props: ViewProps & { part: Part }) {
  const { part, field } = props
  switch (part.type) {
    case 'text':
      return <StringView text={part.text} formatKey={`${field}:message`} path={part.path} />
    case 'refusal':
      return <div class="refusal"><span class="chip">refusal</span> <MarkedText text={part.text} /></div>
    case 'thinking':
      return (
        <details class="thinking">
          <summary>{part.redacted === true ? 'thinking (redacted)' : `thinking (${part.text.length.toLocaleString()} chars)`}</summary>
          <div class="text-block"><MarkedText text={part.text} /></div>
        </details>
      )
    case 'image':
      return <ImageChip part={part} />
    case 'tool-call':
      return (
        <div class="tool-card" data-tool={part.name}>
          <div class="tool-head"><span class="chip">tool call</span> <b><VisibleText text={part.name} /></b>{part.id !== undefined && <span class="muted mono"> <VisibleText text={part.id} /></span>}</div>
          {typeof part.args === 'string'
            ? <StringView text={part.args} formatKey={`${field}:tool-args`} path={part.path} />
            : <JsonTree value={part.args} path={part.path} selected={props.selected} onPath={props.onPath} openDepth={4} field={field} />}
        </div>
      )
    case 'tool-result':
      return (
        <div class={`tool-card result${part.isError === true ? ' error' : ''}`}>
          <div class="tool-head"><span class="chip">{part.isError === true ? 'tool error' : 'tool result'}</span>{part.id !== undefined && <span class="muted mono"> <VisibleText text={part.id} /></span>}</div>
          {part.parts.map((inner) => <PartView {...props} part={inner} />)}
        </div>
      )
    case 'json':
      return (
        <div class="json-part">
          <span class="chip">{part.label}</span>
          <JsonTree value={part.value} path={part.path} selected={props.selected} onPath={props.onPath} openDepth={3} field={field} />
        </div>
      )
  }
}

/** An image or file: what it is and how big, never its pixels; a remote address is shown as text. */
function ImageChip(props: { part: Extract<Part, { type: 'image' }> }) {
  const { mime, size, url } = props.part
  const details = [mime, size === undefined ? undefined : bytes(size)].filter(Boolean).join(', ')
  const web = url !== undefined && /^https?:\/\//i.test(url)
  return (
    <div class="image-part">
      <span class="chip image-chip">{`${mime === undefined || mime.startsWith('image/') ? 'image' : 'file'}${details === '' ? '' : ` (${details})`}`}</span>
      {url !== undefined && <span class="mono url"> <VisibleText text={url} /></span>}
      {web && <> <a href={url} target="_blank" rel="noopener noreferrer" title="opens the address in a new tab">open ↗</a></>}
    </div>
  )
}

function Documents(props: ViewProps & { docs: Doc[] }) {
  return (
    <ol class="documents" data-shape="documents">
      {props.docs.map((doc) => (
        <li class="document">
          <div class="doc-head">
            {doc.id !== undefined && <span class="mono"><VisibleText text={doc.id} /></span>}
            {doc.score !== undefined && <span class="score chip">{`score ${formatScore(doc.score)}`}</span>}
          </div>
          <StringView text={doc.text} formatKey={`${props.field}:document`} path={doc.path} />
          {doc.metadata !== undefined && (
            <details class="doc-meta"><summary class="muted">metadata</summary><JsonTree value={doc.metadata} path={[...doc.path, 'metadata']} selected={props.selected} onPath={props.onPath} field={props.field} /></details>
          )}
        </li>
      ))}
    </ol>
  )
}

export const formatScore = (score: number): string => (Math.abs(score) >= 100 ? score.toFixed(0) : score.toFixed(3))

export function bytes(size: number): string {
  if (size < 1024) return `${size} B`
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`
  return `${(size / 1024 / 1024).toFixed(1)} MiB`
}
