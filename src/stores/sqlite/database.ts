/**
 * One connection to the SQLite store: the writes (short transactions with a turn of the event loop
 * between them, or one for the `exit` hook), the documents and headers of a trace, the statistics,
 * the deletes, and the reads of `reads.ts`. better-sqlite3 is used through the connection it is given.
 */
import { performance } from 'node:perf_hooks'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type BetterSqlite3 from 'better-sqlite3'
import type { TraceDocument } from '../../document/document.js'
import { toStepRows, toStoredDocument, toTraceRow } from '../../document/rows.js'
import { fromWire } from '../../document/wire.js'
import { headerOf, isTraceId } from '../query.js'
import { statsStatements, toStats } from '../sql/aggregates.js'
import { STEP_COLUMNS, stepValues, TRACE_COLUMNS, traceValues } from '../sql/columns.js'
import { sqliteDialect } from '../sql/dialect.js'
import type { SqlBackend } from '../sql/store.js'
import { isBusy, LOCK_PROBE_MS, setPragma, type LockWaiter } from './driver.js'
import { sqliteReads, type SqliteReads } from './reads.js'
import { buildTextIndexOffThread } from './text-index.js'
import { startCheckpointer, vacuumOffThread } from './workers.js'

/** @internal A connection to the store: a `SqlBackend`, the writes, and the viewer's own reads. */
export interface SqliteDatabase extends SqlBackend, Pick<SqliteReads, 'largeStep'> {
  /** Writes in short transactions; a held lock is waited for with `lock` (off the event loop). */
  insertSliced(batch: ReadonlyArray<TraceDocument>, lock: LockWaiter): Promise<void>
  /** Writes in one transaction; a held lock is waited for synchronously, `budgetMs()` at most. */
  insertAll(batch: ReadonlyArray<TraceDocument>, budgetMs: () => number): void
  close(): void
}

/** Longest a write transaction runs before the event loop gets a turn. */
const SLICE_MS = 2

/** @internal The connection `db` to the store at `file` (`:memory:` for an imported export); a `writer` checkpoints on its own thread. */
export function wrap(db: BetterSqlite3.Database, file: string, writer: boolean): SqliteDatabase {
  // a writer checkpoints on its own thread: the copy and its fsync never run on the event loop
  const checkpointer = writer ? startCheckpointer(db, file) : undefined
  const reads = sqliteReads(db, db.memory ? undefined : file)
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

  const statistics = statsStatements(sqliteDialect, 'traces')
  const countBefore = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM traces WHERE started_at < ?')
  const deleteBefore = db.prepare<[string, number]>('DELETE FROM traces WHERE rowid IN (SELECT rowid FROM traces WHERE started_at < ? LIMIT ?)')

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
        // a large document's header is cut from its text (step-bytes.ts); json_set parses all of it
        const wire = reads.wireHeader(traceId, row.root_span_id) ?? JSON.parse(getHeader.get(traceId, row.root_span_id)?.document ?? 'null')
        return wire === null ? [] : [headerOf(fromWire(wire), row.step_count)]
      })
    },
    list: reads.list,
    count: reads.count,
    steps: reads.steps,
    step: reads.step,
    stepField: reads.stepField,
    largeStep: reads.largeStep,
    facets: reads.facets,
    dataVersion: reads.dataVersion,
    overview: reads.overview,
    stats: () => {
      const row = (sql: string): Record<string, unknown> | undefined => db.prepare<[], Record<string, unknown>>(sql).get()
      return toStats(row(statistics.totals), row(statistics.oldest), row(statistics.newest), db.prepare<[], Record<string, unknown>>(statistics.projects).all())
    },
    countBefore: (before) => (countBefore.get(before) as { n: number }).n,
    deleteBefore: (before, limit) => {
      const changes = deleteBefore.run(before, limit).changes
      if (changes > 0) reads.wrote()
      return changes
    },
    pause: async () => {
      await nextTurn()
    },
    deleteTrace: (traceId) => {
      const deleted = deleteOne.immediate(traceId)
      reads.wrote()
      return deleted
    },
    vacuum: () => vacuumOffThread(file),
    createTextIndex: async () => {
      if (reads.hasTextIndex()) return false
      await buildTextIndexOffThread(file)
      reads.wrote()
      return true
    },
    close: () => {
      checkpointer?.stop()
      if (db.open) db.close()
    },
  }
}
