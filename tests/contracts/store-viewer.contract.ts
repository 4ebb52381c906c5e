// What the viewer reads of a store (docs/stores.md), for both backends: previews, step skeletons,
// steps and step fields extracted in SQL, facets, the data version, read-only stores, the text index
// and the migration of documents written before these columns. Call runStoreViewerContract from the
// backend's test file.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import type { StepRecord, TraceDocument } from '../../src/document/document.js'
import { toStepRows, toTraceRow } from '../../src/document/rows.js'
import type { Sink } from '../../src/export/queue.js'
import { flush, trace, traceTool } from '../../src/index.js'
import { createTextIndex } from '../../src/stores/open-store.js'
import type { TraceStore } from '../../src/stores/types.js'
import { makeDocument, makeStep, stepIdOf, traceIdOf } from '../helpers/documents.js'
import { useMemorySink } from '../helpers/memory.js'

/** A fresh, empty store, a sink writing into it (another connection), and doors onto the same data. */
export interface ViewerHarness {
  readonly sink: Sink
  readonly store: TraceStore
  /** The same data opened with `readOnly: true`. */
  readonly openReadOnly: () => Promise<TraceStore>
  /** Stores `docs` as schema version 2 did (without the columns of version 3), then opens the store, which migrates them. */
  readonly writeBeforeMigration: (docs: ReadonlyArray<TraceDocument>) => Promise<TraceStore>
  readonly cleanup: () => Promise<void>
}

let next = 0x6000_0000
function id(): ReturnType<typeof traceIdOf> {
  return traceIdOf(++next)
}

function at(seconds: number): string {
  return new Date(Date.UTC(2026, 10, 24, 10, 0, 0) + seconds * 1000).toISOString()
}

function doc(overrides: Parameters<typeof makeDocument>[0] = {}): TraceDocument {
  return makeDocument({ traceId: id(), ...overrides })
}

/** A document with a step of each kind the skeleton tells apart. */
function richDocument(overrides: Parameters<typeof makeDocument>[0] = {}): TraceDocument {
  return doc({
    input: 'line one\nline two\tand a tab',
    output: 'x'.repeat(199) + '😀' + 'tail',
    status: 'error',
    error: { type: 'RangeError', message: 'too\nfar' },
    steps: [
      makeStep({ costUsd: 0.25, model: 'gpt-4o', usage: { inputTokens: 3, outputTokens: 4 }, input: 'héllo', output: 42, truncated: 2 }),
      makeStep({ stepId: stepIdOf(2), parentStepId: stepIdOf(1), seq: 1, name: 'generate', kind: 'llm', status: 'error', error: { type: 'TypeError', message: 'boom' }, input: undefined, output: undefined, incomplete: true, metadata: { k: 'v' }, attempts: 2, retries: 1, attemptErrors: [{ attempt: 1, error: { type: 'Error', message: 'first' } }] }),
    ],
    ...overrides,
  })
}

export function runStoreViewerContract(name: string, makeHarness: () => Promise<ViewerHarness>): void {
  describe(`${name} (viewer reads)`, () => {
    let harness: ViewerHarness
    let store: TraceStore

    beforeEach(async () => {
      harness = await makeHarness()
      store = harness.store
    })

    afterEach(async () => {
      await harness.cleanup()
    })

    const write = async (...docs: TraceDocument[]): Promise<void> => {
      await harness.sink.write(Object.freeze(docs))
    }

    describe('list previews', () => {
      it('shows input, output and error as one line of at most 200 characters, never splitting a surrogate pair', async () => {
        const written = richDocument()

        await write(written)
        const [item] = (await store.list()).items

        expect(item).toMatchObject({ inputPreview: 'line one line two and a tab', errorType: 'RangeError', errorMessage: 'too far' })
        expect(item?.outputPreview).toBe('x'.repeat(199) + '😀')
        expect([...(item?.outputPreview ?? '')]).toHaveLength(200)
      })

      it('is null when nothing was captured, and JSON for anything but a string', async () => {
        const written = doc({ input: undefined, output: { a: [1, 'two'] } })

        await write(written)
        const [item] = (await store.list()).items

        expect(item).toMatchObject({ inputPreview: null, outputPreview: '{"a":[1,"two"]}', errorType: null, errorMessage: null })
      })
    })

    describe('steps', () => {
      it('returns the skeleton of every document, earliest document first, then seq', async () => {
        const first = richDocument({ startedAt: at(0) })
        const continued = doc({ traceId: first.traceId, rootSpanId: stepIdOf(0xb0), parentTraceId: first.traceId, parentStepId: stepIdOf(1), startedAt: at(5), steps: [makeStep({ stepId: stepIdOf(9) })] })

        await write(continued, first)
        const skeleton = await store.steps(first.traceId)

        expect(skeleton.map((step) => [step.rootSpanId, step.stepId, step.seq])).toEqual([[null, stepIdOf(1), 0], [null, stepIdOf(2), 1], [stepIdOf(0xb0), stepIdOf(9), 0]])
        expect(skeleton[0]).toEqual({
          stepId: stepIdOf(1), parentStepId: null, rootSpanId: null, seq: 0, name: 'search', kind: 'tool', status: 'success',
          startedAt: '2026-11-24T10:00:00.001Z', durationMs: 3.2, attempts: 1, retries: 0, model: 'gpt-4o', inputTokens: 3, outputTokens: 4, costUsd: 0.25,
          errorType: null, errorMessage: null, inputBytes: Buffer.byteLength('"héllo"'), outputBytes: 2, inputPreview: 'héllo', outputPreview: '42',
          truncated: true, incomplete: false,
        })
        expect(skeleton[1]).toMatchObject({ status: 'error', errorType: 'TypeError', errorMessage: 'boom', inputBytes: 0, outputBytes: 0, inputPreview: null, outputPreview: null, truncated: false, incomplete: true, attempts: 2, retries: 1, costUsd: null, inputTokens: 0 })
      })

      it('orders by the documents\' start, then seq, whatever the ids; previews: false leaves the previews out', async () => {
        // the continued document's root span id and the steps' ids sort the other way round
        const first = doc({ rootSpanId: stepIdOf(0xf0), startedAt: at(0), steps: [makeStep({ stepId: stepIdOf(0x29), seq: 0, input: 'a' }), makeStep({ stepId: stepIdOf(0x28), seq: 1, input: 'b' })] })
        const continued = doc({ traceId: first.traceId, rootSpanId: stepIdOf(0xa0), parentTraceId: first.traceId, parentStepId: stepIdOf(0x29), startedAt: at(5), steps: [makeStep({ stepId: stepIdOf(0x27), seq: 0 })] })

        await write(continued, first)
        const order = [[stepIdOf(0xf0), stepIdOf(0x29), 0], [stepIdOf(0xf0), stepIdOf(0x28), 1], [stepIdOf(0xa0), stepIdOf(0x27), 0]]
        const full = await store.steps(first.traceId)
        const lean = await store.steps(first.traceId, { previews: false })

        expect(full.map((step) => [step.rootSpanId, step.stepId, step.seq])).toEqual(order)
        expect(full.map((step) => step.inputPreview)).toEqual(['a', 'b', expect.any(String)])
        expect(lean.map((step) => [step.rootSpanId, step.stepId, step.seq])).toEqual(order)
        expect(lean.every((step) => step.inputPreview === null && step.outputPreview === null)).toBe(true)
        expect(lean.map(({ inputPreview: _i, outputPreview: _o, ...rest }) => rest)).toEqual(full.map(({ inputPreview: _i, outputPreview: _o, ...rest }) => rest))
      })

      it('is empty for an unknown id and for something that is not an id', async () => {
        expect(await store.steps(id())).toEqual([])
        expect(await store.steps("x' OR 1=1 --")).toEqual([])
      })
    })

    describe('step and stepField', () => {
      it('extracts each step whole, as it was written', async () => {
        const written = richDocument()

        await write(written)

        for (const step of written.steps) expect(await store.step(written.traceId, step.stepId)).toEqual(step)
        expect(await store.step(written.traceId, stepIdOf(77))).toBeUndefined()
        expect(await store.step(id(), stepIdOf(1))).toBeUndefined()
        expect(await store.step(written.traceId, 'nope')).toBeUndefined()
      })

      it('extracts one field, with the defaults of a missing one', async () => {
        const written = richDocument()
        const [first, second] = written.steps as [StepRecord, StepRecord]

        await write(written)
        const field = (stepId: string, name: Parameters<TraceStore['stepField']>[2]) => store.stepField(written.traceId, stepId, name)

        expect(await field(first.stepId, 'input')).toEqual({ found: true, value: 'héllo' })
        expect(await field(first.stepId, 'output')).toEqual({ found: true, value: 42 })
        expect(await field(first.stepId, 'error')).toEqual({ found: true, value: null })
        expect(await field(second.stepId, 'input')).toEqual({ found: true })
        expect(await field(second.stepId, 'error')).toEqual({ found: true, value: { type: 'TypeError', message: 'boom' } })
        expect(await field(second.stepId, 'attemptErrors')).toEqual({ found: true, value: second.attemptErrors })
        expect(await field(second.stepId, 'metadata')).toEqual({ found: true, value: { k: 'v' } })
        expect(await field(stepIdOf(77), 'input')).toEqual({ found: false })
        await expect(field(first.stepId, 'document' as never)).rejects.toThrow(TypeError)
      })

      it('relies on documents keeping their steps in seq order, which recorded traces do', async () => {
        const sink = useMemorySink()
        const leaf = traceTool({ name: 'leaf' })(async (n: number) => n * 2)
        const branch = traceTool({ name: 'branch' })(async (n: number) => Promise.all([leaf(n), leaf(n + 1)]))
        await trace({ prompt: 'seq' })(async () => Promise.all([branch(1), leaf(0), branch(2)]))()
        await flush()
        const recorded = sink.traces[0] as TraceDocument

        expect(recorded.steps.map((step) => step.seq)).toEqual(recorded.steps.map((_, index) => index))
        await write(recorded)
        for (const step of recorded.steps) expect(await store.step(recorded.traceId, step.stepId)).toEqual(step)
      })
    })

    describe('facets', () => {
      it('counts the top values among the traces the other filters match, ignoring its own filter', async () => {
        await write(
          doc({ project: 'a', status: 'error', error: { type: 'E', message: 'm' }, tags: ['x', 'y'], modelName: 'm1' }),
          doc({ project: 'a', tags: ['x'] }),
          doc({ project: 'b', tags: ['x'], modelName: 'm1' }),
          doc({ project: 'b', environment: 'prod', startedAt: at(-100_000) }),
        )

        expect(await store.facets('project')).toEqual([{ value: 'a', count: 2 }, { value: 'b', count: 2 }])
        expect(await store.facets('project', { project: 'a', environment: 'test' })).toEqual([{ value: 'a', count: 2 }, { value: 'b', count: 1 }])
        expect(await store.facets('status', { project: 'a', status: 'success' })).toEqual([{ value: 'error', count: 1 }, { value: 'success', count: 1 }])
        expect(await store.facets('tags', { project: 'a' })).toEqual([{ value: 'x', count: 2 }, { value: 'y', count: 1 }])
        expect(await store.facets('modelName')).toEqual([{ value: 'm1', count: 2 }])
        expect(await store.facets('environment', { since: at(-10) })).toEqual([{ value: 'test', count: 3 }])
        await expect(store.facets('document' as never)).rejects.toThrow(TypeError)
      })
    })

    describe('overview', () => {
      /** Two recent traces and an old one, with step names that fail, are slow, are retried and use models. */
      const seed = async (): Promise<void> => {
        const s = (n: number, overrides: Parameters<typeof makeStep>[0]): StepRecord => makeStep({ stepId: stepIdOf(n), seq: n - 1, ...overrides })
        await write(
          doc({ prompt: 'p1', startedAt: at(0), usage: { inputTokens: 10, outputTokens: 20 }, costUsd: 0.5, steps: [
            s(1, { name: 'search', durationMs: 10 }),
            s(2, { name: 'search', durationMs: 20, status: 'error', error: { type: 'E', message: 'm' } }),
            s(3, { name: 'llm', kind: 'llm', model: 'gpt-4o', usage: { inputTokens: 100, outputTokens: 50 }, costUsd: 0.3, durationMs: 100 }),
          ] }),
          doc({ prompt: 'p2', startedAt: at(1), usage: { inputTokens: 30, outputTokens: 40 }, costUsd: 0.25, steps: [
            s(1, { name: 'search', durationMs: 30 }),
            s(2, { name: 'search', durationMs: 40, status: 'error', error: { type: 'E', message: 'm' } }),
            // retried in the second trace only: a table must not take a bare column of the group's first row
            s(3, { name: 'llm', kind: 'llm', model: 'gpt-4o', usage: { inputTokens: 200, outputTokens: 100 }, costUsd: 0.2, durationMs: 300, attempts: 3, retries: 2 }),
            s(4, { name: 'embed', kind: 'embedding', model: 'small', usage: { inputTokens: 5, outputTokens: 0 }, durationMs: 5, attempts: 2, retries: 1 }),
          ] }),
          doc({ prompt: 'p1', startedAt: at(-100_000), steps: [s(1, { name: 'old-step', durationMs: 1000, status: 'error', error: { type: 'E', message: 'm' }, startedAt: at(-100_000) })] }),
        )
      }

      it('reports the failing, slowest (p50, p95 as percentile_cont) and most retried step names, and usage by model and prompt', async () => {
        await seed()

        expect(await store.overview()).toEqual({
          failingSteps: [{ name: 'search', steps: 4, errors: 2 }, { name: 'old-step', steps: 1, errors: 1 }],
          slowestSteps: [
            { name: 'old-step', steps: 1, p50Ms: 1000, p95Ms: 1000 },
            { name: 'llm', steps: 2, p50Ms: 200, p95Ms: 290 },
            { name: 'search', steps: 4, p50Ms: 25, p95Ms: 38.5 },
            { name: 'embed', steps: 1, p50Ms: 5, p95Ms: 5 },
          ],
          mostRetried: [{ name: 'llm', steps: 2, retriedSteps: 1, retries: 2 }, { name: 'embed', steps: 1, retriedSteps: 1, retries: 1 }],
          byModel: [
            { name: 'gpt-4o', count: 2, inputTokens: 300, outputTokens: 150, costUsd: 0.5 },
            { name: 'small', count: 1, inputTokens: 5, outputTokens: 0, costUsd: null },
          ],
          byPrompt: [
            { name: 'p1', count: 2, inputTokens: 10, outputTokens: 20, costUsd: 0.5 },
            { name: 'p2', count: 1, inputTokens: 30, outputTokens: 40, costUsd: 0.25 },
          ],
        })
      })

      it('covers only the traces and steps started since `since`, and rejects a bad query with a TypeError', async () => {
        await seed()

        const recent = await store.overview({ since: at(-10) })

        expect(recent.failingSteps).toEqual([{ name: 'search', steps: 4, errors: 2 }])
        expect(recent.slowestSteps.map((row) => row.name)).toEqual(['llm', 'search', 'embed'])
        expect(recent.byPrompt.map((row) => [row.name, row.count])).toEqual([['p1', 1], ['p2', 1]])
        await expect(store.overview({ since: 'yesterdayish' })).rejects.toThrow(TypeError)
        await expect(store.overview({ until: '1d' } as never)).rejects.toThrow(TypeError)
      })

      it('keeps ten rows per table, ties by name', async () => {
        await write(doc({ steps: Array.from({ length: 12 }, (_, n) => makeStep({ stepId: stepIdOf(n + 1), seq: n, name: 'tool-' + String(n).padStart(2, '0'), status: 'error', durationMs: 7 })) }))

        const overview = await store.overview()

        expect(overview.failingSteps.map((row) => row.name)).toEqual(Array.from({ length: 10 }, (_, n) => 'tool-' + String(n).padStart(2, '0')))
        expect(overview.slowestSteps).toHaveLength(10)
        expect(await harness.store.overview({ since: at(100_000) })).toEqual({ failingSteps: [], slowestSteps: [], mostRetried: [], byModel: [], byPrompt: [] })
      })
    })

    describe('dataVersion', () => {
      it('changes when another connection commits, and only then', async () => {
        const before = await store.dataVersion()
        expect(await store.dataVersion()).toBe(before)

        await write(doc())

        const after = await store.dataVersion()
        expect(after).not.toBe(before)
        expect(await store.dataVersion()).toBe(after)
      })
    })

    describe('headers', () => {
      it('returns every document of the trace as getAll does, without its steps, with their count', async () => {
        const first = richDocument({ startedAt: at(0), metadata: { user: 'u1' } })
        const continued = doc({ traceId: first.traceId, rootSpanId: stepIdOf(0xb2), parentTraceId: first.traceId, parentStepId: stepIdOf(1), startedAt: at(5), steps: [makeStep({ stepId: stepIdOf(9) })] })
        await write(continued, first)

        const headers = await store.headers(first.traceId)
        const whole = await store.getAll(first.traceId)

        expect(headers).toEqual(whole.map(({ steps, ...header }) => ({ ...header, stepCount: steps.length })))
        expect(headers.map((header) => header.stepCount)).toEqual([2, 1])
        expect(await store.headers(id())).toEqual([])
        expect(await store.headers('nope')).toEqual([])
      })
    })

    describe('delete', () => {
      it('deletes every document of one trace and their steps, and nothing else; twice is harmless', async () => {
        const first = richDocument({ startedAt: at(0) })
        const continued = doc({ traceId: first.traceId, rootSpanId: stepIdOf(0xb1), parentTraceId: first.traceId, parentStepId: stepIdOf(1), startedAt: at(5), steps: [makeStep({ stepId: stepIdOf(9) })] })
        const kept = richDocument({ startedAt: at(10) })
        await write(first, continued, kept)
        const before = await store.dataVersion()

        expect(await store.delete(first.traceId)).toEqual({ deleted: 2 })

        expect(await store.getAll(first.traceId)).toEqual([])
        expect(await store.steps(first.traceId)).toEqual([])
        expect(await store.step(first.traceId, stepIdOf(1))).toBeUndefined()
        expect((await store.list()).items.map((item) => item.traceId)).toEqual([kept.traceId])
        expect(await store.steps(kept.traceId)).toHaveLength(2)
        expect(await store.stats()).toMatchObject({ traces: 1, steps: 2 })
        expect(await store.dataVersion()).not.toBe(before)
        expect(await store.delete(first.traceId)).toEqual({ deleted: 0 })
        expect(await store.delete(id())).toEqual({ deleted: 0 })
        await expect(store.delete("x' OR 1=1 --")).rejects.toThrow(TypeError)
        expect(await store.count()).toBe(1)
      })

      it('is refused by a read-only store', async () => {
        const written = doc()
        await write(written)
        const readOnly = await harness.openReadOnly()
        try {
          await expect(readOnly.delete(written.traceId)).rejects.toThrow(/read-?only/i)
        } finally {
          await readOnly.close()
        }
        expect(await store.count()).toBe(1)
      })
    })

    describe('read-only', () => {
      it('reads what is stored and refuses every write', async () => {
        const written = doc({ startedAt: at(-1000) })
        await write(written)
        const readOnly = await harness.openReadOnly()
        try {
          expect(readOnly.readOnly).toBe(true)
          expect((await readOnly.list()).items.map((item) => item.traceId)).toEqual([written.traceId])
          await expect(readOnly.prune({ olderThan: at(0) })).rejects.toThrow(/read-?only/i)
          await expect(readOnly.vacuum()).rejects.toThrow(/read-?only/i)
          await expect(createTextIndex(readOnly)).rejects.toThrow(/read-?only/i)
          expect(await store.count()).toBe(1)
        } finally {
          await readOnly.close()
        }
      })
    })

    describe('text search', () => {
      it('finds the same traces with the text index as without, and keeps it up to date', async () => {
        const hit = doc({ input: 'the Quick brown fox', startedAt: at(1) })
        const other = doc({ input: 'lazy dog', startedAt: at(2) })
        await write(hit, other)
        const search = async (text: string): Promise<string[]> => (await store.list({ text })).items.map((item) => item.traceId)
        const unindexed = [await search('quick'), await search('ick bro'), await search('lazy dog'), await search('%')]

        expect(await createTextIndex(store)).toBe(true)
        expect(await createTextIndex(store)).toBe(false)
        const later = doc({ input: 'a quick reply', startedAt: at(3) })
        await write(later)

        expect(unindexed).toEqual([[hit.traceId], [hit.traceId], [other.traceId], []])
        expect(await search('quick')).toEqual([later.traceId, hit.traceId])
        expect(await store.count({ text: 'QUICK brown' })).toBe(1)
        expect(await search('lazy dog')).toEqual([other.traceId])
        expect(await store.prune({ olderThan: at(2.5) })).toEqual({ deleted: 2 })
        expect(await search('quick')).toEqual([later.traceId])
      })

      it('rejects with an AbortError when the signal has fired', async () => {
        await write(doc())
        const controller = new AbortController()
        controller.abort()

        await expect(store.list({ text: 'x' }, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' })
        await expect(store.count({ text: 'x' }, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' })
      })
    })

    describe('text scope', () => {
      it('restricts text to the inputs, outputs, errors or metadata of the trace and its steps', async () => {
        const inInput = doc({ input: 'needle in the input', startedAt: at(1) })
        const inStepOutput = doc({ startedAt: at(2), steps: [makeStep({ output: { answer: 'a NEEDLE here' } })] })
        const inAttempt = doc({ startedAt: at(3), steps: [makeStep({ attempts: 2, retries: 1, attemptErrors: [{ attempt: 1, error: { type: 'Error', message: 'needle timeout' } }] })] })
        const inMetadata = doc({ startedAt: at(4), metadata: { note: 'needle' } })
        const inPrompt = doc({ prompt: 'needle-prompt', startedAt: at(5) })
        await write(inInput, inStepOutput, inAttempt, inMetadata, inPrompt)
        const search = async (scope?: 'all' | 'input' | 'output' | 'error' | 'metadata'): Promise<string[]> =>
          (await store.list({ text: 'needle', ...(scope === undefined ? {} : { scope }) })).items.map((item) => item.traceId)

        expect(await search()).toEqual([inPrompt, inMetadata, inAttempt, inStepOutput, inInput].map((d) => d.traceId))
        expect(await search('all')).toEqual(await search())
        expect(await search('input')).toEqual([inInput.traceId])
        expect(await search('output')).toEqual([inStepOutput.traceId])
        expect(await search('error')).toEqual([inAttempt.traceId])
        expect(await search('metadata')).toEqual([inMetadata.traceId])
        expect(await store.count({ text: 'needle', scope: 'output' })).toBe(1)
        expect(await store.facets('project', { text: 'needle', scope: 'input' })).toEqual([{ value: inInput.project, count: 1 }])
        // the text index narrows the rows; the scope still decides
        expect(await createTextIndex(store)).toBe(true)
        expect(await search('input')).toEqual([inInput.traceId])
        expect(await search('error')).toEqual([inAttempt.traceId])
        await expect(store.list({ text: 'x', scope: 'prompt' as never })).rejects.toThrow(/Expected `scope` to be one of "all", "input"/)
      })
    })

    describe('sort', () => {
      it('returns the top traces by duration, cost or retries within the filter, as one page without a cursor', async () => {
        const slow = doc({ durationMs: 900, costUsd: 0.1, startedAt: at(1) })
        const costly = doc({ durationMs: 100, costUsd: 2, startedAt: at(2) })
        const retried = doc({ durationMs: 50, retryCount: 3, startedAt: at(3), steps: [makeStep({ attempts: 4, retries: 3 })] })
        const other = doc({ durationMs: 5000, project: 'elsewhere', startedAt: at(4) })
        await write(slow, costly, retried, other)
        const ids = async (query: Parameters<TraceStore['list']>[0]): Promise<{ ids: string[]; nextCursor: string | null }> => {
          const page = await store.list(query)
          return { ids: page.items.map((item) => item.traceId), nextCursor: page.nextCursor }
        }
        const project = slow.project

        expect(await ids({ project, sort: 'slowest' })).toEqual({ ids: [slow, costly, retried].map((d) => d.traceId), nextCursor: null })
        expect(await ids({ project, sort: 'slowest', limit: 1 })).toEqual({ ids: [slow.traceId], nextCursor: null })
        expect((await ids({ project, sort: 'costliest', limit: 2 })).ids).toEqual([costly.traceId, slow.traceId])
        expect((await ids({ project, sort: 'retries', limit: 1 })).ids).toEqual([retried.traceId])
        expect((await ids({ project, sort: 'newest', limit: 1 })).nextCursor).not.toBeNull()
        await expect(store.list({ sort: 'slowest', cursor: (await store.list({ limit: 1 })).nextCursor as string })).rejects.toThrow(/no `cursor` with `sort: "slowest"`/)
        await expect(store.list({ sort: 'random' as never })).rejects.toThrow(TypeError)
        expect(await store.count({ project, sort: 'slowest' })).toBe(3)
      })
    })

    describe('replayOf', () => {
      it('lists the replays of a trace', async () => {
        const original = doc({ startedAt: at(1) })
        const first = doc({ replayOf: original.traceId, startedAt: at(2) })
        const second = doc({ replayOf: original.traceId, startedAt: at(3) })
        await write(original, first, second, doc({ replayOf: id(), startedAt: at(4) }))

        expect((await store.list({ replayOf: original.traceId })).items.map((item) => item.traceId)).toEqual([second.traceId, first.traceId])
        expect(await store.count({ replayOf: original.traceId })).toBe(2)
        expect(await store.count({ replayOf: second.traceId })).toBe(0)
        await expect(store.list({ replayOf: 'abc' })).rejects.toThrow(/Expected `replayOf` to be a trace id/)
      })
    })

    describe('migration of documents written before version 3', () => {
      it('fills the new columns from the stored JSON as a write fills them', async () => {
        const old = richDocument({ startedAt: at(-50) })
        const migrated = await harness.writeBeforeMigration([old])
        try {
          await write(richDocument({ traceId: id(), startedAt: at(50) }))
          const fresh = (await store.list()).items[0]
          const [before] = (await migrated.list()).items

          expect(before).toMatchObject({ inputPreview: fresh?.inputPreview, outputPreview: fresh?.outputPreview, errorType: 'RangeError', errorMessage: 'too far' })
          const row = toTraceRow(old)
          expect(before).toMatchObject({ inputPreview: row.inputPreview, outputPreview: row.outputPreview, errorMessage: row.errorMessage })
          const skeleton = await migrated.steps(old.traceId)
          expect(skeleton.map((step) => [step.costUsd, step.errorType, step.errorMessage, step.inputBytes, step.outputBytes, step.inputPreview, step.outputPreview, step.truncated, step.incomplete])).toEqual(
            toStepRows(old).map((step) => [step.costUsd, step.errorType, step.errorMessage, step.inputBytes, step.outputBytes, step.inputPreview, step.outputPreview, step.truncated, step.incomplete]),
          )
          expect(await migrated.step(old.traceId, stepIdOf(2))).toEqual(old.steps[1])
        } finally {
          await migrated.close()
        }
      })
    })
  })
}
