/**
 * The columns both SQL stores share, named once: what every INSERT lists (in the order of the values
 * `traceValues` and `stepValues` give), what a trace summary selects, and the equality filters of
 * `list`, each indexed in the list's order. The values themselves are computed from a document in
 * `document/rows.ts`; the SQL types of the columns are each backend's migrations.
 */
import type { StepRow, TraceRow } from '../../document/rows.js'

/** @internal The columns of a `traces` row, in the order of `traceValues`: both backends insert these. */
export const TRACE_COLUMNS: ReadonlyArray<string> = [
  'trace_id', 'root_span_id', 'parent_step_id', 'replay_of', 'project', 'environment', 'prompt', 'model_name', 'status', 'started_at', 'ended_at',
  'duration_ms', 'retry_count', 'step_count', 'error_count', 'input_tokens', 'output_tokens', 'cost_usd', 'tags', 'input_preview', 'output_preview',
  'error_type', 'error_message', 'document',
]

/** @internal The values of `TRACE_COLUMNS` (`tags` as JSON text, `document` the stored JSON). */
export function traceValues(row: TraceRow, document: string): unknown[] {
  return [
    row.traceId, row.rootSpanId, row.parentStepId, row.replayOf, row.project, row.environment, row.prompt, row.modelName, row.status,
    row.startedAt, row.endedAt, row.durationMs, row.retryCount, row.stepCount, row.errorCount, row.inputTokens, row.outputTokens,
    row.costUsd, JSON.stringify(row.tags), row.inputPreview, row.outputPreview, row.errorType, row.errorMessage, document,
  ]
}

/** @internal The columns of a `steps` row, in the order of `stepValues`. */
export const STEP_COLUMNS: ReadonlyArray<string> = [
  'trace_id', 'root_span_id', 'step_id', 'parent_step_id', 'seq', 'name', 'kind', 'status', 'started_at', 'duration_ms', 'attempts', 'retries',
  'model', 'input_tokens', 'output_tokens', 'cost_usd', 'error_type', 'error_message', 'input_bytes', 'output_bytes', 'input_preview',
  'output_preview', 'truncated', 'incomplete',
]

/** @internal The values of `STEP_COLUMNS` (booleans as they are: each backend's driver binds them). */
export function stepValues(step: StepRow): unknown[] {
  return [
    step.traceId, step.rootSpanId, step.stepId, step.parentStepId, step.seq, step.name, step.kind, step.status, step.startedAt,
    step.durationMs, step.attempts, step.retries, step.model, step.inputTokens, step.outputTokens, step.costUsd, step.errorType,
    step.errorMessage, step.inputBytes, step.outputBytes, step.inputPreview, step.outputPreview, step.truncated, step.incomplete,
  ]
}

/** @internal The columns `list` filters on with equality: each gets an index in the list's order. */
export const LIST_FILTERS: ReadonlyArray<string> = ['project', 'environment', 'prompt', 'model_name', 'status']

/** @internal The columns of a trace summary (`TraceSummary`): every column of a `traces` row but the document. */
export const SUMMARY_COLUMNS: ReadonlyArray<string> = TRACE_COLUMNS.filter((column) => column !== 'document')
