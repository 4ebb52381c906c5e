import { describe, expect, it } from '@jest/globals'
import { configure, currentTrace, flush, fromWire, toWire, trace, traceTool, type ConfigureOptions, type JsonValue } from '../../src/index.js'
import { annotateStep } from '../../src/core/run.js'
import { useMemorySink } from '../helpers/memory.js'

const prices = {
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10, cachedInputPerMillion: 1.25 },
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'claude-sonnet-4': { inputPerMillion: 3, outputPerMillion: 15 },
}

/** An llm tool whose step reports the given usage (and metadata) as an integration would. */
function llm(model: string, usage: { inputTokens: number; outputTokens: number }, metadata?: { readonly [key: string]: JsonValue }) {
  return traceTool({ name: `call ${model}`, kind: 'llm', model })(() => {
    annotateStep(currentTrace(), { usage, metadata })
    return 'ok'
  })
}

describe('configure({ prices })', () => {
  it('prices each step and gives the trace the sum', async () => {
    const sink = useMemorySink({ prices })
    const big = llm('gpt-4o', { inputTokens: 1000, outputTokens: 500 })
    const small = llm('gpt-4o-mini', { inputTokens: 3, outputTokens: 7 })
    const plain = traceTool({ name: 'search' })(() => 'docs')

    trace({ prompt: 'run' })(() => [plain(), big(), small()])()
    await flush()

    const doc = sink.traces[0]!
    expect(doc.steps.map((step) => step.costUsd)).toEqual([undefined, 0.0075, 0.00000465])
    expect('costUsd' in doc.steps[0]!).toBe(false)
    expect(doc.costUsd).toBe(0.00750465)
  })

  it.each<[string, number | undefined]>([
    ['gpt-4o', 2.5],
    ['gpt-4o-2024-08-06', 2.5],
    ['gpt-4o-mini', 0.15],
    ['gpt-4o-mini-2024-07-18', 0.15],
    ['claude-sonnet-4', 3],
    ['claude-sonnet-4-20250514', 3],
    ['claude-sonnet-4-latest', 3],
    ['gpt-4o-audio-preview', undefined],
  ])('prices %s by its own entry of the documented table', async (model, dollars) => {
    const sink = useMemorySink({ prices })
    const call = llm(model, { inputTokens: 1_000_000, outputTokens: 0 })

    trace({ prompt: 'run' })(() => call())()
    await flush()

    expect(sink.traces[0]!.steps[0]!.costUsd).toBe(dollars)
  })

  it('prices a dated snapshot by its model, but not another model whose name the key begins', async () => {
    const sink = useMemorySink({ prices: { 'gpt-4o': prices['gpt-4o'], 'gpt-4': { inputPerMillion: 30, outputPerMillion: 60 }, 'claude-sonnet-4': prices['claude-sonnet-4'] } })
    const names = ['gpt-4o-mini', 'gpt-4o-mini-2024-07-18', 'gpt-4o-2024-08-06', 'gpt-4-0613', 'gpt-4-turbo', 'gpt-4-1106-preview', 'claude-sonnet-4-5', 'claude-sonnet-4-20250514']
    const calls = names.map((model) => llm(model, { inputTokens: 1_000_000, outputTokens: 0 }))

    trace({ prompt: 'run' })(() => calls.map((call) => call()))()
    await flush()

    expect(Object.fromEntries(sink.traces[0]!.steps.map((step) => [step.model, step.costUsd]))).toEqual({
      'gpt-4o-mini': undefined,
      'gpt-4o-mini-2024-07-18': undefined,
      'gpt-4o-2024-08-06': 2.5,
      'gpt-4-0613': 30,
      'gpt-4-turbo': undefined,
      'gpt-4-1106-preview': undefined,
      'claude-sonnet-4-5': undefined,
      'claude-sonnet-4-20250514': 3,
    })
  })

  it('prices a dated model by the key it is a snapshot of', async () => {
    const sink = useMemorySink({ prices })
    const dated = llm('gpt-4o-2024-08-06', { inputTokens: 1_000_000, outputTokens: 0 })
    const mini = llm('gpt-4o-mini-2024-07-18', { inputTokens: 1_000_000, outputTokens: 0 })
    const glued = llm('gpt-4oX', { inputTokens: 1_000_000, outputTokens: 0 })

    trace({ prompt: 'run' })(() => [dated(), mini(), glued()])()
    await flush()

    expect(sink.traces[0]!.steps.map((step) => step.costUsd)).toEqual([2.5, 0.15, undefined])
  })

  it('leaves the cost out when no step model is priced', async () => {
    const sink = useMemorySink({ prices })
    const unknown = llm('llama-3', { inputTokens: 100, outputTokens: 100 })

    trace({ prompt: 'run' })(() => unknown())()
    await flush()

    const doc = sink.traces[0]!
    expect('costUsd' in doc).toBe(false)
    expect('costUsd' in doc.steps[0]!).toBe(false)
    expect(doc.usage).toEqual({ inputTokens: 100, outputTokens: 100 })
  })

  it('records no cost without prices', async () => {
    const sink = useMemorySink()
    const call = llm('gpt-4o', { inputTokens: 100, outputTokens: 100 })

    trace({ prompt: 'run' })(() => call())()
    await flush()

    expect('costUsd' in sink.traces[0]!).toBe(false)
    expect('costUsd' in sink.traces[0]!.steps[0]!).toBe(false)
  })

  it('prices cached prompt tokens at the cached rate when the model has one', async () => {
    const sink = useMemorySink({ prices })
    const cached = llm('gpt-4o', { inputTokens: 1000, outputTokens: 0 }, { cached_input_tokens: 400 })
    const noRate = llm('gpt-4o-mini', { inputTokens: 1000, outputTokens: 0 }, { cached_input_tokens: 400 })

    trace({ prompt: 'run' })(() => [cached(), noRate()])()
    await flush()

    // 600 × 2.5 + 400 × 1.25 per million; without a cached rate every prompt token costs the input rate
    expect(sink.traces[0]!.steps.map((step) => step.costUsd)).toEqual([0.002, 0.00015])
    expect(sink.traces[0]!.costUsd).toBe(0.00215)
  })

  it('keeps the sum free of float noise', async () => {
    const sink = useMemorySink({ prices: { m: { inputPerMillion: 0.1, outputPerMillion: 0.2 } } })
    const a = llm('m', { inputTokens: 1, outputTokens: 0 })
    const b = llm('m', { inputTokens: 0, outputTokens: 1 })

    trace({ prompt: 'run' })(() => [a(), b()])()
    await flush()

    expect(sink.traces[0]!.costUsd).toBe(0.0000003)
  })

  it.each<[string, unknown, string]>([
    ['a negative rate', { 'gpt-4o': { inputPerMillion: -1, outputPerMillion: 10 } }, 'Expected `prices["gpt-4o"].inputPerMillion` to be a finite number ≥ 0, got -1.'],
    ['a non-finite rate', { 'gpt-4o': { inputPerMillion: 1, outputPerMillion: Infinity } }, 'Expected `prices["gpt-4o"].outputPerMillion` to be a finite number ≥ 0, got Infinity.'],
    ['a missing rate', { 'gpt-4o': { outputPerMillion: 10 } }, 'Expected `prices["gpt-4o"].inputPerMillion` to be a finite number ≥ 0, got undefined.'],
    ['a bad cached rate', { 'gpt-4o': { inputPerMillion: 1, outputPerMillion: 1, cachedInputPerMillion: Number.NaN } }, 'Expected `prices["gpt-4o"].cachedInputPerMillion` to be a finite number ≥ 0, got NaN.'],
    ['an unknown field', { 'gpt-4o': { inputPerMillion: 1, outputPerMillion: 1, perRequest: 1 } }, 'Unknown field `perRequest` in `prices["gpt-4o"]`. Known fields: inputPerMillion, outputPerMillion, cachedInputPerMillion.'],
    ['a price that is not an object', { 'gpt-4o': 2.5 }, 'Expected `prices["gpt-4o"]` to be an object with `inputPerMillion` and `outputPerMillion`.'],
    ['a table that is not an object', [], 'Expected `prices` to be an object of model prices.'],
  ])('throws a TypeError for %s', (_label, value, message) => {
    const run = () => configure({ sinks: [], prices: value } as unknown as ConfigureOptions)
    expect(run).toThrow(TypeError)
    expect(run).toThrow(message)
  })
})

describe('toWire / fromWire', () => {
  it('stores costUsd as cost_usd on steps and on the trace, and reads it back', async () => {
    const sink = useMemorySink({ prices })
    const call = llm('claude-sonnet-4-20250514', { inputTokens: 2000, outputTokens: 100 })

    trace({ prompt: 'run' })(() => call())()
    await flush()

    const doc = sink.traces[0]!
    const wire = toWire(doc)
    expect(wire.cost_usd).toBe(0.0075)
    expect(wire.steps[0]!.cost_usd).toBe(0.0075)
    expect('costUsd' in wire).toBe(false)
    expect(fromWire(JSON.parse(JSON.stringify(wire)))).toEqual(doc)
  })
})
