// The one suite both stores pass (SQLite and PostgreSQL): call runStoreContract from the backend's test file.
// Documents go in through the backend's sink, as they do in a program, and come out through the store.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import type { TraceDocument } from '../../src/document/document.js'
import type { Sink } from '../../src/export/queue.js'
import type { TraceStore, TraceSummary } from '../../src/stores/types.js'
import { makeAwkwardDocument, makeDocument, makeStep, stepIdOf, traceIdOf } from '../helpers/documents.js'

/** A fresh, empty store and a sink writing into it. */
export interface StoreHarness {
  readonly sink: Sink
  readonly store: TraceStore
  readonly cleanup: () => Promise<void>
}

/** Distinct ids for this suite, far from the ones other helpers count up from. */
let next = 0x5000_0000
function id(): ReturnType<typeof traceIdOf> {
  return traceIdOf(++next)
}

/** `n` seconds after a fixed instant, as the ISO string a trace stores. */
function at(seconds: number): string {
  return new Date(Date.UTC(2026, 10, 24, 10, 0, 0) + seconds * 1000).toISOString()
}

function doc(overrides: Parameters<typeof makeDocument>[0] = {}): TraceDocument {
  return makeDocument({ traceId: id(), ...overrides })
}

export function runStoreContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`${name} (store contract)`, () => {
    let harness: StoreHarness
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
    const ids = (items: ReadonlyArray<TraceSummary>): string[] => items.map((item) => item.traceId)

    describe('get', () => {
      it('returns the document as it was written', async () => {
        const written = doc({
          modelName: 'gpt-4o',
          tags: ['a', 'b'],
          metadata: { user: 'u-1', nested: { n: 1 } },
          retryCount: 1,
          usage: { inputTokens: 12, outputTokens: 34 },
          steps: [
            makeStep({ attempts: 2, retries: 1, attemptErrors: [{ attempt: 1, error: { type: 'Error', message: 'timeout' } }] }),
            makeStep({ stepId: stepIdOf(2), parentStepId: stepIdOf(1), seq: 1, name: 'generate', kind: 'llm', model: 'gpt-4o', usage: { inputTokens: 12, outputTokens: 34 } }),
          ],
        })

        await write(written)

        expect(await store.get(written.traceId)).toEqual(written)
      })

      it('keeps unicode text and keys such as __proto__ as data', async () => {
        const written = makeAwkwardDocument()

        await write(written)
        const back = await store.get(written.traceId)

        expect(back).toEqual(written)
        expect(Object.prototype.hasOwnProperty.call(back?.metadata, '__proto__')).toBe(true)
        expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      })

      it('keeps an error document with no input or output', async () => {
        const written = doc({
          status: 'error',
          error: { type: 'TypeError', message: 'boom', stack: 'TypeError: boom\n    at x' },
          input: undefined,
          output: undefined,
          outputKind: 'undefined',
          steps: [makeStep({ status: 'error', error: { type: 'TypeError', message: 'boom' }, output: undefined })],
        })
        const { input: _input, output: _output, ...expected } = written

        await write(written)

        expect(await store.get(written.traceId)).toEqual(expected)
      })

      it('stores NUL and lone surrogates as U+FFFD', async () => {
        const written = doc({ prompt: 'nul\u0000here', metadata: { 'key\ud800': 'lone\udc00' }, input: ['a\u0000b', '\ud83d'] })

        await write(written)
        const back = await store.get(written.traceId)

        expect(back).toMatchObject({ prompt: 'nul\uFFFDhere', metadata: { 'key\uFFFD': 'lone\uFFFD' }, input: ['a\uFFFDb', '\uFFFD'] })
        expect((await store.list({ prompt: 'nul\uFFFDhere' })).items).toHaveLength(1)
      })

      it('resolves undefined for an unknown id and for something that is not an id', async () => {
        await write(doc())

        expect(await store.get(id())).toBeUndefined()
        expect(await store.get("x'); drop table traces; --")).toBeUndefined()
        expect(await store.get('')).toBeUndefined()
      })
    })

    describe('write', () => {
      it('stores a retried batch once', async () => {
        const batch = [doc(), doc(), doc()]

        await write(...batch)
        await write(...batch)

        expect(await store.count()).toBe(3)
        expect((await store.stats()).steps).toBe(3)
      })

      it('stores SQL injection strings as plain data', async () => {
        const evil = "x'); drop table traces; --"
        const written = doc({ prompt: evil, metadata: { q: 'Robert"); DROP TABLE steps;--' } })

        await write(written, doc())

        expect(ids((await store.list({ prompt: evil })).items)).toEqual([written.traceId])
        expect(ids((await store.list({ text: 'DROP TABLE steps' })).items)).toEqual([written.traceId])
        expect(await store.count()).toBe(2)
      })
    })

    describe('list', () => {
      it('returns summaries, newest first', async () => {
        const older = doc({ startedAt: at(1), prompt: 'older' })
        const newer = doc({
          startedAt: at(2),
          endedAt: at(3),
          durationMs: 1000,
          prompt: 'newer',
          modelName: 'gpt-4o',
          status: 'error',
          error: { type: 'Error', message: 'x' },
          tags: ['t'],
          retryCount: 2,
          usage: { inputTokens: 5, outputTokens: 7 },
          steps: [makeStep({ status: 'error' }), makeStep({ stepId: stepIdOf(2), seq: 1 })],
        })

        await write(older, newer)
        const page = await store.list()

        expect(ids(page.items)).toEqual([newer.traceId, older.traceId])
        expect(page.nextCursor).toBeNull()
        expect(page.items[0]).toEqual({
          traceId: newer.traceId,
          rootSpanId: null,
          parentStepId: null,
          replayOf: null,
          costUsd: null,
          project: 'default',
          environment: 'test',
          prompt: 'newer',
          modelName: 'gpt-4o',
          status: 'error',
          startedAt: at(2),
          endedAt: at(3),
          durationMs: 1000,
          retryCount: 2,
          stepCount: 2,
          errorCount: 1,
          inputTokens: 5,
          outputTokens: 7,
          tags: ['t'],
          inputPreview: '["What is RAG?"]',
          outputPreview: '{"answer":"Retrieval-augmented generation","sources":3}',
          errorType: 'Error',
          errorMessage: 'x',
        })
      })

      it('filters by project, environment, prompt, status and model', async () => {
        const match = doc({ project: 'p1', environment: 'prod', prompt: 'ask', status: 'error', modelName: 'm1' })
        await write(
          match,
          doc({ project: 'p2', environment: 'prod', prompt: 'ask', status: 'error', modelName: 'm1' }),
          doc({ project: 'p1', environment: 'dev', prompt: 'ask', status: 'error', modelName: 'm1' }),
          doc({ project: 'p1', environment: 'prod', prompt: 'other', status: 'error', modelName: 'm1' }),
          doc({ project: 'p1', environment: 'prod', prompt: 'ask', status: 'success', modelName: 'm1' }),
          doc({ project: 'p1', environment: 'prod', prompt: 'ask', status: 'error', modelName: 'm2' }),
        )

        const page = await store.list({ project: 'p1', environment: 'prod', prompt: 'ask', status: 'error', modelName: 'm1' })

        expect(ids(page.items)).toEqual([match.traceId])
        expect(await store.count({ project: 'p1' })).toBe(5)
        expect(await store.count({ status: 'success' })).toBe(1)
      })

      it('filters by time range: since inclusive, until exclusive', async () => {
        const docs = [0, 10, 20, 30].map((seconds) => doc({ startedAt: at(seconds) }))
        await write(...docs)

        const page = await store.list({ since: at(10), until: new Date(at(30)) })

        expect(ids(page.items)).toEqual([docs[2]!.traceId, docs[1]!.traceId])
      })

      it('reads a duration as that long ago', async () => {
        const recent = doc({ startedAt: new Date(Date.now() - 60_000).toISOString() })
        const old = doc({ startedAt: new Date(Date.now() - 3 * 86_400_000).toISOString() })
        await write(recent, old)

        expect(ids((await store.list({ since: '1d' })).items)).toEqual([recent.traceId])
        expect(ids((await store.list({ until: '2d' })).items)).toEqual([old.traceId])
      })

      it('searches text in the document, case-insensitively, with % and _ taken literally', async () => {
        const percent = doc({ input: ['a 100% match'] })
        const underscore = doc({ output: { word: 'snake_case' } })
        const plain = doc({ input: ['a 100 match'], output: { word: 'snakeXcase' } })
        const shouting = doc({ metadata: { note: 'RERANKING' } })
        await write(percent, underscore, plain, shouting)

        expect(ids((await store.list({ text: '100%' })).items)).toEqual([percent.traceId])
        expect(ids((await store.list({ text: 'e_c' })).items)).toEqual([underscore.traceId])
        expect(ids((await store.list({ text: 'reranking' })).items)).toEqual([shouting.traceId])
        expect(await store.count({ text: '\\' })).toBe(0)
      })

      it('matches quotes and backslashes only where the data holds them, not in the JSON around it', async () => {
        const quoted = doc({ input: ['say "hi"'] })
        const slashed = doc({ output: { path: 'C:\\temp' } })
        await write(quoted, slashed, doc())

        expect(ids((await store.list({ text: '"hi"' })).items)).toEqual([quoted.traceId])
        expect(ids((await store.list({ text: '"' })).items)).toEqual([quoted.traceId])
        expect(ids((await store.list({ text: ':\\t' })).items)).toEqual([slashed.traceId])
      })

      it('finds traces by id prefix', async () => {
        const a = makeDocument({ traceId: 'abcdef00000000000000000000000001' as TraceDocument['traceId'] })
        const b = makeDocument({ traceId: 'abcdef00000000000000000000000002' as TraceDocument['traceId'] })
        const c = makeDocument({ traceId: 'abcd1100000000000000000000000003' as TraceDocument['traceId'] })
        await write(a, b, c)

        expect(ids((await store.list({ idPrefix: 'abcdef' })).items).sort()).toEqual([a.traceId, b.traceId])
        expect(ids((await store.list({ idPrefix: 'abcd11' })).items)).toEqual([c.traceId])
      })

      it('pages with a cursor, without gaps or repeats, ties broken by id', async () => {
        // three traces share one start time, so the order within it is by trace id
        const docs = [1, 2, 2, 2, 3, 4, 5].map((seconds) => doc({ startedAt: at(seconds) }))
        await write(...docs)
        const expected = [...docs].sort((x, y) => (x.startedAt === y.startedAt ? (x.traceId < y.traceId ? 1 : -1) : x.startedAt < y.startedAt ? 1 : -1)).map((d) => d.traceId)

        const seen: string[] = []
        let cursor: string | undefined
        let pages = 0
        do {
          const page = await store.list({ limit: 3, ...(cursor === undefined ? {} : { cursor }) })
          seen.push(...ids(page.items))
          cursor = page.nextCursor ?? undefined
          pages++
        } while (cursor !== undefined && pages < 10)

        expect(pages).toBe(3)
        expect(seen).toEqual(expected)
      })

      it('keeps paging stable when newer traces arrive between pages', async () => {
        const docs = [1, 2, 3, 4].map((seconds) => doc({ startedAt: at(seconds) }))
        await write(...docs)

        const first = await store.list({ limit: 2 })
        await write(doc({ startedAt: at(100) }))
        const second = await store.list({ limit: 2, cursor: first.nextCursor! })

        expect(ids(second.items)).toEqual([docs[1]!.traceId, docs[0]!.traceId])
      })

      it('rejects bad queries with a TypeError', async () => {
        await expect(store.list({ limit: 0 })).rejects.toThrow(TypeError)
        await expect(store.list({ limit: 501 })).rejects.toThrow(/limit/)
        await expect(store.list({ status: 'maybe' as 'error' })).rejects.toThrow(/status/)
        await expect(store.list({ since: 'yesterdayish' })).rejects.toThrow(/since/)
        await expect(store.list({ cursor: 'not-a-cursor' })).rejects.toThrow(/cursor/)
        await expect(store.list({ idPrefix: "'" })).rejects.toThrow(/idPrefix/)
        await expect(store.list({ colour: 'red' } as never)).rejects.toThrow(/colour/)
      })
    })

    describe('a trace continued across services', () => {
      // service A's document, and service B's continuing it under A's step: one trace id, two documents
      const continued = (): { readonly a: TraceDocument; readonly b: TraceDocument } => {
        const traceId = id()
        const a = doc({ traceId, rootSpanId: stepIdOf(0xa0), prompt: 'service_a', startedAt: at(1), steps: [makeStep({ stepId: stepIdOf(0xa1), name: 'call_b' })] })
        const b = doc({
          traceId, rootSpanId: stepIdOf(0xb0), prompt: 'service_b', startedAt: at(1.5), parentTraceId: traceId, parentStepId: stepIdOf(0xa1),
          // the same step id as A's step: unlikely with random ids, and still kept apart
          steps: [makeStep({ stepId: stepIdOf(0xa1), name: 'search' }), makeStep({ stepId: stepIdOf(0xb2), seq: 1, name: 'rank' })],
        })
        return { a, b }
      }

      it('stores one document per service; get returns the earliest, getAll all of them in start order', async () => {
        const { a, b } = continued()

        await write(b, a)

        expect(await store.get(a.traceId)).toEqual(a)
        expect(await store.getAll(a.traceId)).toEqual([a, b])
        expect(await store.getAll(id())).toEqual([])
        expect(await store.getAll('nope')).toEqual([])
        expect(await store.count()).toBe(2)
        expect((await store.stats()).steps).toBe(3)
      })

      it('stores a retried batch once per document', async () => {
        const { a, b } = continued()

        await write(a, b)
        await write(b, a)
        await write(a, b)

        expect(await store.getAll(a.traceId)).toEqual([a, b])
        expect((await store.stats()).steps).toBe(3)
      })

      it('lists each document, marks the continued one with the caller span, and pages through both', async () => {
        const { a, b } = continued()
        // a second document starting at the same instant as A: the page boundary falls between two
        // documents of one trace id, which the cursor must tell apart
        const twin = { ...b, rootSpanId: stepIdOf(0xc0), startedAt: a.startedAt }
        await write(a, b, twin)

        const all = (await store.list()).items
        expect(all.map((item) => [item.traceId, item.rootSpanId, item.prompt, item.parentStepId])).toEqual([
          [a.traceId, stepIdOf(0xb0), 'service_b', stepIdOf(0xa1)],
          [a.traceId, stepIdOf(0xc0), 'service_b', stepIdOf(0xa1)],
          [a.traceId, stepIdOf(0xa0), 'service_a', null],
        ])
        const paged: string[] = []
        let cursor: string | undefined
        for (let page = 0; page < 5; page++) {
          const result = await store.list({ limit: 1, ...(cursor === undefined ? {} : { cursor }) })
          paged.push(...result.items.map((item) => item.startedAt + ' ' + item.prompt))
          cursor = result.nextCursor ?? undefined
          if (cursor === undefined) break
        }
        expect(paged).toEqual(all.map((item) => item.startedAt + ' ' + item.prompt))
      })

      it('prunes documents one by one, with their own steps only', async () => {
        const { a, b } = continued()
        await write(a, b)

        expect(await store.prune({ olderThan: new Date(at(1.2)) })).toEqual({ deleted: 1 })

        expect(await store.getAll(a.traceId)).toEqual([b])
        expect((await store.stats()).steps).toBe(2)
      })
    })

    describe('list columns', () => {
      it('shows what a document replayed and what it cost; stats sum the cost', async () => {
        const original = doc({ startedAt: at(1), costUsd: 0.25 })
        const replay = doc({ startedAt: at(2), replayOf: original.traceId, costUsd: 0.5 })
        await write(original, replay)

        const items = (await store.list()).items
        expect(items.map((item) => [item.replayOf, item.costUsd])).toEqual([[original.traceId, 0.5], [null, 0.25]])
        expect((await store.stats()).costUsd).toBeCloseTo(0.75, 10)
      })
    })

    describe('stats', () => {
      it('is all zeros for an empty store', async () => {
        expect(await store.stats()).toEqual({ traces: 0, steps: 0, errors: 0, oldest: null, newest: null, retries: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, projects: [] })
      })

      it('sums traces, steps, errors, retries and tokens, and counts per project', async () => {
        await write(
          doc({ project: 'a', startedAt: at(1), retryCount: 1, usage: { inputTokens: 1, outputTokens: 2 } }),
          doc({ project: 'a', startedAt: at(5), status: 'error', usage: { inputTokens: 10, outputTokens: 20 } }),
          doc({ project: 'b', startedAt: at(3), retryCount: 2, steps: [makeStep(), makeStep({ stepId: stepIdOf(2), seq: 1 })] }),
        )

        expect(await store.stats()).toEqual({
          traces: 3,
          steps: 4,
          errors: 1,
          oldest: at(1),
          newest: at(5),
          retries: 3,
          inputTokens: 11,
          outputTokens: 22,
          costUsd: 0,
          projects: [{ project: 'a', traces: 2 }, { project: 'b', traces: 1 }],
        })
      })
    })

    describe('prune', () => {
      it('deletes traces started before the instant, with their steps, reporting progress', async () => {
        const old = [1, 2, 3].map((seconds) => doc({ startedAt: at(seconds) }))
        const kept = doc({ startedAt: at(10) })
        await write(...old, kept)
        const progress: Array<[number, number]> = []

        const result = await store.prune({ olderThan: new Date(at(10)), onProgress: (deleted, total) => progress.push([deleted, total]) })

        expect(result).toEqual({ deleted: 3 })
        expect(ids((await store.list()).items)).toEqual([kept.traceId])
        expect((await store.stats()).steps).toBe(1)
        expect(progress.at(-1)).toEqual([3, 3])
        expect(await store.get(old[0]!.traceId)).toBeUndefined()
      })

      it('reads a duration as that long ago and deletes nothing newer', async () => {
        const recent = doc({ startedAt: new Date().toISOString() })
        await write(recent, doc({ startedAt: new Date(Date.now() - 30 * 86_400_000).toISOString() }))

        expect(await store.prune({ olderThan: '7d' })).toEqual({ deleted: 1 })
        expect(ids((await store.list()).items)).toEqual([recent.traceId])
      })

      it('rejects a missing or malformed olderThan', async () => {
        await expect(store.prune({} as never)).rejects.toThrow(/olderThan/)
        await expect(store.prune({ olderThan: 'last tuesday' })).rejects.toThrow(/olderThan/)
      })
    })

    describe('close', () => {
      it('is idempotent, and the store rejects calls afterwards', async () => {
        await store.close()
        await store.close()

        await expect(store.list()).rejects.toThrow(/closed/)
      })
    })
  })
}
