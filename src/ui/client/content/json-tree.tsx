// The JSON tree (docs/ui.md#content-rendering): collapsed below depth 2 (a large field: from its root),
// arrays and objects paged 100 entries at a time, each node with "copy value" and "copy JSON path";
// clicking a node's key puts its path in the URL (`&path=`), and a path in the URL opens the tree down
// to its node and highlights it. Every value is a text node.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { isPrefix, jsonPath, pathPattern, type PathKey } from './path.js'
import { Markdown, MarkedText, parses, savedFormat, saveFormat, type Format } from './text.js'

const PAGE = 100
/** Strings longer than this, or with a newline, get their own block with the Text / Markdown / JSON toggle. */
const LONG = 120

export interface TreeProps {
  readonly value: unknown
  /** Where the value sits in its field (its keys from the field's root). */
  readonly path: PathKey[]
  /** The path in the URL, opened and highlighted. */
  readonly selected: PathKey[] | null
  readonly onPath?: (path: PathKey[]) => void
  /** Depth from which containers start collapsed. @default 2 */
  readonly openDepth?: number
  /** Prefix of the saved Text / Markdown / JSON choices (the field's name). */
  readonly field?: string
}

/** Copies `text` to the clipboard; the button says so for a second. */
export function CopyButton(props: { label: string; title: string; text: () => string }) {
  const [done, setDone] = useState(false)
  return (
    <button
      type="button" class="copy" title={props.title} aria-label={props.title}
      onClick={(event) => {
        event.stopPropagation()
        void navigator.clipboard.writeText(props.text()).then(() => { setDone(true); setTimeout(() => setDone(false), 1000) }, () => undefined)
      }}
    >
      {done ? '✓' : props.label}
    </button>
  )
}

export const copyText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value, null, 2) ?? String(value))

export function JsonTree(props: TreeProps) {
  return (
    <div class="json-tree" data-testid="json-tree">
      <Node {...props} label={null} depth={0} />
    </div>
  )
}

function Node(props: TreeProps & { label: PathKey | null; depth: number }) {
  const { value, path, selected } = props
  const container = value !== null && typeof value === 'object'
  const onSelectedPath = selected !== null && isPrefix(path, selected) && path.length < selected.length
  const [open, setOpen] = useState(() => props.depth < (props.openDepth ?? 2) || onSelectedPath)
  const [shown, setShown] = useState(PAGE)
  const isSelected = selected !== null && selected.length === path.length && isPrefix(path, selected)
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => { if (onSelectedPath) setOpen(true) }, [onSelectedPath])
  useEffect(() => { if (isSelected) ref.current?.scrollIntoView({ block: 'center' }) }, [isSelected])
  const longString = typeof value === 'string' && (value.length > LONG || value.includes('\n'))
  const entries: Array<[PathKey, unknown]> = !container ? [] : Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value as object)
  const key = props.label === null ? null : typeof props.label === 'number' ? `${props.label}` : JSON.stringify(props.label)
  const pathText = jsonPath(path)
  return (
    <div class={`node${isSelected ? ' selected-node' : ''}`} data-path={pathText} ref={ref}>
      <div class="node-line">
        {container ? <button type="button" class="toggle" aria-expanded={open} aria-label={open ? 'collapse' : 'expand'} onClick={() => setOpen(!open)}>{open ? '▾' : '▸'}</button> : <span class="toggle" />}
        {key !== null && (
          <span class={`key${props.label === '…' ? ' truncated-marker' : ''}`} title={pathText} onClick={() => props.onPath?.(path)}><MarkedText text={key} /></span>
        )}
        {key !== null && ': '}
        {container ? (
          <span class="summary" onClick={() => setOpen(!open)}>{Array.isArray(value) ? `[${entries.length} item${entries.length === 1 ? '' : 's'}]` : `{${entries.length} key${entries.length === 1 ? '' : 's'}}`}</span>
        ) : longString ? (
          <span class="muted">{`${(value as string).length.toLocaleString()} chars`}</span>
        ) : (
          <Scalar value={value} />
        )}
        <span class="node-actions">
          <CopyButton label="copy" title="copy value" text={() => copyText(value)} />
          <CopyButton label="path" title="copy JSON path" text={() => pathText} />
        </span>
      </div>
      {longString && (
        <div class="node-children">
          <StringView text={value as string} formatKey={`${props.field ?? ''}:${pathPattern(path)}`} path={path} />
        </div>
      )}
      {container && open && (
        <div class="node-children">
          {entries.slice(0, shown).map(([name, child]) => (
            <Node value={child} path={[...path, name]} selected={selected} onPath={props.onPath} openDepth={props.openDepth} field={props.field} label={name} depth={props.depth + 1} />
          ))}
          {entries.length > shown && (
            <button type="button" class="more" onClick={() => setShown(shown + PAGE)}>
              {`show ${Math.min(PAGE, entries.length - shown)} more (${shown.toLocaleString()} of ${entries.length.toLocaleString()} shown)`}
            </button>
          )}
        </div>
      )}
    </div>
  )
}

function Scalar(props: { value: unknown }) {
  const { value } = props
  if (typeof value === 'string') {
    return <span class="v-string">"<MarkedText text={value} />"</span>
  }
  if (value === null) return <span class="v-null">null</span>
  return <span class={`v-${typeof value}`}>{String(value)}</span>
}

/**
 * A string field with its toggle: Text (default), Markdown (sanitized, lazily loaded) and JSON (only
 * when the string parses). `formatKey` names the field for the saved choice.
 */
export function StringView(props: { text: string; formatKey: string; path: PathKey[]; selected?: string | null; onPath?: (path: PathKey[]) => void }) {
  const [format, setFormat] = useState<Format>(() => savedFormat(props.formatKey))
  const parsed = useMemo(() => (format === 'json' || props.text.length < 100_000 ? parses(props.text) : { ok: false as const }), [props.text, format === 'json'])
  const shown: Format = format === 'json' && !parsed.ok ? 'text' : format
  const choose = (next: Format): void => { setFormat(next); saveFormat(props.formatKey, next) }
  return (
    <div class="string-view" data-format={shown}>
      <div class="format-toggle" role="group" aria-label="format">
        {(['text', 'markdown', 'json'] as const).map((name) =>
          name === 'json' && !parsed.ok ? null : (
            <button type="button" class={shown === name ? 'active' : ''} aria-pressed={shown === name} onClick={() => choose(name)}>
              {name === 'text' ? 'Text' : name === 'markdown' ? 'Markdown' : 'JSON'}
            </button>
          ),
        )}
      </div>
      {shown === 'text' && <div class="text-block"><MarkedText text={props.text} /></div>}
      {shown === 'markdown' && <Markdown text={props.text} />}
      {shown === 'json' && parsed.ok && <JsonTree value={parsed.value} path={[]} selected={null} />}
    </div>
  )
}

