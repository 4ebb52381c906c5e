// `J` / `K` on the trace page (docs/ui.md#trace-page-in-detail): the next older / newer trace of the
// whole store by start time, found with the list API's `until` and `since` filters.
import { api, type Summary } from '../api.js'

interface Page { items: Summary[]; nextCursor: string | null }

/** The newest trace that started before `startedAt` (another id than `traceId`), or null. */
export async function olderTrace(traceId: string, startedAt: string): Promise<string | null> {
  const page = await api<Page>(`/api/traces?until=${encodeURIComponent(startedAt)}&limit=5`)
  return page.items.find((item) => item.traceId !== traceId)?.traceId ?? null
}

/**
 * The oldest trace that started after `startedAt`, or null. The list is newest first, so the search
 * widens a window after `startedAt` tenfold (10 ms, 100 ms, … about three years, then unbounded) until
 * one holds a trace, and takes that window's last (oldest) one.
 */
export async function newerTrace(traceId: string, startedAt: string): Promise<string | null> {
  const from = Date.parse(startedAt) + 1
  if (!Number.isFinite(from)) return null
  const since = new Date(from).toISOString()
  for (let width = 10; width <= 1e11 * 10; width *= 10) {
    const until = width > 1e11 ? '' : `&until=${encodeURIComponent(new Date(from + width).toISOString())}`
    let page = await api<Page>(`/api/traces?since=${encodeURIComponent(since)}${until}&limit=500`)
    let last: Summary | undefined
    for (let pages = 0; ; pages++) {
      last = [...page.items].reverse().find((item) => item.traceId !== traceId) ?? last
      if (page.nextCursor === null || pages > 20) break
      page = await api<Page>(`/api/traces?since=${encodeURIComponent(since)}${until}&limit=500&cursor=${encodeURIComponent(page.nextCursor)}`)
    }
    if (last !== undefined) return last.traceId
  }
  return null
}
