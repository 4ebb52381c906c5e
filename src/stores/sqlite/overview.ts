/**
 * The store overview of the SQLite store (`TraceStore.overview()`, docs/stores.md#overview): the
 * shared statements of `sql/aggregates.ts` in SQLite's dialect, top-10 tables from the `steps` and
 * `traces` tables, never the documents. SQLite has no percentile function: p50 and p95 are computed
 * as PostgreSQL's `percentile_cont` computes them, with window functions (`Dialect.slowestSteps`): one
 * sort of the steps in range (SQLite's sorter, spilling to disk when large); only 10 rows per table
 * leave the database. better-sqlite3 is used through the connection it is given (a type import only).
 */
import type BetterSqlite3 from 'better-sqlite3'
import { overviewStatements, toOverview } from '../sql/aggregates.js'
import { sqliteDialect } from '../sql/dialect.js'
import type { StoreOverview } from '../types.js'
import { runOffThread } from './workers.js'

/**
 * @internal The overview of the traces started at or after `since` (an ISO instant) and their steps,
 * or of all. It reads every step in range (0.5 s for 100 000 steps on this machine), so for a store in
 * a file it runs on a worker thread with its own read-only connection, in one read transaction (the
 * five tables see the same data), and the event loop stays free; an in-memory store (`file`
 * undefined) runs it here.
 */
export async function sqliteOverview(db: BetterSqlite3.Database, file: string | undefined, since: string | undefined): Promise<StoreOverview> {
  const statements = overviewStatements(sqliteDialect, { traces: 'traces', steps: 'steps' }, since)
  const results = file === undefined
    ? statements.map((statement) => db.prepare<unknown[], Record<string, unknown>>(statement.sql).all(...statement.params))
    : await runOffThread<Array<Array<Record<string, unknown>>>>(file, { task: 'queries', statements }, {
      failure: 'Cannot read the overview of the trace store',
      stopped: 'Cannot read the overview of the trace store: the worker stopped.',
    })
  return toOverview(results)
}
