import { describe, expect, it } from '@jest/globals'
import { configure, memorySink, trace, type Sink, type TraceDocument } from '../../src/index.js'
import { isServerless } from '../../src/configure.js'

describe('flushOnReturn', () => {
  it('resolves a handler only after its own trace is written, without a flush() call', async () => {
    const written: TraceDocument[] = []
    let release: () => void = () => undefined
    const slowSink: Sink = {
      name: 'slow',
      write: async (batch) => {
        await new Promise<void>((resolve) => { release = resolve })
        written.push(...batch)
      },
    }
    configure({ sinks: [slowSink], flushOnReturn: true, queue: { scheduleDelayMs: 0 } })
    const handler = trace({ prompt: 'lambda' })(async (event: { id: number }) => ({ statusCode: 200, id: event.id }))

    let settled = false
    const pending = handler({ id: 7 }).then((response) => { settled = true; return response })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(settled).toBe(false)   // the sink has not finished writing yet
    release()
    const response = await pending

    expect(response).toEqual({ statusCode: 200, id: 7 })
    expect(written.map((doc) => doc.prompt)).toEqual(['lambda'])
  })

  it('also waits when the handler fails, and still rejects with the same error', async () => {
    const sink = memorySink()
    configure({ sinks: [sink], flushOnReturn: true })
    const failure = new Error('handler failed')
    const handler = trace({ prompt: 'lambda' })(async () => { throw failure })

    const caught = await handler().catch((error: unknown) => error)

    expect(caught).toBe(failure)
    expect(sink.traces.map((doc) => doc.status)).toEqual(['error'])
  })

  it('is detected from the serverless platforms\' environment variables', () => {
    expect(isServerless({ AWS_LAMBDA_FUNCTION_NAME: 'fn' })).toBe(true)
    expect(isServerless({ VERCEL: '1' })).toBe(true)
    expect(isServerless({ FUNCTIONS_WORKER_RUNTIME: 'node' })).toBe(true)
    expect(isServerless({})).toBe(false)
  })
})

describe('configure() while a trace runs', () => {
  it('delivers the running trace through the new setup instead of dropping it', async () => {
    const before = memorySink()
    configure({ sinks: [before] })
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => { release = resolve })
    const pending = trace({ prompt: 'spans-configure' })(async () => { await gate; return 1 })()

    const after = memorySink()
    configure({ sinks: [after] })
    release()
    expect(await pending).toBe(1)
    const { flush } = await import('../../src/index.js')
    await flush()

    expect(before.traces).toHaveLength(0)
    expect(after.traces.map((doc) => doc.prompt)).toEqual(['spans-configure'])
  })
})
