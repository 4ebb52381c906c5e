/**
 * What the PostgreSQL store answers (`SqlBackend`): documents and headers, lists, counts, facets,
 * statistics and the overview in the shared SQL of `../sql/` (PostgreSQL's dialect), the steps of
 * `steps.ts`, the data version, pruning, deleting, `VACUUM (ANALYZE)` and the opt-in `pg_trgm` text
 * index (docs/stores.md, docs/postgres.md). Each read runs on a client of the connection's pool;
 * every value is a bound parameter, identifiers come from `Names` (quoted).
 */
import type { TraceDocument } from '../../document/document.js'
import { fromWire } from '../../document/wire.js'
import { headerOf, isTraceId, ORDER_BY } from '../query.js'
import { facetStatement, overviewStatements, statsStatements, toFacets, toOverview, toStats } from '../sql/aggregates.js'
import { binder, postgresDialect } from '../sql/dialect.js'
import type { SqlBackend } from '../sql/store.js'
import { pageOf } from '../sql/summary.js'
import { whereClause } from '../sql/where.js'
import type { TraceHeader } from '../types.js'
import type { Connection, Names, Query } from './driver.js'
import { readStep, readStepField, readSteps } from './steps.js'

/** @internal The backend over `db`, but its `close`. */
export function postgresReads(db: Connection): Omit<SqlBackend, 'close'> {
  const { read } = db
  return {
    getAll: (traceId) => {
      if (!isTraceId(traceId)) return []
      return read('reading from', async (query, names) => {
        const rows = await query('SELECT document::text AS document FROM ' + names.traces + ' WHERE trace_id = $1 ORDER BY started_at, root_span_id', [traceId])
        return rows.flatMap((row): TraceDocument[] => (row.document == null ? [] : [fromWire(JSON.parse(row.document))]))
      })
    },
    // the steps are dropped by the server: a document of thousands of steps is never parsed here
    headers: (traceId) => {
      if (!isTraceId(traceId)) return []
      return read('reading from', async (query, names) => {
        const rows = await query("SELECT jsonb_set(document, '{steps}', '[]'::jsonb)::text AS document, step_count FROM " + names.traces + ' WHERE trace_id = $1 ORDER BY started_at, root_span_id', [traceId])
        return rows.flatMap((row): TraceHeader[] => (row.document == null ? [] : [headerOf(fromWire(JSON.parse(row.document)), Number(row.step_count))]))
      })
    },
    list: (normal, signal) =>
      read('listing traces of', async (query, names) => {
        const where = whereClause(postgresDialect, normal, true)
        // a top-N sort is one page, without a cursor
        const paged = normal.sort === 'newest'
        const limit = binder(postgresDialect, where.params)(paged ? normal.limit + 1 : normal.limit)
        const rows = await query('SELECT ' + postgresDialect.summary.columns + ' FROM ' + names.traces + where.sql + ' ORDER BY ' + ORDER_BY[normal.sort] + ' LIMIT ' + limit, where.params)
        return pageOf(postgresDialect, rows, normal.limit, paged)
      }, signal),
    count: (normal, signal) =>
      read('counting traces of', async (query, names) => {
        const where = whereClause(postgresDialect, normal, false)
        const [row] = await query('SELECT count(*) AS n FROM ' + names.traces + where.sql, where.params)
        return Number(row?.n ?? 0)
      }, signal),
    steps: (traceId, previews) => read('reading steps from', (query, names) => readSteps(query, names, traceId, previews)),
    step: (traceId, stepId) => read('reading a step from', (query, names) => readStep(query, names, traceId, stepId)),
    stepField: (traceId, stepId, field) => read('reading a step from', (query, names) => readStepField(query, names, traceId, stepId, field)),
    facets: (column, normal) =>
      read('counting values of', async (query, names) => {
        const statement = facetStatement(postgresDialect, names.traces, column, whereClause(postgresDialect, normal, false))
        return toFacets(await query(statement.sql, statement.params))
      }),
    // changes when a document is added or pruned: the newest `started_at` and the count
    dataVersion: () =>
      read('reading', async (query, names) => {
        const [row] = await query('SELECT count(*) AS n, ' + postgresDialect.iso('max(started_at)') + ' AS newest FROM ' + names.traces)
        return String(row?.newest ?? '') + '|' + String(row?.n ?? 0)
      }),
    // top-10 tables from the `steps` and `traces` tables, never the documents; p50 and p95 by `percentile_cont`
    overview: (since) =>
      read('reading the overview of', async (query, names) => {
        const results = []
        for (const statement of overviewStatements(postgresDialect, names, since)) results.push(await query(statement.sql, statement.params))
        return toOverview(results)
      }),
    stats: () =>
      read('reading statistics of', async (query, names) => {
        const statements = statsStatements(postgresDialect, names.traces)
        const [totals] = await query(statements.totals)
        const [oldest] = await query(statements.oldest)
        const [newest] = await query(statements.newest)
        return toStats(totals, oldest, newest, await query(statements.projects))
      }),
    countBefore: (before) =>
      read('pruning', async (query, names) => {
        const [row] = await query('SELECT count(*) AS n FROM ' + names.traces + ' WHERE started_at < $1::timestamptz', [before])
        return Number(row?.n ?? 0)
      }),
    // one short transaction per chunk: readers and writers are never blocked for long
    deleteBefore: (before, limit) =>
      read('pruning', async (query, names) => {
        const rows = await query(
          'DELETE FROM ' + names.traces + ' WHERE (trace_id, root_span_id) IN (SELECT trace_id, root_span_id FROM ' + names.traces +
            ' WHERE started_at < $1::timestamptz ORDER BY started_at LIMIT $2) RETURNING 1 AS gone',
          [before, limit],
        )
        return rows.length
      }),
    deleteTrace: async (traceId) => {
      try {
        return await db.transaction(async (query, names) => {
          // the steps go by the foreign key's cascade too; deleting them first does not depend on it
          await query('DELETE FROM ' + names.steps + ' WHERE trace_id = $1', [traceId])
          const rows = await query('DELETE FROM ' + names.traces + ' WHERE trace_id = $1 RETURNING 1 AS gone', [traceId])
          return rows.length
        })
      } catch (error) {
        throw db.safeError(error, 'deleting from')
      }
    },
    vacuum: () => read('vacuuming', vacuum),
    createTextIndex: () => read('indexing', createTextIndex),
  }
}

/**
 * `VACUUM (ANALYZE)` of both tables: the space of pruned rows becomes reusable and the planner's
 * statistics fresh, without the ACCESS EXCLUSIVE lock of `VACUUM FULL` (docs/postgres.md). It runs
 * outside a transaction (VACUUM cannot run inside one), within the store's `statementTimeoutMs`.
 */
async function vacuum(query: Query, names: Names): Promise<{ readonly bytesBefore: number; readonly bytesAfter: number }> {
  const size = async (): Promise<number> => {
    const [row] = await query('SELECT pg_total_relation_size($1::regclass) + pg_total_relation_size($2::regclass) AS bytes', [names.traces, names.steps])
    return Number(row?.bytes ?? 0)
  }
  const bytesBefore = await size()
  await query('VACUUM (ANALYZE) ' + names.traces + ', ' + names.steps)
  return { bytesBefore, bytesAfter: await size() }
}

/**
 * The opt-in text index: `pg_trgm` and a GIN index on `document::text`, which the `ILIKE` of a text
 * search uses as it is. `CREATE EXTENSION` needs a superuser or a role allowed to create trusted
 * extensions (docs/postgres.md#text-index). Resolves false when the index was there already.
 */
async function createTextIndex(query: Query, names: Names): Promise<boolean> {
  const index = (names.schema === undefined ? '' : names.schema + '.') + 'traces_document_trgm'
  const [row] = await query('SELECT to_regclass($1) IS NOT NULL AS present', [index])
  if (row?.present === 't') return false
  await query('CREATE EXTENSION IF NOT EXISTS pg_trgm')
  await query('CREATE INDEX IF NOT EXISTS traces_document_trgm ON ' + names.traces + ' USING gin ((document::text) gin_trgm_ops)')
  return true
}
