// docs/reliability.md#accounting-flush-and-stats-add-up and #back-pressure-queuewhenfull: what a sink
// says it gave up on, whenFull 'wait', the overflow warning's interval, and that every count adds up.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { SinkError, type Sink } from '../../src/export/queue.js'
import { OVERFLOW_WARNING_INTERVAL_MS } from '../../src/export/queue.js'
import { makeDocument, makeDocuments } from '../helpers/documents.js'
import { gatedSink, makeQueue, options, recordingHooks } from './helpers.js'

const KB = 1024

beforeEach(() => {
  jest.useFakeTimers()
})

afterEach(() => {
  jest.useRealTimers()
})

/** produced = written + dropped + pending, in total and per sink, and dropped = the sum of its reasons. */
function expectBalanced(stats: ReturnType<ReturnType<typeof makeQueue>['stats']>): void {
  const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0)
  expect(stats.produced).toBe(stats.written + stats.dropped + stats.pending)
  expect(sum(stats.droppedBy)).toBe(stats.dropped)
  for (const sink of stats.sinks) {
    expect(sink.produced).toBe(sink.written + sink.dropped + sink.pending)
    expect(sum(sink.droppedBy)).toBe(sink.dropped)
  }
}

describe('what a sink gives up on is dropped, not written', () => {
  it('counts the documents of a WriteResult as rejected and the rest as written', async () => {
    const docs = makeDocuments(4)
    const sink: Sink = { name: 'picky', write: (batch) => ({ dropped: batch.filter((doc) => doc === docs[1] || doc === docs[3]).map((doc) => ({ doc, reason: '400 from the collector' })) }) }
    const queue = makeQueue([sink], options({ scheduleDelayMs: 0 }))
    for (const doc of docs) queue.enqueue(doc, KB)

    await expect(queue.flush()).resolves.toEqual({ flushed: 2, dropped: 2, pending: 0, timedOut: false, droppedBy: { overflow: 0, rejected: 2, failed: 0, shutdown: 0, exit: 0 } })
    expect(queue.stats().sinks[0]).toMatchObject({ produced: 4, written: 2, dropped: 2, droppedBy: { rejected: 2 } })
    expectBalanced(queue.stats())
  })

  it('counts a batch failed with SinkError({ retryable: false }) as rejected at once, and one that exhausted its retries as failed', async () => {
    const refusing: Sink = { name: 'refusing', write: () => { throw new SinkError('400', { retryable: false }) } }
    const failing: Sink = { name: 'failing', write: () => Promise.reject(new Error('ECONNREFUSED')) }
    const queue = makeQueue([refusing, failing], options({ scheduleDelayMs: 0, retry: { maxRetries: 1 } }))
    queue.enqueue(makeDocument(), KB)

    const report = await queue.flush()

    expect(report).toMatchObject({ flushed: 0, dropped: 1, droppedBy: { rejected: 1, failed: 0 } })
    expect(queue.stats().sinks.map((sink) => [sink.name, sink.droppedBy.rejected, sink.droppedBy.failed, sink.failedAttempts])).toEqual([['refusing', 1, 0, 1], ['failing', 0, 1, 2]])
    expectBalanced(queue.stats())
  })

  it('ignores a malformed WriteResult (the sink\'s bug) and counts the batch as written', async () => {
    const sink = { name: 'odd', write: () => ({ dropped: [null, 3, { doc: 'x' }] }) } as unknown as Sink
    const queue = makeQueue([sink], options({ scheduleDelayMs: 0 }))
    queue.enqueue(makeDocument(), KB)

    await expect(queue.flush()).resolves.toMatchObject({ flushed: 1, dropped: 0 })
  })
})

describe("whenFull: 'wait'", () => {
  it('hands the caller a promise when a sink is full, and settles it once the document found room', async () => {
    const sink = gatedSink()
    const queue = makeQueue([sink], options({ maxQueueTraces: 2, maxBatchSize: 2, scheduleDelayMs: 0, whenFull: 'wait' }))
    const docs = makeDocuments(3)

    expect(queue.enqueue(docs[0]!, KB)).toBeUndefined()
    expect(queue.enqueue(docs[1]!, KB)).toBeUndefined()
    let admitted = false
    void queue.enqueue(docs[2]!, KB)?.then(() => { admitted = true })
    await jest.advanceTimersByTimeAsync(0)
    expect(admitted).toBe(false)
    expect(queue.stats()).toMatchObject({ produced: 3, dropped: 0, pending: 3 })

    sink.release()
    await jest.advanceTimersByTimeAsync(0)
    expect(admitted).toBe(true)
    sink.release()
    await jest.advanceTimersByTimeAsync(0)
    expect(sink.written).toEqual(docs)
    expectBalanced(queue.stats())
  })

  it('gives a wait up after exitTimeoutMs: the document is dropped as overflow and the caller goes on', async () => {
    const sink = gatedSink()
    const queue = makeQueue([sink], options({ maxQueueTraces: 1, scheduleDelayMs: 0, whenFull: 'wait', exitTimeoutMs: 3000 }))
    queue.enqueue(makeDocument(), KB)
    let admitted = false
    void queue.enqueue(makeDocument(), KB)?.then(() => { admitted = true })

    await jest.advanceTimersByTimeAsync(2999)
    expect(admitted).toBe(false)
    await jest.advanceTimersByTimeAsync(1)
    expect(admitted).toBe(true)
    expect(queue.stats()).toMatchObject({ produced: 2, dropped: 1, droppedBy: { overflow: 1 }, pending: 1 })
    expectBalanced(queue.stats())
  })

  it('lets at most maxQueueTraces more documents wait, then drops (a synchronous loop cannot wait)', () => {
    const queue = makeQueue([gatedSink()], options({ maxQueueTraces: 2, whenFull: 'wait' }))
    const results = makeDocuments(6).map((doc) => queue.enqueue(doc, KB))

    expect(results.map((result) => result === undefined)).toEqual([true, true, false, false, true, true])
    expect(queue.stats()).toMatchObject({ produced: 6, pending: 4, dropped: 2, droppedBy: { overflow: 2 } })
  })

  it("with 'drop' (the default) never returns a promise", () => {
    const queue = makeQueue([gatedSink()], options({ maxQueueTraces: 1 }))
    expect(makeDocuments(3).map((doc) => queue.enqueue(doc, KB))).toEqual([undefined, undefined, undefined])
  })

  it('rejects an unknown whenFull at configure time', () => {
    expect(() => makeQueue([], options({ whenFull: 'block' as never }))).toThrow("Expected `queue.whenFull` to be 'drop' or 'wait', got \"block\".")
  })
})

describe('a full queue warns once per interval with the running count, not once in all', () => {
  it(`repeats the warning every ${OVERFLOW_WARNING_INTERVAL_MS / 1000} s while traces keep being dropped`, async () => {
    const recorder = recordingHooks()
    const queue = makeQueue([gatedSink()], options({ maxQueueTraces: 1 }), recorder.hooks)
    queue.enqueue(makeDocument(), KB)

    for (let second = 0; second < 25; second++) {
      queue.enqueue(makeDocument(), KB)
      queue.enqueue(makeDocument(), KB)
      await jest.advanceTimersByTimeAsync(1000)
    }

    const overflow = recorder.reports.filter((report) => report.key === 'queue-overflow')
    // at 0 s, 10 s and 20 s: 50 dropped in all, the count growing
    expect(overflow).toHaveLength(3)
    expect(overflow[1]?.message).toContain('21 trace(s) dropped so far')
    expect(overflow[2]?.message).toContain('41 trace(s) dropped so far')
    expect(queue.stats()).toMatchObject({ dropped: 50, droppedBy: { overflow: 50 } })
  })
})
