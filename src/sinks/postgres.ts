/**
 * The PostgreSQL sink and store: many processes, on many machines, writing to one database. `pg` is an
 * optional peer dependency, loaded on the first write (never by `import 'tracellm'`), in this file only.
 * Every value travels as a bound parameter; SQL text is built by concatenation from fixed pieces and
 * validated identifiers only.
 */
import type { Pool, PoolClient, PoolConfig } from 'pg'
import type { JsonValue, StepId, StepRecord, TraceDocument, TraceId } from '../document/document.js'
import { PREVIEW_CHARS, STEP_COLUMNS as ROW_STEP_COLUMNS, stepValues, toStepRows, toStoredJson, toTraceRow, TRACE_COLUMNS as ROW_TRACE_COLUMNS, traceValues, wellFormed } from '../document/rows.js'
import { fromWire } from '../document/wire.js'
import type { Sink, WriteResult } from '../export/queue.js'
import { createTextIndex, readDataVersion, readFacets, readOverview, readStep, readStepField, readSteps, type Names, type Query } from './postgres-reads.js'
import { abortError, encodeCursor, facetQuery, headerOf, isTraceId, ORDER_BY, SCOPE_KEYS, stepFieldKey, normalizeQuery, overviewSince, readSignal, toInstant, type NormalQuery } from '../store/query.js'
import type { FacetCount, FacetField, ListQuery, OverviewQuery, PruneOptions, StepField, StepSkeleton, StoreOverview, StoreStats, TextScope, TraceHeader, TracePage, TraceStore, TraceSummary, VacuumResult } from '../store/types.js'

/** Options of `postgresSink()`. @category sinks */
export interface PostgresSinkOptions {
  /** A `postgres://` or `postgresql://` URL. Its password never appears in `String(sink)`, warnings or errors. */
  readonly connectionString: string
  /** The schema holding the tables (created by the migration when missing). @default the first schema of the `search_path`, usually `public` */
  readonly schema?: string
  /** Create or upgrade the tables before the first write. Set `false` when a role without DDL rights writes. @default true */
  readonly migrate?: boolean
  /** Connections the sink may open. One batch is written at a time, so two are plenty. @default 2 */
  readonly poolSize?: number
  /** How long opening a connection may take (0: no limit). @default 5000 */
  readonly connectionTimeoutMs?: number
  /** Server-side limit of each statement, and of a transaction left idle (0: no limit). @default 10000 */
  readonly statementTimeoutMs?: number
  /** Client-side limit of each query, for a server that stopped answering (0: no limit). @default statementTimeoutMs + 5000 */
  readonly queryTimeoutMs?: number
}

/** The sink `postgresSink()` builds: a `Sink` whose connections `close()` ends. @category sinks */
export interface PostgresSink extends Sink {
  /** Ends the connection pool once the writes in flight are done. Idempotent. */
  close(): Promise<void>
  /** `postgresSink(<url without its password>)`. */
  toString(): string
}

/**
 * Builds a sink that writes each batch into PostgreSQL in one transaction: one row per trace in
 * `traces` (the indexed columns plus the whole snake_case document as `jsonb`), one row per step in
 * `steps`. Inserts are idempotent (`ON CONFLICT DO NOTHING`), so a retried batch never duplicates a
 * trace. Nothing connects until the first write; the tables are then created or upgraded under an
 * advisory lock, so many processes may start at once. A lost connection, a timeout or a server
 * shutting down fails the write and the export queue retries it on a fresh connection; a document
 * the database rejects (SQLSTATE classes 22 and 23) is isolated by splitting the batch, the others
 * commit, and it is stored as a placeholder carrying `error: { type: "Unstorable", message:
 * "[Unstorable: <sqlstate>]" }` (or dropped with a warning when even that fails). There is no
 * `writeSync`: after `process.exit()` queued traces are lost, so `await shutdown()` before exiting.
 * Throws a `TypeError` for an invalid or unknown option.
 *
 * @example
 * import { configure, postgresSink } from 'tracellm'
 * const sink = postgresSink({ connectionString: 'postgres://tracer:s3cret@db.internal:5432/traces', schema: 'tracing' })
 * configure({ sinks: [sink] })
 * String(sink)   // => 'postgresSink(postgres://tracer:***@db.internal:5432/traces)'
 *
 * @category sinks
 * @since 0.1.0
 */
export function postgresSink(options: PostgresSinkOptions): PostgresSink {
  const settings = checkOptions(options, 'postgresSink', SINK_OPTION_KEYS, { migrate: true, poolSize: 2 })
  const db = createDatabase(settings)
  const label = 'postgresSink(' + db.shownUrl + ')'

  return {
    name: 'postgres',
    write: async (batch) => {
      if (batch.length === 0) return undefined
      return db.insert(batch)
    },
    close: () => db.close(),
    toString: () => label,
    [Symbol.for('nodejs.util.inspect.custom')]: () => label,
  }
}

/**
 * @internal Opens the PostgreSQL store at `url` for reading and pruning. Rejects when the database
 * cannot be reached or holds no tracellm tables (unless `migrate` is set, which creates them).
 */
export async function openPostgresStore(url: string, options: Omit<PostgresSinkOptions, 'connectionString'> & { readonly readOnly?: boolean } = {}): Promise<TraceStore & { createTextIndex(): Promise<boolean> }> {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected the store options to be an object.')
  const { readOnly = false, ...rest } = options
  if (typeof readOnly !== 'boolean') throw new TypeError('Expected `readOnly` to be a boolean.')
  const settings = { ...checkOptions({ ...rest, connectionString: url }, 'openStore', SINK_OPTION_KEYS, { migrate: false, poolSize: 4 }), readOnly }
  const db = createDatabase(settings)
  try {
    await db.open()
  } catch (error) {
    await db.close()
    throw error
  }
  let closed = false
  const live = (): Database => {
    if (closed) throw new Error('The trace store is closed.')
    return db
  }
  // the sessions refuse writes too; these fail before any work starts
  const writable = (): Database => {
    if (readOnly) throw new Error('The trace store was opened read-only.')
    return live()
  }
  return {
    kind: 'postgres',
    readOnly,
    // the earliest started document: the entry point of a trace continued across services
    get: async (traceId) => (await live().getAll(traceId))[0],
    getAll: async (traceId) => live().getAll(traceId),
    headers: async (traceId) => live().headers(traceId),
    list: async (query?: ListQuery, readOptions?) => live().list(normalizeQuery(query), readSignal(readOptions)),
    count: async (query?: ListQuery, readOptions?) => live().count(normalizeQuery(query), readSignal(readOptions)),
    steps: async (traceId, options) => live().steps(traceId, options?.previews !== false),
    step: async (traceId, stepId) => live().step(traceId, stepId),
    stepField: async (traceId, stepId, field) => live().stepField(traceId, stepId, field),
    facets: async (field, query) => live().facets(field, query),
    dataVersion: async () => live().dataVersion(),
    overview: async (query) => live().overview(query),
    createTextIndex: async () => writable().createTextIndex(),
    stats: async () => live().stats(),
    prune: async (pruneOptions) => live().prune(pruneOptions),
    delete: async (traceId) => {
      if (!isTraceId(traceId)) throw new TypeError('Expected a trace id of 32 lowercase hex characters.')
      return writable().deleteTrace(traceId)
    },
    vacuum: async () => writable().vacuum(),
    close: async () => {
      if (closed) return
      closed = true
      await db.close()
    },
  }
}

// ---------------------------------------------------------------------------------------------------
// Options

interface Settings {
  readonly connectionString: string
  readonly schema: string | undefined
  readonly migrate: boolean
  readonly poolSize: number
  readonly connectionTimeoutMs: number
  readonly statementTimeoutMs: number
  readonly queryTimeoutMs: number
  /** A store's sessions run with `default_transaction_read_only = on`. */
  readonly readOnly?: boolean
}

const SINK_OPTION_KEYS = new Set(['connectionString', 'schema', 'migrate', 'poolSize', 'connectionTimeoutMs', 'statementTimeoutMs', 'queryTimeoutMs'])
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
const POSTGRES_URL = /^postgres(ql)?:\/\//i

function checkOptions(options: PostgresSinkOptions, owner: string, keys: ReadonlySet<string>, defaults: { readonly migrate: boolean; readonly poolSize: number }): Settings {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `' + owner + '` options to be an object with a `connectionString`.')
  for (const key of Object.keys(options)) {
    if (!keys.has(key)) throw new TypeError('Unknown `' + owner + '` option `' + key + '`.')
  }
  const connectionString: unknown = options.connectionString
  // the value is never quoted back: it may hold a password
  if (typeof connectionString !== 'string' || !POSTGRES_URL.test(connectionString.trim())) {
    throw new TypeError('Expected `connectionString` to be a postgres:// or postgresql:// URL.')
  }
  const schema: unknown = options.schema
  if (schema !== undefined && (typeof schema !== 'string' || !IDENTIFIER.test(schema))) {
    throw new TypeError('Expected `schema` to be an identifier: a letter or _ then up to 62 letters, digits or _.')
  }
  const migrate: unknown = options.migrate ?? defaults.migrate
  if (typeof migrate !== 'boolean') throw new TypeError('Expected `migrate` to be a boolean.')
  const poolSize = integerOption(options.poolSize, 'poolSize', defaults.poolSize, 1, 1000)
  const connectionTimeoutMs = integerOption(options.connectionTimeoutMs, 'connectionTimeoutMs', DEFAULT_CONNECTION_TIMEOUT_MS, 0, MAX_TIMEOUT_MS)
  const statementTimeoutMs = integerOption(options.statementTimeoutMs, 'statementTimeoutMs', DEFAULT_STATEMENT_TIMEOUT_MS, 0, MAX_TIMEOUT_MS)
  const queryTimeoutMs = integerOption(options.queryTimeoutMs, 'queryTimeoutMs', statementTimeoutMs === 0 ? 0 : statementTimeoutMs + 5000, 0, MAX_TIMEOUT_MS)
  return { connectionString: connectionString.trim(), schema, migrate, poolSize, connectionTimeoutMs, statementTimeoutMs, queryTimeoutMs }
}

function integerOption(value: unknown, key: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError('Expected `' + key + '` to be an integer from ' + min + ' to ' + max + ', got ' + String(value) + '.')
  }
  return value
}

const DEFAULT_CONNECTION_TIMEOUT_MS = 5000
const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000
const MAX_TIMEOUT_MS = 2_147_483_647

// ---------------------------------------------------------------------------------------------------
// The database: a lazily created pool, the migrations, the writes and the reads

interface Database {
  /** The connection string with its password replaced by `***`. */
  readonly shownUrl: string
  insert(batch: ReadonlyArray<TraceDocument>): Promise<WriteResult | undefined>
  /** Connects and checks (or, with `migrate`, creates) the tables. */
  open(): Promise<void>
  getAll(traceId: string): Promise<TraceDocument[]>
  headers(traceId: string): Promise<TraceHeader[]>
  list(query: NormalQuery, signal?: AbortSignal): Promise<TracePage>
  count(query: NormalQuery, signal?: AbortSignal): Promise<number>
  steps(traceId: string, previews: boolean): Promise<ReadonlyArray<StepSkeleton>>
  step(traceId: string, stepId: string): Promise<StepRecord | undefined>
  stepField(traceId: string, stepId: string, field: StepField): Promise<{ readonly found: boolean; readonly value?: JsonValue }>
  facets(field: FacetField, query: ListQuery | undefined): Promise<ReadonlyArray<FacetCount>>
  dataVersion(): Promise<string>
  overview(query: OverviewQuery | undefined): Promise<StoreOverview>
  createTextIndex(): Promise<boolean>
  stats(): Promise<StoreStats>
  prune(options: PruneOptions): Promise<{ readonly deleted: number }>
  /** Deletes the documents of one trace and their steps in one transaction. */
  deleteTrace(traceId: string): Promise<{ readonly deleted: number }>
  vacuum(): Promise<VacuumResult>
  close(): Promise<void>
}

/** @internal */
export type { Names }

/** One document ready for the INSERTs: its `traces` values and its `steps` values. */
interface Prepared {
  readonly doc: TraceDocument
  readonly traceId: string
  /** The document's key: its trace id and root span id. */
  readonly key: string
  readonly trace: ReadonlyArray<unknown>
  readonly steps: ReadonlyArray<ReadonlyArray<unknown>>
  /** True for the stand-in of a document the database rejected. */
  readonly placeholder: boolean
}


function createDatabase(settings: Settings): Database {
  const secrets = secretsOf(settings.connectionString)
  const shownUrl = redactUrl(settings.connectionString)
  const label = 'postgres (' + shownUrl + ')'
  const warned = new Set<string>()
  let state: Promise<{ readonly pool: Pool; readonly names: Names }> | undefined
  let ready: Promise<void> | undefined
  let closing: Promise<void> | undefined

  const warn = (key: string, message: string): void => {
    if (warned.has(key)) return
    warned.add(key)
    try {
      process.emitWarning(redactText(message, secrets), { type: 'TracellmWarning', code: 'TRACELLM_POSTGRES' })
    } catch {
      // a throwing warning listener must not reach the program
    }
  }

  /** Any failure, as an Error that names the database without its password and keeps the SQLSTATE. */
  const safeError = (error: unknown, doing: string): Error => {
    // already ours, and already redacted (a closed sink, pg missing)
    if (error instanceof Error && error.message.startsWith('tracellm: ')) return error
    const code = codeOf(error)
    const message = error instanceof Error ? error.message : String(error)
    const safe = new Error(redactText('tracellm: ' + doing + ' ' + label + ' failed: ' + message + (code === undefined ? '' : ' (SQLSTATE ' + code + ')'), secrets))
    if (code !== undefined) Object.defineProperty(safe, 'code', { value: code, enumerable: true })
    return safe
  }

  const connect = (): Promise<{ readonly pool: Pool; readonly names: Names }> => {
    if (closing !== undefined) return Promise.reject(new Error('tracellm: ' + label + ' is closed.'))
    state ??= createPool().catch((error: unknown) => {
      state = undefined
      throw error
    })
    return state
  }

  const createPool = async (): Promise<{ readonly pool: Pool; readonly names: Names }> => {
    const pg = await loadDriver()
    const quote = (name: string): string => pg.escapeIdentifier(name)
    const prefix = settings.schema === undefined ? '' : quote(settings.schema) + '.'
    const names: Names = {
      schema: settings.schema === undefined ? undefined : quote(settings.schema),
      traces: prefix + 'traces',
      steps: prefix + 'steps',
      migrations: prefix + 'tracellm_migrations',
    }
    const config: PoolConfig = {
      connectionString: settings.connectionString,
      max: settings.poolSize,
      connectionTimeoutMillis: settings.connectionTimeoutMs,
      idleTimeoutMillis: 10_000,
      allowExitOnIdle: true,
      keepAlive: true,
      application_name: 'tracellm',
      // every value arrives as the server's text, converted here: a process-wide pg.types setting of
      // the application must not change what tracellm reads
      types: { getTypeParser: () => (value: string) => value } as unknown as PoolConfig['types'],
      ...(settings.statementTimeoutMs > 0 ? { statement_timeout: settings.statementTimeoutMs, idle_in_transaction_session_timeout: settings.statementTimeoutMs } : {}),
      ...(settings.queryTimeoutMs > 0 ? { query_timeout: settings.queryTimeoutMs } : {}),
      // every transaction of the session refuses writes (docs/postgres.md#read-only)
      ...(settings.readOnly === true ? { options: '-c default_transaction_read_only=on' } : {}),
    }
    let pool: Pool
    try {
      pool = new pg.Pool(config)
    } catch (error) {
      throw safeError(error, 'connecting to')
    }
    // [measured] pg_terminate_backend makes an idle client emit `error`; without a listener Node crashes
    pool.on('error', (error: Error) => {
      warn('pool-error', 'tracellm: ' + label + ' lost a connection (' + (codeOf(error) ?? error.message) + '); the next batch opens a fresh one.')
    })
    // a client checked out of the pool has no listener of the pool's: a backend ended mid-query must not crash either
    pool.on('connect', (client: PoolClient) => {
      client.on('error', () => undefined)
    })
    return { pool, names }
  }

  /** Runs `work` on one client; a client that failed for a reason other than the data is discarded. */
  const withClient = async <T>(work: (query: Query, names: Names) => Promise<T>, signal?: AbortSignal): Promise<T> => {
    const { pool, names } = await connect()
    const client = await pool.connect()
    let broken: Error | undefined
    // a cancelled read: the server cancels the running statement, the read rejects with an AbortError
    const onAbort = (): void => {
      const pid = (client as unknown as { processID?: unknown }).processID
      if (typeof pid === 'number') pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const query: Query = async (sql, params = []) => {
      try {
        const result = await client.query(sql, params as unknown[])
        return result.rows as Array<Record<string, string | null>>
      } catch (error) {
        if (!isDataError(error)) broken = error instanceof Error ? error : new Error(String(error))
        throw error
      }
    }
    try {
      const result = await work(query, names)
      if (signal?.aborted === true) throw abortError(signal)
      return result
    } catch (error) {
      if (signal?.aborted === true) throw abortError(signal)
      throw error
    } finally {
      signal?.removeEventListener('abort', onAbort)
      client.release(broken)
    }
  }

  const transaction = <T>(work: (query: Query, names: Names) => Promise<T>): Promise<T> =>
    withClient(async (query, names) => {
      await query('BEGIN')
      try {
        const result = await work(query, names)
        await query('COMMIT')
        return result
      } catch (error) {
        // the client is discarded (release with an error) when even the rollback fails
        await query('ROLLBACK').catch(() => undefined)
        throw error
      }
    })

  /** Creates or upgrades the tables once per process; a failure is retried with the next batch. */
  const migrate = (): Promise<void> => {
    ready ??= runMigrations().catch((error: unknown) => {
      ready = undefined
      throw error
    })
    return ready
  }

  const runMigrations = async (): Promise<void> => {
    const latest = MIGRATIONS.length
    // the usual case, which needs no DDL rights: everything is already there
    if ((await appliedVersion()) >= latest) return
    await transaction(async (query, names) => {
      // one migrating process at a time per schema; the others wait here, then find the work done
      await query('SELECT pg_advisory_xact_lock(hashtext($1))', ['tracellm:migrations:' + (settings.schema ?? '')])
      if (names.schema !== undefined) await query('CREATE SCHEMA IF NOT EXISTS ' + names.schema)
      await query('CREATE TABLE IF NOT EXISTS ' + names.migrations + ' (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())')
      const rows = await query('SELECT version FROM ' + names.migrations)
      const applied = new Set(rows.map((row) => Number(row.version)))
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue
        for (const statement of migration.statements(names)) await query(statement)
        await query('INSERT INTO ' + names.migrations + ' (version, name) VALUES ($1, $2)', [migration.version, migration.name])
      }
    })
  }

  /** The highest migration applied, 0 when the migrations table does not exist. */
  const appliedVersion = (): Promise<number> =>
    withClient(async (query, names) => {
      const [found] = await query('SELECT to_regclass($1) IS NOT NULL AS present', [names.migrations])
      if (found?.present !== 't') return 0
      const [row] = await query('SELECT coalesce(max(version), 0) AS version FROM ' + names.migrations)
      return Number(row?.version ?? 0)
    })

  // --- writing ---

  const insertPrepared = (items: ReadonlyArray<Prepared>): Promise<void> =>
    transaction(async (query, names) => {
      const inserted = new Set<string>()
      for (const chunk of chunks(items.map((item) => item.trace), TRACE_ROWS_PER_INSERT)) {
        const rows = await query(insertSql(names.traces, TRACE_COLUMNS, chunk.length, '(trace_id, root_span_id)', ' RETURNING trace_id, root_span_id'), chunk.flat())
        for (const row of rows) inserted.add(keyOf(String(row.trace_id), String(row.root_span_id)))
      }
      // a retried batch: the documents already stored keep the steps they have
      const steps = items.filter((item) => inserted.has(item.key)).flatMap((item) => item.steps)
      for (const chunk of chunks(steps, STEP_ROWS_PER_INSERT)) {
        await query(insertSql(names.steps, STEP_COLUMNS, chunk.length, '(trace_id, root_span_id, step_id)', ''), chunk.flat())
      }
    })

  const drop = (doc: TraceDocument, code: string, refused: Array<{ readonly doc: TraceDocument; readonly reason: string }>): void => {
    refused.push({ doc, reason: 'PostgreSQL could not store it (' + code + ')' })
    warn('unstorable', 'tracellm: ' + label + ' dropped a trace it could not store (' + code + '); later ones are dropped without a warning.')
  }

  const warnPlaceholder = (traceId: string, reason: string): void => {
    warn('placeholder', 'tracellm: ' + label + ' could not store trace ' + traceId + ' (' + reason + '); stored a placeholder with the error instead. Later ones are stored the same way without a warning.')
  }

  /** Inserts `items`; on a data error, splits them until the bad document is alone, then stores its placeholder. */
  const store = async (items: ReadonlyArray<Prepared>, refused: Array<{ readonly doc: TraceDocument; readonly reason: string }>): Promise<void> => {
    if (items.length === 0) return
    try {
      await insertPrepared(items)
    } catch (error) {
      if (!isDataError(error)) throw safeError(error, 'writing to')
      if (items.length > 1) {
        const middle = Math.ceil(items.length / 2)
        await store(items.slice(0, middle), refused)
        await store(items.slice(middle), refused)
        return
      }
      const [item] = items as [Prepared]
      const code = codeOf(error) ?? 'unknown'
      const stand = item.placeholder ? undefined : placeholderOf(item.doc, code)
      if (stand === undefined) {
        drop(item.doc, code, refused)
        return
      }
      warnPlaceholder(item.traceId, 'SQLSTATE ' + code)
      await store([stand], refused)
    }
  }

  /** Inserts a batch; resolves the documents it had to give up on (counted as dropped by the export queue). */
  const insert = async (batch: ReadonlyArray<TraceDocument>): Promise<WriteResult | undefined> => {
    if (closing !== undefined) throw new Error('tracellm: ' + label + ' is closed.')
    if (settings.migrate) {
      try {
        await migrate()
      } catch (error) {
        throw safeError(error, 'migrating')
      }
    }
    const seen = new Set<string>()
    const items: Prepared[] = []
    const refused: Array<{ readonly doc: TraceDocument; readonly reason: string }> = []
    for (const doc of batch) {
      const item = prepare(doc)
      if (item === undefined) {
        drop(doc, 'invalid trace id', refused)
        continue
      }
      if (item.placeholder) warnPlaceholder(item.traceId, 'unserializable')
      // the same document twice in one batch: the first one wins, as across batches
      if (seen.has(item.key)) continue
      seen.add(item.key)
      items.push(item)
    }
    try {
      await store(items, refused)
    } catch (error) {
      throw safeError(error, 'writing to')
    }
    return refused.length === 0 ? undefined : { dropped: refused }
  }

  // --- reading ---

  const read = async <T>(doing: string, work: (query: Query, names: Names) => Promise<T>, signal?: AbortSignal): Promise<T> => {
    try {
      return await withClient(work, signal)
    } catch (error) {
      if (error instanceof Error && error.name === 'AbortError') throw error
      throw safeError(error, doing)
    }
  }

  const open = async (): Promise<void> => {
    if (settings.migrate) {
      try {
        await migrate()
      } catch (error) {
        throw safeError(error, 'migrating')
      }
      return
    }
    const present = await read('opening', async (query, names) => {
      const [row] = await query('SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AS present', [names.traces, names.steps])
      return row?.present === 't'
    })
    if (!present) throw new Error('No trace store in ' + shownUrl + (settings.schema === undefined ? '' : ' (schema ' + settings.schema + ')') + ': its tables do not exist yet. A postgresSink creates them on its first write.')
    // tables of an older version: a writable store upgrades them (under the advisory lock), a read-only one cannot
    const version = await read('opening', async () => appliedVersion())
    if (version >= MIGRATIONS.length) return
    if (settings.readOnly === true) {
      throw new Error(
        'The trace store in ' + shownUrl + ' has schema version ' + String(version) + ' and this tracellm reads version ' + String(MIGRATIONS.length) +
          ': open it once without readOnly (e.g. `tracellm stats --db <url>`, or let a postgresSink write) to upgrade it, then again.',
      )
    }
    try {
      await migrate()
    } catch (error) {
      throw safeError(error, 'migrating')
    }
  }

  const getAll = (traceId: string): Promise<TraceDocument[]> => {
    if (!isTraceId(traceId)) return Promise.resolve([])
    return read('reading from', async (query, names) => {
      const rows = await query('SELECT document::text AS document FROM ' + names.traces + ' WHERE trace_id = $1 ORDER BY started_at, root_span_id', [traceId])
      return rows.flatMap((row) => (row.document == null ? [] : [fromWire(JSON.parse(row.document))]))
    })
  }

  // the steps are dropped by the server: a document of thousands of steps is never parsed here
  const headers = (traceId: string): Promise<TraceHeader[]> => {
    if (!isTraceId(traceId)) return Promise.resolve([])
    return read('reading from', async (query, names) => {
      const rows = await query("SELECT jsonb_set(document, '{steps}', '[]'::jsonb)::text AS document, step_count FROM " + names.traces + ' WHERE trace_id = $1 ORDER BY started_at, root_span_id', [traceId])
      return rows.flatMap((row) => (row.document == null ? [] : [headerOf(fromWire(JSON.parse(row.document)), Number(row.step_count))]))
    })
  }

  const list = (normal: NormalQuery, signal?: AbortSignal): Promise<TracePage> =>
    read('listing traces of', async (query, names) => {
      const where = whereClause(normal, true)
      const rows = await query(
        'SELECT ' + SUMMARY_COLUMNS + ' FROM ' + names.traces + where.sql + ' ORDER BY ' + ORDER_BY[normal.sort] + ' LIMIT $' + (where.params.length + 1),
        [...where.params, normal.sort === 'newest' ? normal.limit + 1 : normal.limit],
      )
      const page = rows.slice(0, normal.limit)
      const items = page.map(toSummary)
      const last = page[page.length - 1]
      // a top-N sort is one page, without a cursor
      const more = normal.sort === 'newest' && rows.length > normal.limit && last !== undefined
      return { items, nextCursor: more ? encodeCursor({ startedAt: String(last.cursor_at), traceId: String(last.trace_id), rootSpanId: String(last.root_span_id) }) : null }
    }, signal)

  const count = (normal: NormalQuery, signal?: AbortSignal): Promise<number> =>
    read('counting traces of', async (query, names) => {
      const where = whereClause(normal, false)
      const [row] = await query('SELECT count(*) AS n FROM ' + names.traces + where.sql, where.params)
      return Number(row?.n ?? 0)
    }, signal)

  const steps = (traceId: string, previews: boolean): Promise<ReadonlyArray<StepSkeleton>> => read('reading steps from', (query, names) => readSteps(query, names, traceId, previews))
  const step = (traceId: string, stepId: string): Promise<StepRecord | undefined> => read('reading a step from', (query, names) => readStep(query, names, traceId, stepId))
  // arguments are checked first: a bad one is the caller's TypeError, not a failed read
  const stepField = async (traceId: string, stepId: string, field: StepField): Promise<{ readonly found: boolean; readonly value?: JsonValue }> => {
    stepFieldKey(field)
    return read('reading a step from', (query, names) => readStepField(query, names, traceId, stepId, field))
  }
  const facets = async (field: FacetField, listQuery: ListQuery | undefined): Promise<ReadonlyArray<FacetCount>> => {
    facetQuery(field, listQuery)
    return read('counting values of', (query, names) => readFacets(query, names, whereClause, field, listQuery))
  }
  const dataVersion = (): Promise<string> => read('reading', readDataVersion)
  // the argument is checked first: a bad one is the caller's TypeError, not a failed read
  const overview = async (overviewQuery: OverviewQuery | undefined): Promise<StoreOverview> => {
    const since = overviewSince(overviewQuery)
    return read('reading the overview of', (query, names) => readOverview(query, names, since))
  }
  const textIndex = (): Promise<boolean> => read('indexing', createTextIndex)

  const stats = (): Promise<StoreStats> =>
    read('reading statistics of', async (query, names) => {
      const [totals] = await query(
        "SELECT count(*) AS traces, sum(step_count) AS steps, count(*) FILTER (WHERE status = 'error') AS errors, " +
          'min(started_at) AS oldest_at, max(started_at) AS newest_at, sum(retry_count) AS retries, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, ' +
          'coalesce(sum(cost_usd), 0) AS cost_usd ' +
          'FROM ' + names.traces,
      )
      const oldest = await query('SELECT ' + isoMs('started_at') + ' AS at FROM ' + names.traces + ' ORDER BY started_at ASC LIMIT 1')
      const newest = await query('SELECT ' + isoMs('started_at') + ' AS at FROM ' + names.traces + ' ORDER BY started_at DESC LIMIT 1')
      const projects = await query('SELECT project, count(*) AS traces FROM ' + names.traces + ' GROUP BY project ORDER BY traces DESC, project COLLATE "C" LIMIT 100')
      return {
        traces: toNumber(totals?.traces),
        steps: toNumber(totals?.steps),
        errors: toNumber(totals?.errors),
        oldest: oldest[0]?.at ?? null,
        newest: newest[0]?.at ?? null,
        retries: toNumber(totals?.retries),
        inputTokens: toNumber(totals?.input_tokens),
        outputTokens: toNumber(totals?.output_tokens),
        costUsd: toNumber(totals?.cost_usd),
        projects: projects.map((row) => ({ project: String(row.project), traces: toNumber(row.traces) })),
      }
    })

  const prune = async (options: PruneOptions): Promise<{ readonly deleted: number }> => {
    const before = checkPrune(options)
    const total = await read('pruning', async (query, names) => {
      const [row] = await query('SELECT count(*) AS n FROM ' + names.traces + ' WHERE started_at < $1::timestamptz', [before])
      return Number(row?.n ?? 0)
    })
    let deleted = 0
    while (deleted < total) {
      // one short transaction per chunk: readers and writers are never blocked for long
      const changes = await read('pruning', async (query, names) => {
        const rows = await query(
          'DELETE FROM ' + names.traces + ' WHERE (trace_id, root_span_id) IN (SELECT trace_id, root_span_id FROM ' + names.traces +
            ' WHERE started_at < $1::timestamptz ORDER BY started_at LIMIT $2) RETURNING 1 AS gone',
          [before, PRUNE_CHUNK],
        )
        return rows.length
      })
      if (changes === 0) break
      deleted += changes
      options.onProgress?.(deleted, total)
    }
    return { deleted }
  }

  const deleteTrace = async (traceId: string): Promise<{ readonly deleted: number }> => {
    try {
      return await transaction(async (query, names) => {
        // the steps go by the foreign key's cascade too; deleting them first does not depend on it
        await query('DELETE FROM ' + names.steps + ' WHERE trace_id = $1', [traceId])
        const rows = await query('DELETE FROM ' + names.traces + ' WHERE trace_id = $1 RETURNING 1 AS gone', [traceId])
        return { deleted: rows.length }
      })
    } catch (error) {
      throw safeError(error, 'deleting from')
    }
  }

  /**
   * `VACUUM (ANALYZE)` of both tables: the space of pruned rows becomes reusable and the planner's
   * statistics fresh, without the ACCESS EXCLUSIVE lock of `VACUUM FULL` (docs/postgres.md). It runs
   * outside a transaction (VACUUM cannot run inside one), within the store's `statementTimeoutMs`.
   */
  const vacuum = (): Promise<VacuumResult> =>
    read('vacuuming', async (query, names) => {
      const size = async (): Promise<number> => {
        const [row] = await query('SELECT pg_total_relation_size($1::regclass) + pg_total_relation_size($2::regclass) AS bytes', [names.traces, names.steps])
        return Number(row?.bytes ?? 0)
      }
      const bytesBefore = await size()
      await query('VACUUM (ANALYZE) ' + names.traces + ', ' + names.steps)
      return { bytesBefore, bytesAfter: await size() }
    })

  const close = (): Promise<void> => {
    closing ??= (async () => {
      const pending = state
      state = undefined
      const opened = await pending?.catch(() => undefined)
      await opened?.pool.end().catch(() => undefined)
    })()
    return closing
  }

  return { shownUrl, insert, open, getAll, headers, list, count, steps, step, stepField, facets, dataVersion, overview, createTextIndex: textIndex, stats, prune, deleteTrace, vacuum, close }
}

// ---------------------------------------------------------------------------------------------------
// Schema

/**
 * @internal Versioned migrations, recorded in `tracellm_migrations`. Append only; never edit one that has
 * shipped. Migration 2 changes the documents' key, so writers older than it cannot write after it.
 */
export const MIGRATIONS: ReadonlyArray<{ readonly version: number; readonly name: string; readonly statements: (names: Names) => ReadonlyArray<string> }> = [
  {
    version: 1,
    name: 'traces and steps',
    statements: (t) => [
      'CREATE TABLE IF NOT EXISTS ' + t.traces + ' (' +
        'trace_id text COLLATE "C" PRIMARY KEY CHECK (trace_id ~ \'^[0-9a-f]{32}$\'), ' +
        'project text NOT NULL, ' +
        'environment text NOT NULL, ' +
        'prompt text NOT NULL, ' +
        'model_name text, ' +
        "status text NOT NULL CHECK (status IN ('success', 'error')), " +
        'started_at timestamptz NOT NULL, ' +
        'ended_at timestamptz NOT NULL, ' +
        'duration_ms double precision NOT NULL, ' +
        'retry_count integer NOT NULL, ' +
        'step_count integer NOT NULL, ' +
        'error_count integer NOT NULL, ' +
        'input_tokens bigint NOT NULL, ' +
        'output_tokens bigint NOT NULL, ' +
        'tags jsonb NOT NULL, ' +
        'document jsonb NOT NULL)',
      'CREATE INDEX IF NOT EXISTS traces_started ON ' + t.traces + ' (started_at DESC, trace_id DESC)',
      'CREATE INDEX IF NOT EXISTS traces_project ON ' + t.traces + ' (project, environment, started_at DESC)',
      'CREATE INDEX IF NOT EXISTS traces_prompt ON ' + t.traces + ' (prompt, started_at DESC)',
      'CREATE INDEX IF NOT EXISTS traces_status ON ' + t.traces + ' (status, started_at DESC)',
      'CREATE INDEX IF NOT EXISTS traces_model ON ' + t.traces + ' (model_name, started_at DESC)',
      'CREATE INDEX IF NOT EXISTS traces_duration ON ' + t.traces + ' (duration_ms)',
      'CREATE INDEX IF NOT EXISTS traces_retries ON ' + t.traces + ' (retry_count)',
      'CREATE TABLE IF NOT EXISTS ' + t.steps + ' (' +
        'trace_id text COLLATE "C" NOT NULL REFERENCES ' + t.traces + ' (trace_id) ON DELETE CASCADE, ' +
        'step_id text COLLATE "C" NOT NULL, ' +
        'parent_step_id text COLLATE "C", ' +
        'seq integer NOT NULL, ' +
        'name text NOT NULL, ' +
        'kind text NOT NULL, ' +
        'status text NOT NULL, ' +
        'started_at timestamptz NOT NULL, ' +
        'duration_ms double precision NOT NULL, ' +
        'attempts integer NOT NULL, ' +
        'retries integer NOT NULL, ' +
        'model text, ' +
        'input_tokens bigint, ' +
        'output_tokens bigint, ' +
        'PRIMARY KEY (trace_id, step_id))',
      'CREATE INDEX IF NOT EXISTS steps_name ON ' + t.steps + ' (name, status)',
      'CREATE INDEX IF NOT EXISTS steps_kind ON ' + t.steps + ' (kind, status)',
    ],
  },
  {
    // documents are keyed by (trace_id, root_span_id), so a trace continued across services stores one
    // document per service; plus the columns `list` shows of a continued trace, a replay and its cost
    version: 2,
    name: 'one document per service of a trace',
    statements: (t) => [
      'ALTER TABLE ' + t.traces + ' ADD COLUMN root_span_id text COLLATE "C" NOT NULL DEFAULT \'\' CHECK (root_span_id ~ \'^([0-9a-f]{16})?$\'), ' +
        'ADD COLUMN parent_step_id text COLLATE "C", ADD COLUMN replay_of text COLLATE "C", ADD COLUMN cost_usd double precision',
      'UPDATE ' + t.traces + " SET parent_step_id = document->>'parent_step_id', replay_of = document->>'replay_of', " +
        "cost_usd = (document->>'cost_usd')::float8 WHERE document ?| array['parent_step_id', 'replay_of', 'cost_usd']",
      'ALTER TABLE ' + t.steps + ' ADD COLUMN root_span_id text COLLATE "C" NOT NULL DEFAULT \'\'',
      'ALTER TABLE ' + t.steps + ' DROP CONSTRAINT steps_trace_id_fkey, DROP CONSTRAINT steps_pkey',
      'ALTER TABLE ' + t.traces + ' DROP CONSTRAINT traces_pkey, ADD PRIMARY KEY (trace_id, root_span_id)',
      'ALTER TABLE ' + t.steps + ' ADD PRIMARY KEY (trace_id, root_span_id, step_id), ' +
        'ADD FOREIGN KEY (trace_id, root_span_id) REFERENCES ' + t.traces + ' (trace_id, root_span_id) ON DELETE CASCADE',
      'DROP INDEX IF EXISTS ' + (t.schema === undefined ? '' : t.schema + '.') + 'traces_started',
      'CREATE INDEX IF NOT EXISTS traces_started ON ' + t.traces + ' (started_at DESC, trace_id DESC, root_span_id DESC)',
    ],
  },
  {
    // what the viewer lists and draws without reading documents (docs/stores.md#previews); documents
    // already stored get the columns from their JSON here, in SQL computing what rows.ts computes
    version: 3,
    name: 'previews, errors and step sizes for the viewer',
    statements: (t) => [
      'ALTER TABLE ' + t.traces + ' ADD COLUMN input_preview text, ADD COLUMN output_preview text, ADD COLUMN error_type text, ADD COLUMN error_message text',
      'UPDATE ' + t.traces + ' SET input_preview = ' + previewSql('document', 'input') + ', output_preview = ' + previewSql('document', 'output') + ', ' +
        "error_type = left(document->'error'->>'type', " + PREVIEW_CHARS + '), ' +
        "error_message = left(" + oneLineSql("document->'error'->>'message'") + ', ' + PREVIEW_CHARS + ") WHERE document ?| array['input', 'output', 'error']",
      'ALTER TABLE ' + t.steps + ' ADD COLUMN error_type text, ADD COLUMN error_message text, ADD COLUMN cost_usd double precision, ' +
        'ADD COLUMN input_bytes bigint NOT NULL DEFAULT 0, ADD COLUMN output_bytes bigint NOT NULL DEFAULT 0, ADD COLUMN input_preview text, ' +
        'ADD COLUMN output_preview text, ADD COLUMN truncated boolean NOT NULL DEFAULT false, ADD COLUMN incomplete boolean NOT NULL DEFAULT false',
      'UPDATE ' + t.steps + " s SET error_type = left(e.step->'error'->>'type', " + PREVIEW_CHARS + '), ' +
        "error_message = left(" + oneLineSql("e.step->'error'->>'message'") + ', ' + PREVIEW_CHARS + '), ' +
        "cost_usd = (e.step->>'cost_usd')::float8, " +
        "input_bytes = coalesce(octet_length((e.step->'input')::text), 0), output_bytes = coalesce(octet_length((e.step->'output')::text), 0), " +
        'input_preview = ' + previewSql('e.step', 'input') + ', output_preview = ' + previewSql('e.step', 'output') + ', ' +
        "truncated = coalesce((e.step->>'truncated')::float8, 0) > 0, incomplete = coalesce((e.step->>'incomplete')::boolean, false) " +
        'FROM ' + t.traces + " tr, jsonb_array_elements(tr.document->'steps') AS e(step) " +
        "WHERE s.trace_id = tr.trace_id AND s.root_span_id = tr.root_span_id AND s.step_id = e.step->>'step_id'",
      ...['traces_prompt', 'traces_status', 'traces_model'].map((index) => 'DROP INDEX IF EXISTS ' + (t.schema === undefined ? '' : t.schema + '.') + index),
      ...LIST_FILTERS.map((column) => 'CREATE INDEX IF NOT EXISTS traces_' + column + '_started ON ' + t.traces + ' (' + column + ', started_at DESC, trace_id DESC, root_span_id DESC)'),
    ],
  },
  {
    // the replays of a trace (`list({ replayOf })`, the viewer's trace header) without reading every row
    version: 4,
    name: 'an index of replays',
    statements: (t) => [
      'CREATE INDEX IF NOT EXISTS traces_replay_of_started ON ' + t.traces + ' (replay_of, started_at DESC, trace_id DESC, root_span_id DESC) WHERE replay_of IS NOT NULL',
    ],
  },
]

/** The columns `list` filters on with equality: each gets an index in the list's order. */
const LIST_FILTERS = ['project', 'environment', 'prompt', 'model_name', 'status']

/** SQL of `preview()` (document/rows.ts) of the key `key` of the jsonb `json`. */
function previewSql(json: string, key: string): string {
  return 'CASE jsonb_typeof(' + json + "->'" + key + "') WHEN 'string' THEN left(" + oneLineSql(json + "->>'" + key + "'") + ', ' + PREVIEW_CHARS + ') ' +
    'ELSE left((' + json + "->'" + key + "')::text, " + PREVIEW_CHARS + ') END'
}

/** Line breaks and tabs as spaces, as `preview()` does. */
function oneLineSql(text: string): string {
  return 'translate(' + text + ", chr(13) || chr(10) || chr(9), '   ')"
}

/** The casts of the columns rows.ts lists (the others are text). */
const CASTS: Readonly<Record<string, string>> = {
  started_at: '::timestamptz', ended_at: '::timestamptz', duration_ms: '::float8', retry_count: '::int4', step_count: '::int4', error_count: '::int4',
  input_tokens: '::int8', output_tokens: '::int8', cost_usd: '::float8', tags: '::jsonb', document: '::jsonb', seq: '::int4', attempts: '::int4',
  retries: '::int4', input_bytes: '::int8', output_bytes: '::int8', truncated: '::bool', incomplete: '::bool',
}
const TRACE_COLUMNS: ReadonlyArray<readonly [string, string]> = ROW_TRACE_COLUMNS.map((name) => [name, CASTS[name] ?? ''] as const)
const STEP_COLUMNS: ReadonlyArray<readonly [string, string]> = ROW_STEP_COLUMNS.map((name) => [name, CASTS[name] ?? ''] as const)

/** PostgreSQL takes at most 65535 bound parameters per statement. */
const MAX_PARAMETERS = 65_535
const TRACE_ROWS_PER_INSERT = Math.floor(MAX_PARAMETERS / TRACE_COLUMNS.length)
const STEP_ROWS_PER_INSERT = Math.floor(MAX_PARAMETERS / STEP_COLUMNS.length)
const PRUNE_CHUNK = 500

/** `INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT … DO NOTHING`: placeholders only, never values. */
function insertSql(table: string, columns: ReadonlyArray<readonly [string, string]>, rows: number, conflict: string, returning: string): string {
  const tuples: string[] = []
  let n = 0
  for (let row = 0; row < rows; row++) {
    tuples.push('(' + columns.map(([, cast]) => '$' + String(++n) + cast).join(', ') + ')')
  }
  return 'INSERT INTO ' + table + ' (' + columns.map(([name]) => name).join(', ') + ') VALUES ' + tuples.join(', ') + ' ON CONFLICT ' + conflict + ' DO NOTHING' + returning
}

const ROOT_SPAN_ID = /^[0-9a-f]{16}$/

function keyOf(traceId: string, rootSpanId: string): string {
  return traceId + ':' + rootSpanId
}

function chunks<T>(items: ReadonlyArray<T>, size: number): T[][] {
  const out: T[][] = []
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size))
  return out
}

/** The rows of a document, or undefined when its id cannot be a key; a document that cannot even be serialized gets its placeholder. */
function prepare(doc: TraceDocument): Prepared | undefined {
  if (typeof doc !== 'object' || doc === null || !isTraceId(doc.traceId)) return undefined
  try {
    const row = toTraceRow(doc)
    const document = toStoredJson(doc)
    const steps = toStepRows(doc).map(stepValues)
    return {
      doc,
      traceId: row.traceId,
      key: keyOf(row.traceId, row.rootSpanId),
      trace: traceValues(row, document),
      steps,
      placeholder: false,
    }
  } catch {
    return placeholderOf(doc, 'unserializable')
  }
}

/**
 * What is stored for a document the database rejected: its names, status and times (made valid),
 * no steps, no captured data, and `error: { type: "Unstorable", message: "[Unstorable: <code>]" }`.
 */
function placeholderOf(doc: TraceDocument, code: string): Prepared | undefined {
  const source = doc as unknown as Record<string, unknown>
  const traceId = source.traceId
  if (!isTraceId(traceId)) return undefined
  // the stand-in keeps the document's key, so it never takes the place of another service's document
  const rootSpanId = typeof source.rootSpanId === 'string' && ROOT_SPAN_ID.test(source.rootSpanId) ? source.rootSpanId : ''
  const parentStepId = typeof source.parentStepId === 'string' && ROOT_SPAN_ID.test(source.parentStepId) ? source.parentStepId : null
  const text = (value: unknown, fallback: string): string => (typeof value === 'string' ? wellFormed(value) : fallback)
  const startedAt = instantOf(source.startedAt) ?? instantOf(source.endedAt) ?? new Date().toISOString()
  const endedAt = instantOf(source.endedAt) ?? startedAt
  const status = source.status === 'success' ? 'success' : 'error'
  const modelName = typeof source.modelName === 'string' ? wellFormed(source.modelName) : undefined
  const tags = Array.isArray(source.tags) ? source.tags.filter((tag): tag is string => typeof tag === 'string').map(wellFormed) : []
  const durationMs = typeof source.durationMs === 'number' && Number.isFinite(source.durationMs) ? source.durationMs : 0
  const sdk = source.sdk as { name?: unknown; version?: unknown } | null | undefined
  const wire = {
    schema_version: 1,
    trace_id: traceId,
    ...(rootSpanId === '' ? {} : { root_span_id: rootSpanId }),
    prompt: text(source.prompt, 'trace'),
    ...(modelName === undefined ? {} : { model_name: modelName }),
    project: text(source.project, 'default'),
    environment: text(source.environment, 'development'),
    tags,
    metadata: {},
    status,
    started_at: startedAt,
    ended_at: endedAt,
    duration_ms: durationMs,
    error: { type: 'Unstorable', message: '[Unstorable: ' + code + ']' },
    retry_count: 0,
    usage: { input_tokens: 0, output_tokens: 0 },
    steps: [],
    ...(parentStepId === null || !isTraceId(source.parentTraceId) ? {} : { parent_trace_id: source.parentTraceId, parent_step_id: parentStepId }),
    sdk: { name: text(sdk?.name, 'tracellm'), version: text(sdk?.version, 'unknown') },
  }
  return {
    doc,
    traceId,
    key: keyOf(traceId, rootSpanId),
    trace: [
      traceId, rootSpanId, wire.parent_step_id ?? null, null, wire.project, wire.environment, wire.prompt, modelName ?? null, status, startedAt, endedAt, durationMs,
      0, 0, 0, 0, 0, null, JSON.stringify(tags), null, null, wire.error.type, wire.error.message, wellFormed(JSON.stringify(wire)),
    ],
    steps: [],
    placeholder: true,
  }
}

/** An ISO instant PostgreSQL accepts, or undefined. */
function instantOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  // Date.parse rolls 2026-02-30 over into March where PostgreSQL rightly refuses it
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(value)
  if (day !== null) {
    const [year, month, date] = [Number(day[1]), Number(day[2]), Number(day[3])]
    if (month < 1 || month > 12 || date < 1 || date > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined
  }
  const time = Date.parse(value)
  if (!Number.isFinite(time)) return undefined
  const date = new Date(time)
  const year = date.getUTCFullYear()
  return year >= 1 && year <= 9999 ? date.toISOString() : undefined
}

// ---------------------------------------------------------------------------------------------------
// Reading

/** `to_char` of a timestamptz as `toISOString()` writes it. */
function isoMs(column: string): string {
  return 'to_char(' + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
}

/** The same with microseconds: the exact keyset position, whatever precision was stored. */
function isoUs(column: string): string {
  return 'to_char(' + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
}

const SUMMARY_COLUMNS =
  'trace_id, root_span_id, parent_step_id, replay_of, cost_usd, project, environment, prompt, model_name, status, ' +
  // aliased apart from the columns: ORDER BY started_at must sort by the timestamptz, not by this text
  isoMs('started_at') + ' AS started_iso, ' + isoMs('ended_at') + ' AS ended_iso, ' + isoUs('started_at') + ' AS cursor_at, ' +
  'duration_ms, retry_count, step_count, error_count, input_tokens, output_tokens, tags::text AS tags, input_preview, output_preview, error_type, error_message'

/** Filters as SQL over bound parameters; with `paged`, also the keyset condition of the cursor. */
function whereClause(query: NormalQuery, paged: boolean): { readonly sql: string; readonly params: unknown[] } {
  const conditions: string[] = []
  const params: unknown[] = []
  const next = (value: unknown, cast = ''): string => {
    params.push(value)
    return '$' + String(params.length) + cast
  }
  const equal = (column: string, value: string | undefined): void => {
    if (value !== undefined) conditions.push(column + ' = ' + next(value))
  }
  equal('project', query.project)
  equal('environment', query.environment)
  equal('prompt', query.prompt)
  equal('status', query.status)
  equal('model_name', query.modelName)
  if (query.since !== undefined) conditions.push('started_at >= ' + next(query.since, '::timestamptz'))
  if (query.until !== undefined) conditions.push('started_at < ' + next(query.until, '::timestamptz'))
  if (query.idPattern !== undefined) conditions.push('trace_id LIKE ' + next(query.idPattern))
  if (query.replayOf !== undefined) conditions.push('replay_of = ' + next(query.replayOf))
  if (query.textPattern !== undefined) {
    // the whole-document test first (the pg_trgm index serves it), then a scope's parts
    const pattern = next(query.textPattern)
    conditions.push('document::text ILIKE ' + pattern + " ESCAPE E'\\\\'")
    if (query.scope !== 'all') conditions.push(scopeCondition(query.scope, pattern))
  }
  if (paged && query.after !== undefined) {
    conditions.push(
      '(started_at, trace_id, root_span_id) < (' + next(query.after.startedAt, '::timestamptz') + ', ' + next(query.after.traceId) + ', ' + next(query.after.rootSpanId) + ')',
    )
  }
  return { sql: conditions.length === 0 ? '' : ' WHERE ' + conditions.join(' AND '), params }
}

/** A text scope as SQL: `pattern` (a placeholder) in the scope's parts of the trace or of any step. */
function scopeCondition(scope: Exclude<TextScope, 'all'>, pattern: string): string {
  const keys = SCOPE_KEYS[scope]
  const like = (value: string) => (key: string): string => '(' + value + "->'" + key + "')::text ILIKE " + pattern + " ESCAPE E'\\\\'"
  return '(' + keys.trace.map(like('document')).join(' OR ') +
    " OR EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(document->'steps') = 'array' THEN document->'steps' ELSE '[]'::jsonb END) AS e(step) WHERE " +
    keys.step.map(like('e.step')).join(' OR ') + '))'
}

function toSummary(row: Record<string, string | null>): TraceSummary {
  return {
    traceId: String(row.trace_id) as TraceId,
    rootSpanId: row.root_span_id === '' || row.root_span_id === null || row.root_span_id === undefined ? null : (row.root_span_id as StepId),
    parentStepId: (row.parent_step_id ?? null) as StepId | null,
    replayOf: (row.replay_of ?? null) as TraceId | null,
    project: String(row.project),
    environment: String(row.environment),
    prompt: String(row.prompt),
    modelName: row.model_name ?? null,
    status: row.status === 'error' ? 'error' : 'success',
    startedAt: String(row.started_iso),
    endedAt: String(row.ended_iso),
    durationMs: toNumber(row.duration_ms),
    retryCount: toNumber(row.retry_count),
    stepCount: toNumber(row.step_count),
    errorCount: toNumber(row.error_count),
    inputTokens: toNumber(row.input_tokens),
    outputTokens: toNumber(row.output_tokens),
    costUsd: row.cost_usd === null || row.cost_usd === undefined ? null : toNumber(row.cost_usd),
    tags: parseTags(row.tags),
    inputPreview: row.input_preview ?? null,
    outputPreview: row.output_preview ?? null,
    errorType: row.error_type ?? null,
    errorMessage: row.error_message ?? null,
  }
}

function toNumber(value: string | null | undefined): number {
  if (value === null || value === undefined) return 0
  const n = Number(value)
  return Number.isFinite(n) ? n : 0
}

function parseTags(text: string | null | undefined): ReadonlyArray<string> {
  try {
    const tags: unknown = JSON.parse(text ?? '[]')
    return Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === 'string') : []
  } catch {
    return []
  }
}

function checkPrune(options: PruneOptions): string {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `prune` options to be an object with `olderThan`.')
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new TypeError('Expected `onProgress` to be a function.')
  return toInstant(options.olderThan, 'olderThan')
}

// ---------------------------------------------------------------------------------------------------
// Errors and secrets

/**
 * Errors of the data itself: retrying cannot help, splitting the batch can. Class 22 (data
 * exception: 22P02 invalid text, 22P05 untranslatable character, 22021, 22003 out of range, 22007
 * and 22008 bad dates), class 23 (constraint violations) and 54000 (a value too large). Everything
 * else (connection errors, class 08, 57P01, 40001, 40P01, 53300, timeouts, a missing table) fails
 * the write so that the export queue retries it.
 */
function isDataError(error: unknown): boolean {
  const code = codeOf(error)
  return code !== undefined && (code.startsWith('22') || code.startsWith('23') || code === '54000')
}

function codeOf(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/** The password of a connection string, as written and decoded, to be blanked wherever it shows up. */
function secretsOf(connectionString: string): string[] {
  const found = new Set<string>()
  const add = (value: string | undefined): void => {
    if (value === undefined || value.length < 3) return
    found.add(value)
    try {
      found.add(decodeURIComponent(value))
    } catch {
      // not percent-encoded
    }
  }
  const userinfo = userinfoOf(connectionString)
  if (userinfo !== undefined && userinfo.includes(':')) add(userinfo.slice(userinfo.indexOf(':') + 1))
  for (const match of connectionString.matchAll(/[?&]password=([^&#]*)/gi)) add(match[1])
  return [...found].sort((a, b) => b.length - a.length)
}

/** `user:password` of `scheme://user:password@host…`: up to the last `@`, which may sit in a bad password. */
function userinfoOf(url: string): string | undefined {
  const start = url.indexOf('://')
  if (start === -1) return undefined
  const rest = url.slice(start + 3)
  const at = rest.lastIndexOf('@')
  return at === -1 ? undefined : rest.slice(0, at)
}

/** The URL with its password (in the userinfo or a `password=` parameter) replaced by `***`. */
function redactUrl(url: string): string {
  const start = url.indexOf('://') + 3
  const userinfo = userinfoOf(url)
  let shown = url
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':')
    const user = colon === -1 ? userinfo : userinfo.slice(0, colon) + ':***'
    shown = url.slice(0, start) + user + url.slice(start + userinfo.length)
  }
  return shown.replace(/([?&]password=)[^&#]*/gi, '$1***')
}

function redactText(text: string, secrets: ReadonlyArray<string>): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:)[^\s@]*@/gi, '$1***@')
  for (const secret of secrets) out = out.split(secret).join('***')
  return out
}

// ---------------------------------------------------------------------------------------------------
// The driver

type Driver = typeof import('pg')

let driver: Promise<Driver> | undefined

/** `pg` is an optional peer dependency: loaded on first use, with a clear error when it is missing. */
function loadDriver(): Promise<Driver> {
  driver ??= import('pg').then(
    (loaded) => loaded,
    (error: unknown) => {
      driver = undefined
      const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        throw new Error('tracellm: install pg to use postgresSink (npm install pg).')
      }
      throw error
    },
  )
  return driver
}
