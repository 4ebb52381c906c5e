import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import type { Sink } from '../../src/export/queue.js'
import { createExportQueue, defaultQueueOptions } from '../../src/export/queue.js'
import { memorySink } from '../../src/sinks/memory.js'
import { makeDocument, makeDocuments } from '../helpers/documents.js'
import { gatedSink, makeQueue, options, recordingHooks, scriptedSink, settle } from './helpers.js'

const KB = 1024

beforeEach(() => {
  jest.useFakeTimers()
})

afterEach(() => {
  jest.useRealTimers()
})

/** Tracks a promise's result without awaiting it. */
function track<T>(promise: Promise<T>): { readonly value: () => T | undefined } {
  let value: T | undefined
  void promise.then((result) => { value = result })
  return { value: () => value }
}

describe('createExportQueue: enqueue', () => {
  it('does no I/O on the caller\'s stack, even when a batch is full', () => {
    const sink = scriptedSink('s', () => 'ok')
    const queue = makeQueue([sink], options({ maxBatchSize: 1, scheduleDelayMs: 0 }))

    queue.enqueue(makeDocument(), KB)

    expect(sink.calls).toHaveLength(0)
    expect(queue.stats()).toMatchObject({ pending: 1, written: 0 })
  })

  it('never throws, even when the reporter and the sink do', async () => {
    const throwing: Sink = { name: 'bad', write: () => { throw new Error('nope') } }
    const queue = makeQueue([throwing], options({ maxQueueTraces: 1 }), { report: () => { throw new Error('reporter') }, runSuppressed: (thunk) => thunk() })

    expect(() => {
      for (let index = 0; index < 5; index++) queue.enqueue(makeDocument(), KB)
    }).not.toThrow()
    // four dropped as the queue was full before the flush, the fifth after its retries: all counted
    await expect(queue.flush()).resolves.toEqual({ flushed: 0, dropped: 5, pending: 0, timedOut: false, droppedBy: { overflow: 4, rejected: 0, failed: 1, shutdown: 0, exit: 0 } })
  })

  it('does nothing and counts nothing without sinks', () => {
    const queue = makeQueue([])

    queue.enqueue(makeDocument(), KB)

    expect(queue.stats()).toMatchObject({ pending: 0, written: 0, dropped: 0 })
  })
})

describe('createExportQueue: batching', () => {
  it('writes full batches at once and the rest after the schedule delay', async () => {
    const sink = scriptedSink('s', () => 'ok')
    const queue = makeQueue([sink], options({ maxBatchSize: 3, scheduleDelayMs: 1000 }))
    const docs = makeDocuments(7)

    for (const doc of docs) queue.enqueue(doc, KB)
    await jest.advanceTimersByTimeAsync(0)
    expect(sink.calls.map((batch) => batch.length)).toEqual([3, 3])

    await jest.advanceTimersByTimeAsync(999)
    expect(sink.calls).toHaveLength(2)

    await jest.advanceTimersByTimeAsync(1)
    expect(sink.calls.map((batch) => batch.length)).toEqual([3, 3, 1])
    expect(sink.written).toEqual(docs)
    expect(queue.stats()).toMatchObject({ pending: 0, written: 7, dropped: 0, failedAttempts: 0 })
  })

  it('writes a partial batch after scheduleDelayMs (200 ms by default)', async () => {
    const sink = scriptedSink('s', () => 'ok')
    const queue = makeQueue([sink], options())

    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(199)
    expect(sink.calls).toHaveLength(0)

    await jest.advanceTimersByTimeAsync(1)
    expect(sink.calls).toHaveLength(1)
  })

  it('wakes a waiting lane as soon as a batch fills', async () => {
    const sink = scriptedSink('s', () => 'ok')
    const queue = makeQueue([sink], options({ maxBatchSize: 2, scheduleDelayMs: 10_000 }))

    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(50)
    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(0)

    expect(sink.calls.map((batch) => batch.length)).toEqual([2])
  })

  it('keeps at most one batch in flight per sink', async () => {
    const sink = gatedSink()
    const queue = makeQueue([sink], options({ maxBatchSize: 2, scheduleDelayMs: 0 }))

    for (const doc of makeDocuments(6)) queue.enqueue(doc, KB)
    await jest.advanceTimersByTimeAsync(100)
    expect(sink.calls).toHaveLength(1)

    sink.release()
    await jest.advanceTimersByTimeAsync(0)
    expect(sink.calls).toHaveLength(2)
  })

  it('hands every sink a frozen batch with the same documents, in order', async () => {
    const a = scriptedSink('a', () => 'ok')
    const b = scriptedSink('b', () => 'ok')
    const queue = makeQueue([a, b], options({ scheduleDelayMs: 0 }))
    const docs = makeDocuments(3)

    for (const doc of docs) queue.enqueue(doc, KB)
    await queue.flush()

    for (const sink of [a, b]) {
      expect(sink.calls).toHaveLength(1)
      expect(Object.isFrozen(sink.calls[0])).toBe(true)
      sink.calls[0]?.forEach((doc, index) => expect(doc).toBe(docs[index]))
    }
  })
})

describe('createExportQueue: bounds', () => {
  it('drops the incoming document beyond maxQueueTraces, counts it and warns once', async () => {
    const recorder = recordingHooks()
    const sink = gatedSink()
    const queue = makeQueue([sink], options({ maxQueueTraces: 5, maxBatchSize: 2 }), recorder.hooks)
    const docs = makeDocuments(8)

    for (const doc of docs) queue.enqueue(doc, KB)

    expect(queue.stats()).toMatchObject({ pending: 5, dropped: 3 })
    expect(recorder.keys()).toEqual(['queue-overflow'])
    expect(recorder.reports[0]?.message).toContain('"gated"')

    sink.release()
    const flushing = queue.flush()
    for (let index = 0; index < 5; index++) {
      await jest.advanceTimersByTimeAsync(0)
      sink.release()
    }
    // the report counts the three dropped before the flush was called, with their reason
    await expect(flushing).resolves.toMatchObject({ flushed: 5, dropped: 3, timedOut: false, droppedBy: { overflow: 3 } })
    expect(sink.written).toEqual(docs.slice(0, 5))
  })

  it('warns again with the dropped count when the queue accepts documents again', async () => {
    const recorder = recordingHooks()
    const sink = gatedSink()
    const queue = makeQueue([sink], options({ maxQueueTraces: 2, scheduleDelayMs: 0 }), recorder.hooks)

    for (const doc of makeDocuments(6)) queue.enqueue(doc, KB)
    await jest.advanceTimersByTimeAsync(0)
    sink.release()
    await jest.advanceTimersByTimeAsync(0)
    queue.enqueue(makeDocument(), KB)

    expect(recorder.keys()).toEqual(['queue-overflow', 'queue-recovered'])
    expect(recorder.reports[1]?.message).toContain('after dropping 4')
  })

  it('counts the batch in flight against the bound', async () => {
    const sink = gatedSink()
    const queue = makeQueue([sink], options({ maxQueueTraces: 3, maxBatchSize: 2, scheduleDelayMs: 0 }))

    queue.enqueue(makeDocument(), KB)
    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(0)   // both in flight now
    for (const doc of makeDocuments(3)) queue.enqueue(doc, KB)

    expect(queue.stats()).toMatchObject({ pending: 3, dropped: 2 })
  })

  it('drops the incoming document beyond maxQueueBytes, using the given estimate', () => {
    const queue = makeQueue([gatedSink()], options({ maxQueueBytes: 1000 }))

    for (let index = 0; index < 5; index++) queue.enqueue(makeDocument(), 300)

    expect(queue.stats()).toMatchObject({ pending: 3, dropped: 2 })
  })

  it('drops a single document larger than maxQueueBytes, and accepts smaller ones after it', () => {
    const queue = makeQueue([gatedSink()], options({ maxQueueBytes: 1000 }))

    queue.enqueue(makeDocument(), 1001)
    queue.enqueue(makeDocument(), 1000)

    expect(queue.stats()).toMatchObject({ pending: 1, dropped: 1 })
  })

  it('frees the bytes of written documents', async () => {
    const queue = makeQueue([scriptedSink('s', () => 'ok')], options({ maxQueueBytes: 1000, scheduleDelayMs: 0 }))

    for (let round = 0; round < 10; round++) {
      queue.enqueue(makeDocument(), 600)
      await jest.advanceTimersByTimeAsync(0)
    }

    expect(queue.stats()).toMatchObject({ pending: 0, written: 10, dropped: 0 })
  })

  it('bounds each sink separately: a full dead sink does not cost a healthy sink its documents', async () => {
    const dead = scriptedSink('dead', () => 'hang')
    const healthy = scriptedSink('healthy', () => 'ok')
    const queue = makeQueue([dead, healthy], options({ maxQueueTraces: 2, maxBatchSize: 1, scheduleDelayMs: 0 }))

    for (const doc of makeDocuments(5)) {
      queue.enqueue(doc, KB)
      await jest.advanceTimersByTimeAsync(0)
    }

    expect(healthy.written).toHaveLength(5)
    expect(queue.stats().sinks).toEqual([
      { name: 'dead', produced: 5, pending: 2, written: 0, dropped: 3, droppedBy: { overflow: 3, rejected: 0, failed: 0, shutdown: 0, exit: 0 }, failedAttempts: 0 },
      { name: 'healthy', produced: 5, pending: 0, written: 5, dropped: 0, droppedBy: { overflow: 0, rejected: 0, failed: 0, shutdown: 0, exit: 0 }, failedAttempts: 0 },
    ])
    // a document counts as written once every sink wrote it, as dropped once any sink gave it up
    expect(queue.stats()).toMatchObject({ pending: 2, written: 0, dropped: 3 })
  })
})

describe('createExportQueue: failing sinks', () => {
  let unhandled: unknown[]
  const onUnhandled = (reason: unknown): void => { unhandled.push(reason) }

  beforeEach(() => {
    unhandled = []
    process.on('unhandledRejection', onUnhandled)
  })

  afterEach(async () => {
    await settle()
    process.removeListener('unhandledRejection', onUnhandled)
    expect(unhandled).toEqual([])
  })

  it.each([
    ['throws synchronously', 'throw', 's threw'],
    ['returns a rejected promise', 'reject', 's rejected'],
    ['rejects with a non-Error value (1)', 'reject-1', 'non-Error value: 1'],
  ] as const)('treats a write that %s as a failed attempt, retries it and then drops the batch', async (_label, behaviour, message) => {
    const recorder = recordingHooks()
    const sink = scriptedSink('s', () => behaviour)
    const queue = makeQueue([sink], options(), recorder.hooks)

    queue.enqueue(makeDocument(), KB)
    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(60_000)
    await settle()

    expect(sink.calls).toHaveLength(6)
    expect(queue.stats()).toMatchObject({ pending: 0, written: 0, dropped: 2, failedAttempts: 6 })
    expect(recorder.keys()).toEqual(['sink-failed:s'])
    expect(recorder.reports[0]?.message).toContain(message)
    expect(unhandled).toEqual([])
  })

  it('retries after 1 s, 1.5 s, 2.25 s, 3.375 s, then 5 s (capped), and drops after 5 retries', async () => {
    const sink = scriptedSink('s', () => 'reject')
    const queue = makeQueue([sink], options({ scheduleDelayMs: 0 }))
    const start = Date.now()

    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(120_000)

    const waits = sink.times.slice(1).map((time, index) => time - (sink.times[index] as number))
    expect(sink.times[0]).toBe(start)
    expect(waits).toEqual([1000, 1500, 2250, 3375, 5000])
    expect(queue.stats()).toMatchObject({ dropped: 1, failedAttempts: 6 })
  })

  it('keeps the delay capped at maxDelayMs and stops at the 30 s deadline', async () => {
    const sink = scriptedSink('s', () => 'reject')
    const queue = makeQueue([sink], options({ scheduleDelayMs: 0, retry: { maxRetries: 20 } }))

    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(120_000)

    const waits = sink.times.slice(1).map((time, index) => time - (sink.times[index] as number))
    // 1000 + 1500 + 2250 + 3375 + 5000 × 3 = 23 125 ms; one more 5 s wait would pass 30 s
    expect(waits).toEqual([1000, 1500, 2250, 3375, 5000, 5000, 5000, 5000])
    expect(queue.stats()).toMatchObject({ dropped: 1, failedAttempts: 9 })
  })

  it('adds ±jitter to each wait', async () => {
    const random = jest.spyOn(Math, 'random')
    try {
      random.mockReturnValueOnce(0).mockReturnValueOnce(1)
      const sink = scriptedSink('s', (call) => (call < 3 ? 'reject' : 'ok'))
      const queue = makeQueue([sink], options({ scheduleDelayMs: 0, retry: { jitter: 0.2 } }))

      queue.enqueue(makeDocument(), KB)
      await jest.advanceTimersByTimeAsync(10_000)

      const waits = sink.times.slice(1).map((time, index) => time - (sink.times[index] as number))
      expect(waits).toEqual([800, 1800])   // 1000 − 20 %, 1500 + 20 %
    } finally {
      random.mockRestore()
    }
  })

  it('writes the same batch again on retry, and counts it written when a retry succeeds', async () => {
    const sink = scriptedSink('s', (call) => (call === 1 ? 'reject' : 'ok'))
    const queue = makeQueue([sink], options({ scheduleDelayMs: 0 }))
    const docs = makeDocuments(2)

    for (const doc of docs) queue.enqueue(doc, KB)
    await jest.advanceTimersByTimeAsync(1000)

    expect(sink.calls).toHaveLength(2)
    expect(sink.calls[1]).toBe(sink.calls[0])
    expect(sink.written).toEqual(docs)
    expect(queue.stats()).toMatchObject({ pending: 0, written: 2, dropped: 0, failedAttempts: 1 })
  })

  it('fails an attempt that does not settle within attemptTimeoutMs, then retries', async () => {
    const sink = scriptedSink('s', (call) => (call === 1 ? 'hang' : 'ok'))
    const queue = makeQueue([sink], options({ scheduleDelayMs: 0 }))

    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(9_999)
    expect(sink.calls).toHaveLength(1)

    await jest.advanceTimersByTimeAsync(1 + 1000)
    expect(sink.calls).toHaveLength(2)
    expect(queue.stats()).toMatchObject({ written: 1, failedAttempts: 1 })
  })

  it('ignores a write that rejects after its attempt timed out (no unhandled rejection)', async () => {
    let rejectLate: (error: Error) => void = () => undefined
    const sink: Sink = { name: 'late', write: () => new Promise<void>((_resolve, reject) => { rejectLate = reject }) }
    const queue = makeQueue([sink], options({ scheduleDelayMs: 0, attemptTimeoutMs: 100, retry: { maxRetries: 0 } }))

    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(100)
    rejectLate(new Error('too late'))
    await settle()

    expect(queue.stats()).toMatchObject({ dropped: 1, failedAttempts: 1 })
  })

  it('does not let a dead sink delay a healthy one', async () => {
    const dead = scriptedSink('dead', () => 'hang')
    const failing = scriptedSink('failing', () => 'reject')
    const healthy = scriptedSink('healthy', () => 'ok')
    const queue = makeQueue([dead, failing, healthy], options({ maxBatchSize: 2 }))
    const docs = makeDocuments(5)

    for (const doc of docs) queue.enqueue(doc, KB)
    await jest.advanceTimersByTimeAsync(0)
    expect(healthy.written).toEqual(docs.slice(0, 4))

    await jest.advanceTimersByTimeAsync(200)
    expect(healthy.written).toEqual(docs)
    expect(dead.calls).toHaveLength(1)
  })
})

describe('createExportQueue: flush', () => {
  it('resolves once everything enqueued before it is written, without waiting for the schedule', async () => {
    const sink = scriptedSink('s', () => 'ok')
    const queue = makeQueue([sink], options({ scheduleDelayMs: 60_000 }))

    for (const doc of makeDocuments(3)) queue.enqueue(doc, KB)

    await expect(queue.flush()).resolves.toMatchObject({ flushed: 3, dropped: 0, timedOut: false })
    expect(sink.written).toHaveLength(3)
  })

  it('counts the documents that settled since the previous report, including later ones written with them', async () => {
    const sink = gatedSink()
    const queue = makeQueue([sink], options({ maxBatchSize: 10 }))

    queue.enqueue(makeDocument(), KB)
    queue.enqueue(makeDocument(), KB)
    const flushing = track(queue.flush())
    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(0)
    sink.release()
    await jest.advanceTimersByTimeAsync(0)
    sink.release()
    await jest.advanceTimersByTimeAsync(0)

    expect(flushing.value()).toMatchObject({ flushed: 3, dropped: 0, pending: 0, timedOut: false })
    await expect(queue.flush()).resolves.toMatchObject({ flushed: 0, dropped: 0 })
  })

  it('calls every sink\'s flush() after the documents are written', async () => {
    const order: string[] = []
    const sink: Sink = { name: 's', write: () => { order.push('write') }, flush: () => { order.push('flush') } }
    const queue = makeQueue([sink])

    queue.enqueue(makeDocument(), KB)
    await queue.flush()

    expect(order).toEqual(['write', 'flush'])
  })

  it('resolves with nothing to do at once, still calling sink flush()', async () => {
    const flushes: string[] = []
    const queue = makeQueue([{ name: 's', write: () => undefined, flush: () => { flushes.push('s') } }])

    await expect(queue.flush()).resolves.toMatchObject({ flushed: 0, dropped: 0, timedOut: false })
    expect(flushes).toEqual(['s'])
  })

  it('retries a batch waiting for its backoff at once instead of waiting', async () => {
    const sink = scriptedSink('s', (call) => (call === 1 ? 'reject' : 'ok'))
    const queue = makeQueue([sink], options({ scheduleDelayMs: 0 }))

    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(0)
    expect(sink.calls).toHaveLength(1)   // now waiting 1 s for the retry

    await expect(queue.flush()).resolves.toMatchObject({ flushed: 1, dropped: 0, timedOut: false })
    expect(sink.calls).toHaveLength(2)
  })

  it('still respects the retry limit while flushing, and reports the drop', async () => {
    const sink = scriptedSink('s', () => 'reject')
    const queue = makeQueue([sink])

    queue.enqueue(makeDocument(), KB)

    await expect(queue.flush()).resolves.toMatchObject({ flushed: 0, dropped: 1, timedOut: false })
    expect(sink.calls).toHaveLength(6)
  })

  it('resolves with timedOut at flushTimeoutMs when a sink never settles', async () => {
    const queue = makeQueue([scriptedSink('s', () => 'hang')])
    queue.enqueue(makeDocument(), KB)

    const flushing = track(queue.flush())
    await jest.advanceTimersByTimeAsync(4_999)
    expect(flushing.value()).toBeUndefined()

    await jest.advanceTimersByTimeAsync(1)
    expect(flushing.value()).toMatchObject({ flushed: 0, dropped: 0, timedOut: true })
  })

  it('takes its own timeout', async () => {
    const queue = makeQueue([scriptedSink('s', () => 'hang')])
    queue.enqueue(makeDocument(), KB)

    const flushing = track(queue.flush(50))
    await jest.advanceTimersByTimeAsync(50)

    expect(flushing.value()).toMatchObject({ flushed: 0, dropped: 0, timedOut: true })
  })

  it('reports a hanging sink flush() as timedOut, and a throwing one once, never rejecting', async () => {
    const recorder = recordingHooks()
    const hanging: Sink = { name: 'hanging', write: () => undefined, flush: () => new Promise<void>(() => undefined) }
    const throwing: Sink = { name: 'throwing', write: () => undefined, flush: () => { throw new Error('flush broke') } }
    const queue = makeQueue([hanging, throwing], options(), recorder.hooks)
    queue.enqueue(makeDocument(), KB)

    const flushing = track(queue.flush())
    await jest.advanceTimersByTimeAsync(5_000)

    expect(flushing.value()).toMatchObject({ flushed: 1, dropped: 0, timedOut: true })
    expect(recorder.keys()).toEqual(['sink-flush-failed:throwing'])
  })

  it('reports documents dropped during the flush', async () => {
    const queue = makeQueue([scriptedSink('s', () => 'reject')], options({ maxBatchSize: 2 }))
    for (const doc of makeDocuments(3)) queue.enqueue(doc, KB)

    await expect(queue.flush()).resolves.toMatchObject({ flushed: 0, dropped: 3, timedOut: false })
  })
})

describe('createExportQueue: shutdown', () => {
  it('flushes, then closes every sink once', async () => {
    const order: string[] = []
    const sink: Sink = {
      name: 's',
      write: () => { order.push('write') },
      flush: () => { order.push('flush') },
      close: () => { order.push('close') },
    }
    const queue = makeQueue([sink])
    queue.enqueue(makeDocument(), KB)

    await expect(queue.shutdown()).resolves.toMatchObject({ flushed: 1, dropped: 0, timedOut: false })
    await queue.shutdown()

    expect(order).toEqual(['write', 'flush', 'close'])
  })

  it('is idempotent: a second call returns the same promise', async () => {
    const queue = makeQueue([memorySink()])

    const first = queue.shutdown()
    const second = queue.shutdown()

    expect(second).toBe(first)
    expect(await second).toEqual(await first)
  })

  it('drops and counts documents enqueued afterwards, warning once', async () => {
    const recorder = recordingHooks()
    const sink = memorySink()
    const queue = makeQueue([sink], options(), recorder.hooks)
    await queue.shutdown()

    queue.enqueue(makeDocument(), KB)
    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(10_000)

    expect(sink.traces).toEqual([])
    expect(queue.stats()).toMatchObject({ pending: 0, dropped: 2 })
    expect(recorder.keys()).toEqual(['after-shutdown'])
  })

  it('resolves at its timeout with a hanging sink, dropping what is pending and cancelling retries', async () => {
    const recorder = recordingHooks()
    const sink = scriptedSink('s', () => 'hang')
    const closes: string[] = []
    const queue = makeQueue([{ ...sink, write: sink.write, close: () => { closes.push('close') } }], options({ maxBatchSize: 2 }), recorder.hooks)
    for (const doc of makeDocuments(3)) queue.enqueue(doc, KB)

    const shutting = track(queue.shutdown(1_000))
    await jest.advanceTimersByTimeAsync(1_000)

    expect(shutting.value()).toMatchObject({ flushed: 0, dropped: 3, timedOut: true })
    expect(queue.stats()).toMatchObject({ pending: 0, written: 0, dropped: 3 })
    expect(closes).toEqual(['close'])
    expect(recorder.keys()).toContain('shutdown-dropped')

    await jest.advanceTimersByTimeAsync(120_000)
    expect(sink.calls).toHaveLength(1)
  })

  it('cancels a retry waiting for its backoff', async () => {
    const sink = scriptedSink('s', () => 'reject')
    const queue = makeQueue([sink], options({ scheduleDelayMs: 0, attemptTimeoutMs: 100 }))
    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(0)

    await queue.shutdown(0)
    const calls = sink.calls.length
    await jest.advanceTimersByTimeAsync(120_000)

    expect(sink.calls).toHaveLength(calls)
    expect(queue.stats()).toMatchObject({ pending: 0, dropped: 1 })
  })

  it('bounds a hanging close() by the same timeout', async () => {
    const queue = makeQueue([{ name: 's', write: () => undefined, close: () => new Promise<void>(() => undefined) }])
    queue.enqueue(makeDocument(), KB)

    const shutting = track(queue.shutdown(2_000))
    await jest.advanceTimersByTimeAsync(1_999)
    expect(shutting.value()).toBeUndefined()
    await jest.advanceTimersByTimeAsync(1)

    expect(shutting.value()).toMatchObject({ flushed: 1, dropped: 0, timedOut: true })
  })

  it('resolves flush() after shutdown at once, without calling the closed sinks', async () => {
    const flushes: string[] = []
    const queue = makeQueue([{ name: 's', write: () => undefined, flush: () => { flushes.push('flush') } }])
    await queue.shutdown()

    await expect(queue.flush()).resolves.toMatchObject({ flushed: 0, dropped: 0, timedOut: false })
    expect(flushes).toEqual(['flush'])
  })
})

describe('createExportQueue: suppression', () => {
  it('runs every write, flush and close inside hooks.runSuppressed', async () => {
    const recorder = recordingHooks()
    const seen: Array<[string, number]> = []
    const sink: Sink = {
      name: 's',
      write: () => { seen.push(['write', recorder.depth()]) },
      flush: () => { seen.push(['flush', recorder.depth()]) },
      close: () => { seen.push(['close', recorder.depth()]) },
    }
    const failing = scriptedSink('f', (call) => (call === 1 ? 'reject' : 'ok'))
    const failingSink: Sink = { name: 'f', write: (batch) => { seen.push(['write-f', recorder.depth()]); return failing.write(batch) } }
    const queue = makeQueue([sink, failingSink], options({ maxBatchSize: 1 }), recorder.hooks)

    queue.enqueue(makeDocument(), KB)
    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(10_000)
    await queue.shutdown()

    expect(seen.map(([call]) => call).sort()).toEqual(['close', 'flush', 'write', 'write', 'write-f', 'write-f', 'write-f'])
    for (const [, depth] of seen) expect(depth).toBeGreaterThan(0)
  })
})

describe('createExportQueue: process hooks', () => {
  function ours(event: 'beforeExit' | 'exit', before: ReadonlyArray<unknown>): () => void {
    const added = (process.listeners(event as 'exit') as unknown[]).filter((listener) => !before.includes(listener))
    expect(added).toHaveLength(1)
    return added[0] as () => void
  }

  it('registers no listener at creation, one beforeExit and one exit listener on the first enqueue, and dispose removes them', () => {
    const beforeExit = process.listenerCount('beforeExit')
    const exit = process.listenerCount('exit')
    const queue = createExportQueue([memorySink()], options(), recordingHooks().hooks)
    expect(process.listenerCount('beforeExit')).toBe(beforeExit)

    queue.enqueue(makeDocument(), KB)
    queue.enqueue(makeDocument(), KB)
    expect(process.listenerCount('beforeExit')).toBe(beforeExit + 1)
    expect(process.listenerCount('exit')).toBe(exit + 1)

    queue.dispose()
    expect(process.listenerCount('beforeExit')).toBe(beforeExit)
    expect(process.listenerCount('exit')).toBe(exit)
  })

  it('removes its listeners on shutdown', async () => {
    const beforeExit = process.listenerCount('beforeExit')
    const queue = makeQueue([memorySink()])
    queue.enqueue(makeDocument(), KB)

    await queue.shutdown()

    expect(process.listenerCount('beforeExit')).toBe(beforeExit)
  })

  it('flushes on beforeExit only when something is pending', async () => {
    const flushes: number[] = []
    const sink = memorySink()
    const queue = makeQueue([{ ...sink, name: 'm', write: sink.write, flush: () => { flushes.push(1) } }], options({ scheduleDelayMs: 60_000 }))
    const before = process.listeners('beforeExit')
    queue.enqueue(makeDocument(), KB)
    const onBeforeExit = ours('beforeExit', before)

    onBeforeExit()
    await jest.advanceTimersByTimeAsync(0)
    expect(sink.traces).toHaveLength(1)
    expect(flushes).toHaveLength(1)

    onBeforeExit()   // the flush made beforeExit fire again: nothing pending, nothing to do
    await jest.advanceTimersByTimeAsync(0)
    expect(flushes).toHaveLength(1)
  })

  it('starts one beforeExit flush at a time', async () => {
    const sink = scriptedSink('s', () => 'hang')
    const queue = makeQueue([sink])
    const before = process.listeners('beforeExit')
    queue.enqueue(makeDocument(), KB)
    const onBeforeExit = ours('beforeExit', before)

    onBeforeExit()
    await jest.advanceTimersByTimeAsync(0)
    onBeforeExit()
    await jest.advanceTimersByTimeAsync(0)

    expect(sink.calls).toHaveLength(1)
  })

  it('drains pending documents into writeSync on exit', () => {
    const syncBatches: number[] = []
    const sink: Sink = { name: 's', write: () => new Promise<void>(() => undefined), writeSync: (batch) => { syncBatches.push(batch.length) } }
    const queue = makeQueue([sink], options({ maxBatchSize: 2 }))
    const before = process.listeners('exit')
    for (const doc of makeDocuments(5)) queue.enqueue(doc, KB)

    ours('exit', before)()

    expect(syncBatches).toEqual([2, 2, 1])
    expect(queue.stats()).toMatchObject({ pending: 0, written: 5 })
  })
})

describe('createExportQueue: drainSync', () => {
  it('takes over a batch waiting for a retry, and the retry loop lets it go', async () => {
    const written: string[] = []
    const asyncCalls: number[] = []
    const sink: Sink = {
      name: 's',
      write: (batch) => { asyncCalls.push(batch.length); return Promise.reject(new Error('down')) },
      writeSync: (batch) => { written.push(...batch.map((doc) => doc.prompt)) },
    }
    const queue = makeQueue([sink], options({ scheduleDelayMs: 0 }))
    const docs = makeDocuments(2)
    queue.enqueue(docs[0]!, KB)
    await jest.advanceTimersByTimeAsync(0)   // first attempt failed, waiting 1 s
    queue.enqueue(docs[1]!, KB)

    queue.drainSync()
    await jest.advanceTimersByTimeAsync(60_000)

    expect(written).toEqual(['doc-0', 'doc-1'])
    expect(asyncCalls).toEqual([1])
    expect(queue.stats()).toMatchObject({ pending: 0, written: 2, dropped: 0, failedAttempts: 1 })
  })

  it('writes a batch whose asynchronous write is still running too, and drops (counted) what sinks without writeSync hold', async () => {
    const syncWritten: number[] = []
    const hanging: Sink = { name: 'h', write: () => new Promise<void>(() => undefined), writeSync: (batch) => { syncWritten.push(batch.length) } }
    const plain = gatedSink('plain')
    const queue = makeQueue([hanging, plain], options({ maxBatchSize: 2, scheduleDelayMs: 0 }))
    for (const doc of makeDocuments(3)) queue.enqueue(doc, KB)
    await jest.advanceTimersByTimeAsync(0)   // two in flight in each lane

    queue.drainSync()

    // the batch in flight may be half written: writeSync is idempotent, so it is handed over whole
    expect(syncWritten).toEqual([2, 1])
    expect(queue.stats().sinks?.map((lane) => [lane.pending, lane.written, lane.droppedBy.exit])).toEqual([[0, 3, 0], [0, 0, 3]])
    expect(queue.stats()).toMatchObject({ produced: 3, written: 0, dropped: 3, pending: 0, droppedBy: { exit: 3 } })
  })

  it('drops and reports a batch whose writeSync throws', () => {
    const recorder = recordingHooks()
    const sink: Sink = { name: 's', write: () => undefined, writeSync: () => { throw new Error('disk full') } }
    const queue = makeQueue([sink], options(), recorder.hooks)
    queue.enqueue(makeDocument(), KB)

    queue.drainSync()

    expect(queue.stats()).toMatchObject({ pending: 0, dropped: 1 })
    expect(recorder.keys()).toEqual(['sink-failed:s'])
  })
})

describe('createExportQueue: dispose', () => {
  it('drops what is pending, stops retries and resolves a running flush', async () => {
    const sink = scriptedSink('s', () => 'hang')
    const queue = createExportQueue([sink], options(), recordingHooks().hooks)
    queue.enqueue(makeDocument(), KB)
    const flushing = track(queue.flush())
    await jest.advanceTimersByTimeAsync(0)

    queue.dispose()
    await jest.advanceTimersByTimeAsync(0)

    expect(flushing.value()).toMatchObject({ dropped: 1 })
    expect(jest.getTimerCount()).toBe(0)
    queue.enqueue(makeDocument(), KB)
    expect(queue.stats()).toMatchObject({ pending: 0, dropped: 2 })
  })
})

describe('createExportQueue: timers', () => {
  it('unrefs every timer it creates but the deadline of a flush or shutdown someone awaits', async () => {
    const created: Array<ReturnType<typeof setTimeout>> = []
    const fake = globalThis.setTimeout
    const spy = jest.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      const timer = fake(fn, ms)
      created.push(timer)
      return timer
    }) as typeof setTimeout)
    try {
      const hanging = scriptedSink('hang', () => 'hang')
      const failing = scriptedSink('fail', () => 'reject')
      const queue = makeQueue([hanging, failing], options({ scheduleDelayMs: 10 }))
      queue.enqueue(makeDocument(), KB)             // schedule delay
      await jest.advanceTimersByTimeAsync(10)       // attempt timeout, retry backoff
      const before = created.length
      void queue.flush(60_000)                      // flush deadline
      const flushTimers = created.length - before

      expect(before).toBeGreaterThanOrEqual(2)
      expect(created.slice(0, before).filter((timer) => timer.hasRef())).toEqual([])
      // an awaited flush keeps the process alive until its deadline (docs/reliability.md#accounting-flush-and-stats-add-up)
      expect(flushTimers).toBe(1)
      expect(created[before]?.hasRef()).toBe(true)
    } finally {
      spy.mockRestore()
    }
  })
})

describe('createExportQueue: bounded memory (docs/export.md)', () => {
  it('keeps at most 1000 documents queued while 100 000 × 10 KB documents meet a rejecting sink, counting every drop', async () => {
    const sink = scriptedSink('down', () => 'reject')
    const queue = makeQueue([sink], defaultQueueOptions)
    const payload = 'x'.repeat(10 * KB)
    let enqueued = 0
    let maxQueued = 0

    for (let round = 0; round < 100; round++) {
      for (let index = 0; index < 1000; index++) {
        queue.enqueue(makeDocument({ output: payload }), 10 * KB)
        enqueued++
      }
      const stats = queue.stats()
      maxQueued = Math.max(maxQueued, stats.pending)
      expect(stats.pending + stats.dropped).toBe(enqueued)
      await jest.advanceTimersByTimeAsync(2_000)
    }
    await jest.advanceTimersByTimeAsync(30 * 60_000)

    expect(maxQueued).toBeLessThanOrEqual(1000)
    expect(queue.stats()).toMatchObject({ pending: 0, written: 0, dropped: 100_000 })
    expect(queue.stats().failedAttempts).toBe(sink.calls.length)
  })

  it('applies the 64 MiB bound to large documents', () => {
    const queue = makeQueue([scriptedSink('down', () => 'reject')], defaultQueueOptions)

    for (let index = 0; index < 1000; index++) queue.enqueue(makeDocument(), 100 * KB)

    const fits = Math.floor((64 * 1024 * KB) / (100 * KB))
    expect(queue.stats()).toMatchObject({ pending: fits, dropped: 1000 - fits })
  })
})

describe('createExportQueue: options', () => {
  it.each([
    ['maxBatchSize', { maxBatchSize: 0 }],
    ['maxQueueTraces', { maxQueueTraces: 1.5 }],
    ['maxQueueBytes', { maxQueueBytes: -1 }],
    ['scheduleDelayMs', { scheduleDelayMs: Number.NaN }],
    ['attemptTimeoutMs', { attemptTimeoutMs: 0 }],
    ['retry.maxRetries', { retry: { maxRetries: -1 } }],
    ['retry.jitter', { retry: { jitter: 2 } }],
    ['retry.multiplier', { retry: { multiplier: 0.5 } }],
  ])('throws a TypeError naming %s', (key, overrides) => {
    expect(() => createExportQueue([], options(overrides as Parameters<typeof options>[0]), recordingHooks().hooks)).toThrow(new RegExp(`\`queue\\.${key.replace('.', '\\.')}\``))
  })

  it('throws a TypeError for something that is not a sink', () => {
    expect(() => createExportQueue([{ name: 'x' } as unknown as Sink], options(), recordingHooks().hooks)).toThrow(TypeError)
  })
})


describe('createExportQueue: retry hints from the sink', () => {
  /** A sink whose first write rejects with `error`, and which succeeds afterwards. */
  function failingOnce(error: Error): Sink & { readonly calls: number[] } {
    const calls: number[] = []
    return {
      name: 'hinting',
      calls,
      write: () => {
        calls.push(Date.now())
        if (calls.length === 1) return Promise.reject(error)
        return Promise.resolve()
      },
    }
  }

  it('waits at least retryAfterMs before retrying (an OTLP Retry-After)', async () => {
    const sink = failingOnce(Object.assign(new Error('429'), { retryable: true, retryAfterMs: 3000 }))
    const queue = makeQueue([sink], options({ scheduleDelayMs: 0 }))

    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(0)
    expect(sink.calls).toHaveLength(1)
    // the queue's own backoff would retry after 1 s
    await jest.advanceTimersByTimeAsync(2999)
    expect(sink.calls).toHaveLength(1)
    await jest.advanceTimersByTimeAsync(1)

    expect(sink.calls).toHaveLength(2)
    expect(queue.stats()).toMatchObject({ written: 1, dropped: 0 })
  })

  it('drops a batch at once when the sink says retrying cannot help', async () => {
    const sink = failingOnce(Object.assign(new Error('400 bad request'), { retryable: false }))
    const queue = makeQueue([sink], options({ scheduleDelayMs: 0 }))

    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(60_000)

    expect(sink.calls).toHaveLength(1)
    expect(queue.stats()).toMatchObject({ written: 0, dropped: 1 })
  })

  it('drops a batch whose Retry-After does not fit the retry deadline', async () => {
    const sink = failingOnce(Object.assign(new Error('503'), { retryAfterMs: 60_000 }))
    const queue = makeQueue([sink], options({ scheduleDelayMs: 0 }))

    queue.enqueue(makeDocument(), KB)
    await jest.advanceTimersByTimeAsync(120_000)

    expect(sink.calls).toHaveLength(1)
    expect(queue.stats()).toMatchObject({ dropped: 1 })
  })
})
