/**
 * The export queue's options: their defaults and their validation, which runs in `configure()` so a
 * setup mistake surfaces there (docs/options.md#queue).
 */
import { describe } from './backoff.js'
import type { Sink } from './sink.js'

/**
 * Bounds, batching and retry policy of the export queue. Every bound applies per sink.
 *
 * @example
 * import { configure, flush, memorySink } from 'tracellm'
 * configure({ sinks: [memorySink()], queue: { maxBatchSize: 10, whenFull: 'wait', retry: { maxRetries: 2 } } })
 * const report = await flush()
 * report.flushed   // => 0
 *
 * @category sinks
 * @since 0.1.0
 */
export interface QueueOptions {
  /** Documents a sink may hold (pending plus in flight); see `whenFull` for what happens beyond it. @default 1000 */
  readonly maxQueueTraces: number
  /** Estimated bytes a sink may hold; see `whenFull`. @default 67108864 (64 MiB) */
  readonly maxQueueBytes: number
  /**
   * What a finished trace does when a sink's queue is full. `'drop'` drops it (counted, one warning
   * per 10 s with the running count): right for servers, where tracing must never slow a request.
   * `'wait'` makes the traced call's promise wait (asynchronously, at most `exitTimeoutMs`) until
   * there is room, so a batch job loses nothing: up to `maxQueueTraces` more documents may wait,
   * and a synchronous traced call, which cannot wait, is dropped when even that is full.
   * @default 'drop'
   */
  readonly whenFull: 'drop' | 'wait'
  /** Documents per `write` call. @default 100 */
  readonly maxBatchSize: number
  /** How long a partial batch waits for company before it is written. @default 200 */
  readonly scheduleDelayMs: number
  /** A `write` that has not settled after this long is a failed attempt. @default 10000 */
  readonly attemptTimeoutMs: number
  /** The default bound of `flush()` and `shutdown()`. @default 5000 */
  readonly flushTimeoutMs: number
  /**
   * How long a process whose work is done may wait for its traces: once the event loop is empty
   * (`beforeExit`), whatever is still pending gets this long; then sinks that can write
   * synchronously (SQLite, JSONL) write the rest, the others' documents are dropped with one
   * warning, and the process ends even if a dead backend still holds a socket or timer.
   * `Infinity` waits for as long as the sinks take. @default 10000
   */
  readonly exitTimeoutMs: number
  /** Retries of a failed batch: waits 1 s, 1.5 s, 2.25 s … capped at 5 s, each ±20 %. */
  readonly retry: {
    /** @default 1000 */
    readonly initialDelayMs: number
    /** @default 1.5 */
    readonly multiplier: number
    /** @default 5000 */
    readonly maxDelayMs: number
    /** Fraction of the delay added or removed at random. @default 0.2 */
    readonly jitter: number
    /** @default 5 */
    readonly maxRetries: number
    /** No retry starts that would wait past this many milliseconds after the first attempt. @default 30000 */
    readonly deadlineMs: number
  }
}

/**
 * @internal The queue defaults (docs/reliability.md): 1000 traces and 64 MiB per sink, dropped
 * beyond, batches of 100 after 200 ms, 10 s per attempt, 5 s per flush, 10 s at exit, retries at
 * 1 s ×1.5 capped at 5 s ±20 %, at most 5 within 30 s.
 * @category sinks
 */
export const defaultQueueOptions: QueueOptions = Object.freeze({
  maxQueueTraces: 1000,
  maxQueueBytes: 64 * 1024 * 1024,
  whenFull: 'drop' as const,
  maxBatchSize: 100,
  scheduleDelayMs: 200,
  attemptTimeoutMs: 10_000,
  flushTimeoutMs: 5_000,
  exitTimeoutMs: 10_000,
  retry: Object.freeze({ initialDelayMs: 1000, multiplier: 1.5, maxDelayMs: 5000, jitter: 0.2, maxRetries: 5, deadlineMs: 30_000 }),
})

/** @internal How often a full queue says how many traces it has dropped. */
export const OVERFLOW_WARNING_INTERVAL_MS = 10_000

/** @internal Throws a `TypeError` naming the first invalid option. */
export function validateOptions(options: QueueOptions): QueueOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected queue options to be an object.')
  const retry = options.retry
  if (typeof retry !== 'object' || retry === null) throw new TypeError('Expected `queue.retry` to be an object.')
  check(options.maxQueueTraces, 'maxQueueTraces', isPositiveInteger, 'a positive integer')
  check(options.maxQueueBytes, 'maxQueueBytes', (v) => v > 0, 'a positive number')
  if (options.whenFull !== 'drop' && options.whenFull !== 'wait') throw new TypeError(`Expected \`queue.whenFull\` to be 'drop' or 'wait', got ${describe(options.whenFull)}.`)
  check(options.maxBatchSize, 'maxBatchSize', isPositiveInteger, 'a positive integer')
  check(options.scheduleDelayMs, 'scheduleDelayMs', isFiniteNonNegative, 'a non-negative number of milliseconds')
  check(options.attemptTimeoutMs, 'attemptTimeoutMs', (v) => v > 0, 'a positive number of milliseconds')
  check(options.flushTimeoutMs, 'flushTimeoutMs', (v) => v >= 0, 'a non-negative number of milliseconds')
  check(options.exitTimeoutMs, 'exitTimeoutMs', (v) => v >= 0, 'a non-negative number of milliseconds (Infinity to wait for the sinks)')
  check(retry.initialDelayMs, 'retry.initialDelayMs', isFiniteNonNegative, 'a non-negative number of milliseconds')
  check(retry.multiplier, 'retry.multiplier', (v) => Number.isFinite(v) && v >= 1, 'a number ≥ 1')
  check(retry.maxDelayMs, 'retry.maxDelayMs', isFiniteNonNegative, 'a non-negative number of milliseconds')
  check(retry.jitter, 'retry.jitter', (v) => v >= 0 && v <= 1, 'a number between 0 and 1')
  check(retry.maxRetries, 'retry.maxRetries', (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer')
  check(retry.deadlineMs, 'retry.deadlineMs', (v) => v >= 0, 'a non-negative number of milliseconds')
  return options
}

function check(value: unknown, key: string, ok: (value: number) => boolean, what: string): void {
  if (typeof value !== 'number' || Number.isNaN(value) || !ok(value)) {
    throw new TypeError(`Expected \`queue.${key}\` to be ${what}, got ${describe(value)}.`)
  }
}

function isPositiveInteger(value: number): boolean {
  return Number.isInteger(value) && value > 0
}

function isFiniteNonNegative(value: number): boolean {
  return Number.isFinite(value) && value >= 0
}

/** @internal Throws a `TypeError` naming the first value of `sinks` that is not a sink. */
export function validateSinks(sinks: ReadonlyArray<Sink>): ReadonlyArray<Sink> {
  if (!Array.isArray(sinks)) throw new TypeError('Expected `sinks` to be an array of sinks.')
  sinks.forEach((sink: Sink, index: number) => {
    if (typeof sink !== 'object' || sink === null || typeof sink.write !== 'function' || typeof sink.name !== 'string') {
      throw new TypeError(`Expected \`sinks[${index}]\` to be a sink: an object with a string \`name\` and a \`write(batch)\` function.`)
    }
  })
  return sinks
}
