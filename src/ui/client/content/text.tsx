// Strings from a trace (docs/ui.md#content-rendering): text with its newlines and invisible characters
// made visible by default; a per-field Text / Markdown / JSON toggle, kept in localStorage; Markdown
// from the lazy chunk (markdown.ts), the one place HTML is inserted, and only DOMPurify's output.
import { useEffect, useRef, useState } from 'preact/hooks'
import { visibleSegments } from './visible.js'

/** A string as text nodes, with control and bidi characters as marked symbols (`␀`, `⟨U+202E⟩`). */
export function VisibleText(props: { text: string }) {
  const segments = visibleSegments(props.text)
  if (segments.length === 1 && segments[0]!.special === undefined) return <>{props.text}</>
  return <>{segments.map((segment) => (segment.special === undefined ? segment.text : <span class="invisible-char" title={segment.special}>{segment.text}</span>))}</>
}

/** The capture markers: `[Truncated: budget]`, `…[truncated N chars]`, `… N more items`, `[Object]` (docs/capture-and-redaction.md#budgets-and-markers). */
export const TRUNCATION = /\[Truncated: [^\]]*\]|\.\.\.\[truncated \d+ chars\]|^… \d+ more items$|^\d+ more keys$|^\[(?:Object|Array)\]$/

const MARKERS = /\[Truncated: [^\]\n]*\]|\.\.\.\[truncated \d+ chars\]/g
const MARKER_TITLE = 'cut short by capture: docs/capture-and-redaction.md#budgets-and-markers'

/** Text with capture markers highlighted (a whole-string marker such as `[Object]`, or markers inside it). */
export function MarkedText(props: { text: string }) {
  const { text } = props
  if (TRUNCATION.test(text) && !MARKERS.test(text)) return <span class="truncated-marker" title={MARKER_TITLE}><VisibleText text={text} /></span>
  MARKERS.lastIndex = 0
  const out = []
  let last = 0
  for (let match = MARKERS.exec(text); match !== null; match = MARKERS.exec(text)) {
    if (match.index > last) out.push(<VisibleText text={text.slice(last, match.index)} />)
    out.push(<span class="truncated-marker" title={MARKER_TITLE}>{match[0]}</span>)
    last = match.index + match[0].length
  }
  if (out.length === 0) return <VisibleText text={text} />
  if (last < text.length) out.push(<VisibleText text={text.slice(last)} />)
  return <>{out}</>
}

export type Format = 'text' | 'markdown' | 'json'
const STORAGE = 'tracellm.formats'

function loadFormats(): Record<string, Format> {
  try { return JSON.parse(localStorage.getItem(STORAGE) ?? '{}') as Record<string, Format> } catch { return {} }
}

/** The format chosen for strings at `key` (a path pattern such as `output:$.content`), `text` unless chosen. */
export function savedFormat(key: string): Format {
  const format = loadFormats()[key]
  return format === 'markdown' || format === 'json' ? format : 'text'
}

export function saveFormat(key: string, format: Format): void {
  try {
    const formats = loadFormats()
    if (format === 'text') delete formats[key]
    else formats[key] = format
    localStorage.setItem(STORAGE, JSON.stringify(formats))
  } catch {
    // storage full or refused: the choice lasts for this page only
  }
}

export function parses(text: string): { ok: true; value: unknown } | { ok: false } {
  const trimmed = text.trim()
  if (!/^[[{"]/.test(trimmed) || text.length > 2 * 1024 * 1024) return { ok: false }
  try { return { ok: true, value: JSON.parse(trimmed) as unknown } } catch { return { ok: false } }
}

/** Markdown rendered by the lazy chunk: the fragment DOMPurify returns is appended, nothing else. */
export function Markdown(props: { text: string }) {
  const ref = useRef<HTMLDivElement>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let live = true
    import('./markdown.js')
      .then(({ renderMarkdown }) => {
        const host = ref.current
        if (!live || host === null) return
        host.replaceChildren(renderMarkdown(props.text))
      })
      .catch((caught: unknown) => { if (live) setError(caught instanceof Error ? caught.message : String(caught)) })
    return () => { live = false }
  }, [props.text])
  return error === null ? <div class="markdown" ref={ref} data-testid="markdown" /> : <p class="err">{error}</p>
}
