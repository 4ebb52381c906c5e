/**
 * The `TraceStore` of either SQL backend: one door that checks every argument (a bad one is the
 * caller's `TypeError`, never a failed query), refuses a closed store and, on a read-only one, every
 * write, and prunes in chunks; behind it, a `SqlBackend` that only runs queries.
 */
import type { JsonValue, StepRecord, TraceDocument } from '../../document/document.js'
import { facetQuery, isTraceId, normalizeQuery, overviewSince, pruneInstant, readSignal, stepFieldKey, type NormalQuery } from '../query.js'
import type { FacetCount, StepField, StepSkeleton, StoreOverview, StoreStats, TraceHeader, TracePage, TraceStore, VacuumResult } from '../types.js'

type Awaitable<T> = T | Promise<T>

/** @internal What a backend answers, its arguments already checked. */
export interface SqlBackend {
  getAll(traceId: string): Awaitable<TraceDocument[]>
  /** The documents of a trace without their steps, dropped by the database: never parsed whole here. */
  headers(traceId: string): Awaitable<TraceHeader[]>
  list(query: NormalQuery, signal: AbortSignal | undefined): Promise<TracePage>
  count(query: NormalQuery, signal: AbortSignal | undefined): Promise<number>
  steps(traceId: string, previews: boolean): Awaitable<ReadonlyArray<StepSkeleton>>
  step(traceId: string, stepId: string): Awaitable<StepRecord | undefined>
  stepField(traceId: string, stepId: string, field: StepField): Awaitable<{ readonly found: boolean; readonly value?: JsonValue }>
  /** The values of `column` (a fixed identifier, `facetQuery`'s) among the traces `query` selects. */
  facets(column: string, query: NormalQuery): Promise<ReadonlyArray<FacetCount>>
  dataVersion(): Awaitable<string>
  overview(since: string | undefined): Promise<StoreOverview>
  stats(): Awaitable<StoreStats>
  /** How many documents started before `before` (an ISO instant). */
  countBefore(before: string): Awaitable<number>
  /** Deletes at most `limit` of them, oldest first, in one short transaction; resolves how many. */
  deleteBefore(before: string, limit: number): Awaitable<number>
  /** Deletes the documents of one trace and their steps in one transaction; resolves how many documents. */
  deleteTrace(traceId: string): Awaitable<number>
  vacuum(): Promise<VacuumResult>
  /** Builds the opt-in text index (docs/stores.md#text-search); resolves false when it was there already. */
  createTextIndex(): Promise<boolean>
  /** Between two chunks of a prune: SQLite gives the event loop a turn. */
  pause?(): Promise<void>
  close(): Awaitable<void>
}

/** @internal A store that can also build its text index (`tracellm index --text`). */
export type SqlTraceStore = TraceStore & { createTextIndex(): Promise<boolean> }

/** @internal Documents each chunk of a prune deletes: readers and writers are never blocked for long. */
export const PRUNE_CHUNK = 500

/** @internal The store over `backend`; `extras` adds a backend's own reads, each behind `live()`. */
export function sqlStore<B extends SqlBackend, E extends object = object>(
  kind: TraceStore['kind'],
  readOnly: boolean,
  backend: B,
  extras?: (live: () => B) => E,
): SqlTraceStore & E {
  let closed = false
  const live = (): B => {
    if (closed) throw new Error('The trace store is closed.')
    return backend
  }
  // the connection refuses the writes too; these fail before any work starts, and say why in words
  const writable = (): B => {
    if (readOnly) throw new Error('The trace store was opened read-only.')
    return live()
  }
  const store: SqlTraceStore = {
    kind,
    readOnly,
    // the earliest started document: the entry point of a trace continued across services
    get: async (traceId) => (await live().getAll(traceId))[0],
    getAll: async (traceId) => live().getAll(traceId),
    headers: async (traceId) => live().headers(traceId),
    list: async (query, options) => live().list(normalizeQuery(query), readSignal(options)),
    count: async (query, options) => live().count(normalizeQuery(query), readSignal(options)),
    steps: async (traceId, options) => live().steps(traceId, options?.previews !== false),
    step: async (traceId, stepId) => live().step(traceId, stepId),
    stepField: async (traceId, stepId, field) => {
      const db = live()
      stepFieldKey(field)
      return db.stepField(traceId, stepId, field)
    },
    facets: async (field, query) => {
      const db = live()
      const { column, normal } = facetQuery(field, query)
      return db.facets(column, normal)
    },
    dataVersion: async () => live().dataVersion(),
    overview: async (query) => {
      const db = live()
      return db.overview(overviewSince(query))
    },
    stats: async () => live().stats(),
    prune: async (options) => {
      const db = writable()
      const before = pruneInstant(options)
      const total = await db.countBefore(before)
      let deleted = 0
      while (deleted < total) {
        const changes = await db.deleteBefore(before, PRUNE_CHUNK)
        if (changes === 0) break
        deleted += changes
        options.onProgress?.(deleted, total)
        await db.pause?.()
      }
      return { deleted }
    },
    delete: async (traceId) => {
      if (!isTraceId(traceId)) throw new TypeError('Expected a trace id of 32 lowercase hex characters.')
      return { deleted: await writable().deleteTrace(traceId) }
    },
    vacuum: async () => writable().vacuum(),
    createTextIndex: async () => writable().createTextIndex(),
    close: async () => {
      if (closed) return
      closed = true
      await backend.close()
    },
  }
  return Object.assign(store, extras?.(live))
}
