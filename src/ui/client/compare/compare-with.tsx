// "Compare with…" for a trace (docs/ui.md#compare): a picker over the traces of the same prompt,
// newest first, each opening /compare?a=<picked>&b=<this>; and, for a replay, "compare with original".
import { useState } from 'preact/hooks'
import { api, messageOf, type Summary } from '../api.js'
import { duration, short, time } from '../format.js'
import { Link } from '../router.js'

export function CompareWith(props: { traceId: string; prompt: string; replayOf?: string | null }) {
  const { traceId, prompt, replayOf } = props
  const [open, setOpen] = useState(false)
  const [items, setItems] = useState<Summary[] | null>(null)
  const [error, setError] = useState<string | null>(null)

  const toggle = (): void => {
    const next = !open
    setOpen(next)
    if (!next || items !== null) return
    api<{ items: Summary[] }>(`/api/traces?${new URLSearchParams({ prompt, limit: '20' }).toString()}`)
      .then((page) => { setItems(page.items.filter((item) => item.traceId !== traceId)); setError(null) })
      .catch((caught: unknown) => setError(messageOf(caught)))
  }

  return (
    <span class="compare-with" data-testid="compare-with" data-trace-id={traceId}>
      {replayOf != null && /^[0-9a-f]{32}$/.test(replayOf) && (
        <Link href={`/compare?a=${replayOf}&b=${traceId}`} class="compare-original">compare with original</Link>
      )}
      <button type="button" aria-expanded={open ? 'true' : 'false'} onClick={toggle}>Compare with…</button>
      {open && (
        <div class="compare-picker" role="listbox" aria-label={`traces of the prompt ${prompt}`}>
          {error !== null && <p class="err" role="alert">{error}</p>}
          {items === null && error === null && <p class="muted">loading…</p>}
          {items !== null && items.length === 0 && <p class="muted">No other trace of this prompt.</p>}
          {items !== null && items.map((item) => (
            <Link href={`/compare?a=${item.traceId}&b=${traceId}`} class="compare-choice">
              <span class="mono">{short(item.traceId)}</span>
              <span>{time(item.startedAt)}</span>
              <span class={`status-${item.status}`}>{item.status}</span>
              <span class="muted">{duration(item.durationMs)}</span>
            </Link>
          ))}
        </div>
      )}
    </span>
  )
}
