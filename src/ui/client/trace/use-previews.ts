// The steps' input and output previews (docs/ui.md#trace-page-in-detail): kept out of the skeleton so that it
// stays small, asked for only when find has a word to look for or the Messages view is shown, and shared
// by both (one request per trace: the last trace's answer is kept).
import { useEffect, useState } from 'preact/hooks'
import { api, type Previews } from '../api.js'

let last: { traceId: string; answer: Promise<Previews | null> } | undefined

function load(traceId: string): Promise<Previews | null> {
  if (last?.traceId !== traceId) {
    // previews only help find and the Messages view: without them both still work on the skeleton
    last = { traceId, answer: api<Previews>(`/api/traces/${traceId}/previews`).catch(() => null) }
  }
  return last.answer
}

/** The previews of `traceId` once loaded (`null` until then, or when they could not be loaded); asked for only while `ready`. */
export function usePreviews(traceId: string, ready = true): Previews | null {
  const [previews, setPreviews] = useState<Previews | null>(null)
  useEffect(() => {
    if (!ready) return
    let live = true
    void load(traceId).then((answer) => { if (live && answer?.traceId === traceId) setPreviews(answer) })
    return () => { live = false }
  }, [traceId, ready])
  // once loaded they stay (find cleared and typed again asks nothing); another trace's are never returned
  return previews?.traceId === traceId ? previews : null
}
