/**
 * The counting reads both stores answer with the same SQL over their `Dialect`: the facets of a list
 * (`facets()`), the store's statistics (`stats()`) and its overview (`overview()`,
 * docs/stores.md#overview), each read from the indexed columns of `traces` and `steps`, never from the
 * documents, plus what turns their rows into the public shapes.
 */
import { FACET_LIMIT } from '../query.js'
import type { FacetCount, StoreOverview, StoreStats, UsageRow } from '../types.js'
import { binder, type Bound, type Dialect } from './dialect.js'
import { toNumber } from './summary.js'

/** @internal A row as either driver reads it. */
type Row = Readonly<Record<string, unknown>>

/** @internal Qualified table names. */
export interface Tables {
  readonly traces: string
  readonly steps: string
}

/** @internal How many values `facets()` counts: `column`'s (or, for `tags`, each tag's) among the rows `clause` selects. */
export function facetStatement(dialect: Dialect, table: string, column: string, clause: Bound): Bound {
  const params = [...clause.params]
  const value = column === 'tags' ? dialect.tags.value : column
  const sql = column === 'tags'
    ? 'SELECT ' + value + ' AS value, count(*) AS n FROM ' + table + ', ' + dialect.tags.from + clause.sql + ' GROUP BY ' + value
    : 'SELECT ' + column + ' AS value, count(*) AS n FROM ' + table + clause.sql + (clause.sql === '' ? ' WHERE ' : ' AND ') + column + ' IS NOT NULL GROUP BY ' + column
  return { sql: sql + ' ORDER BY n DESC, ' + dialect.byteOrder(value) + ' LIMIT ' + binder(dialect, params)(FACET_LIMIT), params }
}

/** @internal The rows of `facetStatement`. */
export function toFacets(rows: ReadonlyArray<Row>): ReadonlyArray<FacetCount> {
  return rows.map((row) => ({ value: String(row.value), count: toNumber(row.n) }))
}

/** @internal The statements of `stats()`, none with a parameter. */
export function statsStatements(dialect: Dialect, traces: string): { readonly totals: string; readonly oldest: string; readonly newest: string; readonly projects: string } {
  const edge = (order: 'ASC' | 'DESC'): string => 'SELECT ' + dialect.iso('started_at') + ' AS at FROM ' + traces + ' ORDER BY started_at ' + order + ' LIMIT 1'
  return {
    totals:
      'SELECT count(*) AS traces, sum(step_count) AS steps, ' + dialect.countWhere("status = 'error'") + ' AS errors, sum(retry_count) AS retries, ' +
      'sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, coalesce(sum(cost_usd), 0) AS cost_usd FROM ' + traces,
    oldest: edge('ASC'),
    newest: edge('DESC'),
    projects: 'SELECT project, count(*) AS traces FROM ' + traces + ' GROUP BY project ORDER BY traces DESC, ' + dialect.byteOrder('project') + ' LIMIT 100',
  }
}

/** @internal `StoreStats` of the rows of `statsStatements` (the totals row; the oldest and newest rows, if any). */
export function toStats(totals: Row | undefined, oldest: Row | undefined, newest: Row | undefined, projects: ReadonlyArray<Row>): StoreStats {
  return {
    traces: toNumber(totals?.traces),
    steps: toNumber(totals?.steps),
    errors: toNumber(totals?.errors),
    oldest: oldest?.at === undefined || oldest.at === null ? null : String(oldest.at),
    newest: newest?.at === undefined || newest.at === null ? null : String(newest.at),
    retries: toNumber(totals?.retries),
    inputTokens: toNumber(totals?.input_tokens),
    outputTokens: toNumber(totals?.output_tokens),
    costUsd: toNumber(totals?.cost_usd),
    projects: projects.map((row) => ({ project: String(row.project), traces: toNumber(row.traces) })),
  }
}

/** @internal How many rows each table of the overview has at most. */
export const OVERVIEW_ROWS = 10

/**
 * @internal The five SELECTs of the overview of the traces started at or after `since` (an ISO instant)
 * and their steps, or of all, in the order of `StoreOverview`'s tables. The steps in range are read
 * through the traces' start-time index, then the steps' key. HAVING and ORDER BY repeat the
 * aggregates: a bare name there may mean the column, not the alias.
 */
export function overviewStatements(dialect: Dialect, tables: Tables, since: string | undefined): Bound[] {
  const params: unknown[] = since === undefined ? [OVERVIEW_ROWS] : [since, OVERVIEW_ROWS]
  // the same placeholders in every statement: `since` (when given) comes before the LIMIT in each text
  const from = dialect.placeholder(1, 'instant')
  const limit = dialect.placeholder(params.length)
  const steps = since === undefined
    ? tables.steps + ' s'
    : tables.traces + ' t ' + dialect.rangeJoin + ' ' + tables.steps + ' s ON s.trace_id = t.trace_id AND s.root_span_id = t.root_span_id AND t.started_at >= ' + from
  const traces = since === undefined ? tables.traces + ' t' : tables.traces + ' t WHERE t.started_at >= ' + from
  const errors = dialect.countWhere("s.status = 'error'")
  const usage = (column: string, source: string, where: string): string => {
    // the alias of the column's table (`s.` or `t.`): with `since`, both tables are in the FROM
    const alias = column.slice(0, 2)
    return 'SELECT ' + column + ' AS name, count(*) AS n, sum(' + alias + 'input_tokens) AS input, sum(' + alias + 'output_tokens) AS output, sum(' + alias + 'cost_usd) AS cost FROM ' +
      source + where + ' GROUP BY ' + column + ' ORDER BY coalesce(sum(' + alias + 'cost_usd), 0) DESC, coalesce(sum(' + alias + 'input_tokens), 0) + coalesce(sum(' + alias +
      'output_tokens), 0) DESC, ' + dialect.byteOrder(column) + ' LIMIT ' + limit
  }
  return [
    'SELECT s.name AS name, count(*) AS n, ' + errors + ' AS errors FROM ' + steps + ' GROUP BY s.name HAVING ' + errors + ' > 0 ORDER BY ' + errors + ' DESC, ' +
      dialect.byteOrder('s.name') + ' LIMIT ' + limit,
    dialect.slowestSteps(steps, limit),
    'SELECT s.name AS name, count(*) AS n, ' + dialect.countWhere('s.retries > 0') + ' AS retried, sum(s.retries) AS retries FROM ' + steps +
      ' GROUP BY s.name HAVING sum(s.retries) > 0 ORDER BY sum(s.retries) DESC, ' + dialect.byteOrder('s.name') + ' LIMIT ' + limit,
    usage('s.model', steps, ' WHERE s.model IS NOT NULL'),
    usage('t.prompt', traces, ''),
  ].map((sql) => ({ sql, params }))
}

/** @internal `StoreOverview` of the rows of the five `overviewStatements`. */
export function toOverview(results: ReadonlyArray<ReadonlyArray<Row>>): StoreOverview {
  const [failing = [], slowest = [], retried = [], byModel = [], byPrompt = []] = results
  return {
    failingSteps: failing.map((row) => ({ name: String(row.name), steps: toNumber(row.n), errors: toNumber(row.errors) })),
    slowestSteps: slowest.map((row) => ({ name: String(row.name), steps: toNumber(row.n), p50Ms: micro(toNumber(row.p50)), p95Ms: micro(toNumber(row.p95)) })),
    mostRetried: retried.map((row) => ({ name: String(row.name), steps: toNumber(row.n), retriedSteps: toNumber(row.retried), retries: toNumber(row.retries) })),
    byModel: byModel.map(toUsage),
    byPrompt: byPrompt.map(toUsage),
  }
}

function toUsage(row: Row): UsageRow {
  return { name: String(row.name), count: toNumber(row.n), inputTokens: toNumber(row.input), outputTokens: toNumber(row.output), costUsd: row.cost === null || row.cost === undefined ? null : toNumber(row.cost) }
}

/** Percentiles to the microsecond: the interpolation's last bits differ between SQL engines. */
function micro(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
