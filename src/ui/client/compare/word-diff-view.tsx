// A word-level diff of two strings (docs/ui.md#compare): jsdiff's diffWords, loaded on first use from
// a lazy chunk. Removed words are <del>, added words <ins>, everything as text nodes.
import { useEffect, useState } from 'preact/hooks'

interface Part { value: string; added: boolean; removed: boolean }

/** Strings longer than this (either side) are not word-diffed: shown whole, before and after. */
const MAX_CHARS = 50_000

export function WordDiff(props: { before: string; after: string }) {
  const { before, after } = props
  const [parts, setParts] = useState<Part[] | null | 'failed'>(null)
  useEffect(() => {
    let live = true
    setParts(null)
    if (before.length > MAX_CHARS || after.length > MAX_CHARS) { setParts('failed'); return }
    import('./word-diff.js')
      // a pathological pair gives up after 500 ms and falls back to before / after
      .then(({ diffWords }) => diffWords(before, after, { timeout: 500 }) ?? 'failed')
      .then((result) => { if (live) setParts(result) })
      .catch(() => { if (live) setParts('failed') })
    return () => { live = false }
  }, [before, after])
  if (parts === null) return <div class="word-diff muted">computing the word diff…</div>
  if (parts === 'failed') {
    return (
      <div class="word-diff">
        <div><del>{before}</del></div>
        <div><ins>{after}</ins></div>
      </div>
    )
  }
  return (
    <div class="word-diff" data-testid="word-diff">
      {parts.map((part) => (part.added ? <ins>{part.value}</ins> : part.removed ? <del>{part.value}</del> : <span>{part.value}</span>))}
    </div>
  )
}
