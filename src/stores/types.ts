/**
 * The readable store: what `openStore()` returns for either backend (`stores/sqlite/`,
 * `stores/postgres/`), and what its reads take and return. Types only.
 */
import type { JsonValue, Status, StepId, StepRecord, TraceDocument, TraceId } from '../document/document.js'
export type { FailingStepRow, OverviewQuery, RetriedStepRow, SlowStepRow, StoreOverview, UsageRow } from './overview-types.js'
import type { OverviewQuery, StoreOverview } from './overview-types.js'

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
  /**
   * Where `text` is searched: the whole document (`"all"`), or only the inputs, outputs, errors or
   * metadata of the trace and its steps (docs/stores.md#text-search). Ignored without `text`.
   * @default "all"
   * @since 0.2.0
   */
  readonly scope?: TextScope
  /** Traces whose id starts with these lowercase hex characters (what `tracellm list` shows is the first 8). */
  readonly idPrefix?: string
  /** Page size, 1–500. @default 50 */
  readonly limit?: number
  /** `nextCursor` of the previous page: keyset paging, stable while new traces arrive. */
  readonly cursor?: string
  /** Only the replays of this trace (documents whose `replayOf` is this id). @since 0.2.0 */
  readonly replayOf?: string
  /**
   * The order of `list()`. `"newest"` (by `startedAt`) pages by keyset. `"slowest"` (duration),
   * `"costliest"` (`costUsd`, unpriced last) and `"retries"` (retry count) return one page of at most
   * `limit` traces, the top of the filter, with `nextCursor` null; a `cursor` with them is a `TypeError`.
   * `count()` and `facets()` ignore it.
   * @default "newest"
   * @since 0.2.0
   */
  readonly sort?: ListSort
}

/** The part of a document `ListQuery.text` is searched in. @category store */
export type TextScope = 'all' | 'input' | 'output' | 'error' | 'metadata'

/** The orders of `TraceStore.list()`. @category store */
export type ListSort = 'newest' | 'slowest' | 'costliest' | 'retries'

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
  /** The trace's input as one line of text (JSON for anything but a string), at most 200 characters; `null` when not captured (docs/stores.md#previews). */
  readonly inputPreview: string | null
  /** The trace's output, as `inputPreview`. */
  readonly outputPreview: string | null
  /** The trace error's `type`, `null` for a successful trace. */
  readonly errorType: string | null
  /** The trace error's message, one line, at most 200 characters. */
  readonly errorMessage: string | null
}

/**
 * One step of a trace without its inputs, outputs or metadata: what a tree or a waterfall needs, read
 * from the `steps` table alone (never from the stored document). `TraceStore.steps()` returns them.
 * @category store
 */
export interface StepSkeleton {
  readonly stepId: StepId
  readonly parentStepId: StepId | null
  /** The document (service) the step belongs to: its root span id, `null` for a document written before documents had one. */
  readonly rootSpanId: StepId | null
  readonly seq: number
  readonly name: string
  readonly kind: string
  readonly status: Status
  readonly startedAt: string
  readonly durationMs: number
  readonly attempts: number
  readonly retries: number
  readonly model: string | null
  readonly inputTokens: number
  readonly outputTokens: number
  readonly costUsd: number | null
  readonly errorType: string | null
  /** One line, at most 200 characters. */
  readonly errorMessage: string | null
  /** UTF-8 bytes of the stored JSON of the step's input; 0 when it was not captured. */
  readonly inputBytes: number
  readonly outputBytes: number
  /** As `TraceSummary.inputPreview`. */
  readonly inputPreview: string | null
  readonly outputPreview: string | null
  /** True when capture cut some value of the step short. */
  readonly truncated: boolean
  /** True when the trace ended before the step did. */
  readonly incomplete: boolean
}

/**
 * A stored document without its steps, and how many steps it has: what `TraceStore.headers()`
 * returns, so that a trace of thousands of steps is never read whole to show its header.
 * @category store
 */
export type TraceHeader = Omit<TraceDocument, 'steps'> & { readonly stepCount: number }

/** Options of `TraceStore.steps()`. @category store */
export interface StepsOptions {
  /** Read the input and output previews; `false` leaves them `null`. @default true */
  readonly previews?: boolean
}

/** A part of a step that `TraceStore.stepField()` reads alone. @category store */
export type StepField = 'input' | 'output' | 'error' | 'attemptErrors' | 'metadata'

/** A field `TraceStore.facets()` counts values of. @category store */
export type FacetField = 'project' | 'environment' | 'prompt' | 'modelName' | 'status' | 'tags'

/** One value of a facet and how many traces have it. @category store */
export interface FacetCount {
  readonly value: string
  readonly count: number
}

/** Options of `TraceStore.list()` and `TraceStore.count()` besides the query. @category store */
export interface ReadOptions {
  /** Cancels the read: the promise rejects with an `AbortError` (a text scan stops on its worker thread). */
  readonly signal?: AbortSignal
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
  /**
   * Every document stored under this trace id as `getAll` returns them, but without their steps
   * (`stepCount` says how many): the steps are dropped inside the database, so a document of
   * thousands of steps is never parsed whole here. Empty for an unknown id.
   *
   * @example
   * import { openStore } from 'tracellm'
   * import { mkdtempSync } from 'node:fs'
   * import { tmpdir } from 'node:os'
   * import { join } from 'node:path'
   * const store = await openStore(join(mkdtempSync(join(tmpdir(), 'tracellm-')), 'traces.db'), { create: true })
   * await store.headers('0123456789abcdef0123456789abcdef')   // => []
   * await store.close()
   *
   * @since 0.2.0
   */
  headers(traceId: string): Promise<ReadonlyArray<TraceHeader>>
  /**
   * A page of summaries, one per document, newest first (by `startedAt`, then `traceId`). A `text`
   * search uses the text index when `tracellm index --text` made one, and otherwise scans the
   * documents (SQLite: on a worker thread); `options.signal` cancels it (docs/stores.md#text-search).
   */
  list(query?: ListQuery, options?: ReadOptions): Promise<TracePage>
  /** How many traces match the filters of `query` (its `limit` and `cursor` are ignored); cancellable as `list`. */
  count(query?: ListQuery, options?: ReadOptions): Promise<number>
  /**
   * The steps of every document of the trace (earliest started document first, then `seq`) without
   * their data, from the `steps` table alone: the stored documents are never read. Empty for an
   * unknown id.
   *
   * @example
   * import { openStore } from 'tracellm'
   * import { mkdtempSync } from 'node:fs'
   * import { tmpdir } from 'node:os'
   * import { join } from 'node:path'
   * const store = await openStore(join(mkdtempSync(join(tmpdir(), 'tracellm-')), 'traces.db'), { create: true })
   * await store.steps('0123456789abcdef0123456789abcdef')   // => []
   * await store.steps('0123456789abcdef0123456789abcdef', { previews: false })   // => []
   * await store.close()
   *
   * @param options `previews: false` leaves the input and output previews out (`null`), which reads
   *   less: the viewer's skeleton of a 5 000-step trace (docs/ui.md#figures)
   * @since 0.2.0
   */
  steps(traceId: string, options?: StepsOptions): Promise<ReadonlyArray<StepSkeleton>>
  /**
   * One whole step, extracted from its stored document inside the database (the document is never
   * parsed whole); `undefined` when the trace or the step does not exist. A step id that occurs in
   * several documents of a continued trace is taken from the earliest.
   *
   * @example
   * import { openStore } from 'tracellm'
   * import { mkdtempSync } from 'node:fs'
   * import { tmpdir } from 'node:os'
   * import { join } from 'node:path'
   * const store = await openStore(join(mkdtempSync(join(tmpdir(), 'tracellm-')), 'traces.db'), { create: true })
   * await store.step('0123456789abcdef0123456789abcdef', '0123456789abcdef')   // => undefined
   * await store.close()
   *
   * @since 0.2.0
   */
  step(traceId: string, stepId: string): Promise<StepRecord | undefined>
  /**
   * One field of a step (`input`, `output`, `error`, `attemptErrors`, `metadata`), extracted in the
   * database. `found` is false when the step does not exist; `value` is absent when the step has no
   * such value (an input not captured). Rejects with a `TypeError` for another field.
   *
   * @example
   * import { openStore } from 'tracellm'
   * import { mkdtempSync } from 'node:fs'
   * import { tmpdir } from 'node:os'
   * import { join } from 'node:path'
   * const store = await openStore(join(mkdtempSync(join(tmpdir(), 'tracellm-')), 'traces.db'), { create: true })
   * await store.stepField('0123456789abcdef0123456789abcdef', '0123456789abcdef', 'input')   // => { found: false }
   * await store.close()
   *
   * @since 0.2.0
   */
  stepField(traceId: string, stepId: string, field: StepField): Promise<{ readonly found: boolean; readonly value?: JsonValue }>
  /**
   * The 100 most frequent values of a field, most traces first (ties by value), among the traces that
   * match the other filters of `query` (the facet's own filter is ignored, so every choice stays
   * visible; `limit` and `cursor` too). `tags` counts each tag of a trace.
   *
   * @example
   * import { openStore } from 'tracellm'
   * import { mkdtempSync } from 'node:fs'
   * import { tmpdir } from 'node:os'
   * import { join } from 'node:path'
   * const store = await openStore(join(mkdtempSync(join(tmpdir(), 'tracellm-')), 'traces.db'), { create: true })
   * await store.facets('project', { since: '7d' })   // => []
   * await store.close()
   *
   * @since 0.2.0
   */
  facets(field: FacetField, query?: ListQuery): Promise<ReadonlyArray<FacetCount>>
  /**
   * A token that changes whenever the stored traces may have changed, by this connection or another
   * process: poll it and reload when it differs. SQLite: `PRAGMA data_version` plus this store's own
   * writes; PostgreSQL: the newest `started_at` and the count of documents.
   *
   * @example
   * import { openStore } from 'tracellm'
   * import { mkdtempSync } from 'node:fs'
   * import { tmpdir } from 'node:os'
   * import { join } from 'node:path'
   * const store = await openStore(join(mkdtempSync(join(tmpdir(), 'tracellm-')), 'traces.db'), { create: true })
   * typeof (await store.dataVersion())   // => 'string'
   * await store.close()
   *
   * @since 0.2.0
   */
  dataVersion(): Promise<string>
  /**
   * Top-10 tables across the store (or the traces started since `query.since`): the step names that
   * fail most, the slowest by p95 (with p50), the most retried, and tokens and cost by model and by
   * prompt. Computed in the database from the `steps` and `traces` tables, never from the documents;
   * it reads every step in range, so the viewer caches it (docs/stores.md#overview). Rejects with a
   * `TypeError` for an invalid `since`.
   *
   * @example
   * import { openStore } from 'tracellm'
   * import { mkdtempSync } from 'node:fs'
   * import { tmpdir } from 'node:os'
   * import { join } from 'node:path'
   * const store = await openStore(join(mkdtempSync(join(tmpdir(), 'tracellm-')), 'traces.db'), { create: true })
   * const overview = await store.overview({ since: '7d' })
   * overview.failingSteps   // => []
   * await store.close()
   *
   * @since 0.2.0
   */
  overview(query?: OverviewQuery): Promise<StoreOverview>
  /** True when the store was opened with `readOnly: true` (or is an imported export): every write rejects. */
  readonly readOnly: boolean
  stats(): Promise<StoreStats>
  /** Deletes old traces and their steps, in chunks; resolves with how many were deleted. */
  prune(options: PruneOptions): Promise<{ readonly deleted: number }>
  /**
   * Deletes one trace: every document stored under the id (one per service of a continued trace)
   * and their steps, in one transaction. Resolves with how many documents were deleted, 0 for an
   * id that is not stored, so deleting twice is harmless. Rejects with a `TypeError` for something
   * that is not a trace id, and on a read-only store (what `tracellm ui --write` deletes with,
   * docs/ui.md#api).
   *
   * @example
   * import { openStore } from 'tracellm'
   * import { mkdtempSync } from 'node:fs'
   * import { tmpdir } from 'node:os'
   * import { join } from 'node:path'
   * const store = await openStore(join(mkdtempSync(join(tmpdir(), 'tracellm-')), 'traces.db'), { create: true })
   * await store.delete('0123456789abcdef0123456789abcdef')   // => { deleted: 0 }
   * await store.close()
   *
   * @since 0.2.0
   */
  delete(traceId: string): Promise<{ readonly deleted: number }>
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
