import { describe, expect, it } from '@jest/globals'
import { AsyncResource } from 'node:async_hooks'
import { EventEmitter } from 'node:events'
import { currentTrace, flush, trace, traceTool, type TraceContext } from '../../src/index.js'
import { shape, spyWarnings, useMemorySink } from '../helpers/memory.js'

/** A small seeded PRNG, so the stress test is the same on every run. */
function random(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    return state / 2 ** 31
  }
}

describe('context isolation', () => {
  it('keeps the steps of traces running in Promise.all apart (the seed example)', async () => {
    const sink = useMemorySink()
    const fetchUser = traceTool({ name: 'fetch_user' })(async (id: string) => { await new Promise((r) => setTimeout(r, id === 'a' ? 5 : 1)); return { id } })
    const greet = traceTool({ name: 'greet' })((user: { id: string }) => `hello ${user.id}`)
    const handle = trace({ prompt: 'handle' })(async (id: string) => greet(await fetchUser(id)))

    const results = await Promise.all([handle('a'), handle('b')])
    await flush()

    expect(results).toEqual(['hello a', 'hello b'])
    expect(sink.traces).toHaveLength(2)
    for (const doc of sink.traces) {
      const id = (doc.input as string[])[0]
      expect(shape(doc)).toEqual(['fetch_user', 'greet'])
      expect(doc.steps.map((s) => s.input)).toEqual([[id], [{ id }]])
    }
  })

  it('never misparents or leaks a step across 1000 concurrent traces with random awaits and timers', async () => {
    const sink = useMemorySink({ queue: { maxQueueTraces: 5000 } })
    const next = random(42)
    const pause = (): Promise<void> => {
      const r = next()
      if (r < 0.3) return Promise.resolve()
      if (r < 0.6) return new Promise((resolve) => setImmediate(resolve))
      return new Promise((resolve) => setTimeout(resolve, Math.floor(r * 3)))
    }
    const leaf = traceTool({ name: 'leaf' })(async (owner: number) => { await pause(); return owner })
    const branch = traceTool({ name: 'branch' })(async (owner: number) => {
      await pause()
      const values = await Promise.all([leaf(owner), pause().then(() => leaf(owner))])
      setTimeout(() => void 0, 0)
      return values
    })
    const job = trace({ prompt: 'job' })(async (owner: number) => {
      await pause()
      const [a, b] = await Promise.all([branch(owner), leaf(owner)])
      return [...a, b]
    })

    const owners = Array.from({ length: 1000 }, (_, i) => i)
    const results = await Promise.all(owners.map((owner) => job(owner)))
    await flush()

    expect(results).toEqual(owners.map((owner) => [owner, owner, owner]))
    expect(sink.traces).toHaveLength(1000)
    let misparented = 0
    for (const doc of sink.traces) {
      const owner = (doc.input as number[])[0]
      const branchStep = doc.steps.find((s) => s.name === 'branch')
      if (doc.steps.length !== 4 || branchStep === undefined) {
        misparented++
        continue
      }
      for (const step of doc.steps) if ((step.input as number[])[0] !== owner) misparented++
      // branch and one leaf sit at the root; the other two leaves under branch
      const parents = doc.steps.map((s) => (s.parentStepId === null ? 'root' : s.parentStepId === branchStep.stepId ? 'branch' : 'other'))
      if (parents.filter((p) => p === 'root').length !== 2 || parents.filter((p) => p === 'branch').length !== 2) misparented++
      if (branchStep.parentStepId !== null) misparented++
    }
    expect(misparented).toBe(0)
  })

  it('follows timers and event emitters bound to the call', async () => {
    const sink = useMemorySink()
    const emitter = new EventEmitter()
    const onEvent = traceTool({ name: 'on_event' })((value: number) => value)
    const later = traceTool({ name: 'later' })(() => 'timer')

    const run = trace({ prompt: 'callbacks' })(() => new Promise<void>((resolve) => {
      emitter.once('data', AsyncResource.bind((value: number) => { onEvent(value) }))
      setTimeout(() => { later(); resolve() }, 1)
    }))

    const pending = run()
    emitter.emit('data', 7)   // emitted from outside the trace
    await pending
    await flush()

    expect(shape(sink.traces[0]!)).toEqual(['on_event', 'later'])
  })

  it('records nothing in the other trace when a tool is called from an unrelated context', async () => {
    const sink = useMemorySink()
    const tool = traceTool({ name: 'tool' })(() => 1)
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => { release = resolve })
    const waiting = trace({ prompt: 'waiting' })(async () => { await gate })
    const other = trace({ prompt: 'other' })(() => tool())

    const pending = waiting()
    other()
    release()
    await pending
    await flush()

    const byPrompt = Object.fromEntries(sink.traces.map((doc) => [doc.prompt, doc.steps.length]))
    expect(byPrompt).toEqual({ waiting: 0, other: 1 })
  })
})

describe('.reader', () => {
  it('runs the same call with the context given explicitly, and mirrors it for implicit children', async () => {
    const sink = useMemorySink()
    const child = traceTool({ name: 'child' })((n: number) => n + 1)
    const parent = traceTool({ name: 'parent' })((n: number) => child(n) * 10)
    let captured: TraceContext | undefined

    trace({ prompt: 'explicit' })(() => { captured = currentTrace() })()
    // a detached call: outside the trace's async scope, with the context passed by hand
    const result = await new Promise<number>((resolve) => setImmediate(() => {
      resolve(trace({ prompt: 'holder' })(() => parent.reader(4)(currentTrace()!))())
    }))
    await flush()

    expect(result).toBe(50)
    expect(captured!.stepId).toBeNull()
    const holder = sink.traces.find((doc) => doc.prompt === 'holder')!
    expect(shape(holder)).toEqual(['parent', 'parent > child'])
  })

  it('nests explicitly under a step context taken from inside a tool', async () => {
    const sink = useMemorySink()
    const child = traceTool({ name: 'child' })(() => 'c')
    const parent = traceTool({ name: 'parent' })(() => currentTrace()!)

    await trace({ prompt: 'p' })(async () => {
      const stepContext = parent()
      child.reader()(stepContext)   // explicit: under `parent`, though called from the trace body
    })()
    await flush()

    expect(shape(sink.traces[0]!)).toEqual(['parent', 'parent > child'])
  })

  it('runs the function untraced, with one warning, when given something that is not a context', () => {
    useMemorySink()
    const warnings = spyWarnings()
    const tool = traceTool({ name: 't' })((n: number) => n * 2)
    try {
      expect(tool.reader(2)({} as TraceContext)).toBe(4)
    } finally {
      warnings.restore()
    }
    expect(warnings.messages().some((m) => m.includes('not a TraceContext'))).toBe(true)
  })
})
