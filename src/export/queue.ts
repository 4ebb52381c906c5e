/**
 * The export queue: the only thing a traced call touches on its way out. `enqueue` is O(1) and never
 * throws; behind it each sink gets its own bounded buffer and its own retry loop, so a slow or dead
 * sink never delays the others. Nothing here serializes or does I/O on the caller's stack.
 */
import type { TraceDocument } from '../document/document.js'

/**
 * Where finished documents go: a plain object with a `name` and a `write(batch)`.
 * `write` gets a frozen batch and must not mutate it; a throw or a rejection is a failed attempt,
 * retried with backoff and then dropped, never rethrown to user code.
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
  /** Names the sink in warnings (`sink-failed:<name>`) and in `stats().sinks`. */
  readonly name: string
  /** Stores one batch. May be synchronous; a returned promise is awaited, bounded by `attemptTimeoutMs`. */
  write(batch: ReadonlyArray<TraceDocument>): Promise<void> | void
  /**
   * Stores one batch synchronously. Only called from the process `exit` hook (after `process.exit()`
   * nothing asynchronous runs any more), with the documents still pending at that point. A document
   * whose asynchronous `write` was still running may be handed over again, so it should be idempotent.
   */
  writeSync?(batch: ReadonlyArray<TraceDocument>): void
  /** Called by `flush()` once every document enqueued before it has been written or dropped. */
  flush?(): Promise<void> | void
  /** Called once by `shutdown()`, after the final flush. */
  close?(): Promise<void> | void
}

/**
 * Bounds, batching and retry policy of the export queue. Every bound applies per sink.
 *
 * @example
 * import { configure, flush, memorySink } from 'tracellm'
 * configure({ sinks: [memorySink()], queue: { maxBatchSize: 10, retry: { maxRetries: 2 } } })
 * const report = await flush()
 * report.flushed   // => 0
 *
 * @category sinks
 * @since 0.1.0
 */
export interface QueueOptions {
  /** Documents a sink may hold (pending plus in flight); the incoming one is dropped beyond it. @default 1000 */
  readonly maxQueueTraces: number
  /** Estimated bytes a sink may hold; the incoming document is dropped beyond it. @default 67108864 (64 MiB) */
  readonly maxQueueBytes: number
  /** Documents per `write` call. @default 100 */
  readonly maxBatchSize: number
  /** How long a partial batch waits for company before it is written. @default 200 */
  readonly scheduleDelayMs: number
  /** A `write` that has not settled after this long is a failed attempt. @default 10000 */
  readonly attemptTimeoutMs: number
  /** The default bound of `flush()` and `shutdown()`. @default 5000 */
  readonly flushTimeoutMs: number
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
 * What a `flush()` or `shutdown()` achieved, counting the documents enqueued before it was called:
 * a document is `flushed` once every sink wrote it, `dropped` once any sink gave it up.
 * Documents still pending when the deadline passed are in neither count, and `timedOut` is true.
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
  readonly timedOut: boolean
}

/**
 * @internal The counters of one sink's lane of the queue: `queued` counts its pending and in-flight documents.
 * @category sinks
 */
export interface SinkStats {
  readonly name: string
  readonly queued: number
  readonly written: number
  readonly dropped: number
  readonly failedAttempts: number
}

/**
 * @internal Counters of the export queue. A document is `queued` until every sink has written or
 * dropped it, then counted once: `written` when every sink wrote it, `dropped` when any sink gave it
 * up (overflow, retries exhausted, shutdown, or enqueued after shutdown). `failedAttempts` counts
 * failed `write` calls over all sinks; `sinks` has the same counters per sink.
 * @category sinks
 */
export interface QueueStats {
  readonly queued: number
  readonly written: number
  readonly dropped: number
  readonly failedAttempts: number
  readonly sinks?: ReadonlyArray<SinkStats>
}

/**
 * @internal What the queue needs from its owner, so that it never imports core: `report` warns once
 * per key, `runSuppressed` runs a sink call with tracing switched off.
 * @category sinks
 */
export interface QueueHooks {
  readonly report: (key: string, message: string) => void
  readonly runSuppressed: <T>(thunk: () => T) => T
}

/**
 * @internal The bounded, batched export pipeline between finished traces and the sinks.
 * `enqueue` never throws and never blocks; `flush` and `shutdown` never reject and are bounded by
 * their timeout; `dispose` removes the process hooks and timers.
 * @category sinks
 */
export interface ExportQueue {
  /** Hands over a finished document with its estimated size in bytes. O(1), no I/O, never throws. */
  enqueue(doc: TraceDocument, bytes: number): void
  /** Resolves when everything enqueued before the call is written or dropped by every sink, or at the timeout. */
  flush(timeoutMs?: number): Promise<FlushReport>
  /** Flushes, then closes every sink, within one timeout. Idempotent; later documents are dropped. */
  shutdown(timeoutMs?: number): Promise<FlushReport>
  stats(): QueueStats
  /** Writes what is still pending to every sink that has a `writeSync` (the process `exit` hook calls it). */
  drainSync?(): void
  /** Stops the queue at once: pending documents are dropped, timers cleared, process hooks removed. */
  dispose?(): void
}

/**
 * @internal The queue defaults (RELIABILITY.md G5–G7): 1000 traces and 64 MiB per sink, batches of
 * 100 after 200 ms, 10 s per attempt, 5 s per flush, retries at 1 s ×1.5 capped at 5 s ±20 %, at
 * most 5 within 30 s.
 * @category sinks
 */
export const defaultQueueOptions: QueueOptions = Object.freeze({
  maxQueueTraces: 1000,
  maxQueueBytes: 64 * 1024 * 1024,
  maxBatchSize: 100,
  scheduleDelayMs: 200,
  attemptTimeoutMs: 10_000,
  flushTimeoutMs: 5_000,
  retry: Object.freeze({ initialDelayMs: 1000, multiplier: 1.5, maxDelayMs: 5000, jitter: 0.2, maxRetries: 5, deadlineMs: 30_000 }),
})

/**
 * @internal Builds the export queue for `sinks`. Throws a `TypeError` for an invalid option or sink
 * (a setup mistake, so it surfaces in `configure()`); everything after that reports through
 * `hooks.report`. Process hooks (`beforeExit` flushes when something is pending, `exit` drains into
 * `writeSync`) are installed on the first `enqueue` and removed by `shutdown()` or `dispose()`.
 * Waits (schedule delay, retry backoff) are skipped while a flush runs.
 * @category sinks
 */
export function createExportQueue(sinks: ReadonlyArray<Sink>, options: QueueOptions, hooks: QueueHooks): Required<ExportQueue> {
  const settings = validateOptions(options)
  const { retry } = settings
  const lanes: Lane[] = validateSinks(sinks).map((sink) => ({
    sink,
    name: sink.name,
    pending: [],
    inFlight: undefined,
    bytes: 0,
    running: false,
    attempting: false,
    sleep: undefined,
    abort: undefined,
    overflowing: false,
    overflowDropped: 0,
    written: 0,
    dropped: 0,
    failedAttempts: 0,
  }))

  let lastSeq = 0
  let queued = 0
  let written = 0
  let dropped = 0
  let failedAttempts = 0
  let accepting = true           // false from the moment shutdown() or dispose() is called
  let closed = false             // true once pending work has been cancelled
  let flushDepth = 0             // > 0 while a flush runs: waits are skipped
  let afterShutdownReported = false
  let shutdownResult: Promise<FlushReport> | undefined
  let exitFlushRunning = false
  let processHooks: 'none' | 'installed' | 'removed' = 'none'
  const waiters = new Set<Waiter>()
  const flushExpirers = new Set<() => void>()

  const say = (key: string, message: string): void => {
    try {
      hooks.report(key, message)
    } catch {
      // a throwing reporter must not reach the traced call either
    }
  }

  // --- settling: every document leaves a lane exactly once, written or dropped ---

  const settle = (lane: Lane, entry: Entry, ok: boolean): void => {
    lane.bytes -= entry.bytes
    if (ok) lane.written++
    else lane.dropped++
    if (!ok) entry.failed = true
    if (--entry.remaining > 0) return
    queued--
    if (entry.failed) dropped++
    else written++
    for (const waiter of waiters) {
      if (entry.seq > waiter.seq) continue
      if (entry.failed) waiter.dropped++
      else waiter.flushed++
      if (--waiter.remaining === 0) waiter.done()
    }
  }

  const settleAll = (lane: Lane, entries: ReadonlyArray<Entry>, ok: boolean): void => {
    for (const entry of entries) settle(lane, entry, ok)
  }

  // --- timers: all unref'd, all tracked so that dispose() can clear them ---

  const timers = new Set<ReturnType<typeof setTimeout>>()
  const later = (ms: number, fn: () => void): ReturnType<typeof setTimeout> | undefined => {
    if (ms === Infinity) return undefined
    const timer = setTimeout(() => {
      timers.delete(timer)
      fn()
    }, Math.min(Math.max(ms, 0), MAX_TIMEOUT))
    if (typeof timer === 'object' && typeof timer.unref === 'function') timer.unref()
    timers.add(timer)
    return timer
  }
  const cancelTimer = (timer: ReturnType<typeof setTimeout> | undefined): void => {
    if (timer === undefined) return
    clearTimeout(timer)
    timers.delete(timer)
  }

  /** A wait that `wake` can cut short: the schedule delay before a partial batch, or a retry backoff. */
  const sleep = (lane: Lane, ms: number, kind: SleepKind): Promise<void> =>
    new Promise<void>((resolve) => {
      const wake = (): void => {
        if (lane.sleep?.wake === wake) lane.sleep = undefined
        cancelTimer(timer)
        resolve()
      }
      const timer = later(ms, wake)
      lane.sleep = { kind, wake }
    })

  const wake = (lane: Lane, kinds: ReadonlyArray<SleepKind>): void => {
    if (lane.sleep !== undefined && kinds.includes(lane.sleep.kind)) lane.sleep.wake()
  }

  // --- one lane per sink: a buffer, one batch in flight, one retry loop ---

  const offer = (lane: Lane, entry: Entry): void => {
    const count = lane.pending.length + (lane.inFlight?.length ?? 0)
    if (count + 1 > settings.maxQueueTraces || lane.bytes + entry.bytes > settings.maxQueueBytes) {
      lane.bytes += entry.bytes
      settle(lane, entry, false)
      lane.overflowDropped++
      if (!lane.overflowing) {
        lane.overflowing = true
        say('queue-overflow', `tracellm: the export queue of sink "${lane.name}" is full (${settings.maxQueueTraces} traces or ${settings.maxQueueBytes} bytes); new traces are dropped until it drains.`)
      }
      return
    }
    if (lane.overflowing) {
      say('queue-recovered', `tracellm: the export queue of sink "${lane.name}" accepts traces again after dropping ${lane.overflowDropped}.`)
      lane.overflowing = false
      lane.overflowDropped = 0
    }
    lane.pending.push(entry)
    lane.bytes += entry.bytes
    if (!lane.running) start(lane)
    else if (lane.pending.length >= settings.maxBatchSize) wake(lane, ['schedule'])
  }

  const start = (lane: Lane): void => {
    lane.running = true
    try {
      // the loop runs with tracing suppressed and without holding on to the caller's context
      hooks.runSuppressed(() => pump(lane)).then(undefined, (error: unknown) => {
        lane.running = false
        say('queue-internal', `tracellm: the export loop of sink "${lane.name}" stopped: ${messageOf(error)}`)
      })
    } catch (error) {
      lane.running = false
      say('queue-internal', `tracellm: the export loop of sink "${lane.name}" did not start: ${messageOf(error)}`)
    }
  }

  const pump = async (lane: Lane): Promise<void> => {
    try {
      // never write on the caller's stack: enqueue() only starts the loop
      await Promise.resolve()
      let waited = false
      while (!closed && lane.pending.length > 0) {
        if (!waited && flushDepth === 0 && lane.pending.length < settings.maxBatchSize && settings.scheduleDelayMs > 0) {
          await sleep(lane, settings.scheduleDelayMs, 'schedule')
          waited = true
          continue
        }
        waited = false
        const entries = lane.pending.splice(0, settings.maxBatchSize)
        lane.inFlight = entries
        const ok = await deliver(lane, entries)
        // cancel() or drainSync() may have taken the batch over meanwhile
        if (lane.inFlight === entries) {
          lane.inFlight = undefined
          settleAll(lane, entries, ok)
        }
      }
    } finally {
      lane.running = false
    }
  }

  /** Writes one batch with retries; resolves true once written, false when it is given up. */
  const deliver = async (lane: Lane, entries: ReadonlyArray<Entry>): Promise<boolean> => {
    const batch: ReadonlyArray<TraceDocument> = Object.freeze(entries.map((entry) => entry.doc))
    const startedAt = Date.now()
    let retries = 0
    let timeoutMs = settings.attemptTimeoutMs
    for (;;) {
      if (closed || lane.inFlight !== entries) return false
      const error = await attempt(lane, batch, timeoutMs)
      if (error === undefined) return true
      if (error === CANCELLED || closed || lane.inFlight !== entries) return false
      lane.failedAttempts++
      failedAttempts++
      const hint = retryHint(error)
      // a sink may say when to come back (OTLP `Retry-After`): never sooner than that
      const delay = flushDepth > 0 ? 0 : Math.max(backoff(retry, retries), hint.afterMs)
      const remaining = retry.deadlineMs - (Date.now() - startedAt) - delay
      // a sink may also say that retrying cannot help (a 400 from a collector)
      if (!hint.retryable || retries >= retry.maxRetries || remaining <= 0) {
        say(`sink-failed:${lane.name}`, `tracellm: sink "${lane.name}" failed ${retries + 1} time(s); dropped a batch of ${entries.length} trace(s): ${messageOf(error)}`)
        return false
      }
      retries++
      timeoutMs = Math.min(settings.attemptTimeoutMs, remaining)
      if (delay > 0) await sleep(lane, delay, 'backoff')
    }
  }

  /** One `write` call; resolves the failure (never rejects), or undefined on success. */
  const attempt = (lane: Lane, batch: ReadonlyArray<TraceDocument>, timeoutMs: number): Promise<Error | undefined> =>
    new Promise<Error | undefined>((resolve) => {
      let finished = false
      const finish = (error: Error | undefined): void => {
        if (finished) return
        finished = true
        cancelTimer(timer)
        if (lane.abort === abort) lane.abort = undefined
        lane.attempting = false
        resolve(error)
      }
      const abort = (): void => finish(CANCELLED)
      lane.abort = abort
      lane.attempting = true
      const timer = later(timeoutMs, () => finish(new Error(`Sink "${lane.name}" did not settle its write within ${timeoutMs} ms.`)))
      try {
        const outcome = Promise.resolve(hooks.runSuppressed(() => Promise.resolve(lane.sink.write(batch))))
        outcome.then(() => finish(undefined), (reason: unknown) => finish(toError(reason)))
      } catch (error) {
        finish(toError(error))
      }
    })

  /** Drops everything still pending in every lane and stops the retry loops. */
  const cancel = (): void => {
    let count = 0
    for (const lane of lanes) {
      const entries = [...(lane.inFlight ?? []), ...lane.pending]
      lane.inFlight = undefined
      lane.pending = []
      count += entries.length
      settleAll(lane, entries, false)
      lane.sleep?.wake()
      lane.abort?.()
    }
    if (count > 0) say('shutdown-dropped', `tracellm: ${count} trace(s) were still pending when the export queue shut down and were dropped.`)
  }

  // --- flush, shutdown, sink hooks ---

  const callSink = (lane: Lane, method: 'flush' | 'close'): Promise<void> =>
    new Promise<void>((resolve) => {
      const failed = (error: unknown): void => {
        say(`sink-${method}-failed:${lane.name}`, `tracellm: ${method}() of sink "${lane.name}" failed: ${messageOf(toError(error))}`)
        resolve()
      }
      try {
        const fn = lane.sink[method]
        if (typeof fn !== 'function') {
          resolve()
          return
        }
        Promise.resolve(hooks.runSuppressed(() => Promise.resolve(fn.call(lane.sink)))).then(() => resolve(), failed)
      } catch (error) {
        failed(error)
      }
    })

  const callSinks = (method: 'flush' | 'close'): Promise<void> =>
    Promise.all(lanes.map((lane) => callSink(lane, method))).then(() => undefined)

  /**
   * Waits for the documents enqueued so far, then for every sink's `flush()`, at most `timeoutMs`.
   * `onFinish` runs synchronously when the flush ends, before the report is taken (shutdown cancels there,
   * so the cancelled documents are counted as dropped).
   */
  const runFlush = (timeoutMs: number, onFinish?: () => void): Promise<FlushReport> =>
    new Promise<FlushReport>((resolve) => {
      let finished = false
      let timer: ReturnType<typeof setTimeout> | undefined
      const waiter: Waiter = { seq: lastSeq, remaining: queued, flushed: 0, dropped: 0, done: () => undefined }
      const finish = (timedOut: boolean): void => {
        if (finished) return
        finished = true
        cancelTimer(timer)
        flushExpirers.delete(expire)
        try {
          onFinish?.()
        } finally {
          waiters.delete(waiter)
          flushDepth--
          resolve({ flushed: waiter.flushed, dropped: waiter.dropped, timedOut })
        }
      }
      const expire = (): void => finish(true)
      const documentsDone = (): void => {
        if (finished) return
        void callSinks('flush').then(() => finish(false))
      }
      flushDepth++
      flushExpirers.add(expire)
      timer = later(timeoutMs, expire)
      if (waiter.remaining === 0) {
        documentsDone()
        return
      }
      waiter.done = documentsDone
      waiters.add(waiter)
      for (const lane of lanes) wake(lane, ['schedule', 'backoff'])
    })

  const flush = (timeoutMs?: number): Promise<FlushReport> => {
    if (closed) return Promise.resolve({ flushed: 0, dropped: 0, timedOut: false })
    try {
      return runFlush(toTimeout(timeoutMs, settings.flushTimeoutMs))
    } catch (error) {
      say('queue-internal', `tracellm: flush failed: ${messageOf(error)}`)
      return Promise.resolve({ flushed: 0, dropped: 0, timedOut: false })
    }
  }

  const shutdown = (timeoutMs?: number): Promise<FlushReport> => {
    if (shutdownResult !== undefined) return shutdownResult
    accepting = false
    const budget = toTimeout(timeoutMs, settings.flushTimeoutMs)
    const startedAt = Date.now()
    const run = async (): Promise<FlushReport> => {
      const report = await runFlush(budget, () => {
        closed = true
        cancel()
      })
      const left = budget === Infinity ? Infinity : Math.max(0, budget - (Date.now() - startedAt))
      const closedInTime = await within(callSinks('close'), left)
      removeProcessHooks()
      return { ...report, timedOut: report.timedOut || !closedInTime }
    }
    shutdownResult = run().catch((error: unknown) => {
      say('queue-internal', `tracellm: shutdown failed: ${messageOf(error)}`)
      return { flushed: 0, dropped: 0, timedOut: false }
    })
    return shutdownResult
  }

  const within = (work: Promise<void>, ms: number): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const timer = later(ms, () => resolve(false))
      void work.then(() => {
        cancelTimer(timer)
        resolve(true)
      })
    })

  // --- process exit ---

  const onBeforeExit = (): void => {
    // flushing schedules work, after which beforeExit fires again: only flush when something is pending
    if (closed || exitFlushRunning || queued === 0) return
    exitFlushRunning = true
    void runFlush(settings.flushTimeoutMs).then(() => {
      exitFlushRunning = false
    })
  }

  const onExit = (): void => {
    drainSync()
  }

  const installProcessHooks = (): void => {
    if (processHooks !== 'none') return
    processHooks = 'installed'
    process.on('beforeExit', onBeforeExit)
    process.on('exit', onExit)
  }

  const removeProcessHooks = (): void => {
    if (processHooks !== 'installed') {
      processHooks = 'removed'
      return
    }
    processHooks = 'removed'
    process.removeListener('beforeExit', onBeforeExit)
    process.removeListener('exit', onExit)
  }

  const drainSync = (): void => {
    for (const lane of lanes) {
      try {
        const writeSync = lane.sink.writeSync
        if (typeof writeSync !== 'function') continue
        // a batch whose asynchronous write is still running stays with it; one waiting for a retry is taken over
        const taken = lane.attempting ? [] : (lane.inFlight ?? [])
        if (!lane.attempting) lane.inFlight = undefined
        const entries = [...taken, ...lane.pending]
        lane.pending = []
        wake(lane, ['schedule', 'backoff'])
        for (let index = 0; index < entries.length; index += settings.maxBatchSize) {
          const chunk = entries.slice(index, index + settings.maxBatchSize)
          try {
            hooks.runSuppressed(() => writeSync.call(lane.sink, Object.freeze(chunk.map((entry) => entry.doc))))
            settleAll(lane, chunk, true)
          } catch (error) {
            lane.failedAttempts++
            failedAttempts++
            settleAll(lane, chunk, false)
            say(`sink-failed:${lane.name}`, `tracellm: writeSync() of sink "${lane.name}" failed; dropped ${chunk.length} trace(s): ${messageOf(toError(error))}`)
          }
        }
      } catch (error) {
        say('queue-internal', `tracellm: draining sink "${lane.name}" failed: ${messageOf(error)}`)
      }
    }
  }

  const dispose = (): void => {
    accepting = false
    if (!closed) {
      closed = true
      cancel()
    }
    for (const expire of [...flushExpirers]) expire()
    for (const timer of timers) clearTimeout(timer)
    timers.clear()
    removeProcessHooks()
  }

  return {
    enqueue: (doc, bytes) => {
      try {
        if (!accepting) {
          dropped++
          if (!afterShutdownReported) {
            afterShutdownReported = true
            say('after-shutdown', 'tracellm: a trace finished after shutdown() and was dropped; call configure() to start exporting again.')
          }
          return
        }
        if (lanes.length === 0) return
        installProcessHooks()
        const entry: Entry = { doc, bytes: typeof bytes === 'number' && bytes > 0 && bytes !== Infinity ? bytes : 0, seq: ++lastSeq, remaining: lanes.length, failed: false }
        queued++
        for (const lane of lanes) offer(lane, entry)
      } catch (error) {
        say('queue-internal', `tracellm: enqueue failed: ${messageOf(error)}`)
      }
    },
    flush,
    shutdown,
    stats: () => ({
      queued,
      written,
      dropped,
      failedAttempts,
      sinks: lanes.map((lane) => ({
        name: lane.name,
        queued: lane.pending.length + (lane.inFlight?.length ?? 0),
        written: lane.written,
        dropped: lane.dropped,
        failedAttempts: lane.failedAttempts,
      })),
    }),
    drainSync,
    dispose,
  }
}

// --- private ---

type SleepKind = 'schedule' | 'backoff'

/** One document in the queue, shared by every lane: settled when `remaining` reaches 0. */
interface Entry {
  readonly doc: TraceDocument
  readonly bytes: number
  readonly seq: number
  remaining: number
  failed: boolean
}

interface Lane {
  readonly sink: Sink
  readonly name: string
  pending: Entry[]
  /** The batch the retry loop owns (being written or waiting for a retry). */
  inFlight: Entry[] | undefined
  /** Bytes of pending and in-flight documents. */
  bytes: number
  running: boolean
  attempting: boolean
  sleep: { readonly kind: SleepKind; readonly wake: () => void } | undefined
  abort: (() => void) | undefined
  overflowing: boolean
  overflowDropped: number
  written: number
  dropped: number
  failedAttempts: number
}

/** A flush waiting for the documents up to `seq`. */
interface Waiter {
  readonly seq: number
  remaining: number
  flushed: number
  dropped: number
  done: () => void
}

const MAX_TIMEOUT = 2_147_483_647
const CANCELLED = new Error('cancelled')

/**
 * What a failed `write` says about retrying: an error with `retryable: false` is not retried, and one
 * with a finite `retryAfterMs` is not retried sooner. Read defensively: the error is the sink's.
 */
function retryHint(error: unknown): { readonly retryable: boolean; readonly afterMs: number } {
  try {
    const { retryable, retryAfterMs } = error as { retryable?: unknown; retryAfterMs?: unknown }
    const afterMs = typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs > 0 ? retryAfterMs : 0
    return { retryable: retryable !== false, afterMs }
  } catch {
    return { retryable: true, afterMs: 0 }
  }
}

function backoff(retry: QueueOptions['retry'], retries: number): number {
  const base = Math.min(retry.initialDelayMs * retry.multiplier ** retries, retry.maxDelayMs)
  return Math.max(0, base * (1 + retry.jitter * (2 * Math.random() - 1)))
}

function toTimeout(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && value >= 0 ? value : fallback
}

function toError(reason: unknown): Error {
  if (reason instanceof Error) return reason
  return new Error(`Sink failed with a non-Error value: ${describe(reason)}`, { cause: reason })
}

function messageOf(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message}` : describe(error)
  } catch {
    return 'unprintable error'
  }
}

function describe(value: unknown): string {
  try {
    const text = typeof value === 'string' ? JSON.stringify(value) : String(value)
    return text.length > 200 ? `${text.slice(0, 200)}…` : text
  } catch {
    return 'unprintable value'
  }
}

function validateOptions(options: QueueOptions): QueueOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected queue options to be an object.')
  const retry = options.retry
  if (typeof retry !== 'object' || retry === null) throw new TypeError('Expected `queue.retry` to be an object.')
  check(options.maxQueueTraces, 'maxQueueTraces', isPositiveInteger, 'a positive integer')
  check(options.maxQueueBytes, 'maxQueueBytes', (v) => v > 0, 'a positive number')
  check(options.maxBatchSize, 'maxBatchSize', isPositiveInteger, 'a positive integer')
  check(options.scheduleDelayMs, 'scheduleDelayMs', isFiniteNonNegative, 'a non-negative number of milliseconds')
  check(options.attemptTimeoutMs, 'attemptTimeoutMs', (v) => v > 0, 'a positive number of milliseconds')
  check(options.flushTimeoutMs, 'flushTimeoutMs', (v) => v >= 0, 'a non-negative number of milliseconds')
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

function validateSinks(sinks: ReadonlyArray<Sink>): ReadonlyArray<Sink> {
  if (!Array.isArray(sinks)) throw new TypeError('Expected `sinks` to be an array of sinks.')
  sinks.forEach((sink: Sink, index: number) => {
    if (typeof sink !== 'object' || sink === null || typeof sink.write !== 'function' || typeof sink.name !== 'string') {
      throw new TypeError(`Expected \`sinks[${index}]\` to be a sink: an object with a string \`name\` and a \`write(batch)\` function.`)
    }
  })
  return sinks
}
