import { describe, expect, it } from '@jest/globals'
import { Readable } from 'node:stream'
import { flush, trace, traceTool } from '../../src/index.js'
import { shape, useMemorySink } from '../helpers/memory.js'

const lookup = traceTool({ name: 'lookup' })(async (token: string) => token.toUpperCase())

async function* tokens(words: string[], log: string[]): AsyncGenerator<string, void, undefined> {
  for (const word of words) {
    log.push(`produce ${word}`)
    yield lookup(word)   // a tool called while the stream produces its chunks
  }
}

describe('streams', () => {
  it('ends a stream step when iteration finishes, with the chunks as output and tools as children', async () => {
    const sink = useMemorySink()
    const log: string[] = []
    const stream = traceTool({ name: 'generate', kind: 'llm' })((words: string[]) => tokens(words, log))

    const out = await trace({ prompt: 'stream' })(async () => {
      const chunks: string[] = []
      for await (const chunk of stream(['a', 'b'])) chunks.push(chunk)
      return chunks
    })()
    await flush()

    expect(out).toEqual(['A', 'B'])
    const doc = sink.traces[0]!
    expect(shape(doc)).toEqual(['generate', 'generate > lookup', 'generate > lookup'])
    expect(doc.steps[0]).toMatchObject({ status: 'success', output: ['A', 'B'], outputKind: 'stream' })
  })

  it('does not read ahead of the caller', async () => {
    useMemorySink()
    const log: string[] = []
    const stream = traceTool({ name: 'generate' })(() => tokens(['a', 'b', 'c'], log))

    await trace({ prompt: 'lazy' })(async () => {
      const iterator = stream()[Symbol.asyncIterator]()
      expect(log).toEqual([])
      await iterator.next()
      expect(log).toEqual(['produce a'])
      await iterator.next()
      expect(log).toEqual(['produce a', 'produce b'])
      await iterator.return?.()
    })()
  })

  it('ends the step when iteration is broken off, keeping the chunks read so far', async () => {
    const sink = useMemorySink()
    const stream = traceTool({ name: 'generate' })(() => tokens(['a', 'b', 'c'], []))

    await trace({ prompt: 'break' })(async () => {
      for await (const chunk of stream()) if (chunk === 'A') break
    })()
    await flush()

    expect(sink.traces[0]!.steps[0]).toMatchObject({ status: 'success', output: ['A'] })
    expect(sink.traces[0]!.steps[0]).not.toHaveProperty('incomplete')
  })

  it('records a stream that throws as an error step and rethrows the same error', async () => {
    const sink = useMemorySink()
    const failure = new Error('connection reset')
    const stream = traceTool({ name: 'generate' })(async function* () { yield 1; throw failure })

    const caught = await trace({ prompt: 'throws' })(async () => {
      for await (const chunk of stream()) void chunk
    })().catch((e: unknown) => e)
    await flush()

    expect(caught).toBe(failure)
    expect(sink.traces[0]!.steps[0]).toMatchObject({ status: 'error', error: { message: 'connection reset' } })
  })

  it('writes a trace whose function returns a stream when the stream ends', async () => {
    const sink = useMemorySink()
    const run = trace({ prompt: 'streaming-trace' })((words: string[]) => tokens(words, []))

    const stream = run(['x', 'y'])
    await flush()
    expect(sink.traces).toHaveLength(0)

    const chunks: string[] = []
    for await (const chunk of stream) chunks.push(chunk)
    await flush()

    expect(chunks).toEqual(['X', 'Y'])
    expect(sink.traces).toHaveLength(1)
    expect(sink.traces[0]).toMatchObject({ output: ['X', 'Y'], outputKind: 'stream' })
    expect(shape(sink.traces[0]!)).toEqual(['lookup', 'lookup'])
  })

  it('waits for a promised stream (an async function returning a stream)', async () => {
    const sink = useMemorySink()
    const stream = traceTool({ name: 'sdk_call' })(async () => tokens(['q'], []))

    await trace({ prompt: 'promised' })(async () => {
      const s = await stream()
      for await (const chunk of s) void chunk
    })()
    await flush()

    expect(sink.traces[0]!.steps[0]).toMatchObject({ output: ['Q'], outputKind: 'stream' })
  })

  it('keeps the other properties of a stream object working', async () => {
    useMemorySink()
    const source = Object.assign(tokens(['a'], []), { controller: { abort: () => 'aborted' }, label: 'sdk-stream' })
    const stream = traceTool({ name: 'sdk' })(() => source)

    await trace({ prompt: 'props' })(async () => {
      const s = stream()
      expect(s.label).toBe('sdk-stream')
      expect(s.controller.abort()).toBe('aborted')
      for await (const chunk of s) void chunk
    })()
  })

  it('closes a step left open when its trace ends as incomplete', async () => {
    const sink = useMemorySink()
    const stream = traceTool({ name: 'never_read' })(() => tokens(['a'], []))

    await trace({ prompt: 'abandoned' })(async () => { stream() })()
    await flush()

    expect(sink.traces[0]!.steps[0]).toMatchObject({ name: 'never_read', incomplete: true, status: 'success' })
  })

  it('returns a Node stream as it is and ends the step when it ends', async () => {
    const sink = useMemorySink()
    const readable = Readable.from(['a', 'b'])
    const tool = traceTool({ name: 'file' })(() => readable)

    await trace({ prompt: 'node' })(async () => {
      const got = tool()
      expect(got).toBe(readable)
      const chunks: string[] = []
      for await (const chunk of got) chunks.push(chunk as string)
      await new Promise((resolve) => setImmediate(resolve))
      return chunks
    })()
    await flush()

    expect(sink.traces[0]!.steps[0]).toMatchObject({ status: 'success', outputKind: 'stream', output: '[ReadableStream]' })
    expect(sink.traces[0]!.steps[0]).not.toHaveProperty('incomplete')
  })

  it('passes a web ReadableStream through and records its chunks', async () => {
    const sink = useMemorySink()
    const tool = traceTool({ name: 'web' })(() => new ReadableStream<string>({
      start(controller) { controller.enqueue('p'); controller.enqueue('q'); controller.close() },
    }))

    const text = await trace({ prompt: 'web' })(async () => {
      const reader = tool().getReader()
      let all = ''
      for (let r = await reader.read(); !r.done; r = await reader.read()) all += r.value
      return all
    })()
    await flush()

    expect(text).toBe('pq')
    expect(sink.traces[0]!.steps[0]).toMatchObject({ output: ['p', 'q'], outputKind: 'stream' })
  })
})

describe('web streams, cancelled', () => {
  it('ends the step (and writes a streaming trace) when the caller cancels', async () => {
    const sink = useMemorySink()
    let cancelled: unknown
    const run = trace({ prompt: 'web-cancel' })(() => new ReadableStream<string>({
      pull(controller) { controller.enqueue('tick') },
      cancel(reason) { cancelled = reason },
    }))

    const reader = run().getReader()
    expect(await reader.read()).toEqual({ done: false, value: 'tick' })
    await reader.cancel('client went away')
    await flush()

    expect(cancelled).toBe('client went away')
    expect(sink.traces).toHaveLength(1)
    expect(sink.traces[0]).toMatchObject({ prompt: 'web-cancel', output: ['tick'], outputKind: 'stream' })
  })

  it('pulls from a web stream only when the caller reads', async () => {
    useMemorySink()
    let pulls = 0
    const tool = traceTool({ name: 'web' })(() => new ReadableStream<number>({ pull(controller) { controller.enqueue(++pulls) } }, { highWaterMark: 0 }))

    await trace({ prompt: 'web-lazy' })(async () => {
      const reader = tool().getReader()
      await new Promise((resolve) => setImmediate(resolve))
      expect(pulls).toBe(0)
      expect(await reader.read()).toEqual({ done: false, value: 1 })
      await new Promise((resolve) => setImmediate(resolve))
      expect(pulls).toBe(1)
      await reader.cancel()
    })()
  })

  it('records a web stream that errors as an error step', async () => {
    const sink = useMemorySink()
    const failure = new Error('upstream broke')
    const tool = traceTool({ name: 'web' })(() => new ReadableStream<string>({ pull(controller) { controller.error(failure) } }))

    const caught = await trace({ prompt: 'web-error' })(async () => tool().getReader().read())().catch((e: unknown) => e)
    await flush()

    expect(caught).toBe(failure)
    expect(sink.traces[0]!.steps[0]).toMatchObject({ status: 'error', error: { message: 'upstream broke' } })
  })
})
