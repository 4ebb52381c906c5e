// Rows of a document as schema version 2 stored them: the columns of version 3 left out.
import type { TraceDocument } from '../../src/document/document.js'
import { toStepRows, toStoredJson, toTraceRow } from '../../src/document/rows.js'
import { STEP_COLUMNS, stepValues, TRACE_COLUMNS, traceValues } from '../../src/stores/sql/columns.js'

const ADDED_TO_TRACES = new Set(['input_preview', 'output_preview', 'error_type', 'error_message'])
const ADDED_TO_STEPS = new Set(['cost_usd', 'error_type', 'error_message', 'input_bytes', 'output_bytes', 'input_preview', 'output_preview', 'truncated', 'incomplete'])

export interface Version2Rows {
  readonly traceColumns: string[]
  readonly trace: unknown[]
  readonly stepColumns: string[]
  readonly steps: unknown[][]
}

export function version2Rows(doc: TraceDocument): Version2Rows {
  const keepTrace = TRACE_COLUMNS.map((column) => !ADDED_TO_TRACES.has(column))
  const keepStep = STEP_COLUMNS.map((column) => !ADDED_TO_STEPS.has(column))
  return {
    traceColumns: TRACE_COLUMNS.filter((_, index) => keepTrace[index]),
    trace: traceValues(toTraceRow(doc), toStoredJson(doc)).filter((_, index) => keepTrace[index]),
    stepColumns: STEP_COLUMNS.filter((_, index) => keepStep[index]),
    steps: toStepRows(doc).map((step) => stepValues(step).filter((_, index) => keepStep[index])),
  }
}
