/**
 * What a sink is, what it may answer, and how the export pipeline accounts for every document it was
 * handed (docs/reliability.md#accounting-flush-and-stats-add-up): produced = written + dropped +
 * pending, per sink, each drop with its reason.
 */
import type { TraceDocument } from '../document/document.js'

/**
 * Where finished documents go: a plain object with a `name` and a `write(batch)`.
 * `write` gets a frozen batch and must not mutate it; a throw or a rejection is a failed attempt,
 * retried with backoff and then dropped, never rethrown to user code. A sink that gives up on some
 * documents itself (a receiver refused them) says so by resolving a {@link WriteResult}, or by
 * throwing a {@link SinkError} with `retryable: false` for the whole batch, so that `flush()` and
 * `exportStats()` count them as dropped instead of written.
 *
 * @example
 * import { configure, type Sink, type TraceDocument } from 'tracellm'
 * const seen: TraceDocument[] = []
 * const sink: Sink = { name: 'array', write: (batch) => { seen.push(...batch) } }
 * configure({ sinks: [sink] })
 * seen.length   // => 0
 *
 * @category sinks
 * @since 0.1.0
 */
export interface Sink {
  /** Names the sink in warnings (`sink-failed:<name>`) and in `exportStats().sinks`. */
  readonly name: string
  /**
   * Stores one batch. May be synchronous; a returned promise is awaited, bounded by `attemptTimeoutMs`.
   * `options.signal` aborts when the queue stops waiting for this write (attempt timeout, exit
   * timeout, shutdown): a sink should then release its sockets and timers.
   */
  write(batch: ReadonlyArray<TraceDocument>, options?: WriteOptions): Promise<void | WriteResult> | void | WriteResult
  /**
   * Stores one batch synchronously. Only called from the process `exit` hook (after `process.exit()`
   * nothing asynchronous runs any more) and when the exit timeout passes, with every document not
   * yet written, including those of a batch whose asynchronous `write` is still running: it must be
   * idempotent.
   */
  writeSync?(batch: ReadonlyArray<TraceDocument>): void
  /** Called by `flush()` once every document enqueued before it has been written or dropped. */
  flush?(): Promise<void> | void
  /** Called once by `shutdown()`, after the final flush, and when the exit timeout passes. */
  close?(): Promise<void> | void
}

/**
 * What the queue passes to `Sink.write` besides the batch.
 * @category sinks
 * @since 0.2.0
 */
export interface WriteOptions {
  /** Aborted when the queue gives up waiting for this write. */
  readonly signal: AbortSignal
}

/**
 * What a `write` may resolve to: the documents of the batch the sink gave up on, each with why.
 * Documents not listed count as written. Resolving nothing (`undefined`) means all were written.
 *
 * @example
 * import type { Sink, WriteResult } from 'tracellm'
 * const picky: Sink = {
 *   name: 'picky',
 *   write: (batch): WriteResult => ({ dropped: batch.filter((doc) => doc.steps.length > 100).map((doc) => ({ doc, reason: 'too many steps' })) }),
 * }
 * picky.name   // => 'picky'
 *
 * @category sinks
 * @since 0.2.0
 */
export interface WriteResult {
  readonly dropped?: ReadonlyArray<{ readonly doc: TraceDocument; readonly reason: string }>
}

/**
 * An error a sink throws to say how its failure should be treated: `retryable: false` drops the
 * batch at once (counted as `rejected`), `retryAfterMs` delays the next attempt. Any error with
 * these two properties works the same; this class only names them.
 *
 * @example
 * import { SinkError } from 'tracellm'
 * const error = new SinkError('the collector answered 400', { retryable: false })
 * error.retryable   // => false
 *
 * @category sinks
 * @since 0.2.0
 */
export class SinkError extends Error {
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined
  constructor(message: string, options: { readonly retryable: boolean; readonly retryAfterMs?: number; readonly cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SinkError'
    this.retryable = options.retryable
    this.retryAfterMs = options.retryAfterMs
  }
}

/**
 * Why a document did not reach a sink:
 * - `overflow`: the sink's queue was full (`whenFull: 'drop'`, a synchronous trace, or a wait that
 *   passed `exitTimeoutMs` with `whenFull: 'wait'`);
 * - `rejected`: the sink gave it up itself (a `WriteResult` entry, or a `SinkError` with `retryable: false`);
 * - `failed`: every retry failed, or the retry deadline passed;
 * - `shutdown`: still pending at `shutdown()` or `configure()`, or finished after `shutdown()`;
 * - `exit`: not written when the process exited, or when `exitTimeoutMs` passed at exit.
 * @category sinks
 * @since 0.2.0
 */
export type DropReason = 'overflow' | 'rejected' | 'failed' | 'shutdown' | 'exit'

/** @internal Every reason, in the order reports list them. */
export const DROP_REASONS: ReadonlyArray<DropReason> = Object.freeze(['overflow', 'rejected', 'failed', 'shutdown', 'exit'])

/**
 * Counts of dropped documents by reason.
 * @category sinks
 * @since 0.2.0
 */
export type DropCounts = { readonly [reason in DropReason]: number }

/**
 * The counts `exportStats()` keeps, in total and per sink: `produced = written + dropped + pending`,
 * and `dropped` is the sum of `droppedBy`.
 * @category sinks
 * @since 0.2.0
 */
export interface ExportCounts {
  readonly produced: number
  readonly written: number
  readonly dropped: number
  readonly pending: number
  readonly droppedBy: DropCounts
  /** Failed `write` calls (each retried or given up). */
  readonly failedAttempts: number
}

/**
 * What one sink did with the documents handed to the pipeline since `configure()`.
 * @category sinks
 * @since 0.2.0
 */
export interface SinkStats extends ExportCounts {
  readonly name: string
}

/**
 * What the export pipeline did since `configure()`. A document counts once: `written` when every
 * sink wrote it, `dropped` when any sink gave it up (`droppedBy` names the first reason), `pending`
 * until then; `produced = written + dropped + pending`. `sinks` has the same per sink.
 *
 * @example
 * import { configure, exportStats, flush, memorySink, trace } from 'tracellm'
 * configure({ sinks: [memorySink()] })
 * trace({ prompt: 'hello' })(() => 'hi')()
 * await flush()
 * const stats = exportStats()
 * stats.written === stats.produced   // => true
 *
 * @category sinks
 * @since 0.2.0
 */
export interface ExportStats extends ExportCounts {
  readonly sinks: ReadonlyArray<SinkStats>
}

/**
 * What a `flush()` or `shutdown()` achieved: the documents that settled since the previous report,
 * `flushed` when every sink wrote them and `dropped` when one gave them up (`droppedBy` says why,
 * including documents dropped before this call because a queue was full). `pending` counts the
 * documents still queued when the report was taken: more than 0 only when `timedOut` is true, or
 * when traces finished while the flush ran.
 *
 * @example
 * import { flush } from 'tracellm'
 * const report = await flush()
 * report.timedOut   // => false
 *
 * @category sinks
 * @since 0.1.0
 */
export interface FlushReport {
  readonly flushed: number
  readonly dropped: number
  readonly pending: number
  readonly timedOut: boolean
  readonly droppedBy: DropCounts
}

/** @internal A fresh, mutable set of counters by reason. */
export function zeroCounts(): { [reason in DropReason]: number } {
  return { overflow: 0, rejected: 0, failed: 0, shutdown: 0, exit: 0 }
}
