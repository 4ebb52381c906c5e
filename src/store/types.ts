/**
 * The readable store: what `openStore()` returns for either backend. Types only, so the sinks that
 * implement it (`sinks/sqlite.ts`, `sinks/postgres.ts`) import nothing from this layer at run time.
 */
import type { Status, StepId, TraceDocument, TraceId } from '../document/document.js'

/**
 * Filters and paging of `TraceStore.list()` and `TraceStore.count()`. Every filter is optional and
 * they combine with AND; every value is sent as a bound parameter, never spliced into SQL.
 * @category store
 */
export interface ListQuery {
  /** Exact project. */
  readonly project?: string
  /** Exact environment. */
  readonly environment?: string
  /** Exact prompt (the trace's name). */
  readonly prompt?: string
  /** `"success"` or `"error"`. */
  readonly status?: Status
  /** Exact model name of the trace. */
  readonly modelName?: string
  /** Traces started at or after this instant (a Date, an ISO string, or a duration such as `"7d"` meaning that long ago). */
  readonly since?: Date | string
  /** Traces started before this instant (same forms as `since`). */
  readonly until?: Date | string
  /** Case-insensitive substring of the stored document (prompt, inputs, outputs, errors, metadata). `%` and `_` are literal. */
  readonly text?: string
  /** Traces whose id starts with these lowercase hex characters (what `tracellm list` shows is the first 8). */
  readonly idPrefix?: string
  /** Page size, 1–500. @default 50 */
  readonly limit?: number
  /** `nextCursor` of the previous page: keyset paging, stable while new traces arrive. */
  readonly cursor?: string
}

/**
 * One line of a trace list: the indexed columns, without inputs, outputs or steps.
 * @category store
 */
export interface TraceSummary {
  readonly traceId: TraceId
  /**
   * The document's root span id, which tells apart the documents of a trace continued across services
   * (`getAll`); `null` for a document written before documents had one.
   */
  readonly rootSpanId: StepId | null
  /** Set when this document continues a caller's trace: the caller's span its root hangs under. */
  readonly parentStepId: StepId | null
  /** The trace this one replayed, when it is a replay. */
  readonly replayOf: TraceId | null
  readonly project: string
  readonly environment: string
  readonly prompt: string
  readonly modelName: string | null
  readonly status: Status
  readonly startedAt: string
  readonly endedAt: string
  readonly durationMs: number
  readonly retryCount: number
  readonly stepCount: number
  readonly errorCount: number
  readonly inputTokens: number
  readonly outputTokens: number
  /** The trace's `costUsd` (`configure({ prices })`), `null` when no step was priced. */
  readonly costUsd: number | null
  readonly tags: ReadonlyArray<string>
}

/** One page of `TraceStore.list()`, newest first. @category store */
export interface TracePage {
  readonly items: ReadonlyArray<TraceSummary>
  /** Pass as `cursor` for the next page; `null` on the last page. */
  readonly nextCursor: string | null
}

/** What `TraceStore.stats()` reports. @category store */
export interface StoreStats {
  /** Stored documents (a trace continued across services counts once per service). */
  readonly traces: number
  readonly steps: number
  readonly errors: number
  /** `startedAt` of the oldest and newest trace, `null` when the store is empty. */
  readonly oldest: string | null
  readonly newest: string | null
  readonly retries: number
  readonly inputTokens: number
  readonly outputTokens: number
  /** The sum of the traces' `costUsd`; 0 when none was priced. */
  readonly costUsd: number
  /** Trace counts per project, most traces first. */
  readonly projects: ReadonlyArray<{ readonly project: string; readonly traces: number }>
}

/** Options of `TraceStore.prune()`. @category store */
export interface PruneOptions {
  /** Deletes traces started before this instant: a Date, an ISO string, or a duration such as `"7d"`, `"12h"`, `"30m"` (that long ago). */
  readonly olderThan: Date | string
  /** Called after each deleted chunk with the running total and the total to delete. */
  readonly onProgress?: (deleted: number, total: number) => void
}

/**
 * What `TraceStore.vacuum()` did: the bytes the store took on disk before and after. SQLite: the
 * database file with its `-wal`. PostgreSQL: the `traces` and `steps` tables with their indexes and
 * TOAST data (`pg_total_relation_size`).
 * @category store
 */
export interface VacuumResult {
  readonly bytesBefore: number
  readonly bytesAfter: number
}

/**
 * A trace store you can read: the SQLite file or the PostgreSQL database the sinks write to.
 * Every method rejects with a clear `Error` on a bad argument or a failed query; none of them ever
 * runs as part of a traced call.
 * @category store
 */
export interface TraceStore {
  /** `"sqlite"` or `"postgres"`. */
  readonly kind: 'sqlite' | 'postgres'
  /**
   * The trace's document, or `undefined` when no trace has this id. A trace continued across services
   * (`continueTrace`) has one document per service under one id: this is the earliest started, the
   * entry point; `getAll` returns them all.
   */
  get(traceId: string): Promise<TraceDocument | undefined>
  /** Every document stored under this trace id, earliest started first; empty when there is none. */
  getAll(traceId: string): Promise<ReadonlyArray<TraceDocument>>
  /** A page of summaries, one per document, newest first (by `startedAt`, then `traceId`). */
  list(query?: ListQuery): Promise<TracePage>
  /** How many traces match the filters of `query` (its `limit` and `cursor` are ignored). */
  count(query?: ListQuery): Promise<number>
  stats(): Promise<StoreStats>
  /** Deletes old traces and their steps, in chunks; resolves with how many were deleted. */
  prune(options: PruneOptions): Promise<{ readonly deleted: number }>
  /**
   * Gives the space of deleted traces back (docs/stores.md#pruning-and-disk-space). `prune` only
   * frees pages inside the store; this returns them. SQLite: `PRAGMA incremental_vacuum` on a store
   * created with `auto_vacuum = INCREMENTAL` (every store this version creates), or, once, a full
   * `VACUUM` that switches an older store to it (it rewrites the file and needs as much free disk
   * again while it runs); either runs on a worker thread, never on the event loop, then truncates the
   * WAL. PostgreSQL: `VACUUM (ANALYZE)` of both tables, which makes the space reusable but returns
   * little to the operating system (see docs/postgres.md for `VACUUM FULL`).
   *
   * @example
   * import { openStore } from 'tracellm'
   * import { mkdtempSync } from 'node:fs'
   * import { tmpdir } from 'node:os'
   * import { join } from 'node:path'
   * const store = await openStore(join(mkdtempSync(join(tmpdir(), 'tracellm-')), 'traces.db'), { create: true })
   * await store.prune({ olderThan: '30d' })
   * const { bytesBefore, bytesAfter } = await store.vacuum()
   * bytesAfter <= bytesBefore   // => true
   * await store.close()
   *
   * @since 0.1.0
   */
  vacuum(): Promise<VacuumResult>
  /** Releases the connection. Idempotent. */
  close(): Promise<void>
}
