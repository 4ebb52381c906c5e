import { describe, expect, it } from '@jest/globals'
import { configure, flush, memorySink, trace, traceTool, type ToolOptions } from '../../src/index.js'
import { shape, spyWarnings, useMemorySink } from '../helpers/memory.js'

describe('traceTool', () => {
  it('nests a tool called from another tool under it, however deep the call chain', async () => {
    const sink = useMemorySink()
    const embed = traceTool({ name: 'embed' })(async (q: string) => q.length)
    const helper = async (q: string): Promise<number> => embed(q)   // plain function between the tools
    const search = traceTool({ name: 'search' })(async (q: string) => [await helper(q), await helper(q + '!')])
    const rerank = traceTool({ name: 'rerank' })((xs: number[]) => xs.sort())

    await trace({ prompt: 'deep' })(async () => rerank(await search('abc')))()
    await flush()

    const doc = sink.traces[0]!
    expect(shape(doc)).toEqual(['search', 'search > embed', 'search > embed', 'rerank'])
    expect(doc.steps.map((s) => s.seq)).toEqual([0, 1, 2, 3])
    expect(doc.steps[1]!.parentStepId).toBe(doc.steps[0]!.stepId)
    expect(doc.steps[3]!.parentStepId).toBeNull()
  })

  it('orders steps by start, also when they finish in another order', async () => {
    const sink = useMemorySink()
    let release: () => void = () => undefined
    const slow = traceTool({ name: 'slow' })(() => new Promise<void>((resolve) => { release = resolve }))
    const fast = traceTool({ name: 'fast' })(async () => undefined)

    await trace({ prompt: 'order' })(async () => {
      const pending = slow()
      await fast()
      release()
      await pending
    })()
    await flush()

    expect(sink.traces[0]!.steps.map((s) => [s.seq, s.name])).toEqual([[0, 'slow'], [1, 'fast']])
  })

  it('records a failing tool as an error step and rethrows the same object', async () => {
    const sink = useMemorySink()
    const failure = new TypeError('bad input', { cause: new Error('root cause') })
    const tool = traceTool({ name: 'fails' })(async () => { throw failure })

    const caught = await trace({ prompt: 'p' })(async () => tool())().catch((e: unknown) => e)
    await flush()

    expect(caught).toBe(failure)
    expect(sink.traces[0]!.steps[0]).toMatchObject({
      status: 'error', error: { type: 'TypeError', message: 'bad input', cause: { type: 'Error', message: 'root cause' } },
    })
    expect(sink.traces[0]!.status).toBe('error')
  })

  it('snapshots the input when the step starts', async () => {
    const sink = useMemorySink()
    const messages = [{ role: 'user', content: 'hi' }]
    const tool = traceTool({ name: 'chat' })(async (history: typeof messages) => {
      await Promise.resolve()
      return history.length
    })

    await trace({ prompt: 'p' })(async () => {
      const pending = tool(messages)
      messages.push({ role: 'assistant', content: 'later' })
      return pending
    })()
    await flush()

    expect(sink.traces[0]!.steps[0]!.input).toEqual([[{ role: 'user', content: 'hi' }]])
  })

  it('records metadata, and leaves out input/output when capture is off', async () => {
    const sink = useMemorySink()
    const tool = traceTool({ name: 'quiet', captureInput: false, captureOutput: false, metadata: { version: 3 } })((s: string) => s)
    const mapped = traceTool({ name: 'mapped', mapInput: (args) => ({ q: args[0] }), mapOutput: (out: unknown) => ({ n: (out as string).length }) })((s: string) => s)

    trace({ prompt: 'p' })(() => [tool('x'), mapped('abcd')])()
    await flush()

    const [quiet, shaped] = sink.traces[0]!.steps
    expect(quiet).not.toHaveProperty('input')
    expect(quiet).not.toHaveProperty('output')
    expect(quiet!.metadata).toEqual({ version: 3 })
    expect(shaped).toMatchObject({ input: { q: 'abcd' }, output: { n: 4 } })
  })

  describe('outside any trace', () => {
    it('runs normally, records nothing and warns once per tool name', async () => {
      const sink = useMemorySink()
      const warnings = spyWarnings()
      const lonely = traceTool({ name: 'lonely' })((n: number) => n + 1)
      const other = traceTool({ name: 'other' })((n: number) => n - 1)
      try {
        expect(lonely(1)).toBe(2)
        expect(lonely(2)).toBe(3)
        expect(other(1)).toBe(0)
        await flush()
      } finally {
        warnings.restore()
      }

      expect(sink.traces).toHaveLength(0)
      const orphanWarnings = warnings.messages().filter((m) => m.includes('outside any trace'))
      expect(orphanWarnings).toHaveLength(2)
      expect(orphanWarnings[0]).toContain('"lonely"')
      expect(orphanWarnings[0]).toContain('trace(')
    })

    it('becomes a trace of its own with orphanSteps: "trace"', async () => {
      const sink = useMemorySink({ orphanSteps: 'trace' })
      const lonely = traceTool({ name: 'lonely' })(async (n: number) => n + 1)

      expect(await lonely(1)).toBe(2)
      await flush()

      expect(sink.traces).toHaveLength(1)
      expect(sink.traces[0]).toMatchObject({ prompt: 'lonely', input: [1], output: 2 })
      expect(shape(sink.traces[0]!)).toEqual(['lonely'])
    })
  })

  describe('option validation at wrap time', () => {
    const invalid: Array<[string, unknown, RegExp]> = [
      ['negative maxRetries', { maxRetries: -1 }, /`maxRetries` to be a non-negative integer/],
      ['fractional maxRetries', { maxRetries: 1.5 }, /`maxRetries` to be a non-negative integer/],
      ['NaN minTimeout', { minTimeout: Number.NaN }, /`minTimeout`/],
      ['maxTimeout below minTimeout', { minTimeout: 100, maxTimeout: 10 }, /`maxTimeout`/],
      ['factor below 1', { factor: 0.5 }, /`factor`/],
      ['non-function mapInput', { mapInput: 'nope' }, /`mapInput` to be a function/],
      ['non-function shouldRetry', { shouldRetry: true }, /`shouldRetry` to be a function/],
      ['empty name', { name: '' }, /`name` to be a non-empty string/],
      ['non-boolean captureInput', { captureInput: 'yes' }, /`captureInput` to be a boolean/],
      ['array metadata', { metadata: [] }, /`metadata` to be a plain object/],
      ['unknown key with a hint', { maxRetry: 2 }, /Unknown option `maxRetry`.*`maxRetries`/],
      ['not an object', 'retriever', /options to be an object/],
      ['a key from another SDK', { retries: 3 }, /Unknown option `retries`.*Did you mean `maxRetries`/],
    ]
    it.each(invalid)('rejects %s with a TypeError before any user code runs', (_label, options, message) => {
      let ran = false
      const make = (): unknown => traceTool(options as ToolOptions)(() => { ran = true })
      expect(make).toThrow(TypeError)
      expect(make).toThrow(message)
      expect(ran).toBe(false)
    })

    it('rejects a non-function and bad trace options', () => {
      expect(() => traceTool()('x' as never)).toThrow(/given a function/)
      expect(() => trace({ tags: 'a' as never })).toThrow(/`tags` to be an array of strings/)
      expect(() => trace({ prompt: 3 as never })).toThrow(/`prompt` to be a non-empty string/)
      expect(() => trace({ name: 'x' } as never)).toThrow(/Unknown option `name` for trace\(\)\. Did you mean `prompt`\?/)
      expect(() => configure({ sinks: [{}] as never })).toThrow(/`sinks\[0\]` to be a sink/)
      expect(() => configure({ orphanSteps: 'drop' as never })).toThrow(/orphanSteps/)
      expect(() => configure({ capture: { maxDepth: 0 } })).toThrow(/capture.maxDepth/)
    })
  })

  it('keeps recording bounded: steps past maxStepsPerTrace run but are counted, not kept', async () => {
    const sink = memorySink()
    configure({ sinks: [sink], maxStepsPerTrace: 3 })
    const tool = traceTool({ name: 'loop' })((n: number) => n)

    const sum = trace({ prompt: 'many' })(() => { let total = 0; for (let i = 0; i < 10; i++) total += tool(i); return total })()
    await flush()

    expect(sum).toBe(45)
    expect(sink.traces[0]!.steps).toHaveLength(3)
    expect(sink.traces[0]!.droppedSteps).toBe(7)
  })
})

describe('configure option validation', () => {
  it('rejects unknown keys in queue, queue.retry and redact', () => {
    expect(() => configure({ queue: { maxQueue: 5 } as never })).toThrow(/Unknown option `queue.maxQueue`/)
    expect(() => configure({ queue: { retry: { tries: 1 } } as never })).toThrow(/Unknown option `queue.retry.tries`/)
    expect(() => configure({ redact: { key: ['ssn'] } as never })).toThrow(/Unknown option `redact.key`/)
  })
})
