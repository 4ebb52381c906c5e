/**
 * The export queue: the only thing a traced call touches on its way out. `enqueue` is O(1) and never
 * throws; behind it each sink gets its own bounded buffer and its own retry loop, so a slow or dead
 * sink never delays the others. Nothing here serializes or does I/O on the caller's stack.
 * Every document is accounted for (docs/reliability.md#accounting-flush-and-stats-add-up) and the
 * process exit is bounded (docs/reliability.md#exit-bounds-a-dead-backend-never-holds-the-process).
 */
import type { TraceDocument } from '../document/document.js'
import { createExitGuard, type ExitGuard, type LostCount } from './exit.js'
import { backoff, messageOf, retryHint, toError, toTimeout } from './backoff.js'
import { defaultQueueOptions, OVERFLOW_WARNING_INTERVAL_MS, validateOptions, validateSinks, type QueueOptions } from './options.js'
import { DROP_REASONS, zeroCounts, type DropCounts, type DropReason, type ExportStats, type FlushReport, type Sink, type SinkStats, type WriteResult } from './sink.js'

export type { DropCounts, DropReason, ExportCounts, ExportStats, FlushReport, Sink, SinkStats, WriteOptions, WriteResult } from './sink.js'
export { SinkError } from './sink.js'
export { defaultQueueOptions, OVERFLOW_WARNING_INTERVAL_MS } from './options.js'
export type { QueueOptions } from './options.js'

/**
 * @internal What the queue needs from its owner, so that it never imports core: `report` warns once
 * per key, `warn` every time (rate-limited by the queue), `runSuppressed` runs a sink call with
 * tracing switched off.
 * @category sinks
 */
export interface QueueHooks {
  readonly report: (key: string, message: string) => void
  readonly warn?: (key: string, message: string) => void
  readonly runSuppressed: <T>(thunk: () => T) => T
}

/**
 * @internal The bounded, batched export pipeline between finished traces and the sinks.
 * `enqueue` never throws and never blocks; `flush` and `shutdown` never reject and are bounded by
 * their timeout; `dispose` removes the process hooks and timers.
 * @category sinks
 */
export interface ExportQueue {
  /**
   * Hands over a finished document with its estimated size in bytes. O(1), no I/O, never throws.
   * With `whenFull: 'wait'` and a full sink, returns a promise (never rejecting) that resolves once
   * the document is queued or dropped; otherwise undefined.
   */
  enqueue(doc: TraceDocument, bytes: number): Promise<void> | undefined
  /** True with `whenFull: 'wait'`: a traced call should await what `enqueue` returns. */
  readonly waits?: boolean
  /**
   * Resolves when everything enqueued before the call is written or dropped by every sink, or at the
   * timeout. `report: false` leaves the next report's counts alone (flushes tracing does for itself).
   */
  flush(timeoutMs?: number, options?: { readonly report?: boolean }): Promise<FlushReport>
  /** Flushes, then closes every sink, within one timeout. Idempotent; later documents are dropped. */
  shutdown(timeoutMs?: number): Promise<FlushReport>
  stats(): ExportStats
  /** Writes what is not yet written to every sink that has a `writeSync`, drops (and counts) the rest: the process `exit` hook. */
  drainSync?(): void
  /** Stops the queue at once: pending documents are dropped, timers cleared, process hooks removed. */
  dispose?(): void
}

/**
 * @internal Builds the export queue for `sinks`. Throws a `TypeError` for an invalid option or sink
 * (a setup mistake, so it surfaces in `configure()`); everything after that reports through
 * `hooks.report`. Process hooks (`beforeExit` flushes within `exitTimeoutMs`, `exit` drains into
 * `writeSync`) are installed on the first `enqueue` and removed by `shutdown()` or `dispose()`.
 * Waits (schedule delay, retry backoff) are skipped while a flush runs.
 * @category sinks
 */
export function createExportQueue(sinks: ReadonlyArray<Sink>, options: QueueOptions, hooks: QueueHooks): Required<ExportQueue> {
  const settings = validateOptions({ ...defaultQueueOptions, ...options })
  const { retry } = settings
  const lanes: Lane[] = validateSinks(sinks).map((sink) => ({
    sink,
    name: sink.name,
    pending: [],
    waiting: [],
    inFlight: undefined,
    bytes: 0,
    running: false,
    attempting: false,
    sleep: undefined,
    abort: undefined,
    waitTimer: undefined,
    overflowing: false,
    overflowDropped: 0,
    overflowTotal: 0,
    overflowWarnedAt: -Infinity,
    produced: 0,
    written: 0,
    dropped: 0,
    droppedBy: zeroCounts(),
    failedAttempts: 0,
  }))

  let lastSeq = 0
  let lastEnqueueAt = 0
  let queued = 0
  let produced = 0
  let written = 0
  let dropped = 0
  const droppedBy = zeroCounts()
  let failedAttempts = 0
  // what the previous flush report covered: the next one counts what settled since
  let reported = { written: 0, dropped: 0, droppedBy: zeroCounts() }
  let accepting = true           // false from the moment shutdown() or dispose() is called
  let closed = false             // true once pending work has been cancelled
  let flushDepth = 0             // > 0 while a flush runs: waits are skipped
  let afterShutdownReported = false
  let shutdownResult: Promise<FlushReport> | undefined
  const waiters = new Set<Waiter>()
  const flushExpirers = new Set<() => void>()

  const say = (key: string, message: string): void => {
    try {
      hooks.report(key, message)
    } catch {
      // a throwing reporter must not reach the traced call either
    }
  }
  const sayAgain = (key: string, message: string): void => {
    try {
      if (hooks.warn !== undefined) hooks.warn(key, message)
      else hooks.report(key, message)
    } catch {
      // as above
    }
  }

  // --- settling: every document leaves a lane exactly once, written or dropped with a reason ---

  const settle = (lane: Lane, entry: Entry, reason: DropReason | undefined): void => {
    lane.bytes -= entry.bytes
    if (reason === undefined) lane.written++
    else {
      lane.dropped++
      lane.droppedBy[reason]++
      entry.reason ??= reason
    }
    if (--entry.remaining > 0) return
    queued--
    if (entry.reason === undefined) written++
    else {
      dropped++
      droppedBy[entry.reason]++
    }
    for (const waiter of waiters) {
      if (entry.seq > waiter.seq) continue
      if (--waiter.remaining === 0) waiter.done()
    }
  }

  const settleAll = (lane: Lane, entries: ReadonlyArray<Entry>, reason: DropReason | undefined): void => {
    for (const entry of entries) settle(lane, entry, reason)
    admitWaiting(lane)
  }

  const report = (timedOut: boolean, consume: boolean): FlushReport => {
    const by = zeroCounts()
    for (const reason of DROP_REASONS) by[reason] = droppedBy[reason] - reported.droppedBy[reason]
    const result: FlushReport = { flushed: written - reported.written, dropped: dropped - reported.dropped, pending: queued, timedOut, droppedBy: by }
    if (consume) reported = { written, dropped, droppedBy: { ...droppedBy } }
    return result
  }

  // --- timers: tracked so that dispose() can clear them; unref'd unless a caller waits on them ---

  const timers = new Set<ReturnType<typeof setTimeout>>()
  const later = (ms: number, fn: () => void, keepAlive = false): ReturnType<typeof setTimeout> | undefined => {
    if (ms === Infinity) return undefined
    const timer = setTimeout(() => {
      timers.delete(timer)
      fn()
    }, Math.min(Math.max(ms, 0), MAX_TIMEOUT))
    if (!keepAlive && typeof timer === 'object' && typeof timer.unref === 'function') timer.unref()
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

  const hasRoom = (lane: Lane, entry: Entry): boolean => {
    const count = lane.pending.length + (lane.inFlight?.length ?? 0)
    return count + 1 <= settings.maxQueueTraces && lane.bytes + entry.bytes <= settings.maxQueueBytes
  }

  const offer = (lane: Lane, entry: Entry): void => {
    lane.produced++
    if (!hasRoom(lane, entry)) {
      if (entry.admission !== undefined && lane.waiting.length < settings.maxQueueTraces) {
        entry.admission.lanes++
        entry.waitUntil = Date.now() + settings.exitTimeoutMs
        lane.waiting.push(entry)
        armWaitTimer(lane)
        return
      }
      overflow(lane, entry)
      return
    }
    if (lane.overflowing) {
      say('queue-recovered', `tracellm: the export queue of sink "${lane.name}" accepts traces again after dropping ${lane.overflowDropped}.`)
      lane.overflowing = false
      lane.overflowDropped = 0
    }
    accept(lane, entry)
  }

  const accept = (lane: Lane, entry: Entry): void => {
    lane.pending.push(entry)
    lane.bytes += entry.bytes
    if (!lane.running) start(lane)
    else if (lane.pending.length >= settings.maxBatchSize) wake(lane, ['schedule'])
  }

  const overflow = (lane: Lane, entry: Entry): void => {
    lane.bytes += entry.bytes
    settle(lane, entry, 'overflow')
    lane.overflowDropped++
    lane.overflowTotal++
    if (!lane.overflowing) {
      lane.overflowing = true
      say('queue-overflow', `tracellm: the export queue of sink "${lane.name}" is full (${settings.maxQueueTraces} traces or ${settings.maxQueueBytes} bytes); new traces are dropped until it drains (queue.whenFull: 'wait' makes traced calls wait instead).`)
      lane.overflowWarnedAt = Date.now()
      return
    }
    // one warning per interval with the running count, never one per trace
    const now = Date.now()
    if (now - lane.overflowWarnedAt >= OVERFLOW_WARNING_INTERVAL_MS) {
      lane.overflowWarnedAt = now
      sayAgain('queue-overflow', `tracellm: the export queue of sink "${lane.name}" is still full: ${lane.overflowTotal} trace(s) dropped so far.`)
    }
  }

  /** Moves waiting documents into the lane while there is room, in order. */
  const admitWaiting = (lane: Lane): void => {
    while (lane.waiting.length > 0 && !closed) {
      const entry = lane.waiting[0] as Entry
      if (!hasRoom(lane, entry)) return
      lane.waiting.shift()
      accept(lane, entry)
      admitted(entry)
    }
  }

  const admitted = (entry: Entry): void => {
    const admission = entry.admission
    if (admission !== undefined && --admission.lanes === 0) admission.resolve()
  }

  /** Drops, as overflow, waiting documents whose wait passed `exitTimeoutMs`. */
  const armWaitTimer = (lane: Lane): void => {
    if (lane.waitTimer !== undefined || lane.waiting.length === 0) return
    const head = lane.waiting[0] as Entry
    lane.waitTimer = later((head.waitUntil ?? 0) - Date.now(), () => {
      lane.waitTimer = undefined
      const now = Date.now()
      while (lane.waiting.length > 0 && ((lane.waiting[0] as Entry).waitUntil ?? 0) <= now) {
        const entry = lane.waiting.shift() as Entry
        overflow(lane, entry)
        admitted(entry)
      }
      armWaitTimer(lane)
    })
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
        const outcome = await deliver(lane, entries)
        // cancel() or drainSync() may have taken the batch over meanwhile
        let gaveUp = outcome.reason !== undefined
        if (lane.inFlight === entries) {
          lane.inFlight = undefined
          if (outcome.reason !== undefined) settleAll(lane, entries, outcome.reason)
          else gaveUp = settleWritten(lane, entries, outcome.result) > 0
        }
        // after a batch was (partly) given up, a short wait on an unref'd timer before the next: a program
        // whose work is done reaches beforeExit there instead of being held batch after batch by a
        // dead backend (docs/reliability.md#exit-bounds-a-dead-backend-never-holds-the-process)
        if (gaveUp && flushDepth === 0 && !closed) await sleep(lane, GAP_AFTER_DROP_MS, 'schedule')
      }
    } finally {
      lane.running = false
    }
  }

  /** Settles a written batch: every document is written but those the sink's `WriteResult` gave up on. */
  const settleWritten = (lane: Lane, entries: ReadonlyArray<Entry>, result: unknown): number => {
    const refused = refusedDocs(result, entries.length)
    if (refused === undefined) {
      settleAll(lane, entries, undefined)
      return 0
    }
    // the sink said why in its own warning: the queue only counts
    let count = 0
    for (const entry of entries) {
      const rejected = refused.has(entry.doc)
      if (rejected) count++
      settle(lane, entry, rejected ? 'rejected' : undefined)
    }
    admitWaiting(lane)
    return count
  }

  /** Writes one batch with retries; resolves the sink's result once written, or the reason it was given up. */
  const deliver = async (lane: Lane, entries: ReadonlyArray<Entry>): Promise<Delivery> => {
    const batch: ReadonlyArray<TraceDocument> = Object.freeze(entries.map((entry) => entry.doc))
    const startedAt = Date.now()
    let retries = 0
    let timeoutMs = settings.attemptTimeoutMs
    for (;;) {
      if (closed || lane.inFlight !== entries) return { reason: 'shutdown' }
      const outcome = await attempt(lane, batch, timeoutMs)
      if (outcome.error === undefined) return { result: outcome.result }
      const error = outcome.error
      if (error === CANCELLED || closed || lane.inFlight !== entries) return { reason: 'shutdown' }
      lane.failedAttempts++
      failedAttempts++
      const hint = retryHint(error)
      // a sink may say when to come back (OTLP `Retry-After`): never sooner than that
      const delay = flushDepth > 0 ? 0 : Math.max(backoff(retry, retries), hint.afterMs)
      const remaining = retry.deadlineMs - (Date.now() - startedAt) - delay
      // a sink may also say that retrying cannot help (a 400 from a collector)
      if (!hint.retryable || retries >= retry.maxRetries || remaining <= 0) {
        say(`sink-failed:${lane.name}`, `tracellm: sink "${lane.name}" failed ${retries + 1} time(s); dropped a batch of ${entries.length} trace(s): ${messageOf(error)}`)
        return { reason: hint.retryable ? 'failed' : 'rejected' }
      }
      retries++
      timeoutMs = Math.min(settings.attemptTimeoutMs, remaining)
      if (delay > 0) await sleep(lane, delay, 'backoff')
    }
  }

  /** One `write` call; resolves its failure (never rejects), or its result on success. */
  const attempt = (lane: Lane, batch: ReadonlyArray<TraceDocument>, timeoutMs: number): Promise<Attempt> =>
    new Promise<Attempt>((resolve) => {
      let finished = false
      const controller = new AbortController()
      const finish = (outcome: Attempt): void => {
        if (finished) return
        finished = true
        cancelTimer(timer)
        if (lane.abort === abort) lane.abort = undefined
        lane.attempting = false
        // the sink may still hold sockets or timers for this write: tell it to let go
        if (outcome.error !== undefined) abortQuietly(controller)
        resolve(outcome)
      }
      const abort = (): void => finish({ error: CANCELLED })
      lane.abort = abort
      lane.attempting = true
      const timer = later(timeoutMs, () => finish({ error: new Error(`Sink "${lane.name}" did not settle its write within ${timeoutMs} ms.`) }))
      try {
        const outcome = Promise.resolve(hooks.runSuppressed(() => Promise.resolve(lane.sink.write(batch, { signal: controller.signal }))))
        outcome.then((result) => finish({ error: undefined, result: result ?? undefined }), (reason: unknown) => finish({ error: toError(reason) }))
      } catch (error) {
        finish({ error: toError(error) })
      }
    })

  /** Takes every document a lane has not written yet (pending, waiting, and the batch in flight even while it is being written). */
  const takeAll = (lane: Lane): Entry[] => {
    const entries = [...(lane.inFlight ?? []), ...lane.pending, ...lane.waiting]
    lane.inFlight = undefined
    lane.pending = []
    for (const entry of lane.waiting) {
      lane.bytes += entry.bytes   // settling takes it off again
      admitted(entry)
    }
    lane.waiting = []
    cancelTimer(lane.waitTimer)
    lane.waitTimer = undefined
    lane.sleep?.wake()
    lane.abort?.()
    return entries
  }

  /** Drops everything still pending in every lane and stops the retry loops. */
  const cancel = (reason: DropReason): number => {
    let count = 0
    for (const lane of lanes) {
      const entries = takeAll(lane)
      count += entries.length
      for (const entry of entries) settle(lane, entry, reason)
    }
    return count
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
   * so the cancelled documents are counted as dropped). The timeout keeps the process alive until it
   * fires, so an `await flush()` on a sink that never settles ends in a report, not in an exit.
   */
  const runFlush = (timeoutMs: number, consume: boolean, onFinish?: () => void): Promise<FlushReport> =>
    new Promise<FlushReport>((resolve) => {
      let finished = false
      let timer: ReturnType<typeof setTimeout> | undefined
      const waiter: Waiter = { seq: lastSeq, remaining: queued, done: () => undefined }
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
          resolve(report(timedOut, consume))
        }
      }
      const expire = (): void => finish(true)
      const documentsDone = (): void => {
        if (finished) return
        void callSinks('flush').then(() => finish(false))
      }
      flushDepth++
      flushExpirers.add(expire)
      timer = later(timeoutMs, expire, true)
      if (waiter.remaining === 0) {
        documentsDone()
        return
      }
      waiter.done = documentsDone
      waiters.add(waiter)
      for (const lane of lanes) {
        wake(lane, ['schedule', 'backoff'])
        // a flush is a caller waiting: documents waiting for room get it as soon as there is some
        admitWaiting(lane)
      }
    })

  const flush = (timeoutMs?: number, flushOptions?: { readonly report?: boolean }): Promise<FlushReport> => {
    const consume = flushOptions?.report !== false
    if (closed) return Promise.resolve(report(false, consume))
    try {
      return runFlush(toTimeout(timeoutMs, settings.flushTimeoutMs), consume)
    } catch (error) {
      say('queue-internal', `tracellm: flush failed: ${messageOf(error)}`)
      return Promise.resolve(report(false, consume))
    }
  }

  const shutdown = (timeoutMs?: number): Promise<FlushReport> => {
    if (shutdownResult !== undefined) return shutdownResult
    accepting = false
    const budget = toTimeout(timeoutMs, settings.flushTimeoutMs)
    const startedAt = Date.now()
    const run = async (): Promise<FlushReport> => {
      const flushed = await runFlush(budget, true, () => {
        closed = true
        const count = cancel('shutdown')
        if (count > 0) say('shutdown-dropped', `tracellm: ${count} trace(s) were still pending when the export queue shut down and were dropped.`)
      })
      const left = budget === Infinity ? Infinity : Math.max(0, budget - (Date.now() - startedAt))
      const closedInTime = await within(callSinks('close'), left)
      exitGuard.remove()
      return { ...flushed, timedOut: flushed.timedOut || !closedInTime }
    }
    shutdownResult = run().catch((error: unknown) => {
      say('queue-internal', `tracellm: shutdown failed: ${messageOf(error)}`)
      return report(false, true)
    })
    return shutdownResult
  }

  const within = (work: Promise<void>, ms: number): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const timer = later(ms, () => resolve(false), true)
      void work.then(() => {
        cancelTimer(timer)
        resolve(true)
      })
    })

  // --- process exit (docs/reliability.md#delivery-what-is-never-lost) ---

  /**
   * Writes every document not yet written to the sinks that can write synchronously (a batch whose
   * asynchronous write is still running included: `writeSync` is idempotent), and drops the rest,
   * counted with `reason`. Returns, per sink, how many documents it did not get.
   */
  const drainAll = (reason: DropReason): LostCount[] => {
    const lost: LostCount[] = []
    for (const lane of lanes) {
      let entries: Entry[] = []
      try {
        entries = takeAll(lane)
        if (entries.length === 0) continue
        const writeSync = lane.sink.writeSync
        const earlier = lane.dropped
        if (typeof writeSync !== 'function') {
          for (const entry of entries) settle(lane, entry, reason)
          lost.push({ name: lane.name, count: entries.length, earlier })
          continue
        }
        let failed = 0
        for (let index = 0; index < entries.length; index += settings.maxBatchSize) {
          const chunk = entries.slice(index, index + settings.maxBatchSize)
          try {
            hooks.runSuppressed(() => writeSync.call(lane.sink, Object.freeze(chunk.map((entry) => entry.doc))))
            for (const entry of chunk) settle(lane, entry, undefined)
          } catch (error) {
            lane.failedAttempts++
            failedAttempts++
            failed += chunk.length
            for (const entry of chunk) settle(lane, entry, reason)
            say(`sink-failed:${lane.name}`, `tracellm: writeSync() of sink "${lane.name}" failed; dropped ${chunk.length} trace(s): ${messageOf(toError(error))}`)
          }
        }
        if (failed > 0) lost.push({ name: lane.name, count: failed, earlier })
      } catch (error) {
        say('queue-internal', `tracellm: draining sink "${lane.name}" failed: ${messageOf(error)}`)
      }
    }
    return lost
  }

  const drainSync = (): void => {
    exitGuard.exited(drainAll('exit'))
  }

  const exitGuard: ExitGuard = createExitGuard({
    exitTimeoutMs: settings.exitTimeoutMs,
    lastEnqueueAt: () => lastEnqueueAt,
    hasWork: () => !closed && queued > 0,
    flush: () => runFlush(Infinity, false),
    expire: () => {
      let released = 0
      for (const lane of lanes) released += lane.waiting.length
      return { lost: drainAll('exit'), released: released > 0 }
    },
    drainSync,
  })

  const dispose = (): void => {
    accepting = false
    if (!closed) {
      closed = true
      cancel('shutdown')
    }
    for (const expire of [...flushExpirers]) expire()
    for (const timer of timers) clearTimeout(timer)
    timers.clear()
    exitGuard.remove()
  }

  const stats = (): ExportStats => ({
    produced,
    written,
    dropped,
    pending: queued,
    droppedBy: { ...droppedBy },
    failedAttempts,
    sinks: lanes.map((lane): SinkStats => ({
      name: lane.name,
      produced: lane.produced,
      written: lane.written,
      dropped: lane.dropped,
      pending: lane.pending.length + (lane.inFlight?.length ?? 0) + lane.waiting.length,
      droppedBy: { ...lane.droppedBy },
      failedAttempts: lane.failedAttempts,
    })),
  })

  return {
    enqueue: (doc, bytes) => {
      try {
        if (!accepting) {
          produced++
          dropped++
          droppedBy.shutdown++
          for (const lane of lanes) {
            lane.produced++
            lane.dropped++
            lane.droppedBy.shutdown++
          }
          if (!afterShutdownReported) {
            afterShutdownReported = true
            say('after-shutdown', 'tracellm: a trace finished after shutdown() and was dropped; call configure() to start exporting again.')
          }
          return undefined
        }
        if (lanes.length === 0) return undefined
        exitGuard.install()
        lastEnqueueAt = Date.now()
        const entry: Entry = { doc, bytes: typeof bytes === 'number' && bytes > 0 && bytes !== Infinity ? bytes : 0, seq: ++lastSeq, remaining: lanes.length, reason: undefined, admission: undefined, waitUntil: undefined }
        let admission: Promise<void> | undefined
        if (settings.whenFull === 'wait') {
          admission = new Promise<void>((resolve) => {
            entry.admission = { lanes: 0, resolve }
          })
        }
        queued++
        produced++
        for (const lane of lanes) offer(lane, entry)
        if (entry.admission === undefined || entry.admission.lanes === 0) return undefined
        return admission
      } catch (error) {
        say('queue-internal', `tracellm: enqueue failed: ${messageOf(error)}`)
        return undefined
      }
    },
    waits: settings.whenFull === 'wait',
    flush,
    shutdown,
    stats,
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
  /** The first reason a lane dropped it for. */
  reason: DropReason | undefined
  /** With `whenFull: 'wait'`: the lanes it still waits for room in, and the caller to release. */
  admission: { lanes: number; readonly resolve: () => void } | undefined
  /** When a wait for room gives up (ms since the epoch). */
  waitUntil: number | undefined
}

interface Lane {
  readonly sink: Sink
  readonly name: string
  pending: Entry[]
  /** Documents waiting for room (`whenFull: 'wait'`), oldest first. */
  waiting: Entry[]
  /** The batch the retry loop owns (being written or waiting for a retry). */
  inFlight: Entry[] | undefined
  /** Bytes of pending and in-flight documents. */
  bytes: number
  running: boolean
  attempting: boolean
  sleep: { readonly kind: SleepKind; readonly wake: () => void } | undefined
  abort: (() => void) | undefined
  waitTimer: ReturnType<typeof setTimeout> | undefined
  overflowing: boolean
  overflowDropped: number
  overflowTotal: number
  overflowWarnedAt: number
  produced: number
  written: number
  dropped: number
  droppedBy: { [reason in DropReason]: number }
  failedAttempts: number
}

/** A flush waiting for the documents up to `seq`. */
interface Waiter {
  readonly seq: number
  remaining: number
  done: () => void
}

type Attempt = { readonly error: Error; readonly result?: undefined } | { readonly error: undefined; readonly result: unknown }
type Delivery = { readonly reason: DropReason; readonly result?: undefined } | { readonly reason?: undefined; readonly result: unknown }

/** Long enough for the warning about a dropped batch to reach stderr (a pending write holds the loop too). */
const GAP_AFTER_DROP_MS = 25
const MAX_TIMEOUT = 2_147_483_647
const CANCELLED = new Error('cancelled')

function abortQuietly(controller: AbortController): void {
  try {
    controller.abort()
  } catch {
    // an abort listener of the sink's threw: nothing to do about it here
  }
}

/**
 * The documents a sink's `WriteResult` gave up on, with the reason, or undefined when it gave up on
 * none. Read defensively: the result is the sink's.
 */
function refusedDocs(result: unknown, size: number): Map<TraceDocument, string> | undefined {
  try {
    if (typeof result !== 'object' || result === null) return undefined
    const list = (result as WriteResult).dropped
    if (!Array.isArray(list) || list.length === 0) return undefined
    const refused = new Map<TraceDocument, string>()
    for (const item of list.slice(0, size)) {
      if (typeof item !== 'object' || item === null) continue
      const { doc, reason } = item as { doc?: unknown; reason?: unknown }
      if (typeof doc === 'object' && doc !== null) refused.set(doc as TraceDocument, typeof reason === 'string' ? reason : 'no reason given')
    }
    return refused.size === 0 ? undefined : refused
  } catch {
    return undefined
  }
}
