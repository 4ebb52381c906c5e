/**
 * Reading one step, or the header, of a stored document without parsing all of it
 * (docs/stores.md#reading-traces-openstore). SQLite's `json_extract` and `json_set` parse the whole
 * document: for 5 000 steps in ~17 MB, ~100–200 milliseconds per step the viewer opens, and as long
 * for the trace's header.
 *
 * - Since migration 5 a write records where each step's object lies in the document's bytes
 *   (`steps.doc_offset`, `doc_length`, from `toStoredDocument`): a step is read with `substr` (~12 ms
 *   for 17 MB: SQLite still reads the value, JavaScript gets the step's bytes only), the header as the
 *   bytes before the first step and after the last.
 * - A document stored before has no ranges. Writers store a document's steps in `seq` order, each
 *   object beginning with its `step_id` key, and a `"` inside a JSON string is always escaped, so a
 *   step's object starts at `{"step_id":"<its id>"` and ends where the next step's begins: Node finds
 *   both in the document's text with `indexOf`; only the text between is parsed. The text of the last
 *   document read is kept until the store's data version changes, so the header and the steps the
 *   viewer opens next cost one read.
 *
 * Whatever is found is checked (the step's id, seq and name; the header's ids and keys) and anything
 * else answers `undefined`: the caller then extracts in SQL, so this is never less right than `json_extract`.
 */
import type BetterSqlite3 from 'better-sqlite3'

/** @internal Documents with fewer steps keep `json_extract` and `json_set`, which are as fast on them. */
export const MIN_STEPS = 100

/** The keys `toWire` writes after `steps` (src/document/wire.ts): all a header's tail may hold. */
const TAIL_KEYS = new Set(['truncated', 'dropped_steps', 'replay_of', 'parent_trace_id', 'parent_step_id', 'sdk'])

interface Located {
  readonly root_span_id: string
  readonly seq: number
  readonly name: string
  readonly next: string | null
  readonly doc_offset: number | null
  readonly doc_length: number | null
  readonly input_bytes: number
  readonly output_bytes: number
}

interface Bounds {
  readonly first: string | null
  readonly last: string | null
  /** Where the first step begins in the document's bytes, and where the last ends (migration 5; else null). */
  readonly head: number | null
  readonly tail: number | null
}

/** @internal What `documentText` finds in a large document's text. */
export interface DocumentText {
  /**
   * The wire step `stepId` of the trace's earliest document holding it: by its recorded byte range, or
   * else (a document stored before migration 5) in the document's text. `undefined` when it cannot
   * tell: no range and a small document or the last step (nothing after it to end on), or text that
   * does not parse or does not match the step's row in `steps` (id, seq, name). The caller then
   * extracts in SQL as before, so this is never less right than `json_extract`.
   */
  step(traceId: string, stepId: string): Record<string, unknown> | undefined
  /**
   * The wire document `(traceId, rootSpanId)` with `steps: []`, or `undefined` when it cannot tell (a
   * small document, or text that does not parse as a document of that id once its steps are cut out).
   */
  header(traceId: string, rootSpanId: string): Record<string, unknown> | undefined
  /**
   * The wire step `stepId` with its input and output over `inlineBytes` left out (`null`) and given
   * apart as the first `previewBytes` of their JSON text and their size, read from the step's recorded
   * byte range without parsing them; `undefined` when the step has no range, is not larger than
   * `2 × inlineBytes` in all, or its bytes are not laid out as its row says (the caller then reads it whole).
   */
  largeStep(traceId: string, stepId: string, inlineBytes: number, previewBytes: number): LargeStep | undefined
}

/** @internal A step read without its large input or output (`DocumentText.largeStep`). */
export interface LargeStep {
  /** The wire step, its large fields `null`. */
  readonly step: Record<string, unknown>
  readonly large: Partial<Record<'input' | 'output', { readonly preview: string; readonly bytes: number }>>
}

/** @internal The finders over `db`; `version()` is the store's data version (the kept text is dropped when it changes). */
export function documentText(db: BetterSqlite3.Database, version: () => string): DocumentText {
  const locate = db.prepare<[string, string], Located & { readonly step_count: number }>(
    'SELECT s.root_span_id, s.seq, s.name, n.step_id AS next, s.doc_offset, s.doc_length, s.input_bytes, s.output_bytes, t.step_count FROM steps s JOIN traces t ON t.trace_id = s.trace_id AND t.root_span_id = s.root_span_id ' +
      'LEFT JOIN steps n ON n.trace_id = s.trace_id AND n.root_span_id = s.root_span_id AND n.seq = s.seq + 1 ' +
      'WHERE s.trace_id = ? AND s.step_id = ? ORDER BY t.started_at, t.root_span_id LIMIT 1',
  )
  const bounds = db.prepare<[string, string, number], Bounds>(
    'SELECT f.step_id AS first, l.step_id AS last, f.doc_offset AS head, l.doc_offset + l.doc_length AS tail FROM traces t ' +
      'JOIN steps f ON f.trace_id = t.trace_id AND f.root_span_id = t.root_span_id AND f.seq = 0 ' +
      'JOIN steps l ON l.trace_id = t.trace_id AND l.root_span_id = t.root_span_id AND l.seq = t.step_count - 1 ' +
      'WHERE t.trace_id = ? AND t.root_span_id = ? AND t.step_count >= ?',
  )
  // bytes of a document, by range: SQLite reads the value, JavaScript gets the range only
  const range = db.prepare<[number, number, string, string], { part: Buffer | null }>('SELECT substr(CAST(document AS BLOB), ? + 1, ?) AS part FROM traces WHERE trace_id = ? AND root_span_id = ?')
  const cut = db.prepare<[number, number, string, string], { head: Buffer | null; tail: Buffer | null }>(
    'SELECT substr(b, 1, ?) AS head, substr(b, ? + 1) AS tail FROM (SELECT CAST(document AS BLOB) AS b FROM traces WHERE trace_id = ? AND root_span_id = ?)',
  )
  // the text, not CAST(document AS BLOB): better-sqlite3 makes a 17 MB string in ~60 ms, a Buffer of it in 60–140 ms here
  const textOf = db.prepare<[string, string], { document: unknown }>('SELECT document FROM traces WHERE trace_id = ? AND root_span_id = ?')
  // the text of the last document read: the header and the steps of one trace are opened one after
  // another, and each read of a large document costs tens of milliseconds and as many megabytes
  let last: { readonly key: string; readonly text: string } | undefined
  const documentOf = (traceId: string, rootSpanId: string): string | undefined => {
    const key = version() + ' ' + traceId + ' ' + rootSpanId
    if (last?.key === key) return last.text
    last = undefined
    const text = textOf.get(traceId, rootSpanId)?.document
    if (typeof text !== 'string') return undefined
    last = { key, text }
    return text
  }
  const parseObject = (text: string): Record<string, unknown> | undefined => {
    try {
      const value: unknown = JSON.parse(text)
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
    } catch {
      return undefined
    }
  }

  return {
    step: (traceId, stepId) => {
      const row = locate.get(traceId, stepId)
      if (row === undefined) return undefined
      const isTheStep = (found: Record<string, unknown> | undefined): found is Record<string, unknown> =>
        found !== undefined && found.step_id === stepId && found.seq === row.seq && found.name === row.name
      if (row.doc_offset !== null && row.doc_length !== null) {
        const part = range.get(row.doc_offset, row.doc_length, traceId, row.root_span_id)?.part
        const found = Buffer.isBuffer(part) ? parseObject(part.toString('utf8')) : undefined
        if (isTheStep(found)) return found
      }
      if (row.next === null || row.step_count < MIN_STEPS) return undefined
      const document = documentOf(traceId, row.root_span_id)
      if (document === undefined) return undefined
      const start = document.indexOf(`{"step_id":"${stepId}"`)
      const end = start < 0 ? -1 : document.indexOf(`,{"step_id":"${row.next}"`, start + 1)
      if (end < 0) return undefined
      const found = parseObject(document.slice(start, end))
      return isTheStep(found) ? found : undefined
    },
    header: (traceId, rootSpanId) => {
      const ends = bounds.get(traceId, rootSpanId, MIN_STEPS)
      if (ends?.first == null || ends.last == null) return undefined
      if (ends.head !== null && ends.tail !== null) {
        // the bytes before the first step (up to its `[`) and from the `]` after the last
        const parts = cut.get(ends.head, ends.tail, traceId, rootSpanId)
        const wire = Buffer.isBuffer(parts?.head) && Buffer.isBuffer(parts.tail) ? parseObject(parts.head.toString('utf8') + parts.tail.toString('utf8')) : undefined
        if (wire !== undefined && isHeaderOf(wire, traceId, rootSpanId)) return wire
      }
      const document = documentOf(traceId, rootSpanId)
      if (document === undefined) return undefined
      const lastStep = document.lastIndexOf(`{"step_id":"${ends.last}"`)
      // the array opens at the first step, unless a value before it imitates that (then the next one);
      // it ends at a `]` after the last step's start followed by the tail's keys. Inside a JSON string
      // `],"` cannot occur, and a wrong guess leaves the braces unbalanced: only the real ends parse.
      // Tried from the start and from the end, where they nearly always are.
      const marker = `"steps":[{"step_id":"${ends.first}"`
      for (let open = document.indexOf(marker), opens = 0; open >= 0 && open <= lastStep && opens < 4; open = document.indexOf(marker, open + 1), opens++) {
        const head = document.slice(0, open) + '"steps":[]'
        for (let close = document.lastIndexOf('],"'), closes = 0; close > lastStep && closes < 16; close = document.lastIndexOf('],"', close - 1), closes++) {
          const wire = parseObject(head + document.slice(close + 1))
          if (wire !== undefined && isHeaderOf(wire, traceId, rootSpanId)) return wire
        }
      }
      return undefined
    },
    largeStep: (traceId, stepId, inlineBytes, previewBytes) => {
      const row = locate.get(traceId, stepId)
      if (row?.doc_offset == null || row.doc_length == null || row.doc_length <= 2 * inlineBytes) return undefined
      const part = range.get(row.doc_offset, row.doc_length, traceId, row.root_span_id)?.part
      if (!Buffer.isBuffer(part)) return undefined
      // the keys before `input` hold scalars only (stepToWire), so its key is the first `,"input":`;
      // its value is as long as the row says, and `output` follows it directly when present
      const spans: Array<{ readonly field: 'input' | 'output'; readonly start: number; readonly end: number }> = []
      let from = 0
      for (const [field, bytes] of [['input', row.input_bytes], ['output', row.output_bytes]] as const) {
        const key = Buffer.from(`,"${field}":`)
        const at = field === 'input' ? part.indexOf(key) : from
        if (bytes <= 0 || at < 0 || (field === 'input' && at > 4096) || !part.subarray(at, at + key.length).equals(key)) continue
        const start = at + key.length
        spans.push({ field, start, end: start + bytes })
        from = start + bytes
      }
      const large = spans.filter((span) => span.end - span.start > inlineBytes && part[span.end] === 0x2c /* , */)
      if (large.length === 0) return undefined
      // the step's text with each large value replaced by null: small enough to parse
      let rest = ''
      let at = 0
      for (const span of large) {
        rest += part.toString('utf8', at, span.start) + 'null'
        at = span.end
      }
      rest += part.toString('utf8', at)
      if (Buffer.byteLength(rest) > 2 * inlineBytes) return undefined
      const step = parseObject(rest)
      if (step === undefined || step.step_id !== stepId || step.seq !== row.seq || step.name !== row.name) return undefined
      const out: Partial<Record<'input' | 'output', { readonly preview: string; readonly bytes: number }>> = {}
      for (const span of large) out[span.field] = { preview: utf8Head(part, span.start, Math.min(span.end, span.start + previewBytes)), bytes: span.end - span.start }
      return { step, large: out }
    },
  }
}

/** The text of `bytes[start, end)`, ending before a character `end` would cut. */
function utf8Head(bytes: Buffer, start: number, end: number): string {
  let stop = end
  // step back over continuation bytes (10xxxxxx) to the start of the cut character
  while (stop > start && stop < bytes.length && ((bytes[stop] as number) & 0xc0) === 0x80) stop--
  return bytes.toString('utf8', start, stop)
}

function isHeaderOf(wire: Record<string, unknown>, traceId: string, rootSpanId: string): boolean {
  if (wire.trace_id !== traceId || (wire.root_span_id ?? '') !== rootSpanId) return false
  const keys = Object.keys(wire)
  const after = keys.slice(keys.indexOf('steps') + 1)
  return Array.isArray(wire.steps) && wire.steps.length === 0 && after.every((key) => TAIL_KEYS.has(key))
}
