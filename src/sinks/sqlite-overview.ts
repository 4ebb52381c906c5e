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
 * `since` selects traces through their start-time index and their steps by key.
 */
import { Worker } from 'node:worker_threads'
import type BetterSqlite3 from 'better-sqlite3'
import type { FailingStepRow, RetriedStepRow, SlowStepRow, StoreOverview, UsageRow } from '../store/types.js'

/** @internal How many rows each table of the overview has at most. */
export const OVERVIEW_ROWS = 10

/**
 * @internal The overview of the traces started at or after `since` (an ISO instant) and their steps,
 * or of all. It reads every step in range (0.5 s for 100 000 steps on this machine), so for a store in
 * a file it runs on a worker thread with its own read-only connection and the event loop stays free;
 * an in-memory store (`file` undefined) runs it here.
 */
export async function sqliteOverview(db: BetterSqlite3.Database, file: string | undefined, driverPath: string, since: string | undefined): Promise<StoreOverview> {
  const statements = overviewStatements(since)
  const results = file === undefined
    ? statements.map((statement) => db.prepare<unknown[], Record<string, unknown>>(statement.sql).all(...statement.params))
    : await runOffThread(file, driverPath, statements)
  const [failing, slowest, retried, byModel, byPrompt] = results as [FailingRow[], SlowRow[], RetriedRow[], UsageSqlRow[], UsageSqlRow[]]
  return {
    failingSteps: failing.map((row): FailingStepRow => ({ name: row.name, steps: row.n, errors: row.errors })),
    slowestSteps: slowest.map((row): SlowStepRow => ({ name: row.name, steps: row.n, p50Ms: round(row.p50), p95Ms: round(row.p95) })),
    mostRetried: retried.map((row): RetriedStepRow => ({ name: row.name, steps: row.n, retriedSteps: row.retried, retries: row.retries })),
    byModel: byModel.map(toUsage),
    byPrompt: byPrompt.map(toUsage),
  }
}

interface Statement { readonly sql: string; readonly params: ReadonlyArray<unknown> }
interface FailingRow { name: string; n: number; errors: number }
interface SlowRow { name: string; n: number; p50: number; p95: number }
interface RetriedRow { name: string; n: number; retried: number; retries: number }
interface UsageSqlRow { name: string; n: number; input: number | null; output: number | null; cost: number | null }

/** The five SELECTs, in the order of the overview's tables. */
function overviewStatements(since: string | undefined): Statement[] {
  // the steps of the traces in range: through the traces' start-time index, then the steps' key (CROSS
  // JOIN fixes that order: SQLite's planner preferred scanning every step through its name index)
  const steps = since === undefined
    ? 'steps s'
    : 'traces t CROSS JOIN steps s ON s.trace_id = t.trace_id AND s.root_span_id = t.root_span_id AND t.started_at >= ?'
  const traces = since === undefined ? 'traces t' : 'traces t WHERE t.started_at >= ?'
  const params: unknown[] = since === undefined ? [OVERVIEW_ROWS] : [since, OVERVIEW_ROWS]
  // HAVING and ORDER BY repeat the aggregates: a bare name there may mean the column, not the alias
  const at = (p: string): string => {
    const pos = '((n - 1) * ' + p + ')'
    const low = 'CAST(' + pos + ' AS INTEGER)'
    return 'sum(CASE WHEN i = ' + low + ' THEN d * (1 - (' + pos + ' - ' + low + ')) WHEN i = ' + low + ' + 1 THEN d * (' + pos + ' - ' + low + ') ELSE 0 END)'
  }
  const usage = (column: string, from: string, where: string): string => {
    // the alias of the column's table (`s.` or `t.`): with `since`, both tables are in the FROM
    const alias = column.slice(0, 2)
    return 'SELECT ' + column + ' AS name, count(*) AS n, sum(' + alias + 'input_tokens) AS input, sum(' + alias + 'output_tokens) AS output, sum(' + alias + 'cost_usd) AS cost FROM ' +
      from + where + ' GROUP BY ' + column + ' ORDER BY coalesce(sum(' + alias + 'cost_usd), 0) DESC, coalesce(sum(' + alias + 'input_tokens), 0) + coalesce(sum(' + alias +
      'output_tokens), 0) DESC, ' + column + ' LIMIT ?'
  }
  return [
    "SELECT s.name AS name, count(*) AS n, sum(s.status = 'error') AS errors FROM " + steps +
      " GROUP BY s.name HAVING sum(s.status = 'error') > 0 ORDER BY sum(s.status = 'error') DESC, s.name LIMIT ?",
    'SELECT name, max(n) AS n, ' + at('0.5') + ' AS p50, ' + at('0.95') + ' AS p95 FROM (' +
      'SELECT s.name AS name, s.duration_ms AS d, row_number() OVER (PARTITION BY s.name ORDER BY s.duration_ms) - 1 AS i, count(*) OVER (PARTITION BY s.name) AS n FROM ' +
      steps + ') GROUP BY name ORDER BY p95 DESC, name LIMIT ?',
    'SELECT s.name AS name, count(*) AS n, sum(s.retries > 0) AS retried, sum(s.retries) AS retries FROM ' + steps +
      ' GROUP BY s.name HAVING sum(s.retries) > 0 ORDER BY sum(s.retries) DESC, s.name LIMIT ?',
    usage('s.model', steps, ' WHERE s.model IS NOT NULL'),
    usage('t.prompt', traces, ''),
  ].map((sql) => ({ sql, params }))
}

function toUsage(row: UsageSqlRow): UsageRow {
  return { name: String(row.name), count: row.n, inputTokens: row.input ?? 0, outputTokens: row.output ?? 0, costUsd: row.cost }
}

/** Percentiles to the microsecond: the interpolation's last bits differ between SQL engines. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

/** Runs the statements on a worker thread with its own read-only connection. */
function runOffThread(file: string, driverPath: string, statements: ReadonlyArray<Statement>): Promise<unknown[][]> {
  return new Promise<unknown[][]>((resolve, reject) => {
    let settled = false
    const settle = (fn: () => void): void => {
      if (settled) return
      settled = true
      fn()
    }
    let worker: Worker
    try {
      worker = new Worker(OVERVIEW_WORKER, { eval: true, workerData: { file, driver: driverPath, statements } })
    } catch (error) {
      reject(error)
      return
    }
    worker.once('message', (message: { readonly rows?: unknown[][]; readonly error?: string; readonly code?: string }) => {
      settle(() => (message.error !== undefined
        ? reject(Object.assign(new Error('Cannot read the overview of the trace store: ' + message.error), { code: message.code }))
        : resolve(message.rows as unknown[][])))
    })
    worker.once('error', (error) => settle(() => reject(error)))
    worker.once('exit', () => settle(() => reject(new Error('Cannot read the overview of the trace store: the worker stopped.'))))
  })
}

const OVERVIEW_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
let db
try {
  db = new Database(workerData.file, { readonly: true, fileMustExist: true })
  db.pragma('busy_timeout = 5000')
  // one read transaction: the five tables see the same data
  const rows = db.transaction(() => workerData.statements.map((statement) => db.prepare(statement.sql).all(...statement.params)))()
  parentPort.postMessage({ rows })
} catch (error) {
  parentPort.postMessage({ error: String(error && error.message), code: error && error.code })
} finally {
  if (db !== undefined) db.close()
}
`
