// One captured field (docs/ui.md#content-rendering): a recognised shape drawn as bubbles, documents…
// (with a switch to its JSON tree), a string with its Text / Markdown / JSON toggle, anything else as a
// JSON tree. A field the server gated (over 256 KiB) shows its 64 KiB preview as text, never parsed,
// its size and the raw link; up to 2 MiB it can be loaded whole into a tree that starts collapsed.
import { useMemo, useState } from 'preact/hooks'
import type { Gated } from './api.js'
import { bytes, ShapeView } from './content/chat.js'
import { JsonTree, StringView } from './content/json-tree.js'
import type { PathKey } from './content/path.js'
import { detectShape } from './content/shapes.js'
import { MarkedText } from './content/text.js'

/** Fields up to this size are loaded whole on request; above it only the preview and the raw link. */
const LOADABLE = 2 * 1024 * 1024
/** Inline fields larger than this start collapsed at their root; larger than MEDIUM, below depth 1. */
const LARGE = 256 * 1024
const MEDIUM = 64 * 1024

export interface FieldProps {
  readonly label: string
  readonly field: Gated | undefined
  /** The field's name (`input`, `output`, `error`, `metadata`): the shape to look for and the saved choices' key. */
  readonly name?: string
  /** The step's kind, a hint for the shape (retriever, reranker, embedding). */
  readonly kind?: string
  readonly selected?: PathKey[] | null
  readonly onPath?: (path: PathKey[]) => void
}

export function Field(props: FieldProps) {
  const field = props.field
  // the trace header sends `null` for a field the trace does not have (an output of a failed trace)
  if (field == null) return null
  return (
    <section class="field" data-field={props.name ?? props.label}>
      <h4>{props.label}</h4>
      {field.inline ? <Value {...props} value={field.value} /> : <Gated {...props} field={field} />}
    </section>
  )
}

/** An inline value: its shape if it has one (or the tree, switched), else a string view or a tree. */
export function Value(props: FieldProps & { value: unknown }) {
  const { value } = props
  // a caller that names no field ("Trace input") still gets its input or output shapes
  const name = props.name ?? (/input$/i.test(props.label) ? 'input' : /output$/i.test(props.label) ? 'output' : props.label)
  const selected = props.selected ?? null
  const shape = useMemo(() => (name === 'input' || name === 'output' ? detectShape(value, name, props.kind) : null), [value, name, props.kind])
  const size = useMemo(() => (value !== null && typeof value === 'object' ? approximateSize(value) : 0), [value])
  // a deep-linked path opens the tree, where every node has its path
  const [tree, setTree] = useState(() => selected !== null && selected.length > 0)
  const showTree = shape === null || tree
  if (typeof value === 'string') return <StringView text={value} formatKey={`${name}:$`} path={[]} />
  return (
    <div>
      {shape !== null && (
        <div class="view-switch" role="group" aria-label="view">
          <button type="button" class={showTree ? '' : 'active'} aria-pressed={!showTree} onClick={() => setTree(false)}>{shapeLabel(shape.shape.kind)}</button>
          <button type="button" class={showTree ? 'active' : ''} aria-pressed={showTree} onClick={() => setTree(true)}>JSON tree</button>
        </div>
      )}
      {shape !== null && !showTree
        ? <ShapeView shape={shape.shape} field={name} selected={selected} onPath={props.onPath} />
        : <JsonTree value={value} path={[]} selected={selected} onPath={props.onPath} openDepth={size > LARGE ? 0 : size > MEDIUM ? 1 : 2} field={name} />}
    </div>
  )
}

const shapeLabel = (kind: string): string => (kind === 'chat' ? 'Messages' : kind === 'documents' ? 'Documents' : kind === 'rerank' ? 'New order' : 'Summary')

function Gated(props: FieldProps & { field: Extract<Gated, { inline: false }> }) {
  const { field } = props
  const [loaded, setLoaded] = useState<{ value: unknown } | { error: string } | 'loading' | null>(null)
  const load = (): void => {
    setLoaded('loading')
    fetch(field.rawUrl, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(async (response) => {
        if (!response.ok) throw new Error(`${response.status} ${response.statusText}`)
        return (await response.json()) as unknown
      })
      .then((value) => setLoaded({ value }), (caught: unknown) => setLoaded({ error: caught instanceof Error ? caught.message : String(caught) }))
  }
  return (
    <div class="gated">
      <p class="muted">
        {`Preview of ${field.bytes.toLocaleString()} bytes. `}
        <a href={field.rawUrl} target="_blank" rel="noopener noreferrer">Open the whole value (raw JSON)</a>
        {field.bytes <= LOADABLE && loaded === null && <> <button type="button" class="load-tree" onClick={load}>{`Load as a tree (${bytes(field.bytes)})`}</button></>}
      </p>
      {loaded === 'loading' && <p class="muted">Loading…</p>}
      {loaded !== null && loaded !== 'loading' && ('error' in loaded
        ? <p class="err">{loaded.error}</p>
        : <JsonTree value={loaded.value} path={[]} selected={props.selected ?? null} onPath={props.onPath} openDepth={0} field={props.name ?? props.label} />)}
      {(loaded === null || loaded === 'loading') && <pre class="json preview"><MarkedText text={field.preview} /></pre>}
    </div>
  )
}

/** A cheap upper bound of a value's JSON size that stops counting past the large-field limit. */
function approximateSize(value: unknown): number {
  let size = 0
  const stack: unknown[] = [value]
  while (stack.length > 0 && size <= LARGE) {
    const item = stack.pop()
    if (typeof item === 'string') size += item.length + 2
    else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) { size += key.length + 4; stack.push(child) }
    } else size += 6
  }
  return size
}
