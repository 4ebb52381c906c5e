// The wrapped call behaves as the unwrapped one for the calls that used to break it: a getter that
// calls the traced function back, huge argument lists, and returned thenables of every kind
// (docs/reliability.md#capture-budgets). tests/helpers/setup.ts fails any test that leaves an
// unhandled rejection, so each thenable case also proves there is none.
import { describe, expect, it } from '@jest/globals'
import { flush, trace, traceTool } from '../../src/index.js'
import { useMemorySink } from '../helpers/memory.js'

describe('trace and traceTool: a getter that capture reads calls traced code', () => {
  it('terminates with a bounded number of getter calls when the getter calls the traced function back', async () => {
    const sink = useMemorySink()
    const depthLimit = 14
    let reads = 0
    let depth = 0
    const read = traceTool({ name: 'read' })(function read(holder: { readonly value: number }) { return holder.value })
    const holder = {
      get value(): number {
        reads++
        if (depth >= depthLimit) return 0
        depth++
        try {
          return read(holder)
        } finally {
          depth--
        }
      },
    }

    expect(trace({ prompt: 'recursion' })(() => read(holder))()).toBe(0)
    await flush()

    // unwrapped: depthLimit + 1 reads; capture adds one chain per recorded call (2^(depth+1) before)
    expect(reads).toBeLessThanOrEqual((depthLimit + 1) ** 2)
    // the calls the program makes are recorded, the ones capture's reads made are not
    expect(sink.traces[0]?.steps).toHaveLength(depthLimit + 1)
  })

  it('runs a tool called from a getter normally but records nothing of it', async () => {
    const sink = useMemorySink()
    let ran = 0
    const lookup = traceTool({ name: 'lookup' })((key: string) => { ran++; return `value of ${key}` })
    const use = traceTool({ name: 'use' })((config: { readonly setting: string }) => config.setting.length)
    const config = { get setting(): string { return lookup('setting') } }

    expect(trace({ prompt: 'getter' })(() => use(config))()).toBe('value of setting'.length)
    await flush()

    expect(ran).toBe(2)   // once for capture's read of the argument, once for the function's own read
    const steps = sink.traces[0]?.steps ?? []
    expect(steps.map((step) => step.name)).toEqual(['use', 'lookup'])   // lookup: the function's own call
    expect(steps[0]?.input).toEqual([{ setting: 'value of setting' }])
  })

  it('keeps tracing off for what an async function called from a getter does after its first await', async () => {
    const sink = useMemorySink()
    const inner = traceTool({ name: 'inner' })(async () => 'inner')
    let later: Promise<unknown> = Promise.resolve()
    const started = traceTool({ name: 'started' })(async () => { await null; return inner() })
    const use = traceTool({ name: 'use' })((value: { readonly lazy: unknown }) => typeof value)
    const value = { get lazy(): string { later = started(); return 'lazy' } }

    await trace({ prompt: 'async getter' })(async () => {
      use(value)
      await later
    })()
    await flush()

    expect(sink.traces[0]?.steps.map((step) => step.name)).toEqual(['use'])
  })
})

describe('trace and traceTool: huge argument lists', () => {
  const COUNT = 50_000
  const items = Array.from({ length: COUNT }, (_, i) => i)
  const sum = (...numbers: number[]): number => numbers.reduce((total, n) => total + n, 0)
  const sumAsync = async (...numbers: number[]): Promise<number> => numbers.reduce((total, n) => total + n, 0)

  it.each([
    ['trace, sync', () => trace({ prompt: 'sum' })(sum)(...items)],
    ['trace, async', () => trace({ prompt: 'sum' })(sumAsync)(...items)],
    ['traceTool in a trace, sync', () => trace({ prompt: 'outer' })(() => traceTool({ name: 'sum' })(sum)(...items))()],
    ['traceTool in a trace, async', () => trace({ prompt: 'outer' })(() => traceTool({ name: 'sum' })(sumAsync)(...items))()],
  ])('%s: 50 000 spread arguments give the unwrapped result, and the input keeps 1 000', async (_name, call) => {
    const sink = useMemorySink()
    expect(await call()).toBe(sum(...items))
    await flush()
    const input = (sink.traces[0]?.steps[0]?.input ?? sink.traces[0]?.input) as unknown[]
    expect(input).toHaveLength(1001)
    expect(input[1000]).toBe(`… ${COUNT - 1000} more items`)
  })

  it('needs no more stack than the smallest wrapper that forwards its arguments', () => {
    useMemorySink()
    const largest = (call: (list: number[]) => unknown): number => {
      let low = 1000
      let high = 400_000
      while (high - low > 500) {
        const middle = (low + high) >> 1
        try {
          call(new Array<number>(middle).fill(1))
          low = middle
        } catch {
          high = middle
        }
      }
      return low
    }
    const count = (...list: number[]): number => list.length
    const forward = function (this: unknown, ...list: number[]): number { return count.apply(this, list) }
    const traced = trace({ prompt: 'count' })(count)
    const bare = largest((list) => forward(...list))
    // JavaScript cannot forward arguments without pushing them again: any wrapper accepts about half
    // what the unwrapped function accepts (docs/reliability.md#capture-budgets)
    expect(largest((list) => traced(...list))).toBeGreaterThanOrEqual(bare * 0.97)
    expect(largest((list) => count(...list))).toBeGreaterThan(bare)
  })
})

/** How awaiting a value ends: its value, its error, or still pending after the loop turned twice. */
async function outcome(value: unknown): Promise<{ readonly status: string; readonly value?: unknown }> {
  const pending = Symbol('pending')
  const turned = new Promise((resolve) => setImmediate(() => setImmediate(() => resolve(pending))))
  try {
    const settled = await Promise.race([Promise.resolve(value), turned])
    return settled === pending ? { status: 'pending' } : { status: 'fulfilled', value: settled }
  } catch (error) {
    return { status: 'rejected', value: error }
  }
}

class ThrowingPromise<T> extends Promise<T> {
  override then(): never {
    throw new Error('subclass then throws')
  }
}

const failure = new Error('rejected')
const THENABLES: ReadonlyArray<readonly [string, (calls: { then: number }) => unknown]> = [
  ['whose then throws synchronously', (calls) => ({ then: () => { calls.then++; throw failure } })],
  ['that calls both callbacks', (calls) => ({ then: (resolve: (v: unknown) => void, reject: (e: unknown) => void) => { calls.then++; resolve('first'); reject(failure) } })],
  ['that calls reject then resolve', (calls) => ({ then: (resolve: (v: unknown) => void, reject: (e: unknown) => void) => { calls.then++; reject(failure); resolve('late') } })],
  ['that calls resolve twice', (calls) => ({ then: (resolve: (v: unknown) => void) => { calls.then++; resolve('once'); resolve('twice') } })],
  ['that never calls back', (calls) => ({ then: () => { calls.then++ } })],
  ['that rejects with a non-Error', (calls) => ({ then: (_: unknown, reject: (e: unknown) => void) => { calls.then++; reject(1) } })],
  ['whose then is a getter that throws', (calls) => ({ get then(): never { calls.then++; throw failure } })],
  ['a promise subclass whose then throws', (calls) => { calls.then++; return ThrowingPromise.resolve(1) }],
]

describe.each([
  ['trace', (fn: () => unknown) => trace({ prompt: 'thenable' })(fn)],
  ['traceTool', (fn: () => unknown) => traceTool({ name: 'thenable' })(fn)],
])('%s: a returned thenable', (_name, wrap) => {
  it.each(THENABLES)('%s: not awaited, no unhandled rejection and no synchronous throw', async (_case, make) => {
    useMemorySink()
    const calls = { then: 0 }
    make(calls)   // unwrapped: returned and dropped
    expect(() => trace({ prompt: 'outer' })(() => { wrap(() => make(calls))(); return 'done' })()).not.toThrow()
    await flush()
    // setup.ts fails the test if a rejection is left unhandled
  })

  it.each(THENABLES.filter(([name]) => !name.includes('getter') && !name.includes('subclass')))('%s: awaited, ends as the unwrapped one does', async (_case, make) => {
    useMemorySink()
    const expected = await outcome(make({ then: 0 }))
    const got = await outcome(trace({ prompt: 'outer' })(() => wrap(() => make({ then: 0 }))())())
    expect(got).toEqual(expected)
    if (expected.status === 'rejected') expect(got.value).toBe(expected.value)
    await flush()
  })

  it('whose then is a getter that throws: handed back as it is', async () => {
    useMemorySink()
    const value = { get then(): never { throw failure } }
    expect(trace({ prompt: 'outer' })(() => wrap(() => value)())()).toBe(value)
    await flush()
  })
})
