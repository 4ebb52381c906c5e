// The viewer over a real SQLite store opened through openStore: the endpoints the store's existing
// API answers (list, count, get, getAll, stats), with its own validation of every filter.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { openStore, sqliteSink, type TraceStore } from '../../src/index.js'
import type { TraceId } from '../../src/document/document.js'
import { startUiServer } from '../../src/ui/server.js'
import type { UiServer } from '../../src/ui/types.js'
import { makeDocument } from '../helpers/documents.js'
import { request } from './http.js'

const A = 'aaaaaaaa000000000000000000000001' as TraceId
const B = 'bbbbbbbb000000000000000000000002' as TraceId

let directory: string
let store: TraceStore
let server: UiServer

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'tracellm-ui-sqlite-'))
  const path = join(directory, 'traces.db')
  const sink = sqliteSink({ path })
  await sink.write([
    makeDocument({ traceId: A, project: 'shop', startedAt: '2026-11-24T10:00:00.000Z' }),
    makeDocument({ traceId: B, project: 'blog', status: 'error', error: { type: 'Error', message: 'boom' }, startedAt: '2026-11-24T11:00:00.000Z' }),
  ])
  sink.close()
  store = await openStore(path)
  server = await startUiServer({ store, storeLabel: path, port: 0 })
})

afterAll(async () => {
  await server.close()
  await store.close()
  rmSync(directory, { recursive: true, force: true })
})

describe('the viewer over SQLite', () => {
  it('lists, filters, pages and counts', async () => {
    const all = (await request(server.port, '/api/traces')).json()
    expect(all.items.map((item: { traceId: string }) => item.traceId)).toEqual([B, A])
    expect((await request(server.port, '/api/traces?status=error')).json().items).toHaveLength(1)
    const first = (await request(server.port, '/api/traces?limit=1')).json()
    const second = (await request(server.port, `/api/traces?limit=1&cursor=${first.nextCursor}`)).json()
    expect(second.items[0].traceId).toBe(A)
    expect((await request(server.port, '/api/traces/count?project=shop')).json()).toEqual({ count: 1 })
  })

  it('answers 400 to what the store refuses: a forged cursor, a bad status, a bad date', async () => {
    for (const query of ['cursor=Zm9yZ2Vk', 'status=nope', 'since=tomorrow', 'limit=501', 'idPrefix=zz']) {
      const reply = await request(server.port, `/api/traces?${query}`)
      expect(reply.status).toBe(400)
      expect(reply.json()).toEqual({ error: expect.stringMatching(/^Expected/) })
    }
  })

  it('sends a trace, its export and a diff, and the stats', async () => {
    expect((await request(server.port, `/api/traces/${B}`)).json().documents[0]).toMatchObject({ traceId: B, status: 'error', error: { inline: true, value: { message: 'boom' } } })
    expect(JSON.parse((await request(server.port, `/api/traces/${A}/export`)).body)).toMatchObject({ trace_id: A })
    expect((await request(server.port, `/api/diff?a=${A}&b=${B}`)).json()).toMatchObject({ a: A, b: B, equal: false })
    expect((await request(server.port, '/api/stats')).json()).toMatchObject({ traces: 2 })
    expect((await request(server.port, `/api/traces/${'c'.repeat(32)}`)).status).toBe(404)
  })
})
