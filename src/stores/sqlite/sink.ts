/**
 * The embedded default sink: a SQLite file (better-sqlite3). better-sqlite3 is synchronous, so writes
 * run in short transactions with a turn of the event loop between them, a lock held by another
 * process is waited for on timers rather than in SQLite's busy handler, and the process `exit` hook
 * can still write the queue (`writeSync`). The same file is a readable store (`store.ts`).
 */
import { resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { TraceDocument } from '../../document/document.js'
import { SinkError, type Sink } from '../../export/sink.js'
import type { SqliteDatabase } from './database.js'
import { DEFAULT_BUSY_TIMEOUT_MS, describe, isBusy, LOCK_PROBE_MS, lockWaiter, warn } from './driver.js'
import { migrateOffThread } from './migrations.js'
import { openDatabase } from './open.js'

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
  let db: SqliteDatabase | undefined
  let unavailable = false
  let closed = false
  // an existing file of an older schema is migrated on a worker thread before the first write
  let migrated: Promise<void> | undefined
  // synchronous writes (the exit hook) share one wait for the lock, from the first that met it
  let syncDeadline: number | undefined
  // batches whose asynchronous write sleeps until the lock is free: written by `exit` if it comes first
  const stalled = new Set<ReadonlyArray<TraceDocument>>()

  /** The database, or undefined when it cannot be opened (warned once); throws only `SQLITE_BUSY`. */
  const open = (): SqliteDatabase | undefined => {
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
          let target: SqliteDatabase | undefined
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

const OPTION_KEYS = new Set(['path', 'busyTimeoutMs', 'maxDatabaseBytes'])

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
