/**
 * The reads of the SQLite store: trace lists and counts (with the text index or a cancellable scan
 * on worker threads), facets, the overview, the data version, and the step reads of `steps.ts`.
 * The WHERE clause, summaries and facets are the shared SQL of `../sql/` in SQLite's dialect.
 * better-sqlite3 is used through the connection it is given (a type import only).
 */
import { availableParallelism } from 'node:os'
import type BetterSqlite3 from 'better-sqlite3'
import { ORDER_BY, type NormalQuery } from '../query.js'
import type { FacetCount, StoreOverview, TracePage } from '../types.js'
import { facetStatement, toFacets } from '../sql/aggregates.js'
import { sqliteDialect, type Bound } from '../sql/dialect.js'
import { pageOf, type SummaryRow } from '../sql/summary.js'
import { whereClause as sharedWhere } from '../sql/where.js'
import { sqliteOverview } from './overview.js'
import { documentText } from './step-bytes.js'
import { sqliteSteps, type SqliteSteps } from './steps.js'
import { ftsQuery } from './text-index.js'
import { runOffThread } from './workers.js'

/** An unindexed text scan of a store with more rows than this is split over `SCAN_WORKERS` workers. */
const SPLIT_SCAN_ROWS = 20_000
/** Workers of a split scan: one per core, at most 4 (the scan reads from the OS page cache). */
const SCAN_WORKERS = Math.max(1, Math.min(4, availableParallelism()))

/** How many of the newest traces a text search with the index first tests with its pattern (`probe`): ~20 ms of `LIKE` on 9 KB documents. */
const PROBE_ROWS = 1000

/** Above this many text-index matches, a page of the list walks the traces newest first (see `where`). */
const COMMON_MATCHES = 2000

/** @internal The columns of a trace summary, as SQLite selects them. */
export const SUMMARY_COLUMNS = sqliteDialect.summary.columns

/** @internal What the viewer reads of a SQLite store. */
export interface SqliteReads extends SqliteSteps {
  list(query: NormalQuery, signal: AbortSignal | undefined): Promise<TracePage>
  count(query: NormalQuery, signal: AbortSignal | undefined): Promise<number>
  /** The values of `column` among the traces `query` selects. */
  facets(column: string, query: NormalQuery): Promise<ReadonlyArray<FacetCount>>
  dataVersion(): string
  /** The store overview (`overview.ts`) of the traces started at or after `since`. */
  overview(since: string | undefined): Promise<StoreOverview>
  /** The wire document `(traceId, rootSpanId)` with `steps: []` found in its text, for a large document; `undefined`: ask SQL. */
  wireHeader(traceId: string, rootSpanId: string): Record<string, unknown> | undefined
  /** Counts a commit of this connection, which `PRAGMA data_version` does not see. */
  wrote(): void
  hasTextIndex(): boolean
}

/**
 * @internal The reads over `db`. `file` is the database a scan worker opens (read-only) for an
 * unindexed text search; `undefined` (an in-memory store) scans on this thread.
 */
export function sqliteReads(db: BetterSqlite3.Database, file: string | undefined): SqliteReads {
  let ownWrites = 0
  const ftsPresent = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'traces_fts'")
  const hasTextIndex = (): boolean => (ftsPresent.get() as { n: number }).n > 0

  /** Runs a query here, or for an unindexed text scan on a worker thread (cancellable). */
  const run = async <T>(sql: string, params: unknown[], mode: 'all' | 'get', scan: boolean, signal: AbortSignal | undefined): Promise<T> => {
    if (!scan || file === undefined) {
      const statement = db.prepare<unknown[], T>(sql)
      return (mode === 'all' ? statement.all(...params) : statement.get(...params)) as T
    }
    return runOffThread<T>(file, { task: 'query', sql, params, mode }, { failure: 'Cannot search the trace store', stopped: 'Cannot search the trace store: the search worker stopped.', signal })
  }
  const maxRowid = db.prepare<[], { n: number | null }>('SELECT max(rowid) AS n FROM traces')
  /**
   * An unindexed text scan split by rowid into one range per core, each on its own worker, for a store
   * large enough to pay for the second worker: a scan reads every document, and one core reads ~0.6 GB/s
   * (docs/stores.md#text-search). `where` is a clause that starts with ' WHERE '; `parts` are the rows of each range.
   */
  const runSplit = async <T>(build: (where: string) => string, clause: Bound, tail: unknown[], mode: 'all' | 'get', signal: AbortSignal | undefined): Promise<T[]> => {
    const last = (maxRowid.get() as { n: number | null }).n ?? 0
    const count = file === undefined || last < SPLIT_SCAN_ROWS ? 1 : SCAN_WORKERS
    if (count === 1) return [await run<T>(build(clause.sql), [...clause.params, ...tail], mode, true, signal)]
    const step = Math.ceil(last / count)
    return Promise.all(Array.from({ length: count }, (_, part) => {
      const ranged = ' WHERE traces.rowid > ? AND traces.rowid <= ? AND ' + clause.sql.slice(' WHERE '.length)
      const bounds = [part * step, part === count - 1 ? Number.MAX_SAFE_INTEGER : (part + 1) * step]
      return run<T>(build(ranged), [...bounds, ...clause.params, ...tail], mode, true, signal)
    }))
  }

  // prepared once the text index exists (a statement on a missing table cannot be)
  let matches: BetterSqlite3.Statement<[string, number], { n: number }> | undefined
  const countMatches = (match: string, limit: number): number => {
    matches ??= db.prepare<[string, number], { n: number }>('SELECT count(*) AS n FROM (SELECT 1 FROM traces_fts WHERE traces_fts MATCH ? LIMIT ?)')
    return (matches.get(match, limit) as { n: number }).n
  }
  /**
   * The page of a text search among the `PROBE_ROWS` newest traces the other filters (and the cursor)
   * leave, tested with the substring pattern itself: when it fills a page, that page is the list's (any
   * other match is older than all of them), without asking FTS5 for the matches of a word that most
   * traces hold, which costs a prefix merge of hundreds of milliseconds on 100 000 traces.
   */
  const probe = (query: NormalQuery): SummaryRow[] => {
    const window = whereClause({ ...query, textPattern: undefined, text: undefined }, true)
    const full = whereClause(query, true)
    const sql = 'SELECT ' + SUMMARY_COLUMNS + ' FROM traces' + full.sql + (full.sql === '' ? ' WHERE ' : ' AND ') +
      'traces.rowid IN (SELECT rowid FROM traces' + window.sql + ' ORDER BY ' + ORDER_BY.newest + ' LIMIT ?) ORDER BY ' + ORDER_BY.newest + ' LIMIT ?'
    return db.prepare<unknown[], SummaryRow>(sql).all(...full.params, ...window.params, PROBE_ROWS, query.limit + 1)
  }
  const where = (query: NormalQuery, paged: boolean): Bound & { readonly scan: boolean } => {
    const match = query.text === undefined ? undefined : ftsQuery(query.text)
    const indexed = match !== undefined && hasTextIndex()
    // A page of a word many traces hold ("error", "user"): SQLite would read every match to sort them
    // (1.7 s for 100 000); walking the traces newest first, testing each against the matches, stops at the page
    const common = indexed && paged && countMatches(match, COMMON_MATCHES + 1) > COMMON_MATCHES
    const clause = whereClause(query, paged, indexed ? match : undefined, common)
    return { ...clause, scan: query.textPattern !== undefined && !indexed }
  }

  const dataVersion = db.prepare<[], { data_version: number }>('PRAGMA data_version')
  const dataVersionNow = (): string => String((dataVersion.get() as { data_version: number }).data_version) + '.' + String(ownWrites)
  const byText = documentText(db, dataVersionNow)

  return {
    list: async (query, signal) => {
      // with the text index, a word many traces hold is first looked for among the newest traces
      const probed = query.textPattern !== undefined && query.sort === 'newest' && hasTextIndex() ? probe(query) : undefined
      if (probed !== undefined && probed.length > query.limit) return pageOf(sqliteDialect, probed, query.limit, true)
      const clause = where(query, true)
      // a top-N sort is one page: no row beyond `limit` is read, and no cursor is made
      const paged = query.sort === 'newest'
      const select = (where: string): string => 'SELECT ' + SUMMARY_COLUMNS + ' FROM traces' + where + ' ORDER BY ' + ORDER_BY[query.sort] + ' LIMIT ?'
      const tail = [paged ? query.limit + 1 : query.limit]
      // a split scan: each range's first rows in the list's order, merged into the first of all
      const rows = clause.scan
        ? (await runSplit<SummaryRow[]>(select, clause, tail, 'all', signal)).flat().sort(compareRows(ORDER_BY[query.sort])).slice(0, tail[0])
        : await run<SummaryRow[]>(select(clause.sql), [...clause.params, ...tail], 'all', false, signal)
      return pageOf(sqliteDialect, rows, query.limit, paged)
    },
    count: async (query, signal) => {
      const clause = where(query, false)
      const select = (where: string): string => 'SELECT count(*) AS n FROM traces' + where
      if (!clause.scan) return (await run<{ n: number }>(select(clause.sql), clause.params, 'get', false, signal)).n
      return (await runSplit<{ n: number }>(select, clause, [], 'get', signal)).reduce((sum, part) => sum + part.n, 0)
    },
    ...sqliteSteps(db, byText),
    facets: async (column, query) => {
      const clause = where(query, false)
      const statement = facetStatement(sqliteDialect, 'traces', column, clause)
      return toFacets(await run<Array<Record<string, unknown>>>(statement.sql, statement.params, 'all', clause.scan, undefined))
    },
    overview: async (since) => sqliteOverview(db, file, since),
    dataVersion: dataVersionNow,
    wireHeader: (traceId, rootSpanId) => byText.header(traceId, rootSpanId),
    wrote: () => {
      ownWrites++
    },
    hasTextIndex,
  }
}

/**
 * @internal Filters as SQL over bound parameters (`sql/where.ts`); with `paged`, the keyset condition;
 * with `match`, the FTS5 prefilter (tested for each row, in the list's order, with `walk`).
 */
export function whereClause(query: NormalQuery, paged: boolean, match?: string, walk = false): Bound {
  // `+` keeps the planner from reading the traces by the matches' rowids (`walk`): it then follows an index in the list's order
  const textIndex = match === undefined ? undefined : (bind: (value: unknown) => string): string => (walk ? '+' : '') + 'traces.rowid IN (SELECT rowid FROM traces_fts WHERE traces_fts MATCH ' + bind(match) + ')'
  return sharedWhere(sqliteDialect, query, paged, textIndex)
}

/**
 * @internal The comparison of an `ORDER BY` list of the store's (`col DESC [NULLS LAST]`, `col [ASC]`)
 * as SQLite makes it: NULL below every value, numbers by value, text by UTF-16 units (the ordered text
 * columns are ASCII: times and hex ids, where that is SQLite's byte order).
 */
export function compareRows(orderBy: string): (a: object, b: object) => number {
  const terms = orderBy.split(',').map((term) => {
    const [column = '', direction = 'ASC'] = term.trim().split(/\s+/)
    return { column, sign: direction.toUpperCase() === 'DESC' ? -1 : 1 }
  })
  return (a, b) => {
    for (const { column, sign } of terms) {
      const x = (a as Record<string, unknown>)[column]
      const y = (b as Record<string, unknown>)[column]
      if (x === y) continue
      if (x === null || x === undefined) return -sign
      if (y === null || y === undefined) return sign
      return ((x as number | string) < (y as number | string) ? -1 : 1) * sign
    }
    return 0
  }
}

