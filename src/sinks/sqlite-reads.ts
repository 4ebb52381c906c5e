/**
 * The reads of the SQLite store: trace lists (with the text index or a cancellable scan on a worker
 * thread), step skeletons, steps and step fields extracted in SQL, facets, the data version, and the
 * opt-in FTS5 text index (docs/stores.md). better-sqlite3 is used through the connection it is given
 * (a type import only); the worker loads the driver `sqlite.ts` resolved.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type BetterSqlite3 from 'better-sqlite3'
import type { JsonValue, StepId, StepRecord, TraceId } from '../document/document.js'
import { stepFromWire, type WireStep } from '../document/wire.js'
import { abortError, encodeCursor, FACET_LIMIT, facetQuery, ftsQuery, isStepId, isTraceId, ORDER_BY, overviewSince, SCOPE_KEYS, stepFieldKey, fieldValue, type NormalQuery } from '../store/query.js'
import type { FacetCount, FacetField, ListQuery, OverviewQuery, StepField, StepSkeleton, StoreOverview, TracePage, TraceSummary } from '../store/types.js'
import { sqliteOverview } from './sqlite-overview.js'
import { documentText } from './sqlite-step-bytes.js'

/** @internal A step read without its large input or output (`SqliteReads.largeStep`). */
export interface LargeStepRecord {
  /** The step, without the fields in `large`. */
  readonly record: StepRecord
  /** The first bytes of each large field's JSON text, and its size in bytes. */
  readonly large: Partial<Record<'input' | 'output', { readonly preview: string; readonly bytes: number }>>
}

/** An unindexed text scan of a store with more rows than this is split over `SCAN_WORKERS` workers. */
const SPLIT_SCAN_ROWS = 20_000
/** Workers of a split scan: one per core, at most 4 (the scan reads from the OS page cache). */
const SCAN_WORKERS = Math.max(1, Math.min(4, availableParallelism()))

/** How many of the newest traces a text search with the index first tests with its pattern (`probe`): ~20 ms of `LIKE` on 9 KB documents. */
const PROBE_ROWS = 1000

/** Above this many text-index matches, a page of the list walks the traces newest first (see `where`). */
const COMMON_MATCHES = 2000

/** @internal The columns of a trace summary. */
export const SUMMARY_COLUMNS =
  'trace_id, root_span_id, parent_step_id, replay_of, project, environment, prompt, model_name, status, started_at, ended_at, duration_ms, ' +
  'retry_count, step_count, error_count, input_tokens, output_tokens, cost_usd, tags, input_preview, output_preview, error_type, error_message'

/** @internal */
export interface SummaryRow {
  trace_id: string
  root_span_id: string
  parent_step_id: string | null
  replay_of: string | null
  project: string
  environment: string
  prompt: string
  model_name: string | null
  status: 'success' | 'error'
  started_at: string
  ended_at: string
  duration_ms: number
  retry_count: number
  step_count: number
  error_count: number
  input_tokens: number
  output_tokens: number
  cost_usd: number | null
  tags: string
  input_preview: string | null
  output_preview: string | null
  error_type: string | null
  error_message: string | null
}

/** @internal What the viewer reads of a SQLite store. */
export interface SqliteReads {
  list(query: NormalQuery, signal: AbortSignal | undefined): Promise<TracePage>
  count(query: NormalQuery, signal: AbortSignal | undefined): Promise<number>
  steps(traceId: string, previews?: boolean): ReadonlyArray<StepSkeleton>
  step(traceId: string, stepId: string): StepRecord | undefined
  stepField(traceId: string, stepId: string, field: StepField): { readonly found: boolean; readonly value?: JsonValue }
  facets(field: FacetField, query: ListQuery | undefined): Promise<ReadonlyArray<FacetCount>>
  dataVersion(): string
  /** The store overview (`sqlite-overview.ts`). */
  overview(query: OverviewQuery | undefined): Promise<StoreOverview>
  /** A large step without its large input or output, which come as previews and sizes (`DocumentText.largeStep`); `undefined`: read it whole. */
  largeStep(traceId: string, stepId: string, inlineBytes: number, previewBytes: number): LargeStepRecord | undefined
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
export function sqliteReads(db: BetterSqlite3.Database, file: string | undefined, driverPath: string): SqliteReads {
  let ownWrites = 0
  const ftsPresent = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'traces_fts'")
  const hasTextIndex = (): boolean => (ftsPresent.get() as { n: number }).n > 0

  /** Runs a query here, or for an unindexed text scan on a worker thread (cancellable). */
  const run = async <T>(sql: string, params: unknown[], mode: 'all' | 'get', scan: boolean, signal: AbortSignal | undefined): Promise<T> => {
    if (!scan || file === undefined) {
      const statement = db.prepare<unknown[], T>(sql)
      return (mode === 'all' ? statement.all(...params) : statement.get(...params)) as T
    }
    return scanOffThread<T>(file, driverPath, sql, params, mode, signal)
  }
  const maxRowid = db.prepare<[], { n: number | null }>('SELECT max(rowid) AS n FROM traces')
  /**
   * An unindexed text scan split by rowid into one range per core, each on its own worker, for a store
   * large enough to pay for the second worker: a scan reads every document, and one core reads ~0.6 GB/s
   * (docs/stores.md#text-search). `where` is a clause that starts with ' WHERE '; `parts` are the rows of each range.
   */
  const runSplit = async <T>(build: (where: string) => string, clause: { readonly sql: string; readonly params: unknown[] }, tail: unknown[], mode: 'all' | 'get', signal: AbortSignal | undefined): Promise<T[]> => {
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
  const where = (query: NormalQuery, paged: boolean): { readonly sql: string; readonly params: unknown[]; readonly scan: boolean } => {
    const match = query.text === undefined ? undefined : ftsQuery(query.text)
    const indexed = match !== undefined && hasTextIndex()
    // A page of a word many traces hold ("error", "user"): SQLite would read every match to sort them
    // (1.7 s for 100 000); walking the traces newest first, testing each against the matches, stops at the page
    const common = indexed && paged && countMatches(match, COMMON_MATCHES + 1) > COMMON_MATCHES
    const clause = whereClause(query, paged, indexed ? match : undefined, common)
    return { ...clause, scan: query.textPattern !== undefined && !indexed }
  }

  // raw rows (arrays): better-sqlite3's row objects took 4 times as long for 5 000 steps (bench/store-viewer.mjs).
  // The steps table alone, in its key's order, sorted here by document and seq: joining the traces to
  // sort in SQL took 33 ms instead of 19 for 5 000 steps, and the previews (400 characters a step) 38 ms.
  const skeletonColumns = (previews: boolean): string =>
    'SELECT s.step_id, s.parent_step_id, s.root_span_id, s.seq, s.name, s.kind, s.status, s.started_at, s.duration_ms, s.attempts, s.retries, s.model, ' +
    's.input_tokens, s.output_tokens, s.cost_usd, s.error_type, s.error_message, s.input_bytes, s.output_bytes, ' +
    (previews ? 's.input_preview, s.output_preview, ' : 'NULL, NULL, ') + 's.truncated, s.incomplete FROM steps s WHERE s.trace_id = ?'
  const skeletonOf = {
    true: db.prepare<[string], SkeletonRow>(skeletonColumns(true)).raw(true) as unknown as BetterSqlite3.Statement<[string], SkeletonRow>,
    false: db.prepare<[string], SkeletonRow>(skeletonColumns(false)).raw(true) as unknown as BetterSqlite3.Statement<[string], SkeletonRow>,
  }
  const documentOrder = db.prepare<[string], string>('SELECT root_span_id FROM traces WHERE trace_id = ? ORDER BY started_at, root_span_id').pluck(true)
  const skeleton = (traceId: string, previews: boolean): StepSkeleton[] => {
    const order = new Map((documentOrder.all(traceId) as unknown as string[]).map((root, rank) => [root, rank]))
    const rows = skeletonOf[previews ? 'true' : 'false'].all(traceId).filter((row) => order.has(row[2]))
    // the earliest started document first, then seq (SkeletonRow: 2 is root_span_id, 3 is seq)
    rows.sort((a, b) => (order.get(a[2]) as number) - (order.get(b[2]) as number) || a[3] - b[3])
    return rows.map(toSkeleton)
  }
  // the step at its `seq` in the document's `steps` array (which is in seq order), checked by its id
  const stepAt = db.prepare<[string, string], { step: string | null; root_span_id: string }>(
    "SELECT json_extract(t.document, '$.steps[' || s.seq || ']') AS step, t.root_span_id FROM steps s " +
      'JOIN traces t ON t.trace_id = s.trace_id AND t.root_span_id = s.root_span_id WHERE s.trace_id = ? AND s.step_id = ? ORDER BY t.started_at, t.root_span_id LIMIT 1',
  )
  const fieldAt = db.prepare<[string, string, string], { value: string | null; step_id: string | null; root_span_id: string }>(
    "SELECT t.document -> ('$.steps[' || s.seq || '].' || ?) AS value, json_extract(t.document, '$.steps[' || s.seq || '].step_id') AS step_id, t.root_span_id " +
      'FROM steps s JOIN traces t ON t.trace_id = s.trace_id AND t.root_span_id = s.root_span_id WHERE s.trace_id = ? AND s.step_id = ? ORDER BY t.started_at, t.root_span_id LIMIT 1',
  )
  // a document whose steps are not at their seq (never written so by tracellm): searched
  const stepSearched = db.prepare<[string, string, string], { step: string }>(
    "SELECT e.value AS step FROM traces t, json_each(t.document, '$.steps') e WHERE t.trace_id = ? AND t.root_span_id = ? AND json_extract(e.value, '$.step_id') = ? LIMIT 1",
  )
  const dataVersion = db.prepare<[], { data_version: number }>('PRAGMA data_version')

  const dataVersionNow = (): string => String((dataVersion.get() as { data_version: number }).data_version) + '.' + String(ownWrites)
  const byText = documentText(db, dataVersionNow)
  const findStep = (traceId: string, stepId: string): Record<string, unknown> | undefined => {
    const fast = byText.step(traceId, stepId)
    if (fast !== undefined) return fast
    const row = stepAt.get(traceId, stepId)
    if (row === undefined) return undefined
    const step = row.step === null ? undefined : (JSON.parse(row.step) as Record<string, unknown>)
    if (step !== undefined && step.step_id === stepId) return step
    const searched = stepSearched.get(traceId, row.root_span_id, stepId)
    return searched === undefined ? undefined : (JSON.parse(searched.step) as Record<string, unknown>)
  }

  return {
    list: async (query, signal) => {
      // with the text index, a word many traces hold is first looked for among the newest traces
      const probed = query.textPattern !== undefined && query.sort === 'newest' && hasTextIndex() ? probe(query) : undefined
      if (probed !== undefined && probed.length > query.limit) return pageOf(probed, query.limit, true)
      const clause = where(query, true)
      // a top-N sort is one page: no row beyond `limit` is read, and no cursor is made
      const paged = query.sort === 'newest'
      const select = (where: string): string => 'SELECT ' + SUMMARY_COLUMNS + ' FROM traces' + where + ' ORDER BY ' + ORDER_BY[query.sort] + ' LIMIT ?'
      const tail = [paged ? query.limit + 1 : query.limit]
      // a split scan: each range's first rows in the list's order, merged into the first of all
      const rows = clause.scan
        ? (await runSplit<SummaryRow[]>(select, clause, tail, 'all', signal)).flat().sort(compareRows(ORDER_BY[query.sort])).slice(0, tail[0])
        : await run<SummaryRow[]>(select(clause.sql), [...clause.params, ...tail], 'all', false, signal)
      return pageOf(rows, query.limit, paged)
    },
    count: async (query, signal) => {
      const clause = where(query, false)
      const select = (where: string): string => 'SELECT count(*) AS n FROM traces' + where
      if (!clause.scan) return (await run<{ n: number }>(select(clause.sql), clause.params, 'get', false, signal)).n
      return (await runSplit<{ n: number }>(select, clause, [], 'get', signal)).reduce((sum, part) => sum + part.n, 0)
    },
    steps: (traceId, previews = true) => (isTraceId(traceId) ? skeleton(traceId, previews) : []),
    step: (traceId, stepId) => {
      if (!isTraceId(traceId) || !isStepId(stepId)) return undefined
      const step = findStep(traceId, stepId)
      return step === undefined ? undefined : stepFromWire(step as unknown as WireStep)
    },
    stepField: (traceId, stepId, field) => {
      const key = stepFieldKey(field)
      if (!isTraceId(traceId) || !isStepId(stepId)) return { found: false }
      const fast = byText.step(traceId, stepId)
      if (fast !== undefined) return fieldValue(field, fast[key] as JsonValue | undefined)
      const row = fieldAt.get(key, traceId, stepId)
      if (row === undefined) return { found: false }
      if (row.step_id === stepId) return fieldValue(field, row.value === null ? undefined : (JSON.parse(row.value) as JsonValue))
      const step = findStep(traceId, stepId)
      return step === undefined ? { found: false } : fieldValue(field, step[key] as JsonValue | undefined)
    },
    facets: async (field, query) => {
      const { column, normal } = facetQuery(field, query)
      const clause = where(normal, false)
      const sql =
        column === 'tags'
          ? 'SELECT j.value AS value, count(*) AS n FROM traces, json_each(traces.tags) j' + clause.sql + ' GROUP BY j.value'
          : 'SELECT ' + column + ' AS value, count(*) AS n FROM traces' + clause.sql + (clause.sql === '' ? ' WHERE ' : ' AND ') + column + ' IS NOT NULL GROUP BY ' + column
      const rows = await run<Array<{ value: string; n: number }>>(sql + ' ORDER BY n DESC, value LIMIT ?', [...clause.params, FACET_LIMIT], 'all', clause.scan, undefined)
      return rows.map((row) => ({ value: String(row.value), count: row.n }))
    },
    overview: async (query) => sqliteOverview(db, file, driverPath, overviewSince(query)),
    dataVersion: dataVersionNow,
    wireHeader: (traceId, rootSpanId) => byText.header(traceId, rootSpanId),
    largeStep: (traceId, stepId, inlineBytes, previewBytes) => {
      if (!isTraceId(traceId) || !isStepId(stepId)) return undefined
      const found = byText.largeStep(traceId, stepId, inlineBytes, previewBytes)
      if (found === undefined) return undefined
      const record = stepFromWire(found.step as unknown as WireStep) as StepRecord & Partial<Record<'input' | 'output', unknown>>
      // the large fields were read as null: they are given apart
      const { input, output, ...rest } = record
      return { record: { ...rest, ...(found.large.input === undefined && input !== undefined ? { input } : {}), ...(found.large.output === undefined && output !== undefined ? { output } : {}) } as StepRecord, large: found.large }
    },
    wrote: () => {
      ownWrites++
    },
    hasTextIndex,
  }
}

/**
 * @internal The statements of the opt-in text index (`tracellm index --text`): a contentless FTS5 table
 * (`unicode61`) over a text projection of each document (its keys and the text of its values, JSON
 * escapes undone), kept up to date by triggers. Idempotent.
 */
export const TEXT_INDEX_SQL: ReadonlyArray<string> = [
  "CREATE VIRTUAL TABLE IF NOT EXISTS traces_fts USING fts5(body, content = '', contentless_delete = 1, tokenize = 'unicode61')",
  'CREATE TRIGGER IF NOT EXISTS traces_fts_insert AFTER INSERT ON traces BEGIN ' +
    'INSERT INTO traces_fts (rowid, body) VALUES (new.rowid, ' + projection('new.document') + '); END',
  'CREATE TRIGGER IF NOT EXISTS traces_fts_delete AFTER DELETE ON traces BEGIN DELETE FROM traces_fts WHERE rowid = old.rowid; END',
  // the documents already stored, once (the table is new when it is empty)
  'INSERT INTO traces_fts (rowid, body) SELECT rowid, ' + projection('document') + ' FROM traces WHERE NOT EXISTS (SELECT 1 FROM traces_fts LIMIT 1)',
]

/** The searchable text of a stored document: every key and every scalar value, space separated. */
function projection(document: string): string {
  return "(SELECT group_concat(coalesce(key, '') || ' ' || coalesce(atom, ''), ' ') FROM json_tree(" + document + '))'
}

/**
 * @internal Builds the text index on a worker thread with its own connection, in one transaction:
 * indexing the documents already stored takes seconds on a large store (docs/stores.md#text-search),
 * which the event loop never waits through.
 */
export function buildTextIndexOffThread(file: string, driverPath: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failure: Error | undefined
    try {
      const worker = new Worker(INDEX_WORKER, { eval: true, workerData: { file, driver: driverPath, statements: TEXT_INDEX_SQL } })
      worker.once('message', (message: { readonly error?: string; readonly code?: string }) => {
        if (message.error !== undefined) failure = Object.assign(new Error('Cannot build the text index: ' + message.error), { code: message.code })
      })
      worker.once('error', (error) => {
        failure ??= error
      })
      worker.once('exit', () => (failure === undefined ? resolve() : reject(failure)))
    } catch (error) {
      reject(error)
    }
  })
}

const INDEX_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
let db
try {
  db = new Database(workerData.file, { fileMustExist: true })
  db.pragma('busy_timeout = 5000')
  db.transaction(() => { for (const statement of workerData.statements) db.exec(statement) }).immediate()
  parentPort.postMessage({})
} catch (error) {
  parentPort.postMessage({ error: String(error && error.message), code: error && error.code })
} finally {
  if (db !== undefined) db.close()
}
`

/** @internal Filters as SQL over bound parameters; with `paged`, the keyset condition; with `match`, the FTS5 prefilter (tested for each row, in the list's order, with `walk`). */
export function whereClause(query: NormalQuery, paged: boolean, match?: string, walk = false): { readonly sql: string; readonly params: unknown[] } {
  const conditions: string[] = []
  const params: unknown[] = []
  const equal = (column: string, value: string | undefined): void => {
    if (value === undefined) return
    conditions.push(column + ' = ?')
    params.push(value)
  }
  equal('project', query.project)
  equal('environment', query.environment)
  equal('prompt', query.prompt)
  equal('status', query.status)
  equal('model_name', query.modelName)
  if (query.since !== undefined) {
    conditions.push('started_at >= ?')
    params.push(query.since)
  }
  if (query.until !== undefined) {
    conditions.push('started_at < ?')
    params.push(query.until)
  }
  if (query.idPattern !== undefined) {
    conditions.push('trace_id LIKE ?')
    params.push(query.idPattern)
  }
  if (match !== undefined) {
    // `+` keeps the planner from reading the traces by the matches' rowids (`walk`): it then follows an index in the list's order
    conditions.push((walk ? '+' : '') + 'traces.rowid IN (SELECT rowid FROM traces_fts WHERE traces_fts MATCH ?)')
    params.push(match)
  }
  if (query.replayOf !== undefined) {
    conditions.push('replay_of = ?')
    params.push(query.replayOf)
  }
  if (query.textPattern !== undefined) {
    // with the index too: its word prefixes narrow the rows, the pattern keeps the substring semantics;
    // a scope narrows further, to the matching parts (the whole-document test stays first: it is cheap)
    conditions.push("document LIKE ? ESCAPE '\\'")
    params.push(query.textPattern)
    if (query.scope !== 'all') {
      const keys = SCOPE_KEYS[query.scope]
      const like = (value: string) => (key: string): string => {
        params.push(query.textPattern)
        return '(' + value + " -> '$." + key + "') LIKE ? ESCAPE '\\'"
      }
      const inTrace = keys.trace.map(like('document'))
      const inSteps = keys.step.map(like('e.value'))
      conditions.push('(' + inTrace.join(' OR ') + " OR EXISTS (SELECT 1 FROM json_each(document, '$.steps') e WHERE " + inSteps.join(' OR ') + '))')
    }
  }
  if (paged && query.after !== undefined) {
    conditions.push('(started_at, trace_id, root_span_id) < (?, ?, ?)')
    params.push(query.after.startedAt, query.after.traceId, query.after.rootSpanId)
  }
  return { sql: conditions.length === 0 ? '' : ' WHERE ' + conditions.join(' AND '), params }
}

/** A page of `rows` (`limit + 1` asked for when `paged`: one more says there is a next page). */
function pageOf(rows: ReadonlyArray<SummaryRow>, limit: number, paged: boolean): TracePage {
  const items = rows.slice(0, limit).map(toSummary)
  const last = rows[limit - 1]
  return { items, nextCursor: paged && rows.length > limit && last !== undefined ? encodeCursor({ startedAt: last.started_at, traceId: last.trace_id, rootSpanId: last.root_span_id }) : null }
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

/** @internal */
export function toSummary(row: SummaryRow): TraceSummary {
  return {
    traceId: row.trace_id as TraceId,
    rootSpanId: row.root_span_id === '' ? null : (row.root_span_id as StepId),
    parentStepId: row.parent_step_id as StepId | null,
    replayOf: row.replay_of as TraceId | null,
    project: row.project,
    environment: row.environment,
    prompt: row.prompt,
    modelName: row.model_name,
    status: row.status,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    durationMs: row.duration_ms,
    retryCount: row.retry_count,
    stepCount: row.step_count,
    errorCount: row.error_count,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    costUsd: row.cost_usd,
    tags: parseTags(row.tags),
    inputPreview: row.input_preview,
    outputPreview: row.output_preview,
    errorType: row.error_type,
    errorMessage: row.error_message,
  }
}


/** A skeleton row in the order of the SELECT. */
type SkeletonRow = [
  stepId: string, parentStepId: string | null, rootSpanId: string, seq: number, name: string, kind: string, status: 'success' | 'error',
  startedAt: string, durationMs: number, attempts: number, retries: number, model: string | null, inputTokens: number | null,
  outputTokens: number | null, costUsd: number | null, errorType: string | null, errorMessage: string | null, inputBytes: number,
  outputBytes: number, inputPreview: string | null, outputPreview: string | null, truncated: number, incomplete: number,
]

function toSkeleton(row: SkeletonRow): StepSkeleton {
  return {
    stepId: row[0] as StepId,
    parentStepId: row[1] as StepId | null,
    rootSpanId: row[2] === '' ? null : (row[2] as StepId),
    seq: row[3],
    name: row[4],
    kind: row[5],
    status: row[6],
    startedAt: row[7],
    durationMs: row[8],
    attempts: row[9],
    retries: row[10],
    model: row[11],
    inputTokens: row[12] ?? 0,
    outputTokens: row[13] ?? 0,
    costUsd: row[14],
    errorType: row[15],
    errorMessage: row[16],
    inputBytes: row[17],
    outputBytes: row[18],
    inputPreview: row[19],
    outputPreview: row[20],
    truncated: row[21] !== 0,
    incomplete: row[22] !== 0,
  }
}

function parseTags(text: string): ReadonlyArray<string> {
  try {
    const tags: unknown = JSON.parse(text)
    return Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === 'string') : []
  } catch {
    return []
  }
}

/**
 * Runs one read-only query on a worker thread with its own connection: an unindexed text search reads
 * every document (seconds on a large store) while the event loop stays free. Aborting terminates the
 * worker, which stops SQLite mid-scan, and rejects with an `AbortError`.
 */
function scanOffThread<T>(file: string, driverPath: string, sql: string, params: unknown[], mode: 'all' | 'get', signal: AbortSignal | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false
    let worker: Worker
    const onAbort = (): void => {
      if (settled) return
      settled = true
      void worker.terminate()
      reject(abortError(signal))
    }
    try {
      worker = new Worker(SCAN_WORKER, { eval: true, workerData: { file, driver: driverPath, sql, params, mode } })
    } catch (error) {
      reject(error)
      return
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const finish = (): void => {
      settled = true
      signal?.removeEventListener('abort', onAbort)
    }
    worker.once('message', (message: { readonly rows?: T; readonly error?: string; readonly code?: string }) => {
      if (settled) return
      finish()
      if (message.error !== undefined) reject(Object.assign(new Error('Cannot search the trace store: ' + message.error), { code: message.code }))
      else resolve(message.rows as T)
    })
    worker.once('error', (error) => {
      if (settled) return
      finish()
      reject(error)
    })
    worker.once('exit', () => {
      if (settled) return
      finish()
      reject(new Error('Cannot search the trace store: the search worker stopped.'))
    })
  })
}

const SCAN_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
let db
try {
  db = new Database(workerData.file, { readonly: true, fileMustExist: true })
  db.pragma('busy_timeout = 5000')
  const statement = db.prepare(workerData.sql)
  const rows = workerData.mode === 'all' ? statement.all(...workerData.params) : statement.get(...workerData.params)
  parentPort.postMessage({ rows })
} catch (error) {
  parentPort.postMessage({ error: String(error && error.message), code: error && error.code })
} finally {
  if (db !== undefined) db.close()
}
`
