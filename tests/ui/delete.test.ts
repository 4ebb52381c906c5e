// Deleting one trace from the viewer (`--write`, docs/ui.md#api) over a real, writable SQLite store:
// `POST /api/traces/:id/delete` behind the CSRF rules (docs/ui.md#security), then gone from the list,
// the trace page, the step endpoints and the live stream's count.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { openStore, sqliteSink, type TraceStore } from '../../src/index.js'
import type { TraceId } from '../../src/document/document.js'
import { startUiServer } from '../../src/ui/server.js'
import type { UiServer } from '../../src/ui/types.js'
import { makeDocument, makeStep, stepIdOf } from '../helpers/documents.js'
import { request } from './http.js'

const A = 'aaaaaaaa000000000000000000000001' as TraceId
const B = 'bbbbbbbb000000000000000000000002' as TraceId

let directory: string
let store: TraceStore
let server: UiServer
let token: string

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'tracellm-ui-delete-'))
  const path = join(directory, 'traces.db')
  const sink = sqliteSink({ path })
  await sink.write([
    makeDocument({ traceId: A, startedAt: '2026-11-24T10:00:00.000Z', steps: [makeStep({ stepId: stepIdOf(1), output: 'answer' })] }),
    // the same trace continued in another service: a second document under the same id
    makeDocument({ traceId: A, rootSpanId: stepIdOf(0xb0), parentTraceId: A, parentStepId: stepIdOf(1), startedAt: '2026-11-24T10:00:01.000Z', steps: [makeStep({ stepId: stepIdOf(2) })] }),
    makeDocument({ traceId: B, startedAt: '2026-11-24T11:00:00.000Z' }),
  ])
  sink.close()
  store = await openStore(path)
  server = await startUiServer({ store, storeLabel: path, port: 0, write: true })
  token = (await request(server.port, '/api/meta')).json().csrfToken
})

afterAll(async () => {
  await server.close()
  await store.close()
  rmSync(directory, { recursive: true, force: true })
})

const remove = (id: string, headers: Record<string, string>) => request(server.port, `/api/traces/${id}/delete`, { method: 'POST', headers, body: '{}' })

describe('deleting a trace from the viewer', () => {
  it.each([
    ['no token', { origin: 'SELF', 'content-type': 'application/json' }],
    ['a wrong token', { origin: 'SELF', 'content-type': 'application/json', 'x-tracellm-token': 'x'.repeat(43) }],
    ['a cross-site Origin', { origin: 'https://evil.example', 'content-type': 'application/json', 'x-tracellm-token': 'TOKEN' }],
    ['no Origin', { 'content-type': 'application/json', 'x-tracellm-token': 'TOKEN' }],
    ['a form post', { origin: 'SELF', 'content-type': 'application/x-www-form-urlencoded', 'x-tracellm-token': 'TOKEN' }],
    ['a cross-site fetch', { origin: 'SELF', 'content-type': 'application/json', 'x-tracellm-token': 'TOKEN', 'sec-fetch-site': 'cross-site' }],
  ])('refuses a delete with %s (403), and the trace stays', async (_label, template) => {
    const headers = Object.fromEntries(Object.entries(template).map(([name, value]) => [name, value === 'SELF' ? server.url : value === 'TOKEN' ? token : value]))

    const reply = await remove(A, headers)

    expect(reply.status).toBe(403)
    expect(await store.getAll(A)).toHaveLength(2)
  })

  it('deletes every document of the trace and its steps with the token, the origin and a JSON body', async () => {
    const headers = { origin: server.url, 'content-type': 'application/json', 'x-tracellm-token': token }
    expect((await request(server.port, `/api/traces/${A}/steps/${stepIdOf(1)}`)).status).toBe(200)

    const reply = await remove(A, headers)

    expect(reply.status).toBe(200)
    expect(reply.json()).toEqual({ deleted: 2 })
    expect((await request(server.port, '/api/traces')).json().items.map((item: { traceId: string }) => item.traceId)).toEqual([B])
    expect((await request(server.port, `/api/traces/${A}`)).status).toBe(404)
    expect((await request(server.port, `/api/traces/${A}/steps`)).status).toBe(404)
    // not served from the cache of extracted steps: the store's data version changed
    expect((await request(server.port, `/api/traces/${A}/steps/${stepIdOf(1)}`)).status).toBe(404)
    expect((await request(server.port, '/api/stats')).json()).toMatchObject({ traces: 1 })
    // a second delete finds nothing
    expect((await remove(A, headers)).status).toBe(404)
    expect((await remove('not-an-id', headers)).status).toBe(400)
  })
})
