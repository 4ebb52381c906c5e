import { afterEach, describe, expect, it, jest } from '@jest/globals'
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as RTE from 'fp-ts/ReaderTaskEither'
import * as TE from 'fp-ts/TaskEither'
import { currentTrace, flush, trace } from '../../src/index.js'
import { traceRTE, traceTE, traceToolRTE, traceToolTE } from '../../src/fp/index.js'
import { shape, useMemorySink } from '../helpers/memory.js'

interface Doc { readonly id: number; readonly text: string }
type RagError = { readonly kind: 'not_found' } | { readonly kind: 'timeout' }

const retrieve = traceToolTE({ name: 'retrieve', kind: 'retriever' })((q: string) => TE.right<RagError, Doc[]>([{ id: 1, text: q }, { id: 2, text: 'x' }]))
const rerank = traceToolTE({ name: 'rerank' })((docs: Doc[]) => TE.right<RagError, Doc[]>([...docs].reverse()))
const generate = traceToolTE({ name: 'generate', kind: 'llm' })((q: string, docs: Doc[]) => TE.right<RagError, string>(`${q} (${docs.length})`))

const answer = traceTE({ prompt: 'answer_question' })((q: string) => pipe(
  retrieve(q),
  TE.chain(rerank),
  TE.chain((docs) => generate(q, docs)),
))

describe('tracellm/fp', () => {
  afterEach(() => {
    jest.useRealTimers()
  })

  it('traces the RAG pipeline built with pipe() and TE.chain', async () => {
    const sink = useMemorySink()

    const result = await answer('What is RAG?')()
    await flush()

    expect(result).toEqual(E.right('What is RAG? (2)'))
    expect(shape(sink.traces[0]!)).toEqual(['retrieve', 'rerank', 'generate'])
    expect(sink.traces[0]).toMatchObject({ status: 'success', output: 'What is RAG? (2)' })
  })

  it("records a Right as its value: the output of the step and of the trace, and what mapOutput sees", async () => {
    const sink = useMemorySink()
    const mapped: unknown[] = []
    const count = traceToolTE({ name: 'count', mapOutput: (value) => { mapped.push(value); return value } })((q: string) => TE.right<RagError, number>(q.length))
    const countRTE = traceToolRTE({ name: 'count_rte' })((n: number) => RTE.right<{ readonly k: number }, RagError, number>(n * 2))
    const program = traceTE({ prompt: 'p' })((q: string) => pipe(count(q), TE.chain((n) => countRTE(n)({ k: 1, trace: currentTrace()! }))))

    const result = await program('four')()
    await flush()

    expect(result).toEqual(E.right(8))
    expect(mapped).toEqual([4])
    expect(sink.traces[0]?.output).toBe(8)
    expect(sink.traces[0]?.steps.map((step) => [step.name, step.output])).toEqual([['count', 4], ['count_rte', 8]])
  })

  it('records a Left as a failed step and returns it, never throws', async () => {
    const sink = useMemorySink()
    const missing: RagError = { kind: 'not_found' }
    const failing = traceToolTE({ name: 'retrieve' })((_q: string) => TE.left<RagError, Doc[]>(missing))
    const program = traceTE({ prompt: 'p' })((q: string) => pipe(failing(q), TE.chain(rerank)))

    const result = await program('q')()
    await flush()

    expect(result).toEqual(E.left(missing))
    expect(E.isLeft(result) && result.left).toBe(missing)
    const doc = sink.traces[0]!
    expect(doc.status).toBe('error')
    expect(doc.steps).toHaveLength(1)
    expect(doc.steps[0]).toMatchObject({ status: 'error', error: { type: 'NonError', value: { kind: 'not_found' } } })
  })

  it('retries a Left like a throw', async () => {
    jest.useFakeTimers()
    const sink = useMemorySink()
    let calls = 0
    const flaky = traceToolTE({ name: 'flaky', maxRetries: 2 })(() => TE.fromTask<number, RagError>(async () => ++calls) as TE.TaskEither<RagError, number>)
    const checked = traceToolTE({ name: 'checked', maxRetries: 2 })(() => pipe(flaky(), TE.chain((n) => (n < 3 ? TE.left<RagError, number>({ kind: 'timeout' }) : TE.right<RagError, number>(n)))))

    const pending = traceTE({ prompt: 'p' })(() => checked())()()
    await jest.runAllTimersAsync()
    const result = await pending
    await flush()

    expect(result).toEqual(E.right(3))
    const step = sink.traces[0]!.steps.find((s) => s.name === 'checked')!
    expect(step).toMatchObject({ attempts: 3, retries: 2, status: 'success' })
    expect(step.attemptErrors.map((a) => a.error.value)).toEqual([{ kind: 'timeout' }, { kind: 'timeout' }])
  })

  it('nests a TE trace inside a plain trace as a step of kind "trace"', async () => {
    const sink = useMemorySink()

    await trace({ prompt: 'outer' })(async () => answer('q')())()
    await flush()

    expect(shape(sink.traces[0]!)).toEqual(['answer_question', 'answer_question > retrieve', 'answer_question > rerank', 'answer_question > generate'])
  })

  describe('ReaderTaskEither', () => {
    interface Deps { readonly k: number }
    const search = traceToolRTE({ name: 'search' })((q: string) => RTE.asks((deps: Deps) => Array.from({ length: deps.k }, (_, i) => `${q}#${i}`)))
    const summarize = traceToolRTE({ name: 'summarize' })((hits: string[]) => RTE.right<Deps, never, string>(hits.join(',')))
    const pipeline = traceRTE({ prompt: 'rte' })((q: string) => pipe(search(q), RTE.chain(summarize)))

    it('runs a pipeline whose environment carries the context', async () => {
      const sink = useMemorySink()

      const result = await pipeline('q')({ k: 2 })()
      await flush()

      expect(result).toEqual(E.right('q#0,q#1'))
      expect(shape(sink.traces[0]!)).toEqual(['search', 'summarize'])
    })

    it('passes the step context to the inner computation, so explicit children nest', async () => {
      const sink = useMemorySink()
      const inner = traceToolRTE({ name: 'inner' })(() => RTE.right<Deps, never, number>(1))
      const outer = traceToolRTE({ name: 'outer' })(() => pipe(inner(), RTE.map((n) => n + 1)))

      // run the traced RTE outside any async scope of the trace: only the environment carries it
      const result = await traceRTE({ prompt: 'explicit' })(() => outer())()({ k: 1 })()
      await flush()

      expect(result).toEqual(E.right(2))
      expect(shape(sink.traces[0]!)).toEqual(['outer', 'outer > inner'])
    })
  })
})
