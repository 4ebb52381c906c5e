/**
 * The store overview of the SQLite store (`TraceStore.overview()`, docs/stores.md#overview): top-10
 * tables from the `steps` and `traces` tables, never the documents. better-sqlite3 is used through the
 * connection it is given (a type import only).
 *
 * SQLite has no percentile function, so p50 and p95 are computed as PostgreSQL's `percentile_cont`
 * computes them, with window functions: each step of a name gets its 0-based rank `i` in duration
 * order and the name's count `n`; the percentile `p` sits at `pos = p × (n − 1)`, between the steps
 * ranked `floor(pos)` and `floor(pos) + 1`, and is their linear interpolation. One sort of the steps in
 * range (SQLite's sorter, spilling to disk when large); only 10 rows per table leave the database.
 */
import type BetterSqlite3 from 'better-sqlite3'
import type { FailingStepRow, RetriedStepRow, SlowStepRow, StoreOverview, UsageRow } from '../store/types.js'

/** @internal How many rows each table of the overview has at most. */
export const OVERVIEW_ROWS = 10

/** @internal The overview of the steps and traces started at or after `since` (an ISO instant), or of all. */
export function sqliteOverview(db: BetterSqlite3.Database, since: string | undefined): StoreOverview {
  const stepWhere = since === undefined ? '' : ' WHERE started_at >= ?'
  const params: unknown[] = since === undefined ? [] : [since]
  // HAVING and ORDER BY repeat the aggregates: a bare name there may mean the column, not the alias
  const all = <T>(sql: string): T[] => db.prepare<unknown[], T>(sql).all(...params, OVERVIEW_ROWS)

  const failing = all<{ name: string; n: number; errors: number }>(
    "SELECT name, count(*) AS n, sum(status = 'error') AS errors FROM steps" + stepWhere +
      " GROUP BY name HAVING sum(status = 'error') > 0 ORDER BY sum(status = 'error') DESC, name LIMIT ?",
  )
  const at = (p: string): string => {
    const pos = '((n - 1) * ' + p + ')'
    const low = 'CAST(' + pos + ' AS INTEGER)'
    return 'sum(CASE WHEN i = ' + low + ' THEN d * (1 - (' + pos + ' - ' + low + ')) WHEN i = ' + low + ' + 1 THEN d * (' + pos + ' - ' + low + ') ELSE 0 END)'
  }
  const slowest = all<{ name: string; n: number; p50: number; p95: number }>(
    'SELECT name, max(n) AS n, ' + at('0.5') + ' AS p50, ' + at('0.95') + ' AS p95 FROM (' +
      'SELECT name, duration_ms AS d, row_number() OVER (PARTITION BY name ORDER BY duration_ms) - 1 AS i, count(*) OVER (PARTITION BY name) AS n FROM steps' +
      stepWhere + ') GROUP BY name ORDER BY p95 DESC, name LIMIT ?',
  )
  const retried = all<{ name: string; n: number; retried: number; retries: number }>(
    'SELECT name, count(*) AS n, sum(retries > 0) AS retried, sum(retries) AS retries FROM steps' + stepWhere +
      ' GROUP BY name HAVING sum(retries) > 0 ORDER BY sum(retries) DESC, name LIMIT ?',
  )
  const usage = (table: string, column: string, extra: string): UsageRow[] =>
    all<{ name: string; n: number; input: number | null; output: number | null; cost: number | null }>(
      'SELECT ' + column + ' AS name, count(*) AS n, sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cost_usd) AS cost FROM ' + table +
        (stepWhere === '' ? ' WHERE ' + extra : stepWhere + ' AND ' + extra) +
        ' GROUP BY ' + column + ' ORDER BY coalesce(cost, 0) DESC, coalesce(input, 0) + coalesce(output, 0) DESC, name LIMIT ?',
    ).map((row) => ({ name: String(row.name), count: row.n, inputTokens: row.input ?? 0, outputTokens: row.output ?? 0, costUsd: row.cost }))

  return {
    failingSteps: failing.map((row): FailingStepRow => ({ name: row.name, steps: row.n, errors: row.errors })),
    slowestSteps: slowest.map((row): SlowStepRow => ({ name: row.name, steps: row.n, p50Ms: round(row.p50), p95Ms: round(row.p95) })),
    mostRetried: retried.map((row): RetriedStepRow => ({ name: row.name, steps: row.n, retriedSteps: row.retried, retries: row.retries })),
    byModel: usage('steps', 'model', 'model IS NOT NULL'),
    byPrompt: usage('traces', 'prompt', '1 = 1'),
  }
}

/** Percentiles to the microsecond: the interpolation's last bits differ between SQL engines. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
