import { describe, expect, it } from '@jest/globals'
import { flush, trace, traceTool, currentTrace } from '../../src/index.js'
import { shape, spyWarnings, useMemorySink } from '../helpers/memory.js'

// The seed's nested workflow: a RAG pipeline with three tools.
const retrieve = traceTool({ name: 'retrieve', kind: 'retriever' })(async (q: string) => [{ id: 1, text: `about ${q}` }, { id: 2, text: 'other' }])
const rerank = traceTool({ name: 'rerank' })((docs: ReadonlyArray<{ id: number }>) => [...docs].reverse())
const generate = traceTool({ name: 'generate', kind: 'llm', model: 'fake-1' })(async (q: string, docs: ReadonlyArray<{ id: number }>) => ({ answer: `${q}: ${docs.length} docs` }))

const answer = trace({ prompt: 'answer_question', modelName: 'fake-1', tags: ['rag'], metadata: { tenant: 'acme' } })(async (q: string) => {
  const docs = await retrieve(q)
  const ranked = rerank(docs)
  return generate(q, ranked)
})

describe('trace', () => {
  it('records the seed workflow as one document with three ordered steps', async () => {
    const sink = useMemorySink({ project: 'rag-service', environment: 'test' })

    const result = await answer('What is RAG?')
    await flush()

    expect(result).toEqual({ answer: 'What is RAG?: 2 docs' })
    expect(sink.traces).toHaveLength(1)
    const doc = sink.traces[0]!
    expect(doc).toMatchObject({
      schemaVersion: 1, prompt: 'answer_question', modelName: 'fake-1', project: 'rag-service', environment: 'test',
      tags: ['rag'], metadata: { tenant: 'acme' }, status: 'success', error: null, retryCount: 0,
      input: ['What is RAG?'], output: { answer: 'What is RAG?: 2 docs' }, sdk: { name: 'tracellm' },
    })
    expect(doc.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(shape(doc)).toEqual(['retrieve', 'rerank', 'generate'])
    expect(doc.steps.map((step) => step.seq)).toEqual([0, 1, 2])
    expect(doc.steps.map((step) => step.kind)).toEqual(['retriever', 'tool', 'llm'])
    expect(doc.steps[2]).toMatchObject({ model: 'fake-1', input: ['What is RAG?', [{ id: 2 }, { id: 1 }]] })
    for (const step of doc.steps) {
      expect(step.stepId).toMatch(/^[0-9a-f]{16}$/)
      expect(step).toMatchObject({ parentStepId: null, status: 'success', attempts: 1, retries: 0, attemptErrors: [] })
      expect(step.durationMs).toBeGreaterThanOrEqual(0)
      expect(Date.parse(step.endedAt)).toBeGreaterThanOrEqual(Date.parse(step.startedAt))
    }
  })

  it('rethrows the same error object and records an error document', async () => {
    const sink = useMemorySink()
    const boom = new Error('boom')
    const run = trace({ prompt: 'run' })(async () => { throw boom })

    const caught = await run().catch((error: unknown) => error)
    await flush()

    expect(caught).toBe(boom)
    expect(sink.traces[0]).toMatchObject({ status: 'error', error: { type: 'Error', message: 'boom' } })
    expect(sink.traces[0]).not.toHaveProperty('output')
  })

  it('keeps a synchronous throw synchronous, with the same value', () => {
    useMemorySink()
    const thrown = { reason: 'not an Error' }
    const run = trace()(() => { throw thrown })

    let caught: unknown
    try { run() } catch (error) { caught = error }

    expect(caught).toBe(thrown)
  })

  it('returns a synchronous value synchronously and unchanged', async () => {
    const sink = useMemorySink()
    const value = { same: true }
    const run = trace({ prompt: 'sync' })(() => value)

    const result = run()
    await flush()

    expect(result).toBe(value)
    expect(sink.traces[0]).toMatchObject({ prompt: 'sync', output: { same: true } })
  })

  it('records a trace inside a trace as a step of kind "trace" with the inner tools as its children', async () => {
    const sink = useMemorySink()
    const lookup = traceTool({ name: 'lookup' })(async (n: number) => n * 2)
    const inner = trace({ prompt: 'inner', metadata: { level: 2 } })(async (n: number) => lookup(n))
    const outer = trace({ prompt: 'outer' })(async () => [await lookup(1), await inner(2)])

    expect(await outer()).toEqual([2, 4])
    await flush()

    expect(sink.traces).toHaveLength(1)
    const doc = sink.traces[0]!
    expect(shape(doc)).toEqual(['lookup', 'inner', 'inner > lookup'])
    expect(doc.steps[1]).toMatchObject({ kind: 'trace', name: 'inner', input: [2], output: 4, metadata: { level: 2 } })
  })

  it('names the trace after the function, else "trace"', async () => {
    const sink = useMemorySink()
    async function summarize(): Promise<number> { return 1 }
    await trace()(summarize)()
    await trace()(async () => 2)()
    await flush()

    expect(sink.traces.map((doc) => doc.prompt)).toEqual(['summarize', 'trace'])
  })

  it('keeps name, length and this', async () => {
    useMemorySink()
    const counter = {
      base: 10,
      add: trace({ prompt: 'add' })(function add(this: { base: number }, a: number, b: number) { return this.base + a + b }),
    }

    expect(counter.add(1, 2)).toBe(13)
    expect(counter.add.name).toBe('add')
    expect(counter.add.length).toBe(2)
  })

  it('leaves out input and output when capture is off, and records what mapInput/mapOutput return', async () => {
    const sink = useMemorySink()
    await trace({ prompt: 'off', captureInput: false, captureOutput: false })(async (q: string) => q)('secret prompt')
    await trace({ prompt: 'mapped', mapInput: (args) => ({ length: String(args[0]).length }), mapOutput: (out) => ({ kind: typeof out }) })(async (q: string) => q)('abc')
    await flush()

    expect(sink.traces[0]).not.toHaveProperty('input')
    expect(sink.traces[0]).not.toHaveProperty('output')
    expect(sink.traces[1]).toMatchObject({ input: { length: 3 }, output: { kind: 'string' } })
  })

  it('warns once and records a placeholder when mapInput throws, without breaking the call', async () => {
    const sink = useMemorySink()
    const warnings = spyWarnings()
    const run = trace({ prompt: 'bad-map', mapInput: () => { throw new Error('mapper bug') } })(async (n: number) => n + 1)

    try {
      expect(await run(1)).toBe(2)
      expect(await run(2)).toBe(3)
      await flush()
    } finally {
      warnings.restore()
    }

    expect(sink.traces.map((doc) => doc.input)).toEqual(['[mapInput failed]', '[mapInput failed]'])
    expect(warnings.messages().filter((m) => m.includes('mapInput'))).toHaveLength(1)
  })

  it('records an undefined return as null with outputKind "undefined"', async () => {
    const sink = useMemorySink()
    await trace({ prompt: 'void' })(async () => undefined)()
    await flush()

    expect(sink.traces[0]).toMatchObject({ output: null, outputKind: 'undefined' })
  })

  it('does not double-record a function wrapped twice', async () => {
    const sink = useMemorySink()
    const tool = traceTool({ name: 'once' })((n: number) => n)
    const twice = traceTool({ name: 'again' })(tool)
    const run = trace({ prompt: 'p' })(() => twice(1))
    const rewrapped = trace({ prompt: 'q' })(run)

    expect(twice).toBe(tool)
    expect(rewrapped).toBe(run)
    rewrapped()
    await flush()

    expect(sink.traces).toHaveLength(1)
    expect(shape(sink.traces[0]!)).toEqual(['once'])
  })

  it('exposes the running context through currentTrace()', async () => {
    const sink = useMemorySink()
    let seen: ReturnType<typeof currentTrace>
    const tool = traceTool({ name: 't' })(() => { seen = currentTrace() })
    await trace({ prompt: 'ctx' })(async () => { tool() })()
    await flush()

    expect(currentTrace()).toBeUndefined()
    expect(seen!.traceId).toBe(sink.traces[0]!.traceId)
    expect(seen!.stepId).toBe(sink.traces[0]!.steps[0]!.stepId)
    expect(seen!.prompt).toBe('ctx')
  })

  it('runs but records nothing after shutdown, with one warning', async () => {
    const { shutdown } = await import('../../src/index.js')
    const sink = useMemorySink()
    const warnings = spyWarnings()
    try {
      await shutdown()
      const run = trace({ prompt: 'late' })(async () => 'still runs')
      expect(await run()).toBe('still runs')
      expect(await run()).toBe('still runs')
    } finally {
      warnings.restore()
    }

    expect(sink.traces).toHaveLength(0)
    expect(warnings.messages().filter((m) => m.includes('after shutdown'))).toHaveLength(1)
  })
})
