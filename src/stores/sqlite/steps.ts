/**
 * The SQLite store's reads of steps: the skeleton of a trace's steps from the `steps` table alone, and
 * one step or one field of a step extracted from its document (by byte range or in the document's
 * text, `step-bytes.ts`, else with `json_extract`), never parsing the whole document here.
 */
import type BetterSqlite3 from 'better-sqlite3'
import type { JsonValue, StepId, StepRecord } from '../../document/document.js'
import { stepFromWire, type WireStep } from '../../document/wire.js'
import { fieldValue, isStepId, isTraceId, stepFieldKey } from '../query.js'
import type { StepField, StepSkeleton } from '../types.js'
import type { DocumentText } from './step-bytes.js'

/** @internal A step read without its large input or output (`SqliteReads.largeStep`). */
export interface LargeStepRecord {
  /** The step, without the fields in `large`. */
  readonly record: StepRecord
  /** The first bytes of each large field's JSON text, and its size in bytes. */
  readonly large: Partial<Record<'input' | 'output', { readonly preview: string; readonly bytes: number }>>
}

/** @internal The step reads over `db`; `byText` finds steps in the text of large documents. */
export interface SqliteSteps {
  steps(traceId: string, previews: boolean): ReadonlyArray<StepSkeleton>
  step(traceId: string, stepId: string): StepRecord | undefined
  stepField(traceId: string, stepId: string, field: StepField): { readonly found: boolean; readonly value?: JsonValue }
  /** A large step without its large input or output, which come as previews and sizes (`DocumentText.largeStep`); `undefined`: read it whole. */
  largeStep(traceId: string, stepId: string, inlineBytes: number, previewBytes: number): LargeStepRecord | undefined
}

/** @internal */
export function sqliteSteps(db: BetterSqlite3.Database, byText: DocumentText): SqliteSteps {
  // raw rows (arrays): better-sqlite3's row objects took 4 times as long for 5 000 steps (bench/store-viewer.mjs).
  // The steps table alone, in its key's order, sorted here by document and seq: joining the traces to
  // sort in SQL took 33 ms instead of 19 for 5 000 steps, and the previews (400 characters a step) 38 ms.
  const skeletonColumns = (previews: boolean): string =>
    'SELECT s.step_id, s.parent_step_id, s.root_span_id, s.seq, s.name, s.kind, s.status, s.started_at, s.duration_ms, s.attempts, s.retries, s.model, ' +
    's.input_tokens, s.output_tokens, s.cost_usd, s.error_type, s.error_message, s.input_bytes, s.output_bytes, ' +
    (previews ? 's.input_preview, s.output_preview, ' : 'NULL, NULL, ') + 's.truncated, s.incomplete FROM steps s WHERE s.trace_id = ?'
  const skeletonOf = {
    true: db.prepare<[string], SkeletonRow>(skeletonColumns(true)).raw(true) as unknown as BetterSqlite3.Statement<[string], SkeletonRow>,
    false: db.prepare<[string], SkeletonRow>(skeletonColumns(false)).raw(true) as unknown as BetterSqlite3.Statement<[string], SkeletonRow>,
  }
  const documentOrder = db.prepare<[string], string>('SELECT root_span_id FROM traces WHERE trace_id = ? ORDER BY started_at, root_span_id').pluck(true)
  const skeleton = (traceId: string, previews: boolean): StepSkeleton[] => {
    const order = new Map((documentOrder.all(traceId) as unknown as string[]).map((root, rank) => [root, rank]))
    const rows = skeletonOf[previews ? 'true' : 'false'].all(traceId).filter((row) => order.has(row[2]))
    // the earliest started document first, then seq (SkeletonRow: 2 is root_span_id, 3 is seq)
    rows.sort((a, b) => (order.get(a[2]) as number) - (order.get(b[2]) as number) || a[3] - b[3])
    return rows.map(toSkeleton)
  }
  // the step at its `seq` in the document's `steps` array (which is in seq order), checked by its id
  const stepAt = db.prepare<[string, string], { step: string | null; root_span_id: string }>(
    "SELECT json_extract(t.document, '$.steps[' || s.seq || ']') AS step, t.root_span_id FROM steps s " +
      'JOIN traces t ON t.trace_id = s.trace_id AND t.root_span_id = s.root_span_id WHERE s.trace_id = ? AND s.step_id = ? ORDER BY t.started_at, t.root_span_id LIMIT 1',
  )
  const fieldAt = db.prepare<[string, string, string], { value: string | null; step_id: string | null; root_span_id: string }>(
    "SELECT t.document -> ('$.steps[' || s.seq || '].' || ?) AS value, json_extract(t.document, '$.steps[' || s.seq || '].step_id') AS step_id, t.root_span_id " +
      'FROM steps s JOIN traces t ON t.trace_id = s.trace_id AND t.root_span_id = s.root_span_id WHERE s.trace_id = ? AND s.step_id = ? ORDER BY t.started_at, t.root_span_id LIMIT 1',
  )
  // a document whose steps are not at their seq (never written so by tracellm): searched
  const stepSearched = db.prepare<[string, string, string], { step: string }>(
    "SELECT e.value AS step FROM traces t, json_each(t.document, '$.steps') e WHERE t.trace_id = ? AND t.root_span_id = ? AND json_extract(e.value, '$.step_id') = ? LIMIT 1",
  )
  const findStep = (traceId: string, stepId: string): Record<string, unknown> | undefined => {
    const fast = byText.step(traceId, stepId)
    if (fast !== undefined) return fast
    const row = stepAt.get(traceId, stepId)
    if (row === undefined) return undefined
    const step = row.step === null ? undefined : (JSON.parse(row.step) as Record<string, unknown>)
    if (step !== undefined && step.step_id === stepId) return step
    const searched = stepSearched.get(traceId, row.root_span_id, stepId)
    return searched === undefined ? undefined : (JSON.parse(searched.step) as Record<string, unknown>)
  }

  return {
    steps: (traceId, previews) => (isTraceId(traceId) ? skeleton(traceId, previews) : []),
    step: (traceId, stepId) => {
      if (!isTraceId(traceId) || !isStepId(stepId)) return undefined
      const step = findStep(traceId, stepId)
      return step === undefined ? undefined : stepFromWire(step as unknown as WireStep)
    },
    stepField: (traceId, stepId, field) => {
      const key = stepFieldKey(field)
      if (!isTraceId(traceId) || !isStepId(stepId)) return { found: false }
      const fast = byText.step(traceId, stepId)
      if (fast !== undefined) return fieldValue(field, fast[key] as JsonValue | undefined)
      const row = fieldAt.get(key, traceId, stepId)
      if (row === undefined) return { found: false }
      if (row.step_id === stepId) return fieldValue(field, row.value === null ? undefined : (JSON.parse(row.value) as JsonValue))
      const step = findStep(traceId, stepId)
      return step === undefined ? { found: false } : fieldValue(field, step[key] as JsonValue | undefined)
    },
    largeStep: (traceId, stepId, inlineBytes, previewBytes) => {
      if (!isTraceId(traceId) || !isStepId(stepId)) return undefined
      const found = byText.largeStep(traceId, stepId, inlineBytes, previewBytes)
      if (found === undefined) return undefined
      const record = stepFromWire(found.step as unknown as WireStep) as StepRecord & Partial<Record<'input' | 'output', unknown>>
      // the large fields were read as null: they are given apart
      const { input, output, ...rest } = record
      return { record: { ...rest, ...(found.large.input === undefined && input !== undefined ? { input } : {}), ...(found.large.output === undefined && output !== undefined ? { output } : {}) } as StepRecord, large: found.large }
    },
  }
}

/** A skeleton row in the order of the SELECT. */
type SkeletonRow = [
  stepId: string, parentStepId: string | null, rootSpanId: string, seq: number, name: string, kind: string, status: 'success' | 'error',
  startedAt: string, durationMs: number, attempts: number, retries: number, model: string | null, inputTokens: number | null,
  outputTokens: number | null, costUsd: number | null, errorType: string | null, errorMessage: string | null, inputBytes: number,
  outputBytes: number, inputPreview: string | null, outputPreview: string | null, truncated: number, incomplete: number,
]

function toSkeleton(row: SkeletonRow): StepSkeleton {
  return {
    stepId: row[0] as StepId,
    parentStepId: row[1] as StepId | null,
    rootSpanId: row[2] === '' ? null : (row[2] as StepId),
    seq: row[3],
    name: row[4],
    kind: row[5],
    status: row[6],
    startedAt: row[7],
    durationMs: row[8],
    attempts: row[9],
    retries: row[10],
    model: row[11],
    inputTokens: row[12] ?? 0,
    outputTokens: row[13] ?? 0,
    costUsd: row[14],
    errorType: row[15],
    errorMessage: row[16],
    inputBytes: row[17],
    outputBytes: row[18],
    inputPreview: row[19],
    outputPreview: row[20],
    truncated: row[21] !== 0,
    incomplete: row[22] !== 0,
  }
}
