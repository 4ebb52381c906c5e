import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import { buildPipeline, runDemo } from '../../src/cli/demo.js'
import type { TraceDocument } from '../../src/document/document.js'
import { fromWire, toWire } from '../../src/document/wire.js'
import { traceRTE, traceTE, traceToolRTE, traceToolTE } from '../../src/fp/te.js'
import { configure, flush, memorySink, trace, traceTool } from '../../src/index.js'
import { replay, ReplayedError, ReplayMismatchError } from '../../src/replay/replay.js'
import { renderDiff } from '../../src/replay/diff.js'
import { expectReplayToMatch } from '../../src/replay/testing.js'
import { sqliteSink } from '../../src/stores/sqlite/sink.js'
import { openStore } from '../../src/stores/open-store.js'

let sink: ReturnType<typeof memorySink>

beforeEach(() => {
  sink = memorySink()
  configure({ sinks: [sink], queue: { scheduleDelayMs: 0 } })
})

afterEach(() => {
  configure({ sinks: [] })
})

/** Runs `fn` once for real and returns its trace document. */
async function record(fn: () => unknown): Promise<TraceDocument> {
  await Promise.resolve(fn()).catch(() => undefined)
  await flush()
  const doc = sink.traces.at(-1)
  if (doc === undefined) throw new Error('nothing recorded')
  return doc
}

/** A counter of tool-body invocations, per tool. */
function counter(): { readonly count: (name: string) => void; readonly calls: Map<string, number>; readonly total: () => number } {
  const calls = new Map<string, number>()
  return {
    count: (name) => calls.set(name, (calls.get(name) ?? 0) + 1),
    calls,
    total: () => [...calls.values()].reduce((a, b) => a + b, 0),
  }
}

const quiet = (): Writable => new Writable({ write: (_chunk, _encoding, callback) => callback() })

describe('replay', () => {
  it("reproduces the demo's outputs with zero tool-body invocations, its retry included", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracellm-replay-'))
    try {
      const recorded = await runDemo({ path: join(dir, 'demo.db'), out: quiet() })
      configure({ sinks: [sink], queue: { scheduleDelayMs: 0 } })
      const bodies = counter()

      const result = await replay(recorded, buildPipeline(bodies.count))

      expect(bodies.total()).toBe(0)
      expect(result.ok).toBe(true)
      expect(result.value).toEqual(recorded.output)
      expect(result.mismatches).toEqual([])
      expect(result.unused).toEqual([])
      expect(result.diff.equal).toBe(true)
      expect(result.doc.replayOf).toBe(recorded.traceId)
      // retrieve is answered from the record, so the shard searches it made inside itself do not run
      expect(result.doc.steps.map((step) => [step.name, step.status, step.attempts])).toEqual([
        ['retrieve', 'success', 1],
        ['rerank', 'success', 1],
        ['fetch_citations', 'success', 2],
        ['generate', 'success', 1],
      ])
      expect(result.doc.steps.find((step) => step.name === 'fetch_citations')?.attemptErrors[0]?.error).toMatchObject({ message: expect.stringContaining('citation service unavailable') })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('writes the replay to the sinks with replayOf, in snake_case as replay_of', async () => {
    const search = traceTool({ name: 'search' })(async (q: string) => [q])
    const run = trace({ prompt: 'run' })(async (q: string) => search(q))
    const recorded = await record(() => run('a'))

    const result = await replay(recorded, run)
    await flush()

    expect(sink.traces.at(-1)?.traceId).toBe(result.doc.traceId)
    expect(toWire(result.doc)).toMatchObject({ replay_of: recorded.traceId })
    expect(fromWire(toWire(result.doc)).replayOf).toBe(recorded.traceId)
  })

  it('throws a recorded error again, so the failure path replays', async () => {
    let live = 0
    const fetchPage = traceTool({ name: 'fetch_page' })(async (_url: string): Promise<string> => {
      live++
      const error = new TypeError('socket hang up') as TypeError & { code?: string }
      error.code = 'ECONNRESET'
      throw error
    })
    const run = trace({ prompt: 'crawl' })(async (url: string) => fetchPage(url))
    const recorded = await record(() => run('https://example.test'))
    live = 0

    const result = await replay(recorded, run)

    expect(live).toBe(0)
    expect(result.ok).toBe(false)
    expect(result.error).toBeInstanceOf(ReplayedError)
    expect(result.error).toMatchObject({ name: 'TypeError', message: 'socket hang up', code: 'ECONNRESET' })
    expect(result.doc.status).toBe('error')
  })

  describe('a failed trace', () => {
    /** A pipeline whose one tool fails with what `fail()` makes, and whose trace fails with it. */
    const failing = (fail: () => unknown) => {
      const fetchPage = traceTool({ name: 'fetch_page' })(async (_url: string): Promise<string> => { throw fail() })
      return trace({ prompt: 'crawl' })(async (url: string) => fetchPage(url))
    }

    it.each([
      ['an Error with a code', () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
      ['a TypeError', () => new TypeError('not a URL')],
      ['an Error subclass', () => new (class TimeoutError extends Error {})('slow')],
      ['an Error with a cause', () => new Error('fetch failed', { cause: new Error('ECONNREFUSED') })],
      ['a thrown string', () => 'gone'],
    ])('replays %s as equal to its record', async (_label, fail) => {
      const run = failing(fail)
      const recorded = await record(() => run('https://example.test'))

      const result = await replay(recorded, run)

      expect(result.ok).toBe(false)
      expect(result.doc.steps[0]?.error).toMatchObject({ type: recorded.steps[0]?.error?.type, message: recorded.steps[0]?.error?.message })
      expect(result.doc.error).toMatchObject({ type: recorded.error?.type, message: recorded.error?.message })
      expect(renderDiff(result.diff)).toMatch(/^= crawl .*no differences/)
      expect(result.diff.equal).toBe(true)
      await expect(expectReplayToMatch(recorded, run)).resolves.toMatchObject({ ok: false })
    })

    it('replays a Left holding an Error as equal to its record', async () => {
      const generate = traceToolTE({ name: 'generate' })((_q: string) => TE.left<Error, string>(new Error('rate limited')))
      const answer = traceTE({ prompt: 'answer' })((q: string) => generate(q))
      const recorded = await record(() => answer('q')())

      const result = await replay(recorded, (q: string) => answer(q)())

      expect(result.doc.steps[0]?.error).toMatchObject({ type: 'Error', message: 'rate limited' })
      expect(result.diff.equal).toBe(true)
    })

    it.each([
      ['message', new Error('socket hang up'), new Error('connection refused')],
      ['type', new Error('socket hang up'), new TypeError('socket hang up')],
      ['code', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), Object.assign(new Error('socket hang up'), { code: 'ETIMEDOUT' })],
    ])('still reports an error of another %s as a change', async (_label, before, after) => {
      let error: Error = before
      const fetchPage = traceTool({ name: 'fetch_page' })(async (_url: string): Promise<string> => { throw error })
      const parse = traceTool({ name: 'parse' })((html: string) => html.length)
      const run = trace({ prompt: 'crawl' })(async (url: string) => parse(await fetchPage(url)))
      const recorded = await record(() => run('https://example.test'))
      error = after

      // fetch_page runs for real and fails differently
      const result = await replay(recorded, run, { mode: 'partial', tools: ['parse'] })

      expect(result.diff.equal).toBe(false)
      expect(result.diff.steps[0]).toMatchObject({ name: 'fetch_page', status: 'changed', changes: [{ field: 'error' }] })
    })
  })

  it('replays recorded retries without running the body or waiting for the backoff', async () => {
    let attempts = 0
    const flaky = traceTool({ name: 'flaky', maxRetries: 3, minTimeout: 200 })(async () => {
      attempts++
      if (attempts < 3) throw new Error(`attempt ${attempts} failed`)
      return 'third time lucky'
    })
    const run = trace({ prompt: 'retrying' })(async () => flaky())
    const recorded = await record(() => run())
    attempts = 100

    // with the clock frozen, a replay that waited for the 200 ms and 400 ms backoffs would never end
    jest.useFakeTimers()
    let replayed: Awaited<ReturnType<typeof replay>> | undefined
    try {
      void replay(recorded, run).then((outcome) => { replayed = outcome })
      await jest.advanceTimersByTimeAsync(0)
    } finally {
      jest.useRealTimers()
    }
    const result = replayed!

    expect(result).toBeDefined()
    expect(attempts).toBe(100)
    expect(result.value).toBe('third time lucky')
    expect(result.doc.steps[0]).toMatchObject({ attempts: 3, retries: 2, attemptErrors: [{ attempt: 1, error: { message: 'attempt 1 failed' } }, { attempt: 2, error: { message: 'attempt 2 failed' } }] })
    expect(result.doc.retryCount).toBe(2)
  })

  it('keeps a synchronous tool synchronous', async () => {
    const double = traceTool({ name: 'double' })((n: number) => n * 2)
    const run = trace({ prompt: 'sync' })((n: number) => double(n) + 1)
    const recorded = await record(() => run(20))

    const result = await replay(recorded, run)

    expect(result.value).toBe(41)
  })

  it('replays a stream chunk by chunk', async () => {
    let live = 0
    const tokens = traceTool({ name: 'tokens', kind: 'llm' })(async function* (prompt: string) {
      live++
      for (const word of prompt.split(' ')) yield word
    })
    const run = trace({ prompt: 'stream' })(async (prompt: string) => {
      const seen: string[] = []
      for await (const token of tokens(prompt)) seen.push(token as string)
      return seen
    })
    const recorded = await record(() => run('one two three'))
    live = 0

    const result = await replay(recorded, run)

    expect(live).toBe(0)
    expect(result.value).toEqual(['one', 'two', 'three'])
    expect(result.doc.steps[0]).toMatchObject({ outputKind: 'stream', output: ['one', 'two', 'three'] })
  })

  it('in partial mode answers only the named tools and runs the others for real', async () => {
    const bodies = counter()
    const retrieve = traceTool({ name: 'retrieve' })(async (q: string) => { bodies.count('retrieve'); return [`live doc for ${q}`] })
    const generate = traceTool({ name: 'generate', kind: 'llm' })(async (docs: string[]) => { bodies.count('generate'); return `answer from ${docs.length}` })
    const run = trace({ prompt: 'rag' })(async (q: string) => generate(await retrieve(q)))
    const recorded = await record(() => run('q'))
    bodies.calls.clear()

    const result = await replay(recorded, run, { mode: 'partial', tools: ['generate'] })

    expect(Object.fromEntries(bodies.calls)).toEqual({ retrieve: 1 })
    expect(result.value).toBe('answer from 1')
  })

  it('calls the pipeline with other arguments when given', async () => {
    const echo = traceTool({ name: 'echo' })(async (s: string) => s)
    const run = trace({ prompt: 'echo' })(async (s: string) => `${await echo(s)}!`)
    const recorded = await record(() => run('recorded'))

    const result = await replay(recorded, run, { args: ['other'] })

    // the tool is answered from the record: its input is not checked without matchInput
    expect(result.value).toBe('recorded!')
  })

  describe('mismatches', () => {
    it('names a tool the record does not have', async () => {
      const a = traceTool({ name: 'a' })(async () => 1)
      const b = traceTool({ name: 'b' })(async () => 2)
      const recorded = await record(() => trace({ prompt: 'v1' })(async () => a())())

      const result = await replay(recorded, trace({ prompt: 'v2' })(async () => (await a()) + (await b())))

      expect(result.ok).toBe(false)
      expect(result.error).toBeInstanceOf(ReplayMismatchError)
      expect(result.error).toMatchObject({ tool: 'b', position: 0, expected: 'no call of this tool' })
      expect(result.mismatches).toHaveLength(1)
    })

    it('names a call beyond the recorded ones', async () => {
      const a = traceTool({ name: 'a' })(async () => 1)
      const recorded = await record(() => trace({ prompt: 'v1' })(async () => a())())

      const result = await replay(recorded, trace({ prompt: 'v2' })(async () => (await a()) + (await a())))

      expect(result.error).toMatchObject({ tool: 'a', position: 1, expected: '1 call(s) of this tool', message: 'Replay mismatch at a call #2: expected 1 call(s) of this tool, got call #2.' })
    })

    it('names a different input with matchInput', async () => {
      const search = traceTool({ name: 'search' })(async (q: string) => [q])
      const run = trace({ prompt: 'run' })(async (q: string) => search(q))
      const recorded = await record(() => run('cats'))

      const result = await replay(recorded, run, { args: ['dogs'], matchInput: true })

      expect(result.error).toMatchObject({ tool: 'search', position: 0, expected: 'input ["cats"]', actual: 'input ["dogs"]' })
    })

    it('lists recorded calls the replay never made', async () => {
      const a = traceTool({ name: 'a' })(async () => 1)
      const recorded = await record(() => trace({ prompt: 'v1' })(async () => (await a()) + (await a()))())

      const result = await replay(recorded, trace({ prompt: 'v2' })(async () => a()))

      expect(result.unused).toEqual([{ name: 'a', position: 1 }])
    })
  })

  it('replays an fp pipeline: a recorded Left comes back as a Left', async () => {
    let live = 0
    const retrieve = traceToolTE({ name: 'retrieve' })((q: string) => { live++; return TE.right<Error, string[]>([q]) })
    const generate = traceToolTE({ name: 'generate', kind: 'llm' })((_docs: string[]) => { live++; return TE.left<Error, string>(new Error('rate limited')) })
    const answer = traceTE({ prompt: 'answer' })((q: string) => pipe(retrieve(q), TE.chain(generate)))
    const recorded = await record(() => answer('q')())
    live = 0

    const result = await replay(recorded, (q: string) => answer(q)())

    expect(live).toBe(0)
    expect(result.ok).toBe(true)
    expect(result.value).toMatchObject({ _tag: 'Left', left: { message: 'rate limited' } })
    expect(result.doc.steps.map((step) => [step.name, step.status])).toEqual([['retrieve', 'success'], ['generate', 'error']])
  })

  it('replays an fp pipeline with the recorded values: each Right unwrapped once, the diff equal', async () => {
    let live = 0
    const seen: unknown[] = []
    const inc = traceToolTE({ name: 'inc' })((n: number) => { live++; return TE.right<string, number>(n + 1) })
    const program = traceTE({ prompt: 'count' })((n: number) => pipe(
      inc(n),
      TE.chain((m) => { seen.push(m); return inc(m) }),
    ))
    const recorded = await record(() => program(5)())
    live = 0
    seen.length = 0

    const result = await replay(recorded, (n: number) => program(n)())

    expect(live).toBe(0)
    expect(seen).toEqual([6])
    expect(result.value).toEqual({ _tag: 'Right', right: 7 })
    expect(result.doc.steps.map((step) => [step.input, step.output])).toEqual([[[5], 6], [[6], 7]])
    expect(result.diff.equal).toBe(true)
  })

  it('replays a ReaderTaskEither pipeline with the recorded values and an equal diff', async () => {
    let live = 0
    const inc = traceToolRTE({ name: 'inc' })((n: number) => RTE.asks((deps: { readonly step: number }) => { live++; return n + deps.step }))
    const program = traceRTE({ prompt: 'count' })((n: number) => pipe(inc(n), RTE.chainW(inc)))
    const recorded = await record(() => program(5)({ step: 1 })())
    live = 0

    const result = await replay(recorded, (n: number) => program(n)({ step: 1 })())

    expect(live).toBe(0)
    expect(result.value).toEqual({ _tag: 'Right', right: 7 })
    expect(result.doc.steps.map((step) => step.output)).toEqual([6, 7])
    expect(result.diff.equal).toBe(true)
  })

  it('replays a document exported to and read back from the SQLite store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracellm-replay-store-'))
    try {
      const file = join(dir, 'traces.db')
      const store = sqliteSink({ path: file })
      configure({ sinks: [store, sink], queue: { scheduleDelayMs: 0 } })
      const bodies = counter()
      const search = traceTool({ name: 'search' })(async (q: string) => { bodies.count('search'); return { hits: [q, q.toUpperCase()] } })
      const run = trace({ prompt: 'stored' })(async (q: string) => (await search(q)).hits.join('+'))
      await run('x')
      await flush()
      store.close()
      bodies.calls.clear()

      const reader = await openStore(file)
      const [summary] = (await reader.list()).items
      const stored = await reader.get(summary!.traceId)
      await reader.close()
      configure({ sinks: [sink], queue: { scheduleDelayMs: 0 } })
      const result = await expectReplayToMatch(stored!, run)

      expect(result.value).toBe('x+X')
      expect(bodies.total()).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('rejects when the function starts no trace', async () => {
    const recorded = await record(() => trace({ prompt: 'x' })(() => 1)())

    await expect(replay(recorded, () => 1)).rejects.toThrow(/started no trace/)
  })

  it.each([
    ['an unknown option', { speed: 2 }, /speed/],
    ['an unknown mode', { mode: 'live' }, /mode/],
    ['partial mode without tools', { mode: 'partial' }, /tools/],
    ['tools without partial mode', { tools: ['a'] }, /partial/],
  ])('rejects %s with a TypeError', async (_label, options, message) => {
    const recorded = await record(() => trace({ prompt: 'x' })(() => 1)())

    await expect(replay(recorded, () => 1, options as never)).rejects.toThrow(message)
  })
})

describe('expectReplayToMatch', () => {
  it('rejects with the diff when an output changed', async () => {
    const score = traceTool({ name: 'score' })((n: number) => n)
    const recorded = await record(() => trace({ prompt: 'p' })((n: number) => score(n) * 2)(3))
    const changed = trace({ prompt: 'p' })((n: number) => score(n) * 3)

    await expect(expectReplayToMatch(recorded, changed)).rejects.toThrow(/does not match the record/)
  })

  it('rejects naming an unused recorded call', async () => {
    const a = traceTool({ name: 'a' })(() => 1)
    const recorded = await record(() => trace({ prompt: 'p' })(() => a() + a())())

    await expect(expectReplayToMatch(recorded, trace({ prompt: 'p' })(() => a() + 1))).rejects.toThrow('Recorded call #2 of a was never made.')
  })
})
