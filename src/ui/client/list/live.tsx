// The list's live bar (docs/ui.md#traces-list-in-detail): `/api/events` says when the store changed;
// the bar counts the traces newer than the first row that match the filters. The rows never move
// until the bar is clicked.
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, type Summary } from '../api.js'

/** How many traces matching `filters` started after the first of `items`, kept up to date while `on`. */
export function useNewTraces(on: boolean, filters: string, items: ReadonlyArray<Summary>): number {
  const [fresh, setFresh] = useState(0)
  const latest = useRef({ filters, items })
  latest.current = { filters, items }
  const resumed = useRef(false)
  useEffect(() => { setFresh(0) }, [filters, items[0]?.traceId, items[0]?.startedAt])
  useEffect(() => {
    if (!on) {
      resumed.current = true
      return
    }
    const controller = new AbortController()
    const check = async (): Promise<void> => {
      const { filters: current, items: shown } = latest.current
      const first = shown[0]
      const params = new URLSearchParams(current)
      // the first row matches the filters, so its start narrows any `since` of theirs
      if (first !== undefined) params.set('since', first.startedAt)
      try {
        const { count } = await api<{ count: number }>(`/api/traces/count?${params.toString()}`)
        if (controller.signal.aborted || latest.current.filters !== current) return
        const already = first === undefined ? 0 : shown.filter((item) => item.startedAt >= first.startedAt).length
        setFresh(Math.max(0, count - already))
      } catch {
        // the next change tries again
      }
    }
    // after a pause, whatever arrived meanwhile
    if (resumed.current) void check()
    const source = new EventSource('/api/events')
    source.addEventListener('traces', (event) => {
      let newest: string | null = null
      try { newest = (JSON.parse((event as MessageEvent<string>).data) as { newestStartedAt: string | null }).newestStartedAt } catch { return }
      const first = latest.current.items[0]
      if (newest !== null && (first === undefined || newest > first.startedAt)) void check()
    })
    return () => { controller.abort(); source.close() }
  }, [on, filters])
  return on ? fresh : 0
}

/** "▲ N new traces": clicking it loads the first page again. */
export function LiveBar(props: { count: number; onShow: () => void }) {
  if (props.count === 0) return null
  return (
    <button type="button" class="live-bar" data-testid="live-bar" onClick={props.onShow}>
      {`▲ ${props.count.toLocaleString()} new trace${props.count === 1 ? '' : 's'}`}
    </button>
  )
}

/** Every document of each trace, as `/api/traces/:id/export` sends it, in one JSON Lines file saved by the browser. */
export async function downloadJsonl(traceIds: ReadonlyArray<string>): Promise<void> {
  const parts = await Promise.all(traceIds.map(async (traceId) => {
    const response = await fetch(`/api/traces/${traceId}/export`, { credentials: 'same-origin' })
    if (!response.ok) throw new Error(`cannot export ${traceId}: ${response.status}`)
    const text = await response.text()
    return text.endsWith('\n') || text === '' ? text : `${text}\n`
  }))
  const url = URL.createObjectURL(new Blob(parts, { type: 'application/x-ndjson' }))
  const link = document.createElement('a')
  link.href = url
  link.download = traceIds.length === 1 ? `trace-${traceIds[0]}.jsonl` : `traces-${traceIds.length}.jsonl`
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 30_000)
}
