/**
 * A page of `list()` from the rows either store reads: one `TraceSummary` per row and the cursor after
 * the last. SQLite hands back numbers, PostgreSQL the server's text (pg's parsers are bypassed, so a
 * process-wide `pg.types` setting cannot change what is read): both go through `toNumber`.
 */
import type { StepId, TraceId } from '../../document/document.js'
import { encodeCursor } from '../query.js'
import type { TracePage, TraceSummary } from '../types.js'
import type { Dialect } from './dialect.js'

/** @internal A row of the summary columns (`Dialect.summary`), as either driver reads it. */
export type SummaryRow = Readonly<Record<string, unknown>>

/** @internal A page of `rows` (`limit + 1` asked for when `paged`: one more says there is a next page). */
export function pageOf(dialect: Dialect, rows: ReadonlyArray<SummaryRow>, limit: number, paged: boolean): TracePage {
  const items = rows.slice(0, limit).map((row) => toSummary(dialect, row))
  const last = rows[limit - 1]
  const more = paged && rows.length > limit && last !== undefined
  return { items, nextCursor: more ? encodeCursor({ startedAt: String(last[dialect.summary.cursor]), traceId: String(last.trace_id), rootSpanId: String(last.root_span_id) }) : null }
}

/** @internal One line of a trace list. */
export function toSummary(dialect: Dialect, row: SummaryRow): TraceSummary {
  return {
    traceId: String(row.trace_id) as TraceId,
    rootSpanId: row.root_span_id === '' || row.root_span_id === null || row.root_span_id === undefined ? null : (String(row.root_span_id) as StepId),
    parentStepId: textOrNull(row.parent_step_id) as StepId | null,
    replayOf: textOrNull(row.replay_of) as TraceId | null,
    project: String(row.project),
    environment: String(row.environment),
    prompt: String(row.prompt),
    modelName: textOrNull(row.model_name),
    status: row.status === 'error' ? 'error' : 'success',
    startedAt: String(row[dialect.summary.startedAt]),
    endedAt: String(row[dialect.summary.endedAt]),
    durationMs: toNumber(row.duration_ms),
    retryCount: toNumber(row.retry_count),
    stepCount: toNumber(row.step_count),
    errorCount: toNumber(row.error_count),
    inputTokens: toNumber(row.input_tokens),
    outputTokens: toNumber(row.output_tokens),
    costUsd: row.cost_usd === null || row.cost_usd === undefined ? null : toNumber(row.cost_usd),
    tags: parseTags(row.tags),
    inputPreview: textOrNull(row.input_preview),
    outputPreview: textOrNull(row.output_preview),
    errorType: textOrNull(row.error_type),
    errorMessage: textOrNull(row.error_message),
  }
}

/** @internal A number the driver read (a number, or the server's text); 0 for NULL or anything not finite. */
export function toNumber(value: unknown): number {
  if (value === null || value === undefined) return 0
  const n = Number(value)
  return Number.isFinite(n) ? n : 0
}

/** @internal The string tags of a `tags` column's JSON text. */
export function parseTags(text: unknown): ReadonlyArray<string> {
  try {
    const tags: unknown = JSON.parse(typeof text === 'string' ? text : '[]')
    return Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === 'string') : []
  } catch {
    return []
  }
}

function textOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value)
}
