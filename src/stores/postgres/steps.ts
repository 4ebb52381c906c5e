/**
 * The PostgreSQL store's reads of steps: the skeleton of a trace's steps from the `steps` table, and
 * one step or one field of a step extracted in SQL at its `seq` in the document
 * (`document->'steps'->seq`), checked by its id. Every value is a bound parameter; identifiers come
 * from `Names` (quoted).
 */
import type { JsonValue, StepId, StepRecord } from '../../document/document.js'
import { stepFromWire, type WireStep } from '../../document/wire.js'
import { fieldValue, isStepId, isTraceId, stepFieldKey } from '../query.js'
import { postgresDialect } from '../sql/dialect.js'
import type { StepField, StepSkeleton } from '../types.js'
import type { Names, Query } from './driver.js'

/** @internal The skeleton of a trace's steps, from the `steps` table alone. */
export async function readSteps(query: Query, names: Names, traceId: string, previews = true): Promise<ReadonlyArray<StepSkeleton>> {
  if (!isTraceId(traceId)) return []
  const rows = await query(
    'SELECT s.step_id, s.parent_step_id, s.root_span_id, s.seq, s.name, s.kind, s.status, ' + postgresDialect.iso('s.started_at') + ' AS started_iso, s.duration_ms, ' +
      's.attempts, s.retries, s.model, s.input_tokens, s.output_tokens, s.cost_usd, s.error_type, s.error_message, s.input_bytes, s.output_bytes, ' +
      (previews ? 's.input_preview, s.output_preview' : 'NULL AS input_preview, NULL AS output_preview') + ', s.truncated, s.incomplete FROM ' + names.steps + ' s JOIN ' + names.traces + ' t ' +
      'ON t.trace_id = s.trace_id AND t.root_span_id = s.root_span_id WHERE s.trace_id = $1 ORDER BY t.started_at, t.root_span_id, s.seq',
    [traceId],
  )
  return rows.map((row) => ({
    stepId: String(row.step_id) as StepId,
    parentStepId: (row.parent_step_id ?? null) as StepId | null,
    rootSpanId: row.root_span_id === '' || row.root_span_id === null ? null : (row.root_span_id as StepId),
    seq: Number(row.seq),
    name: String(row.name),
    kind: String(row.kind),
    status: row.status === 'error' ? 'error' : 'success',
    startedAt: String(row.started_iso),
    durationMs: Number(row.duration_ms),
    attempts: Number(row.attempts),
    retries: Number(row.retries),
    model: row.model ?? null,
    inputTokens: Number(row.input_tokens ?? 0),
    outputTokens: Number(row.output_tokens ?? 0),
    costUsd: row.cost_usd === null || row.cost_usd === undefined ? null : Number(row.cost_usd),
    errorType: row.error_type ?? null,
    errorMessage: row.error_message ?? null,
    inputBytes: Number(row.input_bytes ?? 0),
    outputBytes: Number(row.output_bytes ?? 0),
    inputPreview: row.input_preview ?? null,
    outputPreview: row.output_preview ?? null,
    truncated: row.truncated === 't',
    incomplete: row.incomplete === 't',
  }))
}

/** @internal One step, extracted at its `seq` in the document (`document->'steps'->seq`), checked by its id. */
export async function readStep(query: Query, names: Names, traceId: string, stepId: string): Promise<StepRecord | undefined> {
  if (!isTraceId(traceId) || !isStepId(stepId)) return undefined
  const step = await findStep(query, names, traceId, stepId)
  return step === undefined ? undefined : stepFromWire(step as unknown as WireStep)
}

/** @internal One field of a step, extracted in SQL. */
export async function readStepField(query: Query, names: Names, traceId: string, stepId: string, field: StepField): Promise<{ readonly found: boolean; readonly value?: JsonValue }> {
  const key = stepFieldKey(field)
  if (!isTraceId(traceId) || !isStepId(stepId)) return { found: false }
  const [row] = await query(
    "SELECT (t.document->'steps'->s.seq->$3::text)::text AS value, t.document->'steps'->s.seq->>'step_id' AS step_id FROM " + names.steps + ' s JOIN ' +
      names.traces + ' t ON t.trace_id = s.trace_id AND t.root_span_id = s.root_span_id WHERE s.trace_id = $1 AND s.step_id = $2 ORDER BY t.started_at, t.root_span_id LIMIT 1',
    [traceId, stepId, key],
  )
  if (row === undefined) return { found: false }
  if (row.step_id === stepId) return fieldValue(field, row.value === null || row.value === undefined ? undefined : (JSON.parse(row.value) as JsonValue))
  const step = await findStep(query, names, traceId, stepId)
  return step === undefined ? { found: false } : fieldValue(field, step[key] as JsonValue | undefined)
}

async function findStep(query: Query, names: Names, traceId: string, stepId: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await query(
    "SELECT (t.document->'steps'->s.seq)::text AS step, t.root_span_id FROM " + names.steps + ' s JOIN ' + names.traces + ' t ' +
      'ON t.trace_id = s.trace_id AND t.root_span_id = s.root_span_id WHERE s.trace_id = $1 AND s.step_id = $2 ORDER BY t.started_at, t.root_span_id LIMIT 1',
    [traceId, stepId],
  )
  if (row === undefined) return undefined
  const step = row.step === null || row.step === undefined ? undefined : (JSON.parse(row.step) as Record<string, unknown>)
  if (step !== undefined && step.step_id === stepId) return step
  // a document whose steps are not at their seq (never written so by tracellm): searched
  const [searched] = await query(
    "SELECT e.step::text AS step FROM " + names.traces + " t, jsonb_array_elements(t.document->'steps') AS e(step) " +
      "WHERE t.trace_id = $1 AND t.root_span_id = $2 AND e.step->>'step_id' = $3 LIMIT 1",
    [traceId, row.root_span_id, stepId],
  )
  return searched?.step === null || searched?.step === undefined ? undefined : (JSON.parse(searched.step) as Record<string, unknown>)
}

