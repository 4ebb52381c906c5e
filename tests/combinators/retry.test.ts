import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { AbortError } from 'p-retry'
import { flush, trace, traceTool } from '../../src/index.js'
import { spyWarnings, useMemorySink } from '../helpers/memory.js'

/** A tool body that fails `failures` times, then returns 'ok'; counts its calls. */
function flaky(failures: number, make: (n: number) => unknown = (n) => new Error(`attempt ${n} failed`)) {
  const calls = { count: 0 }
  const body = async (): Promise<string> => {
    calls.count++
    if (calls.count <= failures) throw make(calls.count)
    return 'ok'
  }
  return { calls, body }
}

describe('traceTool retries', () => {
  afterEach(() => {
    jest.useRealTimers()
  })

  it('waits 0.5 s then 1.0 s for maxRetries: 2 and records attempts, retries and attempt errors', async () => {
    jest.useFakeTimers()
    const sink = useMemorySink()
    const { calls, body } = flaky(2)
    const tool = traceTool({ name: 'flaky', maxRetries: 2 })(body)
    const run = trace({ prompt: 'retry' })(async () => tool())

    const pending = run()
    await jest.advanceTimersByTimeAsync(0)
    expect(calls.count).toBe(1)
    await jest.advanceTimersByTimeAsync(499)
    expect(calls.count).toBe(1)
    await jest.advanceTimersByTimeAsync(1)
    expect(calls.count).toBe(2)
    await jest.advanceTimersByTimeAsync(999)
    expect(calls.count).toBe(2)
    await jest.advanceTimersByTimeAsync(1)
    expect(calls.count).toBe(3)
    expect(await pending).toBe('ok')
    await flush()

    const doc = sink.traces[0]!
    expect(doc.retryCount).toBe(2)
    expect(doc.steps[0]).toMatchObject({
      status: 'success', attempts: 3, retries: 2, output: 'ok',
      attemptErrors: [
        { attempt: 1, error: { type: 'Error', message: 'attempt 1 failed' } },
        { attempt: 2, error: { type: 'Error', message: 'attempt 2 failed' } },
      ],
    })
  })

  it('runs at most maxRetries + 1 attempts and rethrows the last error unchanged', async () => {
    jest.useFakeTimers()
    const sink = useMemorySink()
    const errors: Error[] = []
    const { calls, body } = flaky(10, (n) => { const e = new Error(`failure ${n}`); errors.push(e); return e })
    const tool = traceTool({ name: 'down', maxRetries: 2 })(body)

    const pending = trace({ prompt: 'p' })(async () => tool())().catch((e: unknown) => e)
    await jest.runAllTimersAsync()
    const caught = await pending
    await flush()

    expect(calls.count).toBe(3)
    expect(caught).toBe(errors[2])
    expect(sink.traces[0]!.steps[0]).toMatchObject({
      status: 'error', attempts: 3, retries: 2, error: { message: 'failure 3' },
      attemptErrors: [{ attempt: 1, error: { message: 'failure 1' } }, { attempt: 2, error: { message: 'failure 2' } }],
    })
    expect(sink.traces[0]!.retryCount).toBe(2)
  })

  it('never retries a tool without maxRetries, whatever it throws', async () => {
    const sink = useMemorySink()
    const { calls, body } = flaky(1)
    const tool = traceTool({ name: 'once' })(body)

    await trace({ prompt: 'p' })(async () => tool())().catch(() => undefined)
    await flush()

    expect(calls.count).toBe(1)
    expect(sink.traces[0]!.steps[0]).toMatchObject({ attempts: 1, retries: 0, attemptErrors: [] })
  })

  it('stops early when shouldRetry says no, and on p-retry AbortError', async () => {
    jest.useFakeTimers()
    useMemorySink()
    const notFound = Object.assign(new Error('404'), { status: 404 })
    const a = flaky(5, () => notFound)
    const stopOn4xx = traceTool({ name: 'http', maxRetries: 3, shouldRetry: (e) => (e as { status?: number }).status !== 404 })(a.body)
    const abort = new AbortError('give up')
    const b = flaky(5, () => abort)
    const aborting = traceTool({ name: 'abort', maxRetries: 3 })(b.body)

    const results = trace({ prompt: 'p' })(async () => Promise.all([stopOn4xx().catch((e: unknown) => e), aborting().catch((e: unknown) => e)]))()
    await jest.runAllTimersAsync()

    expect(await results).toEqual([notFound, abort])
    const [first, second] = await results
    expect(first).toBe(notFound)
    expect(second).toBe(abort)
    expect(a.calls.count).toBe(1)
    expect(b.calls.count).toBe(1)
  })

  it('does not retry an aborted call (an error named AbortError, as fetch throws)', async () => {
    useMemorySink()
    const aborted = new DOMException('The operation was aborted.', 'AbortError')
    const { calls, body } = flaky(5, () => aborted)
    const tool = traceTool({ name: 'fetch', maxRetries: 3 })(body)

    const caught = await trace({ prompt: 'p' })(async () => tool())().catch((e: unknown) => e)

    expect(caught).toBe(aborted)
    expect(calls.count).toBe(1)
  })

  it('treats a throwing shouldRetry as "retry", warning once', async () => {
    jest.useFakeTimers()
    useMemorySink()
    const warnings = spyWarnings()
    const { calls, body } = flaky(1)
    const tool = traceTool({ name: 'guarded', maxRetries: 1, shouldRetry: () => { throw new Error('predicate bug') } })(body)

    try {
      const pending = trace({ prompt: 'p' })(async () => tool())()
      await jest.runAllTimersAsync()
      expect(await pending).toBe('ok')
    } finally {
      warnings.restore()
    }

    expect(calls.count).toBe(2)
    expect(warnings.messages().filter((m) => m.includes('shouldRetry'))).toHaveLength(1)
  })

  it('rethrows the identical non-Error value after retries', async () => {
    jest.useFakeTimers()
    useMemorySink()
    const thrown = { code: 'E_WEIRD' }
    const tool = traceTool({ name: 'weird', maxRetries: 1 })(async () => { throw thrown })

    const pending = trace({ prompt: 'p' })(async () => tool())().catch((e: unknown) => e)
    await jest.runAllTimersAsync()

    expect(await pending).toBe(thrown)
  })

  it('keeps a sync tool sync when it succeeds, and returns a Promise only when it must wait to retry', async () => {
    jest.useFakeTimers()
    const sink = useMemorySink()
    let calls = 0
    const tool = traceTool({ name: 'sync', maxRetries: 1 })((fail: boolean) => {
      calls++
      if (fail && calls === 1) throw new Error('first')
      return 42
    })

    const direct = trace({ prompt: 'sync-ok' })(() => tool(false))()
    expect(direct).toBe(42)

    calls = 0
    const deferred = trace({ prompt: 'sync-retry' })(() => tool(true))()
    expect(deferred).toBeInstanceOf(Promise)
    await jest.runAllTimersAsync()
    expect(await deferred).toBe(42)
    await flush()

    expect(sink.traces.map((d) => d.steps[0]!.attempts)).toEqual([1, 2])
  })

  it('keeps a sync throw sync when shouldRetry declines', () => {
    useMemorySink()
    const failure = new Error('fatal')
    const tool = traceTool({ name: 'sync', maxRetries: 3, shouldRetry: () => false })(() => { throw failure })

    let caught: unknown
    trace({ prompt: 'p' })(() => { try { tool() } catch (e) { caught = e } })()

    expect(caught).toBe(failure)
  })

  it('honours maxTimeout, factor and maxRetryTime', async () => {
    jest.useFakeTimers()
    useMemorySink()
    const times: number[] = []
    const start = Date.now()
    const tool = traceTool({ name: 't', maxRetries: 10, minTimeout: 100, factor: 3, maxTimeout: 500, maxRetryTime: 1500 })(async () => {
      times.push(Date.now() - start)
      throw new Error('down')
    })

    const pending = trace({ prompt: 'p' })(async () => tool())().catch((e: unknown) => e)
    await jest.runAllTimersAsync()
    await pending

    // waits 100, 300, 500 (capped), 500 … and nothing starts after 1.5 s
    expect(times.slice(0, 4)).toEqual([0, 100, 400, 900])
    expect(times.at(-1)!).toBeLessThanOrEqual(1500)
    expect(times.length).toBeLessThan(11)
  })

  it('retries with real timers too', async () => {
    const sink = useMemorySink()
    const { calls, body } = flaky(1)
    const tool = traceTool({ name: 'real', maxRetries: 1, minTimeout: 10 })(body)

    expect(await trace({ prompt: 'p' })(async () => tool())()).toBe('ok')
    await flush()

    expect(calls.count).toBe(2)
    expect(sink.traces[0]!.steps[0]!.durationMs).toBeGreaterThanOrEqual(9)
  })

  it('sums retries over all steps into retry_count', async () => {
    jest.useFakeTimers()
    const sink = useMemorySink()
    const a = traceTool({ name: 'a', maxRetries: 2 })(flaky(1).body)
    const b = traceTool({ name: 'b', maxRetries: 2 })(flaky(2).body)

    const pending = trace({ prompt: 'p' })(async () => Promise.all([a(), b()]))()
    await jest.runAllTimersAsync()
    await pending
    await flush()

    expect(sink.traces[0]!.retryCount).toBe(3)
  })
})
