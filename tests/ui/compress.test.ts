// The viewer gzips its JSON answers for a client that accepts it (a 5 000-step skeleton is
// megabytes of JSON, docs/ui.md#figures), and never its live stream.
import { request as httpRequest } from 'node:http'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { TraceId } from '../../src/document/document.js'
import { startUiServer } from '../../src/ui/server.js'
import type { UiServer } from '../../src/ui/types.js'
import { makeDocument, makeStep, stepIdOf } from '../helpers/documents.js'
import { fakeStore } from './fake-store.js'
import { events } from './http.js'

const A = 'aaaaaaaa000000000000000000000001' as TraceId

let server: UiServer

beforeAll(async () => {
  const steps = Array.from({ length: 200 }, (_, n) => makeStep({ stepId: stepIdOf(n + 1), seq: n, name: `step-${n}`, input: 'a question '.repeat(30) }))
  server = await startUiServer({ store: fakeStore([makeDocument({ traceId: A, steps })]), storeLabel: 'x.db', port: 0, pollMs: 20, heartbeatMs: 40 })
})

afterAll(async () => {
  await server.close()
})

function get(path: string, headers: Record<string, string>): Promise<{ headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path, headers: { host: `127.0.0.1:${server.port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('compression', () => {
  it('gzips a large JSON answer for a client that accepts gzip, and only then', async () => {
    const plain = await get(`/api/traces/${A}/steps`, {})
    const zipped = await get(`/api/traces/${A}/steps`, { 'accept-encoding': 'gzip, deflate, br' })

    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(zipped.headers['x-content-type-options']).toBe('nosniff')
    expect(gunzipSync(zipped.body).toString()).toBe(plain.body.toString())
    expect(zipped.body.length).toBeLessThan(plain.body.length / 4)
  })

  it('leaves the live stream as it is', async () => {
    const stream = await events(server.port, { 'accept-encoding': 'gzip' }, (text) => text.includes('heartbeat'), 3000)
    expect(stream.text).toContain('event: heartbeat')
  })
})
