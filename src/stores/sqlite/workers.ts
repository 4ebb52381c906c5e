/**
 * The SQLite store's work off the event loop, each on a worker thread with its own connection (the
 * driver is synchronous): one-shot tasks (a text scan, the overview, building the text index, a
 * vacuum) that run one script and post one message, and the long-lived WAL checkpointer. The
 * migrations' worker is `migrations.ts`'s.
 */
import { statSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import type BetterSqlite3 from 'better-sqlite3'
import { abortError } from '../query.js'
import type { VacuumResult } from '../types.js'
import { DEFAULT_BUSY_TIMEOUT_MS, driverPath, setPragma } from './driver.js'

/** @internal A task of the one-shot worker. */
export type Task =
  /** One read-only statement: `all` rows or the first (`get`). */
  | { readonly task: 'query'; readonly sql: string; readonly params: ReadonlyArray<unknown>; readonly mode: 'all' | 'get' }
  /** Read-only statements in one read transaction (so they see the same data): the rows of each. */
  | { readonly task: 'queries'; readonly statements: ReadonlyArray<{ readonly sql: string; readonly params: ReadonlyArray<unknown> }> }
  /** Statements in one BEGIN IMMEDIATE transaction. */
  | { readonly task: 'exec'; readonly statements: ReadonlyArray<string> }
  /** `TraceStore.vacuum()`: see `vacuumOffThread`. */
  | { readonly task: 'vacuum' }

interface RunOptions {
  /** The start of the message of a failure: `<failure>: <SQLite's message>`. */
  readonly failure: string
  /** Rejects with this when the worker ends without answering. */
  readonly stopped: string
  /** Terminates the worker (SQLite stops mid-scan) and rejects with an `AbortError`. */
  readonly signal?: AbortSignal
  /** Settles when the worker has ended (its connection closed), not when it answers. */
  readonly untilExit?: boolean
}

/** @internal Runs `task` on a worker thread with its own connection to `file`; resolves the rows it posts. */
export function runOffThread<T>(file: string, task: Task, options: RunOptions): Promise<T> {
  const { signal } = options
  return new Promise<T>((resolve, reject) => {
    let settled = false
    let answer: { readonly rows: T } | undefined
    let failure: Error | undefined
    const settle = (): void => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      if (failure !== undefined) reject(failure)
      else if (answer !== undefined) resolve(answer.rows)
      else reject(new Error(options.stopped))
    }
    const onAbort = (): void => {
      if (settled) return
      failure = abortError(signal)
      void worker.terminate()
      settle()
    }
    let worker: Worker
    try {
      const readonly = task.task === 'query' || task.task === 'queries'
      worker = new Worker(TASK_WORKER, { eval: true, workerData: { ...task, file, readonly, busyTimeoutMs: DEFAULT_BUSY_TIMEOUT_MS, driver: driverPath() } })
    } catch (error) {
      reject(error)
      return
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    worker.once('message', (message: { readonly rows?: T; readonly error?: string; readonly code?: string }) => {
      if (message.error !== undefined) failure ??= Object.assign(new Error(options.failure + ': ' + message.error), { code: message.code })
      else answer = { rows: message.rows as T }
      if (options.untilExit !== true) settle()
    })
    worker.once('error', (error) => {
      failure ??= error
      if (options.untilExit !== true) settle()
    })
    worker.once('exit', settle)
  })
}

// one script for every one-shot task: open, run, post the rows or the error, close
const TASK_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
let db
try {
  db = new Database(workerData.file, { readonly: workerData.readonly, fileMustExist: true })
  db.pragma('busy_timeout = ' + Number(workerData.busyTimeoutMs))
  let rows
  if (workerData.task === 'query') {
    const statement = db.prepare(workerData.sql)
    rows = workerData.mode === 'all' ? statement.all(...workerData.params) : statement.get(...workerData.params)
  } else if (workerData.task === 'queries') {
    rows = db.transaction(() => workerData.statements.map((statement) => db.prepare(statement.sql).all(...statement.params)))()
  } else if (workerData.task === 'exec') {
    db.transaction(() => { for (const statement of workerData.statements) db.exec(statement) }).immediate()
  } else if (workerData.task === 'vacuum') {
    if (db.pragma('auto_vacuum', { simple: true }) === 2) {
      db.pragma('incremental_vacuum')
    } else {
      db.pragma('auto_vacuum = INCREMENTAL')
      db.exec('VACUUM')
    }
    db.pragma('wal_checkpoint(TRUNCATE)')
  }
  parentPort.postMessage({ rows })
} catch (error) {
  parentPort.postMessage({ error: String(error && error.message), code: error && error.code })
} finally {
  if (db !== undefined) db.close()
}
`

/**
 * @internal `TraceStore.vacuum()` of a SQLite store, on a worker thread with its own connection:
 * rewriting a large file takes seconds, which the event loop never waits through. A store made with
 * `auto_vacuum = INCREMENTAL` (every store since the `vacuum` API) frees its free pages with
 * `PRAGMA incremental_vacuum`; an older one is switched to it by one full `VACUUM`. A TRUNCATE
 * checkpoint then copies the WAL back and empties it, so the file shrinks at once. The worker waits
 * for the write lock as long as a store's reads do (`busy_timeout` 5 s); a failure rejects.
 */
export async function vacuumOffThread(file: string): Promise<VacuumResult> {
  const bytesBefore = storeBytes(file)
  await runOffThread<undefined>(file, { task: 'vacuum' }, { failure: 'Cannot vacuum the trace store', stopped: 'Cannot vacuum the trace store: the worker stopped.', untilExit: true })
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

/** WAL pages after which a write asks the checkpointer thread to copy the WAL into the database. */
const CHECKPOINT_PAGES = 1000

/**
 * @internal Moves WAL checkpoints to a worker thread with its own connection. SQLite's automatic
 * checkpoint runs inside the commit that crosses the threshold, on the event loop, and with its fsyncs
 * took 10–20 ms (measured in `npm run bench`); a PASSIVE checkpoint in another thread takes no lock a
 * writer waits for. If the worker cannot start, the automatic checkpoint stays on.
 */
export function startCheckpointer(db: BetterSqlite3.Database, file: string): { wrote(): void; stop(): void } | undefined {
  let worker: Worker
  try {
    worker = new Worker(CHECKPOINT_WORKER, { eval: true, workerData: { file, driver: driverPath() } })
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
