/**
 * The SQLite store opened for reading and pruning (`openStore()` of a file path or an imported
 * export): the shared `TraceStore` of `sql/store.ts` over one connection, plus the viewer's read of
 * a large step without its large input or output (docs/ui.md#the-store-the-viewer-reads).
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { TraceDocument } from '../../document/document.js'
import { sqlStore, type SqlTraceStore } from '../sql/store.js'
import { wrap, type SqliteDatabase } from './database.js'
import { DEFAULT_BUSY_TIMEOUT_MS, loadDriver } from './driver.js'
import { migrate, migrateOffThread } from './migrations.js'
import { openDatabase } from './open.js'
import type { LargeStepRecord } from './steps.js'

/**
 * @internal The SQLite store: a `TraceStore`, the text index, and the viewer's read of a large step
 * without its large input or output (docs/ui.md#the-store-the-viewer-reads).
 */
export type SqliteTraceStore = SqlTraceStore & {
  largeStep(traceId: string, stepId: string, inlineBytes: number, previewBytes: number): Promise<LargeStepRecord | undefined>
}

/**
 * @internal Opens the SQLite store at `path` for reading and pruning. Rejects when there is no file
 * there, unless `create` is set. With `readOnly`, the connection is opened `readonly` after any
 * migration the file lacks ran on a separate connection (docs/stores.md#read-only).
 */
export async function openSqliteStore(path: string, options: { readonly create?: boolean; readonly readOnly?: boolean } = {}): Promise<SqliteTraceStore> {
  const file = resolve(path)
  const readOnly = options.readOnly === true
  if ((options.create !== true || readOnly) && !existsSync(file)) throw new Error(`No trace store at ${path}.`)
  await migrateOffThread(file, DEFAULT_BUSY_TIMEOUT_MS)
  const db = openDatabase(file, { create: options.create === true && !readOnly, readOnly, busyTimeoutMs: DEFAULT_BUSY_TIMEOUT_MS, maxDatabaseBytes: undefined })
  return storeOf(db, readOnly)
}

/**
 * @internal A store in memory holding `documents` (an imported export), read-only once they are in:
 * `PRAGMA query_only` refuses every write. Its text scans run on the event loop (no other thread can
 * see an in-memory database); docs/stores.md#imported-exports.
 */
export async function openMemorySqliteStore(documents: ReadonlyArray<TraceDocument>): Promise<SqliteTraceStore> {
  const Driver = loadDriver()
  const raw = new Driver(':memory:')
  let db: SqliteDatabase
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
  return storeOf(db, true)
}

function storeOf(db: SqliteDatabase, readOnly: boolean): SqliteTraceStore {
  return sqlStore('sqlite', readOnly, db, (live) => ({
    largeStep: async (traceId: string, stepId: string, inlineBytes: number, previewBytes: number) => live().largeStep(traceId, stepId, inlineBytes, previewBytes),
  }))
}
