// The viewer's cache of extracted steps and fields (src/ui/field-cache.ts, docs/ui.md#figures): a
// least-recently-used map bounded in bytes, and the server answering a step or a raw field again from
// it, never across a change of the store's data version.
import { afterEach, describe, expect, it } from '@jest/globals'
import type { TraceDocument, TraceId } from '../../src/document/document.js'
import { FieldCache } from '../../src/ui/field-cache.js'
import { startUiServer } from '../../src/ui/server.js'
import type { UiServer, ViewerStore } from '../../src/ui/types.js'
import { makeDocument, makeStep, stepIdOf } from '../helpers/documents.js'
import { fakeStore, type FakeStore } from './fake-store.js'
import { request } from './http.js'

const A = 'aaaaaaaa000000000000000000000001' as TraceId
const B = 'bbbbbbbb000000000000000000000002' as TraceId

describe('FieldCache', () => {
  it('keeps entries within its budget, counting two bytes per UTF-16 code unit, evicting the least recently used', () => {
    const cache = new FieldCache(100, 100)
    cache.set('a', 'x'.repeat(20))
    cache.set('b', 'y'.repeat(20))
    expect(cache.bytes).toBe(80)
    // reading `a` makes `b` the least recently used
    expect(cache.get('a')).toBe('x'.repeat(20))

    cache.set('c', 'z'.repeat(11))

    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')).toBe('x'.repeat(20))
    expect(cache.get('c')).toBe('z'.repeat(11))
    expect(cache.bytes).toBe(62)
    expect(cache.size).toBe(2)
  })

  it('does not keep an entry over its per-entry limit, and replacing a key counts its new size only', () => {
    const cache = new FieldCache(1000, 100)
    cache.set('small', 'x'.repeat(10))
    cache.set('huge', 'y'.repeat(51))
    expect(cache.get('huge')).toBeUndefined()
    expect(cache.get('small')).toBe('x'.repeat(10))

    cache.set('small', 'x'.repeat(30))
    expect(cache.bytes).toBe(60)
    cache.delete('small')
    expect(cache.bytes).toBe(0)
    cache.set('k', 'v')
    cache.clear()
    expect([cache.size, cache.bytes]).toEqual([0, 0])
  })

  it('refuses a budget that is not a number of bytes', () => {
    expect(() => new FieldCache(-1)).toThrow(TypeError)
    expect(() => new FieldCache(1.5)).toThrow(TypeError)
  })
})

describe('the server with the cache', () => {
  let server: UiServer | undefined

  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  /** A fake store that counts its extractions. */
  function counting(docs: TraceDocument[]): { store: FakeStore; calls: { step: number; stepField: number; steps: number } } {
    const base = fakeStore(docs)
    const calls = { step: 0, stepField: 0, steps: 0 }
    const store: FakeStore = {
      ...base,
      steps: async (traceId) => { calls.steps++; return base.steps(traceId) },
      step: async (traceId, stepId) => { calls.step++; return base.step(traceId, stepId) },
      stepField: async (traceId, stepId, field) => { calls.stepField++; return base.stepField(traceId, stepId, field) },
    }
    return { store, calls }
  }

  const docs = (): TraceDocument[] => [makeDocument({ traceId: A, steps: [makeStep({ stepId: stepIdOf(1), input: ['question'], output: 'x'.repeat(300 * 1024) })] })]

  it('extracts a skeleton, a step and a raw field once while the data version stays, and again after a commit', async () => {
    const { store, calls } = counting(docs())
    server = await startUiServer({ store, storeLabel: 'x.db', port: 0 })
    const step = `/api/traces/${A}/steps/${stepIdOf(1)}`

    const first = await request(server.port, step)
    const second = await request(server.port, step)
    expect(first.status).toBe(200)
    expect(first.headers['content-type']).toMatch(/^application\/json/)
    expect(second.body).toBe(first.body)
    expect(first.json().fields.output).toMatchObject({ inline: false, bytes: 300 * 1024 + 2 })
    expect(calls.step).toBe(1)

    const raw = await request(server.port, `${step}/raw/output`)
    expect((await request(server.port, `${step}/raw/output`)).body).toBe(raw.body)
    expect(JSON.parse(raw.body)).toBe('x'.repeat(300 * 1024))
    expect(calls.stepField).toBe(1)

    const skeleton = await request(server.port, `/api/traces/${A}/steps`)
    expect((await request(server.port, `/api/traces/${A}/steps`)).body).toBe(skeleton.body)
    expect(skeleton.json().columns.stepId).toEqual([stepIdOf(1)])
    expect(calls.steps).toBe(1)

    store.commit(makeDocument({ traceId: B }))
    await request(server.port, step)
    await request(server.port, `${step}/raw/output`)
    await request(server.port, `/api/traces/${A}/steps`)
    expect(calls).toEqual({ step: 2, stepField: 2, steps: 2 })
  })

  it('never caches an answer that failed, nor for a store without a data version', async () => {
    const { store, calls } = counting(docs())
    const unversioned: ViewerStore = { ...store, dataVersion: undefined } as unknown as ViewerStore
    server = await startUiServer({ store: unversioned, storeLabel: 'x.db', port: 0 })

    for (let round = 0; round < 2; round++) {
      expect((await request(server.port, `/api/traces/${A}/steps/${stepIdOf(1)}`)).status).toBe(200)
      expect((await request(server.port, `/api/traces/${A}/steps/${stepIdOf(7)}`)).status).toBe(404)
    }
    expect(calls.step).toBe(4)
  })

  it('keeps no more than its budget', async () => {
    const { store, calls } = counting(docs())
    server = await startUiServer({ store, storeLabel: 'x.db', port: 0, fieldCacheBytes: 1024 })
    await request(server.port, `/api/traces/${A}/steps/${stepIdOf(1)}`)
    await request(server.port, `/api/traces/${A}/steps/${stepIdOf(1)}`)

    // the step's answer (a 64 KiB preview) is larger than a 1 KiB cache: it is extracted each time
    expect(calls.step).toBe(2)
  })
})
