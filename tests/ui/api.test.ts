// The viewer's JSON API (docs/ui.md#api) against an in-memory store implementing the viewer's store
// interface: every endpoint, its validation and its error shape.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { TraceDocument, TraceId } from '../../src/document/document.js'
import { startUiServer } from '../../src/ui/server.js'
import type { UiServer } from '../../src/ui/types.js'
import { makeDocument, makeStep, stepIdOf, traceIdOf } from '../helpers/documents.js'
import { fakeStore, type FakeStore } from './fake-store.js'
import { events, request } from './http.js'

const A = 'aaaaaaaa000000000000000000000001' as TraceId
const B = 'bbbbbbbb000000000000000000000002' as TraceId
const BIG = 'x'.repeat(300 * 1024)

function documents(): TraceDocument[] {
  return [
    makeDocument({ traceId: A, project: 'shop', prompt: 'answer', startedAt: '2026-11-24T10:00:00.000Z', tags: ['beta'],
      steps: [makeStep({ stepId: stepIdOf(1) }), makeStep({ stepId: stepIdOf(2), seq: 1, parentStepId: stepIdOf(1), name: 'big', startedAt: '2026-11-24T10:00:00.005Z', output: BIG })] }),
    makeDocument({ traceId: B, project: 'blog', prompt: 'answer', status: 'error', startedAt: '2026-11-24T11:00:00.000Z',
      error: { type: 'Error', message: 'boom' }, steps: [makeStep({ stepId: stepIdOf(1), name: 'search', output: [{ id: 2 }] })] }),
  ]
}

let store: FakeStore
let server: UiServer

beforeAll(async () => {
  store = fakeStore(documents())
  server = await startUiServer({ store, storeLabel: 'traces.db', port: 0, version: '9.9.9', pollMs: 20, heartbeatMs: 60, statsCacheMs: 5000 })
})

afterAll(async () => {
  await server.close()
})

const get = (path: string) => request(server.port, path)

describe('the viewer API', () => {
  it('prints its URL on 127.0.0.1 and reports itself in /api/meta, read-only, without a CSRF token', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`)
    const reply = await get('/api/meta')

    expect(reply.status).toBe(200)
    expect(reply.json()).toEqual({ version: '9.9.9', store: { kind: 'sqlite', location: 'traces.db' }, readOnly: true, tokenAuth: false })
  })

  it('lists traces newest first with previews, and filters with the ListQuery fields', async () => {
    const all = (await get('/api/traces')).json()
    expect(all.items.map((item: { traceId: string }) => item.traceId)).toEqual([B, A])
    expect(all.items[0].errorMessage).toBe('boom')
    expect(all.nextCursor).toBeNull()

    expect((await get('/api/traces?project=shop')).json().items.map((item: { traceId: string }) => item.traceId)).toEqual([A])
    expect((await get('/api/traces?status=error&since=2026-11-24T10:30:00Z')).json().items).toHaveLength(1)
    expect((await get('/api/traces?idPrefix=aaaa')).json().items).toHaveLength(1)
    expect((await get('/api/traces?scope=all&sort=newest&text=')).json().items).toHaveLength(2)
    expect((await get('/api/traces?scope=input&text=rag')).json().items).toHaveLength(2)
    expect((await get(`/api/traces?replayOf=${A}`)).json().items).toEqual([])
    expect((await get(`/api/traces/count?replayOf=${A}`)).json()).toEqual({ count: 0 })
    const slowest = (await get('/api/traces?sort=slowest&limit=1')).json()
    expect(slowest.items).toHaveLength(1)
    expect(slowest.nextCursor).toBeNull()
  })

  it('pages with the keyset cursor', async () => {
    const first = (await get('/api/traces?limit=1')).json()
    expect(first.nextCursor).toEqual(expect.any(String))
    const second = (await get(`/api/traces?limit=1&cursor=${first.nextCursor}`)).json()

    expect(second.items.map((item: { traceId: string }) => item.traceId)).toEqual([A])
  })

  it.each([
    ['status=maybe', /status/],
    ['limit=0', /limit/],
    ['limit=ten', /limit/],
    ['since=yesterday', /since/],
    ['idPrefix=XYZ', /idPrefix/],
    ['cursor=forged', /cursor/],
    [`cursor=${Buffer.from('["2026-11-24","nothex","x"]').toString('base64url')}`, /cursor/],
    ['colour=red', /colour/],
    ['project=a&project=b', /project/],
    ['sort=random', /sort/],
    ['scope=prompt', /scope/],
    ['replayOf=abc', /replayOf/],
    ['sort=slowest&cursor=x', /cursor/],
  ])('answers 400 {error} to a bad query (%s)', async (query, message) => {
    const reply = await get(`/api/traces?${query}`)

    expect(reply.status).toBe(400)
    expect(reply.headers['content-type']).toMatch(/^application\/json/)
    expect(reply.json()).toEqual({ error: expect.stringMatching(message) })
    expect(reply.body).not.toMatch(/\n\s+at /)
  })

  it('counts separately and validates the same filters', async () => {
    expect((await get('/api/traces/count?project=shop')).json()).toEqual({ count: 1 })
    expect((await get('/api/traces/count?limit=5')).status).toBe(400)
  })

  it('counts facets, model being modelName', async () => {
    expect((await get('/api/facets?field=project')).json()).toEqual({ field: 'project', values: [{ value: 'blog', count: 1 }, { value: 'shop', count: 1 }] })
    expect((await get('/api/facets?field=model')).json()).toEqual({ field: 'model', values: [{ value: '', count: 2 }] })
    expect((await get('/api/facets?field=tags&project=shop')).json().values).toEqual([{ value: 'beta', count: 1 }])
    expect((await get('/api/facets?field=password')).status).toBe(400)
    expect((await get('/api/facets?field=project&status=nope')).status).toBe(400)
  })

  it('sends a trace header without step I/O, and 404 or 400 for an unknown or malformed id', async () => {
    const reply = (await get(`/api/traces/${A}`)).json()
    expect(reply.documents).toHaveLength(1)
    expect(reply.documents[0]).toMatchObject({ traceId: A, prompt: 'answer', stepCount: 2, input: { inline: true, value: ['What is RAG?'] } })
    expect(reply.documents[0].steps).toBeUndefined()

    expect((await get(`/api/traces/${traceIdOf(999)}`)).status).toBe(404)
    expect((await get('/api/traces/..%2f..%2fetc')).status).toBe(400)
  })

  it('sends the step skeleton as columns, without inputs or outputs', async () => {
    const reply = (await get(`/api/traces/${A}/steps`)).json()

    expect(reply.count).toBe(2)
    expect(reply.columns.stepId).toEqual([stepIdOf(1), stepIdOf(2)])
    expect(reply.columns.parentStepId).toEqual([null, stepIdOf(1)])
    expect(reply.columns.offsetMs).toEqual([0, 4])
    expect(reply.columns.outputBytes[1]).toBeGreaterThan(300 * 1024)
    expect(reply.columns.input).toBeUndefined()
    // the previews come apart (docs/ui.md#figures: a 5 000-step skeleton under 1 MB)
    expect(reply.columns.inputPreview).toBeUndefined()
    expect(reply.columns.outputPreview).toBeUndefined()
    expect((await get(`/api/traces/${traceIdOf(999)}/steps`)).status).toBe(404)
  })

  it('sends the steps\' input and output previews apart, in the skeleton\'s order, at most 200 characters', async () => {
    const reply = (await get(`/api/traces/${A}/previews`)).json()
    expect(reply.columns.stepId).toEqual([stepIdOf(1), stepIdOf(2)])
    expect(reply.columns.inputPreview[0]).toContain('What is RAG')
    expect(reply.columns.outputPreview[1].length).toBeLessThanOrEqual(200)
    expect(reply.columns.outputPreview[1].length).toBeGreaterThan(100)
    expect((await get(`/api/traces/${traceIdOf(999)}/previews`)).status).toBe(404)
    expect((await get('/api/traces/nope/previews')).status).toBe(400)
  })

  it('sends a step with small fields inline and a field over 256 KiB as a 64 KiB preview, its size and a raw link', async () => {
    const small = (await get(`/api/traces/${A}/steps/${stepIdOf(1)}`)).json()
    expect(small.fields.output).toEqual({ inline: true, value: [{ id: 1 }] })
    expect(small.name).toBe('search')

    const big = (await get(`/api/traces/${A}/steps/${stepIdOf(2)}`)).json()
    const rawUrl = `/api/traces/${A}/steps/${stepIdOf(2)}/raw/output`
    expect(big.fields.output).toEqual({ inline: false, preview: expect.any(String), bytes: BIG.length + 2, rawUrl })
    expect(Buffer.byteLength(big.fields.output.preview)).toBeLessThanOrEqual(64 * 1024)

    expect((await get(`/api/traces/${A}/steps/${stepIdOf(77)}`)).status).toBe(404)
    expect((await get(`/api/traces/${A}/steps/not-a-step`)).status).toBe(400)
  })

  it('streams a raw field as application/json, as an attachment with ?download=1', async () => {
    const path = `/api/traces/${A}/steps/${stepIdOf(2)}/raw/output`
    const reply = await get(path)
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(reply.headers['x-content-type-options']).toBe('nosniff')
    expect(JSON.parse(reply.body)).toBe(BIG)
    expect(reply.headers['content-disposition']).toBeUndefined()

    const download = await get(`${path}?download=1`)
    expect(download.headers['content-disposition']).toBe(`attachment; filename="aaaaaaaa-${stepIdOf(2)}-output.json"`)
    expect((await get(`/api/traces/${A}/steps/${stepIdOf(2)}/raw/secrets`)).status).toBe(400)
    expect((await get(`/api/traces/${A}/steps/${stepIdOf(1)}/raw/output?download=yes`)).status).toBe(400)
  })

  it('exports the documents of a trace as stored (snake_case JSONL)', async () => {
    const reply = await get(`/api/traces/${B}/export`)

    expect(reply.status).toBe(200)
    expect(reply.headers['content-disposition']).toBe(`attachment; filename="trace-${B}.jsonl"`)
    expect(JSON.parse(reply.body.trim())).toMatchObject({ schema_version: 1, trace_id: B })
  })

  it('diffs two traces as `tracellm diff --json` does', async () => {
    const reply = (await get(`/api/diff?a=${A}&b=${B}`)).json()
    expect(reply).toMatchObject({ equal: false, a: A, b: B })
    expect(reply.summary).toEqual(expect.any(Object))
    // beyond the CLI's JSON: each side's header, and per step its depth, ids and durations
    expect(reply.traces).toEqual({
      a: { traceId: A, prompt: 'answer', status: 'success', startedAt: '2026-11-24T10:00:00.000Z', durationMs: 12.34, replayOf: null, stepCount: 2 },
      b: { traceId: B, prompt: 'answer', status: 'error', startedAt: '2026-11-24T11:00:00.000Z', durationMs: 12.34, replayOf: null, stepCount: 1 },
    })
    expect(reply.steps.map((step: Record<string, unknown>) => [step.name, step.status, step.depth, step.aStepId, step.bStepId, step.aDurationMs, step.bDurationMs])).toEqual([
      ['search', 'changed', 0, stepIdOf(1), stepIdOf(1), 3.2, 3.2],
      ['big', 'removed', 1, stepIdOf(2), null, 3.2, null],
    ])

    expect((await get(`/api/diff?a=${A}&b=${B}&ignore=nothing`)).status).toBe(400)
    expect((await get(`/api/diff?a=${A}&b=${B}&durationRatio=0.5`)).status).toBe(400)
    expect((await get(`/api/diff?a=${A}`)).status).toBe(400)
  })

  it('caches stats for a while', async () => {
    const before = store.calls.stats
    const first = await get('/api/stats')
    await get('/api/stats')

    expect(first.json()).toMatchObject({ traces: 2 })
    expect(store.calls.stats).toBe(before + 1)
  })

  it('answers the store overview, cached per query for a while; a bad parameter is a 400 and is not cached', async () => {
    const before = store.calls.overview
    const first = await get('/api/overview')
    await get('/api/overview')
    await get('/api/overview?since=24h')

    expect(first.status).toBe(200)
    expect(first.json()).toMatchObject({ failingSteps: [], byPrompt: [{ name: 'answer', count: 2 }] })
    expect(store.calls.overview).toBe(before + 2)
    expect((await get('/api/overview?since=yesterdayish')).status).toBe(400)
    expect((await get('/api/overview?limit=3')).json()).toEqual({ error: 'Unknown query parameter `limit`.' })
  })

  it('answers 503 for the overview of a store without it', async () => {
    const bare = fakeStore(documents())
    Reflect.deleteProperty(bare, 'overview')
    const other = await startUiServer({ store: bare, storeLabel: 'old', port: 0 })
    try {
      const reply = await request(other.port, '/api/overview')
      expect(reply.status).toBe(503)
      expect(reply.json().error).toMatch(/does not support the store overview/)
    } finally {
      await other.close()
    }
  })

  it('answers 404 {error} to an unknown API path, and a text/plain 503 for the pages while the client is not built', async () => {
    expect((await get('/api/nothing')).json()).toEqual({ error: 'no such API endpoint' })
    const page = await get('/')
    expect(page.status).toBe(503)
    expect(page.headers['content-type']).toMatch(/^text\/plain/)
    expect(page.body).toMatch(/not built/)
  })

  it('refuses POST without --write', async () => {
    const reply = await request(server.port, '/api/prune', { method: 'POST', headers: { origin: server.url, 'content-type': 'application/json' }, body: '{"olderThan":"1d"}' })

    expect(reply.status).toBe(403)
  })

  it('streams a `traces` event when another process commits, and heartbeats', async () => {
    const stream = events(server.port, {}, (text) => text.includes('event: traces') && text.includes('event: heartbeat'), 3000)
    await new Promise((resolve) => setTimeout(resolve, 50))
    store.commit(makeDocument({ traceId: traceIdOf(5), startedAt: '2026-11-25T00:00:00.000Z' }))
    const { status, text } = await stream

    expect(status).toBe(200)
    expect(text).toContain('event: traces\ndata: {"newestStartedAt":"2026-11-25T00:00:00.000Z","count":3}')
    expect(text).toContain('event: heartbeat')
  })
})

describe('a store without the viewer methods', () => {
  it('answers 503 {error} for what it lacks and still serves the list', async () => {
    const bare = fakeStore(documents())
    delete (bare as { steps?: unknown }).steps
    delete (bare as { facets?: unknown }).facets
    const local = await startUiServer({ store: bare, storeLabel: 'old.db', port: 0 })
    try {
      const steps = await request(local.port, `/api/traces/${A}/steps`)
      expect(steps.status).toBe(503)
      expect(steps.json()).toEqual({ error: expect.stringMatching(/does not support/) })
      expect((await request(local.port, '/api/facets?field=project')).status).toBe(503)
      expect((await request(local.port, '/api/traces')).status).toBe(200)
    } finally {
      await local.close()
    }
  })

  it('streams `traces` events from the count and the newest trace when the store has no dataVersion()', async () => {
    const bare = fakeStore(documents())
    delete (bare as { dataVersion?: unknown }).dataVersion
    const local = await startUiServer({ store: bare, storeLabel: 'old.db', port: 0, pollMs: 20 })
    try {
      const stream = events(local.port, {}, (text) => text.includes('event: traces'), 3000)
      await new Promise((resolve) => setTimeout(resolve, 60))
      bare.commit(makeDocument({ traceId: traceIdOf(6), startedAt: '2026-11-26T00:00:00.000Z' }))
      expect((await stream).text).toContain('data: {"newestStartedAt":"2026-11-26T00:00:00.000Z","count":3}')
    } finally {
      await local.close()
    }
  })

  it('answers 503 when the store fails, with the message but no stack', async () => {
    const broken = fakeStore([])
    broken.list = async () => { throw new Error('SQLITE_BUSY: database is locked') }
    const local = await startUiServer({ store: broken, storeLabel: 'x.db', port: 0 })
    try {
      const reply = await request(local.port, '/api/traces')
      expect(reply.status).toBe(503)
      expect(reply.json()).toEqual({ error: 'the store failed: SQLITE_BUSY: database is locked' })
    } finally {
      await local.close()
    }
  })
})

describe('large fields', () => {
  it('cuts a preview and streams a raw field without splitting a character', async () => {
    // 😀 is two UTF-16 units and four UTF-8 bytes; with the opening quote of the JSON text, one straddles unit 65 536
    const value = `${'a'.repeat(65_534)}${'😀'.repeat(100_000)}`
    const doc = makeDocument({ traceId: A, steps: [makeStep({ stepId: stepIdOf(1), output: value })] })
    const local = await startUiServer({ store: fakeStore([doc]), storeLabel: 'x.db', port: 0 })
    try {
      const step = (await request(local.port, `/api/traces/${A}/steps/${stepIdOf(1)}`)).json()
      expect(step.fields.output.preview).not.toContain('\ufffd')
      expect(Buffer.byteLength(step.fields.output.preview)).toBeLessThanOrEqual(64 * 1024)
      expect(step.fields.output.bytes).toBe(Buffer.byteLength(JSON.stringify(value)))

      const raw = await request(local.port, step.fields.output.rawUrl)
      // compared as a boolean: a failure would print 400 KB twice
      expect(JSON.parse(raw.body) === value).toBe(true)
    } finally {
      await local.close()
    }
  })
})
