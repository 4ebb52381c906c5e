/**
 * The viewer's reads of the PostgreSQL store: step skeletons, steps and step fields extracted in SQL,
 * facets, the data version and the opt-in `pg_trgm` text index (docs/stores.md, docs/postgres.md).
 * Every value is a bound parameter; identifiers come from `Names` (quoted) or fixed tables.
 */
import type { JsonValue, StepId, StepRecord } from '../document/document.js'
import { stepFromWire, type WireStep } from '../document/wire.js'
import { FACET_LIMIT, facetQuery, isStepId, isTraceId, stepFieldKey, fieldValue, type NormalQuery } from '../store/query.js'
import type { FacetCount, FacetField, ListQuery, StepField, StepSkeleton, StoreOverview, UsageRow } from '../store/types.js'

/** @internal Qualified, quoted table names. */
export interface Names {
  readonly schema: string | undefined
  readonly traces: string
  readonly steps: string
  readonly migrations: string
}

/** @internal One query on one client: rows with every value as the server's text. */
export type Query = (sql: string, params?: ReadonlyArray<unknown>) => Promise<Array<Record<string, string | null>>>

type Where = (query: NormalQuery, paged: boolean) => { readonly sql: string; readonly params: unknown[] }

/** @internal The skeleton of a trace's steps, from the `steps` table alone. */
export async function readSteps(query: Query, names: Names, traceId: string, previews = true): Promise<ReadonlyArray<StepSkeleton>> {
  if (!isTraceId(traceId)) return []
  const rows = await query(
    'SELECT s.step_id, s.parent_step_id, s.root_span_id, s.seq, s.name, s.kind, s.status, ' + iso('s.started_at') + ' AS started_iso, s.duration_ms, ' +
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

/** @internal The top values of a facet among the traces the other filters match. */
export async function readFacets(query: Query, names: Names, where: Where, field: FacetField, listQuery: ListQuery | undefined): Promise<ReadonlyArray<FacetCount>> {
  const { column, normal } = facetQuery(field, listQuery)
  const clause = where(normal, false)
  const limit = '$' + String(clause.params.length + 1)
  const sql =
    column === 'tags'
      ? 'SELECT tag AS value, count(*) AS n FROM ' + names.traces + ', jsonb_array_elements_text(tags) AS tag' + clause.sql + ' GROUP BY tag'
      : 'SELECT ' + column + ' AS value, count(*) AS n FROM ' + names.traces + clause.sql + (clause.sql === '' ? ' WHERE ' : ' AND ') + column + ' IS NOT NULL GROUP BY ' + column
  const rows = await query(sql + ' ORDER BY n DESC, ' + (column === 'tags' ? 'tag' : column) + ' COLLATE "C" LIMIT ' + limit, [...clause.params, FACET_LIMIT])
  return rows.map((row) => ({ value: String(row.value), count: Number(row.n) }))
}

/** @internal Changes when a document is added or pruned: the newest `started_at` and the count. */
export async function readDataVersion(query: Query, names: Names): Promise<string> {
  const [row] = await query('SELECT count(*) AS n, ' + iso('max(started_at)') + ' AS newest FROM ' + names.traces)
  return String(row?.newest ?? '') + '|' + String(row?.n ?? 0)
}

/**
 * @internal The opt-in text index: `pg_trgm` and a GIN index on `document::text`, which the `ILIKE` of a
 * text search uses as it is. `CREATE EXTENSION` needs a superuser or a role allowed to create trusted
 * extensions (docs/postgres.md#text-index). Resolves false when the index was there already.
 */
export async function createTextIndex(query: Query, names: Names): Promise<boolean> {
  const index = (names.schema === undefined ? '' : names.schema + '.') + 'traces_document_trgm'
  const [row] = await query('SELECT to_regclass($1) IS NOT NULL AS present', [index])
  if (row?.present === 't') return false
  await query('CREATE EXTENSION IF NOT EXISTS pg_trgm')
  await query('CREATE INDEX IF NOT EXISTS traces_document_trgm ON ' + names.traces + ' USING gin ((document::text) gin_trgm_ops)')
  return true
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


function iso(column: string): string {
  return 'to_char(' + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
}

/**
 * @internal The store overview (docs/stores.md#overview): top-10 tables from the `steps` and `traces`
 * tables, never the documents; p50 and p95 by `percentile_cont`, which the SQLite store reproduces
 * with window functions. `since` is an ISO instant.
 */
export async function readOverview(query: Query, names: Names, since: string | undefined): Promise<StoreOverview> {
  // the steps of the traces in range: through the traces' start-time index, then the steps' key
  const steps = since === undefined
    ? names.steps + ' s'
    : names.traces + ' t JOIN ' + names.steps + ' s ON s.trace_id = t.trace_id AND s.root_span_id = t.root_span_id AND t.started_at >= $2::timestamptz'
  const traces = since === undefined ? names.traces + ' t' : names.traces + ' t WHERE t.started_at >= $2::timestamptz'
  const params: unknown[] = since === undefined ? [OVERVIEW_ROWS] : [OVERVIEW_ROWS, since]
  const failing = await query(
    "SELECT s.name AS name, count(*) AS n, count(*) FILTER (WHERE s.status = 'error') AS errors FROM " + steps +
      " GROUP BY s.name HAVING count(*) FILTER (WHERE s.status = 'error') > 0 ORDER BY count(*) FILTER (WHERE s.status = 'error') DESC, s.name COLLATE \"C\" LIMIT $1",
    params,
  )
  const slowest = await query(
    'SELECT s.name AS name, count(*) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY s.duration_ms) AS p50, ' +
      'percentile_cont(0.95) WITHIN GROUP (ORDER BY s.duration_ms) AS p95 FROM ' + steps +
      ' GROUP BY s.name ORDER BY percentile_cont(0.95) WITHIN GROUP (ORDER BY s.duration_ms) DESC, s.name COLLATE "C" LIMIT $1',
    params,
  )
  const retried = await query(
    'SELECT s.name AS name, count(*) AS n, count(*) FILTER (WHERE s.retries > 0) AS retried, sum(s.retries) AS retries FROM ' + steps +
      ' GROUP BY s.name HAVING sum(s.retries) > 0 ORDER BY sum(s.retries) DESC, s.name COLLATE "C" LIMIT $1',
    params,
  )
  const usage = async (column: string, from: string, where: string): Promise<UsageRow[]> => {
    // the alias of the column's table (`s.` or `t.`): with `since`, both tables are in the FROM
    const alias = column.slice(0, 2)
    const rows = await query(
      'SELECT ' + column + ' AS name, count(*) AS n, sum(' + alias + 'input_tokens) AS input, sum(' + alias + 'output_tokens) AS output, sum(' + alias + 'cost_usd) AS cost FROM ' + from + where +
        ' GROUP BY ' + column + ' ORDER BY coalesce(sum(' + alias + 'cost_usd), 0) DESC, coalesce(sum(' + alias + 'input_tokens), 0) + coalesce(sum(' + alias + 'output_tokens), 0) DESC, ' + column + ' COLLATE "C" LIMIT $1',
      params,
    )
    return rows.map((row) => ({
      name: String(row.name), count: Number(row.n), inputTokens: Number(row.input ?? 0), outputTokens: Number(row.output ?? 0),
      costUsd: row.cost === null || row.cost === undefined ? null : Number(row.cost),
    }))
  }
  return {
    failingSteps: failing.map((row) => ({ name: String(row.name), steps: Number(row.n), errors: Number(row.errors) })),
    slowestSteps: slowest.map((row) => ({ name: String(row.name), steps: Number(row.n), p50Ms: micro(Number(row.p50)), p95Ms: micro(Number(row.p95)) })),
    mostRetried: retried.map((row) => ({ name: String(row.name), steps: Number(row.n), retriedSteps: Number(row.retried), retries: Number(row.retries) })),
    byModel: await usage('s.model', steps, ' WHERE s.model IS NOT NULL'),
    byPrompt: await usage('t.prompt', traces, ''),
  }
}

/** How many rows each table of the overview has at most. */
const OVERVIEW_ROWS = 10

/** Percentiles to the microsecond, as the SQLite store rounds them. */
function micro(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
