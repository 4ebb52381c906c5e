/**
 * Finding one step of a large stored document by its bytes (docs/stores.md#reading-traces-openstore). SQLite's
 * `json_extract` parses the whole document to reach one step: for 5 000 steps in ~17 MB, hundreds of
 * milliseconds per step the viewer opens. Writers store a document's steps in `seq` order, each object
 * beginning with its `step_id` key, and a `"` inside a JSON string is always escaped, so a step's object
 * starts at `{"step_id":"<its id>"` and ends where the next step's begins. Node finds both in the
 * document's bytes with `Buffer.indexOf` in a few milliseconds; only the text between is parsed. The
 * bytes of the last document read are kept until the store's data version changes.
 */
import type BetterSqlite3 from 'better-sqlite3'

/** Documents with fewer steps keep `json_extract`, which is as fast on them. */
const MIN_STEPS = 100

interface Located {
  readonly root_span_id: string
  readonly seq: number
  readonly name: string
  readonly next: string | null
}

/**
 * @internal A finder of the wire step `stepId` of the trace's earliest document holding it, or
 * `undefined` when it cannot tell: a small document, the last step (nothing after it to end on), or
 * text that does not parse or does not match the step's row in `steps` (id, seq, name). The caller then
 * extracts in SQL as before, so this is never less right than `json_extract`.
 */
export function stepByBytes(db: BetterSqlite3.Database, version: () => string): (traceId: string, stepId: string) => Record<string, unknown> | undefined {
  const locate = db.prepare<[string, string, number], Located>(
    'SELECT s.root_span_id, s.seq, s.name, n.step_id AS next FROM steps s JOIN traces t ON t.trace_id = s.trace_id AND t.root_span_id = s.root_span_id ' +
      'LEFT JOIN steps n ON n.trace_id = s.trace_id AND n.root_span_id = s.root_span_id AND n.seq = s.seq + 1 ' +
      'WHERE s.trace_id = ? AND s.step_id = ? AND t.step_count >= ? ORDER BY t.started_at, t.root_span_id LIMIT 1',
  )
  const bytes = db.prepare<[string, string], { document: Buffer }>('SELECT CAST(document AS BLOB) AS document FROM traces WHERE trace_id = ? AND root_span_id = ?')
  // the bytes of the last document read: the steps of one trace are opened one after another, and each
  // read of a large document costs tens of milliseconds and as many megabytes; dropped on any commit
  let last: { readonly key: string; readonly document: Buffer } | undefined
  const documentOf = (traceId: string, rootSpanId: string): Buffer | undefined => {
    const key = version() + ' ' + traceId + ' ' + rootSpanId
    if (last?.key === key) return last.document
    last = undefined
    const document = bytes.get(traceId, rootSpanId)?.document
    if (!Buffer.isBuffer(document)) return undefined
    last = { key, document }
    return document
  }
  return (traceId, stepId) => {
    const row = locate.get(traceId, stepId, MIN_STEPS)
    if (row === undefined || row.next === null) return undefined
    const document = documentOf(traceId, row.root_span_id)
    if (document === undefined) return undefined
    const start = document.indexOf(`{"step_id":"${stepId}"`)
    const end = start < 0 ? -1 : document.indexOf(`,{"step_id":"${row.next}"`, start + 1)
    if (end < 0) return undefined
    let step: unknown
    try {
      step = JSON.parse(document.toString('utf8', start, end))
    } catch {
      return undefined
    }
    if (typeof step !== 'object' || step === null || Array.isArray(step)) return undefined
    const found = step as Record<string, unknown>
    return found.step_id === stepId && found.seq === row.seq && found.name === row.name ? found : undefined
  }
}
