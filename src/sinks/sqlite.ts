/**
 * The embedded default: a SQLite file (better-sqlite3) that is both a sink and a readable store.
 * better-sqlite3 is synchronous, so writes run in short transactions with a turn of the event loop
 * between them, a lock held by another process is waited for on timers rather than in SQLite's busy
 * handler, and the process `exit` hook can still write the queue (`writeSync`).
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import type BetterSqlite3 from 'better-sqlite3'
import type { TraceDocument } from '../document/document.js'
import { PREVIEW_CHARS, STEP_COLUMNS, stepValues, toStepRows, toStoredDocument, toTraceRow, TRACE_COLUMNS, traceValues } from '../document/rows.js'
import { fromWire } from '../document/wire.js'
import { SinkError, type Sink } from '../export/sink.js'
import { headerOf, isTraceId, normalizeQuery, readSignal, toInstant } from '../store/query.js'
import type { PruneOptions, StoreStats, TraceHeader, TraceStore, VacuumResult } from '../store/types.js'
import { buildTextIndexOffThread, sqliteReads, type LargeStepRecord, type SqliteReads } from './sqlite-reads.js'

/** Options of `sqliteSink()`. @category sinks */
export interface SqliteSinkOptions {
  /** The database file, relative to the working directory at creation. Its folder is created (mode 0700), the file with mode 0600. */
  readonly path: string
  /**
   * How long, in total, a write may wait for another connection holding the write lock before it fails
   * (and the export queue retries it later). The wait is spent off the event loop: the sink tries the
   * lock for at most a few milliseconds at a time and sleeps on a timer in between
   * (docs/reliability.md#sqlite-a-held-lock-never-freezes-the-event-loop). Only `writeSync`, which
   * runs in the process `exit` hook, waits synchronously: at most this long for all its calls together.
   * @default 5000
   */
  readonly busyTimeoutMs?: number
  /** Caps the file size (`max_page_count`); a write past it fails like a full disk and is retried, then dropped and counted. @default no cap */
  readonly maxDatabaseBytes?: number
}

/** The sink `sqliteSink()` builds: a `Sink` that can also write synchronously and be closed. @category sinks */
export interface SqliteSink extends Sink {
  writeSync(batch: ReadonlyArray<TraceDocument>): void
  close(): void
  toString(): string
}

/**
 * Builds the embedded default sink: every document becomes a row of `traces` (indexed columns plus
 * the whole snake_case document as JSON) and one row per step in `steps`, written in short
 * transactions (a few milliseconds each, with a turn of the event loop between them), idempotently
 * (a retried batch never duplicates). Nothing is opened until the first write, and better-sqlite3
 * itself loads only then. When the file cannot be created (a read-only or missing directory, as on
 * serverless file systems) the sink warns once and persists nothing; it never throws into the
 * program. When another process holds the write lock, a write waits for it off the event loop (tries
 * of at most ~4 ms, timer sleeps between them, `busyTimeoutMs` in all), then fails so that the export
 * queue retries it. `writeSync` lets the process `exit` hook write what is still queued after
 * `process.exit()`; it alone waits for a held lock synchronously. The folder is made 0700, the
 * database and its `-wal`/`-shm` 0600; an existing store other users can read is reported once.
 *
 * @example
 * import { configure, sqliteSink } from 'tracellm'
 * const sink = sqliteSink({ path: '.tracellm/traces.db' })
 * configure({ sinks: [sink] })
 * String(sink)   // => 'sqliteSink(.tracellm/traces.db)'
 *
 * @category sinks
 * @since 0.1.0
 */
export function sqliteSink(options: SqliteSinkOptions): SqliteSink {
  const settings = checkOptions(options)
  const label = `sqliteSink(${settings.given})`
  let db: Database | undefined
  let unavailable = false
  let closed = false
  // an existing file of an older schema is migrated on a worker thread before the first write
  let migrated: Promise<void> | undefined
  // synchronous writes (the exit hook) share one wait for the lock, from the first that met it
  let syncDeadline: number | undefined
  // batches whose asynchronous write sleeps until the lock is free: written by `exit` if it comes first
  const stalled = new Set<ReadonlyArray<TraceDocument>>()

  /** The database, or undefined when it cannot be opened (warned once); throws only `SQLITE_BUSY`. */
  const open = (): Database | undefined => {
    if (db !== undefined || unavailable || closed) return db
    try {
      db = openDatabase(settings.file, { create: true, busyTimeoutMs: LOCK_PROBE_MS, maxDatabaseBytes: settings.maxDatabaseBytes })
    } catch (error) {
      // another process holds the lock while the file is set up: a later attempt will do
      if (isBusy(error)) {
        migrated = undefined
        throw error
      }
      unavailable = true
      warn(`tracellm: traces will not be persisted: cannot open the SQLite store ${settings.given}: ${describe(error)}`)
    }
    return db
  }

  const writeStalled = (): void => {
    for (const batch of stalled) {
      try {
        sink.writeSync(batch)
      } catch (error) {
        warn(`tracellm: ${batch.length} trace(s) were not persisted at exit: the SQLite store ${settings.given} stayed locked: ${describe(error)}`, 'TRACELLM_SQLITE_LOCKED')
      }
    }
    stalled.clear()
  }

  const sink: SqliteSink = {
    name: 'sqlite',
    write: async (batch) => {
      if (batch.length === 0) return
      const lock = lockWaiter(performance.now() + settings.busyTimeoutMs, () => {
        if (stalled.size === 0) process.on('exit', writeStalled)
        stalled.add(batch)
      })
      try {
        for (;;) {
          if (db === undefined) await (migrated ??= migrateOffThread(settings.file, settings.busyTimeoutMs))
          let target: Database | undefined
          try {
            target = open()
          } catch (error) {
            if (await lock.wait()) continue
            throw error
          }
          // nothing can be stored (warned once when the file could not be opened): counted as dropped, not written
          if (target === undefined) throw new SinkError('tracellm: ' + label + ' is unavailable; the traces were not persisted.', { retryable: false })
          await target.insertSliced(batch, lock)
          return
        }
      } finally {
        if (stalled.delete(batch) && stalled.size === 0) process.removeListener('exit', writeStalled)
      }
    },
    writeSync: (batch) => {
      if (batch.length === 0) return
      const target = open()
      if (target === undefined) return
      target.insertAll(batch, () => {
        syncDeadline ??= performance.now() + settings.busyTimeoutMs
        return Math.floor(syncDeadline - performance.now())
      })
    },
    close: () => {
      closed = true
      db?.close()
      db = undefined
    },
    toString: () => label,
    [Symbol.for('nodejs.util.inspect.custom')]: () => label,
  }
  return sink
}

/**
 * @internal Opens the SQLite store at `path` for reading and pruning. Rejects when there is no file
 * there, unless `create` is set. With `readOnly`, the connection is opened `readonly` after any
 * migration the file lacks ran on a separate connection (docs/stores.md#read-only).
 */
/**
 * @internal The SQLite store: a `TraceStore`, the text index, and the viewer's read of a large step
 * without its large input or output (docs/ui.md#the-store-the-viewer-reads).
 */
export type SqliteTraceStore = TraceStore & {
  createTextIndex(): Promise<boolean>
  largeStep(traceId: string, stepId: string, inlineBytes: number, previewBytes: number): Promise<LargeStepRecord | undefined>
}

export async function openSqliteStore(path: string, options: { readonly create?: boolean; readonly readOnly?: boolean } = {}): Promise<SqliteTraceStore> {
  const file = resolve(path)
  const readOnly = options.readOnly === true
  if ((options.create !== true || readOnly) && !existsSync(file)) throw new Error(`No trace store at ${path}.`)
  await migrateOffThread(file, DEFAULT_BUSY_TIMEOUT_MS)
  const db = openDatabase(file, { create: options.create === true && !readOnly, readOnly, busyTimeoutMs: DEFAULT_BUSY_TIMEOUT_MS, maxDatabaseBytes: undefined })
  return storeOf(db, file, readOnly)
}

/**
 * @internal A store in memory holding `documents` (an imported export), read-only once they are in:
 * `PRAGMA query_only` refuses every write. Its text scans run on the event loop (no other thread can
 * see an in-memory database); docs/stores.md#imported-exports.
 */
export async function openMemorySqliteStore(documents: ReadonlyArray<TraceDocument>): Promise<SqliteTraceStore> {
  const Driver = loadDriver()
  const raw = new Driver(':memory:')
  let db: Database
  try {
    raw.pragma('foreign_keys = ON')
    migrate(raw)
    db = wrap(raw, ':memory:', false)
    for (let index = 0; index < documents.length; index += 500) {
      db.insertAll(documents.slice(index, index + 500), () => 0)
      // a large export is loaded in slices, with turns of the event loop between them
      await nextTurn()
    }
    raw.pragma('query_only = ON')
  } catch (error) {
    raw.close()
    throw error
  }
  return storeOf(db, ':memory:', true)
}

function storeOf(db: Database, file: string, readOnly: boolean): SqliteTraceStore {
  let closed = false
  const live = (): Database => {
    if (closed) throw new Error('The trace store is closed.')
    return db
  }
  const writable = (): Database => {
    if (readOnly) throw new Error('The trace store was opened read-only.')
    return live()
  }
  return {
    kind: 'sqlite',
    readOnly,
    // the earliest started document: the entry point of a trace continued across services
    get: async (traceId) => live().getAll(traceId)[0],
    getAll: async (traceId) => live().getAll(traceId),
    headers: async (traceId) => live().headers(traceId),
    list: async (query, options) => live().reads.list(normalizeQuery(query), readSignal(options)),
    count: async (query, options) => live().reads.count(normalizeQuery(query), readSignal(options)),
    steps: async (traceId, options) => live().reads.steps(traceId, options?.previews !== false),
    step: async (traceId, stepId) => live().reads.step(traceId, stepId),
    stepField: async (traceId, stepId, field) => live().reads.stepField(traceId, stepId, field),
    largeStep: async (traceId, stepId, inlineBytes, previewBytes) => live().reads.largeStep(traceId, stepId, inlineBytes, previewBytes),
    facets: async (field, query) => live().reads.facets(field, query),
    dataVersion: async () => live().reads.dataVersion(),
    overview: async (query) => live().reads.overview(query),
    stats: async () => live().stats(),
    // the connection refuses the DELETE too; this says why in words
    prune: async (pruneOptions) => writable().prune(pruneOptions),
    delete: async (traceId) => {
      if (!isTraceId(traceId)) throw new TypeError('Expected a trace id of 32 lowercase hex characters.')
      return { deleted: writable().deleteTrace(traceId) }
    },
    vacuum: async () => {
      writable()
      return vacuumOffThread(file)
    },
    createTextIndex: async () => writable().createTextIndex(),
    close: async () => {
      if (closed) return
      closed = true
      db.close()
    },
  }
}

// ---------------------------------------------------------------------------------------------------
// The database

const DEFAULT_BUSY_TIMEOUT_MS = 5000
/**
 * `busy_timeout` of a sink's connection: the longest one try for a held write lock blocks the event
 * loop. SQLite's busy handler sleeps 1, 2, then 1 ms; then the write sleeps on a timer and tries
 * again (docs/reliability.md#sqlite-a-held-lock-never-freezes-the-event-loop).
 */
const LOCK_PROBE_MS = 4
/** Timer waits between tries for the lock: 5 ms, doubling up to 100 ms. */
const LOCK_WAIT_FIRST_MS = 5
const LOCK_WAIT_MAX_MS = 100
/** Longest a write transaction runs before the event loop gets a turn. */
const SLICE_MS = 2
const PRUNE_CHUNK = 500
/** WAL pages after which a write asks the checkpointer thread to copy the WAL into the database. */
const CHECKPOINT_PAGES = 1000
const FILE_MODE = 0o600
const DIRECTORY_MODE = 0o700
const OPTION_KEYS = new Set(['path', 'busyTimeoutMs', 'maxDatabaseBytes'])

/** The columns `list` filters on with equality: each gets an index in the list's order. */
const LIST_FILTERS = ['project', 'environment', 'prompt', 'model_name', 'status']

/** SQL of `preview()` (document/rows.ts) of the value at `path` of the JSON `json`. */
function previewSql(json: string, path: string): string {
  return "CASE json_type(" + json + ", '" + path + "') WHEN 'text' THEN substr(" + oneLineSql('json_extract(' + json + ", '" + path + "')") + ', 1, ' + PREVIEW_CHARS + ') ' +
    'ELSE substr(' + json + " -> '" + path + "', 1, " + PREVIEW_CHARS + ') END'
}

/** Line breaks and tabs as spaces, as `preview()` does. */
function oneLineSql(text: string): string {
  return 'replace(replace(replace(' + text + ", char(13), ' '), char(10), ' '), char(9), ' ')"
}

/**
 * @internal Versioned migrations: `PRAGMA user_version` is the number applied. Append only; never edit
 * one that has shipped.
 */
export const MIGRATIONS: ReadonlyArray<string> = [
  `CREATE TABLE traces (
     trace_id TEXT PRIMARY KEY,
     project TEXT NOT NULL,
     environment TEXT NOT NULL,
     prompt TEXT NOT NULL,
     model_name TEXT,
     status TEXT NOT NULL,
     started_at TEXT NOT NULL,
     ended_at TEXT NOT NULL,
     duration_ms REAL NOT NULL,
     retry_count INTEGER NOT NULL,
     step_count INTEGER NOT NULL,
     error_count INTEGER NOT NULL,
     input_tokens INTEGER NOT NULL,
     output_tokens INTEGER NOT NULL,
     tags TEXT NOT NULL,
     document TEXT NOT NULL CHECK (json_valid(document))
   );
   CREATE INDEX traces_started ON traces (started_at DESC, trace_id DESC);
   CREATE INDEX traces_project ON traces (project, environment, started_at DESC);
   CREATE INDEX traces_prompt ON traces (prompt, started_at DESC);
   CREATE INDEX traces_status ON traces (status, started_at DESC);
   CREATE INDEX traces_model ON traces (model_name, started_at DESC);
   CREATE INDEX traces_duration ON traces (duration_ms);
   CREATE INDEX traces_retries ON traces (retry_count);
   CREATE TABLE steps (
     trace_id TEXT NOT NULL REFERENCES traces (trace_id) ON DELETE CASCADE,
     step_id TEXT NOT NULL,
     parent_step_id TEXT,
     seq INTEGER NOT NULL,
     name TEXT NOT NULL,
     kind TEXT NOT NULL,
     status TEXT NOT NULL,
     started_at TEXT NOT NULL,
     duration_ms REAL NOT NULL,
     attempts INTEGER NOT NULL,
     retries INTEGER NOT NULL,
     model TEXT,
     input_tokens INTEGER,
     output_tokens INTEGER,
     PRIMARY KEY (trace_id, step_id)
   ) WITHOUT ROWID;
   CREATE INDEX steps_name ON steps (name, status);
   CREATE INDEX steps_kind ON steps (kind, status);`,
  // 2: documents are keyed by (trace_id, root_span_id), so a trace continued across services stores one
  // document per service; the columns `list` shows of a continued trace, a replay and its cost.
  // SQLite cannot change a primary key in place: the tables are rebuilt (children first, then renamed,
  // which rewrites the steps' foreign key to the new traces table).
  `CREATE TABLE traces_v2 (
     trace_id TEXT NOT NULL,
     root_span_id TEXT NOT NULL,
     parent_step_id TEXT,
     replay_of TEXT,
     project TEXT NOT NULL,
     environment TEXT NOT NULL,
     prompt TEXT NOT NULL,
     model_name TEXT,
     status TEXT NOT NULL,
     started_at TEXT NOT NULL,
     ended_at TEXT NOT NULL,
     duration_ms REAL NOT NULL,
     retry_count INTEGER NOT NULL,
     step_count INTEGER NOT NULL,
     error_count INTEGER NOT NULL,
     input_tokens INTEGER NOT NULL,
     output_tokens INTEGER NOT NULL,
     cost_usd REAL,
     tags TEXT NOT NULL,
     document TEXT NOT NULL CHECK (json_valid(document)),
     PRIMARY KEY (trace_id, root_span_id)
   );
   -- documents of version 1 have no root_span_id
   INSERT INTO traces_v2
     SELECT trace_id, '', json_extract(document, '$.parent_step_id'), json_extract(document, '$.replay_of'), project, environment,
            prompt, model_name, status, started_at, ended_at, duration_ms, retry_count, step_count, error_count, input_tokens,
            output_tokens, json_extract(document, '$.cost_usd'), tags, document
     FROM traces;
   CREATE TABLE steps_v2 (
     trace_id TEXT NOT NULL,
     root_span_id TEXT NOT NULL,
     step_id TEXT NOT NULL,
     parent_step_id TEXT,
     seq INTEGER NOT NULL,
     name TEXT NOT NULL,
     kind TEXT NOT NULL,
     status TEXT NOT NULL,
     started_at TEXT NOT NULL,
     duration_ms REAL NOT NULL,
     attempts INTEGER NOT NULL,
     retries INTEGER NOT NULL,
     model TEXT,
     input_tokens INTEGER,
     output_tokens INTEGER,
     PRIMARY KEY (trace_id, root_span_id, step_id),
     FOREIGN KEY (trace_id, root_span_id) REFERENCES traces_v2 (trace_id, root_span_id) ON DELETE CASCADE
   ) WITHOUT ROWID;
   INSERT INTO steps_v2
     SELECT s.trace_id, t.root_span_id, s.step_id, s.parent_step_id, s.seq, s.name, s.kind, s.status, s.started_at, s.duration_ms,
            s.attempts, s.retries, s.model, s.input_tokens, s.output_tokens
     FROM steps s JOIN traces_v2 t ON t.trace_id = s.trace_id;
   DROP TABLE steps;
   DROP TABLE traces;
   ALTER TABLE traces_v2 RENAME TO traces;
   ALTER TABLE steps_v2 RENAME TO steps;
   CREATE INDEX traces_started ON traces (started_at DESC, trace_id DESC, root_span_id DESC);
   CREATE INDEX traces_project ON traces (project, environment, started_at DESC);
   CREATE INDEX traces_prompt ON traces (prompt, started_at DESC);
   CREATE INDEX traces_status ON traces (status, started_at DESC);
   CREATE INDEX traces_model ON traces (model_name, started_at DESC);
   CREATE INDEX traces_duration ON traces (duration_ms);
   CREATE INDEX traces_retries ON traces (retry_count);
   CREATE INDEX steps_name ON steps (name, status);
   CREATE INDEX steps_kind ON steps (kind, status);`,
  // 3: what the viewer lists and draws without reading documents (docs/stores.md#previews): previews
  // and errors of traces and steps, step costs and sizes; documents already stored get them from their
  // JSON here, in SQL that computes what rows.ts computes at write time; one index per list filter
  // with the list's order.
  'ALTER TABLE traces ADD COLUMN input_preview TEXT; ALTER TABLE traces ADD COLUMN output_preview TEXT; ' +
    'ALTER TABLE traces ADD COLUMN error_type TEXT; ALTER TABLE traces ADD COLUMN error_message TEXT; ' +
    'UPDATE traces SET input_preview = ' + previewSql('document', '$.input') + ', output_preview = ' + previewSql('document', '$.output') + ', ' +
    "error_type = substr(json_extract(document, '$.error.type'), 1, " + PREVIEW_CHARS + '), ' +
    "error_message = substr(" + oneLineSql("json_extract(document, '$.error.message')") + ', 1, ' + PREVIEW_CHARS + '); ' +
    'ALTER TABLE steps ADD COLUMN error_type TEXT; ALTER TABLE steps ADD COLUMN error_message TEXT; ALTER TABLE steps ADD COLUMN cost_usd REAL; ' +
    'ALTER TABLE steps ADD COLUMN input_bytes INTEGER NOT NULL DEFAULT 0; ALTER TABLE steps ADD COLUMN output_bytes INTEGER NOT NULL DEFAULT 0; ' +
    'ALTER TABLE steps ADD COLUMN input_preview TEXT; ALTER TABLE steps ADD COLUMN output_preview TEXT; ' +
    'ALTER TABLE steps ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0; ALTER TABLE steps ADD COLUMN incomplete INTEGER NOT NULL DEFAULT 0; ' +
    "UPDATE steps SET error_type = substr(json_extract(d.step, '$.error.type'), 1, " + PREVIEW_CHARS + '), ' +
    "error_message = substr(" + oneLineSql("json_extract(d.step, '$.error.message')") + ', 1, ' + PREVIEW_CHARS + '), ' +
    "cost_usd = json_extract(d.step, '$.cost_usd'), " +
    "input_bytes = coalesce(length(CAST(d.step -> '$.input' AS BLOB)), 0), output_bytes = coalesce(length(CAST(d.step -> '$.output' AS BLOB)), 0), " +
    'input_preview = ' + previewSql('d.step', '$.input') + ', output_preview = ' + previewSql('d.step', '$.output') + ', ' +
    "truncated = coalesce(json_extract(d.step, '$.truncated'), 0) > 0, incomplete = coalesce(json_extract(d.step, '$.incomplete'), 0) = 1 " +
    "FROM (SELECT t.trace_id AS trace_id, t.root_span_id AS root_span_id, e.value AS step FROM traces t, json_each(t.document, '$.steps') e) AS d " +
    "WHERE steps.trace_id = d.trace_id AND steps.root_span_id = d.root_span_id AND steps.step_id = json_extract(d.step, '$.step_id'); " +
    'DROP INDEX traces_prompt; DROP INDEX traces_status; DROP INDEX traces_model; ' +
    LIST_FILTERS.map((column) => 'CREATE INDEX traces_' + column + '_started ON traces (' + column + ', started_at DESC, trace_id DESC, root_span_id DESC);').join(' '),
  // 4: the replays of a trace (`list({ replayOf })`, the viewer's trace header) without reading every
  // row: 300 ms on 100 000 traces, on the event loop, before it. Partial: most traces are no replay.
  'CREATE INDEX traces_replay_of_started ON traces (replay_of, started_at DESC, trace_id DESC, root_span_id DESC) WHERE replay_of IS NOT NULL;',
  // 5: where each step's object lies in its document's bytes (toStoredDocument in document/rows.ts), so
  // that one step, or a header, of a large document is read with substr instead of parsing all of it.
  // NULL for the documents stored before: they are read as before (sqlite-step-bytes.ts).
  'ALTER TABLE steps ADD COLUMN doc_offset INTEGER; ALTER TABLE steps ADD COLUMN doc_length INTEGER;',
]

interface Database {
  /** Writes in short transactions; a held lock is waited for with `lock` (off the event loop). */
  insertSliced(batch: ReadonlyArray<TraceDocument>, lock: LockWaiter): Promise<void>
  /** Writes in one transaction; a held lock is waited for synchronously, `budgetMs()` at most. */
  insertAll(batch: ReadonlyArray<TraceDocument>, budgetMs: () => number): void
  getAll(traceId: string): TraceDocument[]
  /** The documents of a trace with their steps dropped by SQLite: never parsed whole here. */
  headers(traceId: string): TraceHeader[]
  readonly reads: SqliteReads
  /** Builds the opt-in text index (docs/stores.md#text-search); resolves false when it was there already. */
  createTextIndex(): Promise<boolean>
  stats(): StoreStats
  prune(options: PruneOptions): Promise<{ readonly deleted: number }>
  /** Deletes the documents of one trace and their steps in one transaction; returns how many documents. */
  deleteTrace(traceId: string): number
  close(): void
}

interface OpenOptions {
  /** Opens the file `readonly` (no migration, no pragma that writes): every write fails. */
  readonly readOnly?: boolean
  readonly create: boolean
  readonly busyTimeoutMs: number
  readonly maxDatabaseBytes: number | undefined
}

function openDatabase(file: string, options: OpenOptions): Database {
  const Driver = loadDriver()
  if (options.readOnly === true) return openReadOnly(Driver, file, options.busyTimeoutMs)
  if (options.create) prepareFile(file)
  const empty = options.create && isEmptyFile(file)
  const db = new Driver(file, { fileMustExist: !options.create })
  try {
    setPragma(db, 'busy_timeout', options.busyTimeoutMs)
    // a new store frees the pages of pruned traces with `incremental_vacuum` (see vacuumOffThread):
    // SQLite takes the setting only before the first write, and switching to WAL is one
    if (empty) db.pragma('auto_vacuum = INCREMENTAL')
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    migrate(db)
    tightenModes(file)
    if (options.maxDatabaseBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number
      setPragma(db, 'max_page_count', Math.max(1, Math.floor(options.maxDatabaseBytes / pageSize)))
    }
    return wrap(db, file, options.create)
  } catch (error) {
    db.close()
    throw error
  }
}

/**
 * A read-only connection (docs/stores.md#read-only). It cannot migrate: `openSqliteStore` migrates
 * on a separate, writable connection first; a file still behind (not writable) fails here clearly.
 */
function openReadOnly(Driver: typeof BetterSqlite3, file: string, busyTimeoutMs: number): Database {
  const db = new Driver(file, { readonly: true, fileMustExist: true })
  try {
    setPragma(db, 'busy_timeout', busyTimeoutMs)
    const version = db.pragma('user_version', { simple: true }) as number
    if (version !== MIGRATIONS.length) {
      throw new Error(
        'The trace store ' + file + ' has schema version ' + String(version) + ' and this tracellm reads version ' + String(MIGRATIONS.length) +
          (version < MIGRATIONS.length ? ': it could not be upgraded (is the file writable?). Open it once for writing, e.g. `tracellm stats --db ' + file + '`, then again.' : '; upgrade tracellm.'),
      )
    }
    return wrap(db, file, false)
  } catch (error) {
    db.close()
    throw error
  }
}

function wrap(db: BetterSqlite3.Database, file: string, writer: boolean): Database {
  // a writer checkpoints on its own thread: the copy and its fsync never run on the event loop
  const checkpointer = writer ? startCheckpointer(db, file) : undefined
  const reads = sqliteReads(db, db.memory ? undefined : file, createRequire(import.meta.url).resolve('better-sqlite3'))
  const insertTrace = db.prepare(
    'INSERT INTO traces (' + TRACE_COLUMNS.join(', ') + ') VALUES (' + TRACE_COLUMNS.map(() => '?').join(', ') + ') ON CONFLICT (trace_id, root_span_id) DO NOTHING',
  )
  // the shared columns, then where the step lies in the document (SQLite only: PostgreSQL stores jsonb)
  const stepColumns = [...STEP_COLUMNS, 'doc_offset', 'doc_length']
  const insertStep = db.prepare(
    'INSERT INTO steps (' + stepColumns.join(', ') + ') VALUES (' + stepColumns.map(() => '?').join(', ') + ') ON CONFLICT (trace_id, root_span_id, step_id) DO NOTHING',
  )
  const getDocuments = db.prepare<[string], { document: string }>('SELECT document FROM traces WHERE trace_id = ? ORDER BY started_at, root_span_id')
  const headerRows = db.prepare<[string], { root_span_id: string; step_count: number }>(
    'SELECT root_span_id, step_count FROM traces WHERE trace_id = ? ORDER BY started_at, root_span_id',
  )
  const getHeader = db.prepare<[string, string], { document: string }>(
    "SELECT json_set(document, '$.steps', json('[]')) AS document FROM traces WHERE trace_id = ? AND root_span_id = ?",
  )

  const deleteTrace = db.prepare<[string, string]>('DELETE FROM traces WHERE trace_id = ? AND root_span_id = ?')
  // the documents this write call inserted, so a failed call can take them back (see insertSliced)
  let inserted: Array<readonly [string, string]> | undefined

  const insertOne = (doc: TraceDocument): void => {
    const row = toTraceRow(doc)
    const stored = toStoredDocument(doc)
    const result = insertTrace.run(...traceValues(row, stored.text))
    // a retried batch: the document (and so its steps) is already there
    if (result.changes === 0) return
    inserted?.push([row.traceId, row.rootSpanId])
    for (const [index, step] of toStepRows(doc).entries()) {
      // better-sqlite3 binds no booleans: SQLite stores them as 0 and 1
      const range = stored.steps[index]
      insertStep.run(...stepValues(step).map((value) => (typeof value === 'boolean' ? Number(value) : value)), range?.[0] ?? null, range?.[1] ?? null)
    }
  }

  // Inserts from `from` until the batch ends or the slice's time is up; returns where it stopped.
  const insertSlice = db.transaction((batch: ReadonlyArray<TraceDocument>, from: number): number => {
    const started = performance.now()
    let index = from
    while (index < batch.length) {
      insertOne(batch[index] as TraceDocument)
      index++
      if (performance.now() - started >= SLICE_MS) break
    }
    return index
  })
  const insertEvery = db.transaction((batch: ReadonlyArray<TraceDocument>): void => {
    for (const doc of batch) insertOne(doc)
  })
  const deleteAll = db.transaction((keys: ReadonlyArray<readonly [string, string]>): void => {
    for (const [traceId, rootSpanId] of keys) deleteTrace.run(traceId, rootSpanId)
  })
  const deleteSteps = db.prepare<[string]>('DELETE FROM steps WHERE trace_id = ?')
  const deleteDocuments = db.prepare<[string]>('DELETE FROM traces WHERE trace_id = ?')
  // the steps go by the foreign key's cascade too; deleting them first does not depend on it
  const deleteOne = db.transaction((traceId: string): number => {
    deleteSteps.run(traceId)
    return deleteDocuments.run(traceId).changes
  })

  return {
    insertSliced: async (batch, lock) => {
      // A batch is written in several transactions. When a later one fails (a full disk, a lock held
      // past the wait), the traces of the earlier ones are deleted again, so a failed write stored
      // nothing: the queue then retries the whole batch or drops it, and its drop count stays exact.
      const mine: Array<readonly [string, string]> = []
      let index = 0
      try {
        for (;;) {
          inserted = mine
          try {
            // IMMEDIATE: a held lock fails the BEGIN after the connection's short busy timeout
            index = insertSlice.immediate(batch, index)
          } catch (error) {
            inserted = undefined
            if (isBusy(error) && (await lock.wait())) continue
            throw error
          }
          inserted = undefined
          checkpointer?.wrote()
          if (index >= batch.length) return
          await nextTurn()
        }
      } catch (error) {
        inserted = undefined
        if (mine.length > 0) {
          try {
            deleteAll.immediate(mine)
          } catch {
            // best effort: the database refused even the delete (a retry of the batch is idempotent)
          }
        }
        throw error
      }
    },
    insertAll: (batch, budgetMs) => {
      try {
        insertEvery.immediate(batch)
      } catch (error) {
        if (!isBusy(error)) throw error
        // only the exit hook writes synchronously: no event loop is left to freeze, so wait for the lock here
        const waitMs = budgetMs()
        if (waitMs <= 0) throw error
        setPragma(db, 'busy_timeout', waitMs)
        try {
          insertEvery.immediate(batch)
        } finally {
          setPragma(db, 'busy_timeout', LOCK_PROBE_MS)
        }
      }
    },
    getAll: (traceId) => {
      if (!isTraceId(traceId)) return []
      return getDocuments.all(traceId).map((row) => fromWire(JSON.parse(row.document)))
    },
    headers: (traceId) => {
      if (!isTraceId(traceId)) return []
      return headerRows.all(traceId).flatMap((row) => {
        // a large document's header is cut from its text (sqlite-step-bytes.ts); json_set parses all of it
        const wire = reads.wireHeader(traceId, row.root_span_id) ?? JSON.parse(getHeader.get(traceId, row.root_span_id)?.document ?? 'null')
        return wire === null ? [] : [headerOf(fromWire(wire), row.step_count)]
      })
    },
    reads,
    createTextIndex: async () => {
      if (reads.hasTextIndex()) return false
      await buildTextIndexOffThread(file, createRequire(import.meta.url).resolve('better-sqlite3'))
      reads.wrote()
      return true
    },
    stats: () => {
      const totals = db.prepare<[], { traces: number; steps: number | null; errors: number | null; oldest: string | null; newest: string | null; retries: number | null; input_tokens: number | null; output_tokens: number | null; cost_usd: number | null }>(
        "SELECT count(*) AS traces, sum(step_count) AS steps, sum(status = 'error') AS errors, min(started_at) AS oldest, max(started_at) AS newest, " +
          'sum(retry_count) AS retries, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, total(cost_usd) AS cost_usd FROM traces',
      ).get()
      const projects = db.prepare<[], { project: string; traces: number }>(
        'SELECT project, count(*) AS traces FROM traces GROUP BY project ORDER BY traces DESC, project LIMIT 100',
      ).all()
      return {
        traces: totals?.traces ?? 0,
        steps: totals?.steps ?? 0,
        errors: totals?.errors ?? 0,
        oldest: totals?.oldest ?? null,
        newest: totals?.newest ?? null,
        retries: totals?.retries ?? 0,
        inputTokens: totals?.input_tokens ?? 0,
        outputTokens: totals?.output_tokens ?? 0,
        costUsd: totals?.cost_usd ?? 0,
        projects,
      }
    },
    prune: async (options) => {
      const before = checkPrune(options)
      const total = (db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM traces WHERE started_at < ?').get(before) as { n: number }).n
      const deleteChunk = db.prepare<[string, number]>('DELETE FROM traces WHERE rowid IN (SELECT rowid FROM traces WHERE started_at < ? LIMIT ?)')
      let deleted = 0
      while (deleted < total) {
        const changes = deleteChunk.run(before, PRUNE_CHUNK).changes
        if (changes === 0) break
        deleted += changes
        reads.wrote()
        options.onProgress?.(deleted, total)
        await nextTurn()
      }
      return { deleted }
    },
    deleteTrace: (traceId) => {
      const deleted = deleteOne.immediate(traceId)
      reads.wrote()
      return deleted
    },
    close: () => {
      checkpointer?.stop()
      if (db.open) db.close()
    },
  }
}


function migrate(db: BetterSqlite3.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > MIGRATIONS.length) {
    throw new Error(`The trace store has schema version ${current}, newer than this tracellm knows (${MIGRATIONS.length}); upgrade tracellm.`)
  }
  if (current === MIGRATIONS.length) return
  // BEGIN IMMEDIATE: two processes opening a new file at once apply each migration once
  db.transaction(() => {
    const applied = db.pragma('user_version', { simple: true }) as number
    for (let version = applied; version < MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version] as string)
      setPragma(db, 'user_version', version + 1)
    }
  }).immediate()
}

/**
 * Applies the migrations an existing file lacks on a worker thread, so that rebuilding the tables of a
 * large store (migration 2 copies every document: 14–18 s for 1.3 GiB, 100 000 traces, measured with
 * bench/migrate.mjs) never stops the event loop. The cheap check first: the schema version in the
 * file's header (a newer one may still sit in the WAL; the worker then finds nothing to do). Never
 * rejects: when the worker cannot run or fails, opening the file on the main thread migrates it, or
 * reports why it cannot.
 */
async function migrateOffThread(file: string, busyTimeoutMs: number): Promise<void> {
  // no database there yet (its tables are made in no time), or one already up to date
  const version = headerVersion(file)
  if (version === undefined || version >= MIGRATIONS.length) return
  await new Promise<void>((resolve) => {
    try {
      const worker = new Worker(MIGRATE_WORKER, {
        eval: true,
        workerData: { file, busyTimeoutMs, migrations: MIGRATIONS, driver: createRequire(import.meta.url).resolve('better-sqlite3') },
      })
      worker.once('error', () => resolve())
      worker.once('exit', () => resolve())
    } catch {
      resolve()
    }
  })
}

/**
 * `PRAGMA user_version` as the file's header holds it (big-endian at offset 60); undefined when there is
 * no SQLite database there (no file, an empty one, something else: the main thread reports those).
 */
function headerVersion(file: string): number | undefined {
  let fd: number | undefined
  try {
    fd = openSync(file, 'r')
    const header = Buffer.alloc(64)
    return readSync(fd, header, 0, 64, 0) === 64 && header.toString('latin1', 0, 15) === 'SQLite format 3' ? header.readUInt32BE(60) : undefined
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

// `migrate()` on the worker's own connection: the same steps, in the same BEGIN IMMEDIATE transaction
const MIGRATE_WORKER = `
const { workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.file, { fileMustExist: true })
try {
  db.pragma('busy_timeout = ' + Number(workerData.busyTimeoutMs))
  db.pragma('journal_mode = WAL')
  db.pragma('foreign_keys = ON')
  const migrations = workerData.migrations
  if (db.pragma('user_version', { simple: true }) < migrations.length) {
    db.transaction(() => {
      for (let version = db.pragma('user_version', { simple: true }); version < migrations.length; version++) {
        db.exec(migrations[version])
        db.pragma('user_version = ' + (version + 1))
      }
    }).immediate()
  }
} finally {
  db.close()
}
`

/**
 * Moves WAL checkpoints to a worker thread with its own connection. SQLite's automatic checkpoint
 * runs inside the commit that crosses the threshold, on the event loop, and with its fsyncs took
 * 10–20 ms (measured in `npm run bench`); a PASSIVE checkpoint in another thread takes no lock a
 * writer waits for. If the worker cannot start, the automatic checkpoint stays on.
 */
function startCheckpointer(db: BetterSqlite3.Database, file: string): { wrote(): void; stop(): void } | undefined {
  let worker: Worker
  try {
    worker = new Worker(CHECKPOINT_WORKER, { eval: true, workerData: { file, driver: createRequire(import.meta.url).resolve('better-sqlite3') } })
  } catch {
    return undefined
  }
  let busy = false
  let alive = true
  worker.on('message', () => {
    busy = false
  })
  const fallBack = (): void => {
    if (!alive) return
    alive = false
    if (db.open) setPragma(db, 'wal_autocheckpoint', CHECKPOINT_PAGES)
  }
  worker.on('error', fallBack)
  worker.on('exit', fallBack)
  // after the listeners: adding a 'message' listener refs the worker's port again
  worker.unref()
  setPragma(db, 'wal_autocheckpoint', 0)
  let pagesSince = 0
  const pageCount = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM pragma_page_count')
  let lastPages = 0
  return {
    wrote: () => {
      if (!alive || busy) return
      // the database grows by about what the WAL holds; checkpoint once enough was written
      const pages = (pageCount.get() as { n: number }).n
      pagesSince += Math.max(1, pages - lastPages)
      lastPages = pages
      if (pagesSince < CHECKPOINT_PAGES / 4) return
      pagesSince = 0
      busy = true
      worker.postMessage('checkpoint')
    },
    stop: () => {
      alive = false
      worker.postMessage('stop')
    },
  }
}

const CHECKPOINT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.file, { fileMustExist: true })
db.pragma('busy_timeout = 5000')
parentPort.on('message', (message) => {
  if (message === 'stop') { db.close(); process.exit(0) }
  try { db.pragma('wal_checkpoint(PASSIVE)') } catch {}
  parentPort.postMessage('done')
})
`

function isEmptyFile(file: string): boolean {
  try {
    return statSync(file).size === 0
  } catch {
    return true
  }
}

/**
 * `TraceStore.vacuum()` of a SQLite store, on a worker thread with its own connection: rewriting a
 * large file takes seconds, which the event loop never waits through. A store made with
 * `auto_vacuum = INCREMENTAL` (every store since the `vacuum` API) frees its free pages with
 * `PRAGMA incremental_vacuum`; an older one is switched to it by one full `VACUUM`. A TRUNCATE
 * checkpoint then copies the WAL back and empties it, so the file shrinks at once. The worker waits
 * for the write lock as long as a store's reads do (`busy_timeout` 5 s); a failure rejects.
 */
async function vacuumOffThread(file: string): Promise<VacuumResult> {
  const bytesBefore = storeBytes(file)
  await new Promise<void>((resolveRun, reject) => {
    let failure: Error | undefined
    try {
      const worker = new Worker(VACUUM_WORKER, {
        eval: true,
        workerData: { file, busyTimeoutMs: DEFAULT_BUSY_TIMEOUT_MS, driver: createRequire(import.meta.url).resolve('better-sqlite3') },
      })
      worker.once('message', (message: { readonly error?: string; readonly code?: string }) => {
        if (message.error !== undefined) failure = Object.assign(new Error(`Cannot vacuum the trace store: ${message.error}`), { code: message.code })
      })
      worker.once('error', (error) => {
        failure ??= error
      })
      worker.once('exit', () => (failure === undefined ? resolveRun() : reject(failure)))
    } catch (error) {
      reject(error)
    }
  })
  return { bytesBefore, bytesAfter: storeBytes(file) }
}

/** The database file and its WAL, in bytes. */
function storeBytes(file: string): number {
  const size = (path: string): number => {
    try {
      return statSync(path).size
    } catch {
      return 0
    }
  }
  return size(file) + size(file + '-wal')
}

const VACUUM_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
let db
try {
  db = new Database(workerData.file, { fileMustExist: true })
  db.pragma('busy_timeout = ' + Number(workerData.busyTimeoutMs))
  if (db.pragma('auto_vacuum', { simple: true }) === 2) {
    db.pragma('incremental_vacuum')
  } else {
    db.pragma('auto_vacuum = INCREMENTAL')
    db.exec('VACUUM')
  }
  db.pragma('wal_checkpoint(TRUNCATE)')
  parentPort.postMessage({})
} catch (error) {
  parentPort.postMessage({ error: String(error && error.message), code: error && error.code })
} finally {
  if (db !== undefined) db.close()
}
`

/** Waits between tries for a held lock, on unref'd timers, until a deadline. */
interface LockWaiter {
  /** Sleeps before the next try; resolves false (at once) when the deadline has passed. */
  wait(): Promise<boolean>
}

/** `onFirstWait` runs when the first wait starts: the write is then stalled behind another connection. */
function lockWaiter(deadline: number, onFirstWait: () => void): LockWaiter {
  let waits = 0
  return {
    wait: async () => {
      const left = deadline - performance.now()
      if (left <= 0) return false
      if (waits === 0) onFirstWait()
      const ms = Math.min(left, LOCK_WAIT_FIRST_MS * 2 ** Math.min(waits, 10), LOCK_WAIT_MAX_MS)
      waits++
      // unref'd: a lock held by another process never keeps this one alive (the exit hook writes instead)
      await sleep(ms, undefined, { ref: false })
      return true
    },
  }
}

/** SQLITE_BUSY and its extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_BUSY_RECOVERY, SQLITE_BUSY_TIMEOUT). */
function isBusy(error: unknown): boolean {
  try {
    const code = (error as { code?: unknown } | null)?.code
    return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
  } catch {
    return false
  }
}

/** PRAGMA values cannot be bound parameters: only a checked integer is ever written into one. */
function setPragma(db: BetterSqlite3.Database, name: 'busy_timeout' | 'max_page_count' | 'user_version' | 'wal_autocheckpoint', value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError('Expected PRAGMA ' + name + ' to be a non-negative integer.')
  db.pragma(name + ' = ' + String(value))
}

function prepareFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: DIRECTORY_MODE })
  if (existsSync(file)) return
  // created here with 0600 (traces hold prompts and personal data); SQLite gives its WAL and shared
  // memory files the same mode as the database file
  closeSync(openSync(file, 'a', FILE_MODE))
  chmodSync(file, FILE_MODE)
}

/** Stores whose loose modes were reported: one warning per store and process. */
const reportedModes = new Set<string>()

/**
 * Keeps the store private (docs/reliability.md#files-exports-and-disk-space). The `-wal` and `-shm`
 * files get 0600 when the database has it (SQLite copies the database's mode when it creates them; one
 * made by an older version or another tool may be looser). Then one warning names what other users
 * can read or write: the database or its companions, and a `.tracellm` folder (the one tracellm
 * makes; an older version made it with the umask's 0755). Nothing is changed behind the owner's back
 * beyond the companions, and nothing here ever fails the open.
 */
function tightenModes(file: string): void {
  if (process.platform === 'win32') return
  try {
    const loose = (path: string): number | undefined => {
      try {
        const mode = statSync(path).mode & 0o777
        return (mode & 0o077) === 0 ? undefined : mode
      } catch {
        return undefined
      }
    }
    const companions = [file + '-wal', file + '-shm']
    if (loose(file) === undefined) {
      for (const companion of companions) {
        if (loose(companion) === undefined) continue
        try {
          chmodSync(companion, FILE_MODE)
        } catch {
          // not ours to change: reported below
        }
      }
    }
    const folder = dirname(file)
    const found: Array<readonly [string, number]> = []
    for (const path of [...(basename(folder) === '.tracellm' ? [folder] : []), file, ...companions]) {
      const mode = loose(path)
      if (mode !== undefined) found.push([path, mode])
    }
    if (found.length === 0 || reportedModes.has(file)) return
    reportedModes.add(file)
    const octal = (mode: number): string => '0' + mode.toString(8).padStart(3, '0')
    const fix = found.map(([path]) => `chmod ${path === folder ? '700' : '600'} ${path}`).join(' && ')
    warn(
      `tracellm: the trace store ${file} can be read or changed by other users (traces hold prompts and personal data): ` +
        found.map(([path, mode]) => `${path} has mode ${octal(mode)}`).join(', ') + `; to fix: ${fix}`,
      'TRACELLM_SQLITE_MODE',
    )
  } catch {
    // a stat or a warning listener that throws must not fail the open
  }
}

let driver: typeof BetterSqlite3 | undefined

/** better-sqlite3 is native: loaded on first use, so `import 'tracellm'` works where it cannot load. */
function loadDriver(): typeof BetterSqlite3 {
  driver ??= createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3
  return driver
}

function checkOptions(options: SqliteSinkOptions): { readonly given: string; readonly file: string; readonly busyTimeoutMs: number; readonly maxDatabaseBytes: number | undefined } {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `sqliteSink` options to be an object with a `path`.')
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw new TypeError(`Unknown \`sqliteSink\` option \`${key}\`.`)
  }
  const given: unknown = options.path
  if (typeof given !== 'string' || given.trim() === '') throw new TypeError('Expected `path` to be a non-empty string.')
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS
  if (typeof busyTimeoutMs !== 'number' || !Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new TypeError(`Expected \`busyTimeoutMs\` to be a non-negative integer, got ${String(busyTimeoutMs)}.`)
  }
  const maxDatabaseBytes = options.maxDatabaseBytes
  if (maxDatabaseBytes !== undefined && (typeof maxDatabaseBytes !== 'number' || !Number.isInteger(maxDatabaseBytes) || maxDatabaseBytes < 4096)) {
    throw new TypeError(`Expected \`maxDatabaseBytes\` to be an integer of at least 4096, got ${String(maxDatabaseBytes)}.`)
  }
  return { given, file: resolve(given), busyTimeoutMs, maxDatabaseBytes }
}

function checkPrune(options: PruneOptions): string {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `prune` options to be an object with `olderThan`.')
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new TypeError('Expected `onProgress` to be a function.')
  return toInstant(options.olderThan, 'olderThan')
}

function warn(message: string, code = 'TRACELLM_SQLITE_UNAVAILABLE'): void {
  try {
    process.emitWarning(message, { type: 'TracellmWarning', code })
  } catch {
    // a throwing warning listener must not reach the program
  }
}

function describe(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error)
  } catch {
    return 'unknown error'
  }
}
