// The viewer's security rules (docs/ui.md#security), each proven over real HTTP with forged headers:
// the Host allow-list, no CORS, Sec-Fetch-Site, the headers of every response, the CSRF checks of
// --write, --token sessions, the loopback bind, and static files that never leave their folder.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { TraceId } from '../../src/document/document.js'
import { CONTENT_SECURITY_POLICY, allowedHosts, isLoopback, isSameOrigin, sameToken } from '../../src/ui/security.js'
import { startUiServer } from '../../src/ui/server.js'
import type { UiServer } from '../../src/ui/types.js'
import { makeDocument, makeStep, stepIdOf } from '../helpers/documents.js'
import { fakeStore } from './fake-store.js'
import { events, request, type Reply } from './http.js'

const A = 'aaaaaaaa000000000000000000000001' as TraceId
const docs = () => [makeDocument({ traceId: A, steps: [makeStep({ stepId: stepIdOf(1) })] })]

function expectSecurityHeaders(reply: Reply): void {
  expect(reply.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY)
  expect(reply.headers['x-content-type-options']).toBe('nosniff')
  expect(reply.headers['referrer-policy']).toBe('no-referrer')
  expect(reply.headers['cross-origin-opener-policy']).toBe('same-origin')
  expect(reply.headers['cross-origin-resource-policy']).toBe('same-origin')
  expect(Object.keys(reply.headers).filter((name) => name.startsWith('access-control-'))).toEqual([])
}

describe('a read-only viewer', () => {
  let server: UiServer
  let directory: string

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'tracellm-ui-'))
    mkdirSync(join(directory, 'client'))
    writeFileSync(join(directory, 'client', 'index.html'), '<!doctype html><title>tracellm</title>')
    writeFileSync(join(directory, 'client', 'app.js'), 'console.log(1)')
    writeFileSync(join(directory, 'secret.txt'), 'TOP-SECRET')
    server = await startUiServer({ store: fakeStore(docs()), storeLabel: 'traces.db', port: 0, clientDir: join(directory, 'client'), pollMs: 20, heartbeatMs: 50 })
  })

  afterAll(async () => {
    await server.close()
    rmSync(directory, { recursive: true, force: true })
  })

  it.each(['127.0.0.1', 'localhost', '[::1]'])('accepts the loopback Host %s with its port', async (name) => {
    const reply = await request(server.port, '/api/meta', { headers: { host: `${name}:${server.port}` } })

    expect(reply.status).toBe(200)
  })

  it.each([
    ['a rebinding name', (port: number) => `evil.example:${port}`],
    ['the loopback name without the port', () => '127.0.0.1'],
    ['another port', (port: number) => `127.0.0.1:${port + 1}`],
    ['a name that only starts like localhost', (port: number) => `localhost.evil.example:${port}`],
    ['0.0.0.0', (port: number) => `0.0.0.0:${port}`],
  ])('answers 403 to a forged Host (%s), on the API, the pages and the live stream', async (_label, hostOf) => {
    const host = hostOf(server.port)
    for (const path of ['/api/meta', '/api/traces', '/', `/api/traces/${A}/export`]) {
      const reply = await request(server.port, path, { headers: { host } })
      expect(reply.status).toBe(403)
      expect(reply.json()).toEqual({ error: expect.stringMatching(/Host/) })
      expectSecurityHeaders(reply)
    }
    const stream = await events(server.port, { host }, () => true, 1000)
    expect(stream.status).toBe(403)
    expect(stream.text).not.toContain('event:')
  })

  it('answers OPTIONS (a CORS preflight) with 405 and no Access-Control header', async () => {
    const reply = await request(server.port, '/api/traces', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-tracellm-token' },
    })

    expect(reply.status).toBe(405)
    expectSecurityHeaders(reply)
  })

  it('answers 403 to Sec-Fetch-Site: cross-site, even on a GET and on the live stream', async () => {
    const reply = await request(server.port, '/api/traces', { headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } })
    expect(reply.status).toBe(403)
    expectSecurityHeaders(reply)
    expect((await events(server.port, { 'sec-fetch-site': 'cross-site' }, () => true, 1000)).status).toBe(403)

    expect((await request(server.port, '/api/traces', { headers: { 'sec-fetch-site': 'same-origin' } })).status).toBe(200)
    expect((await request(server.port, '/api/traces', { headers: { 'sec-fetch-site': 'none' } })).status).toBe(200)
  })

  it('sends the CSP and security headers, and never an Access-Control header, on every kind of response', async () => {
    const paths = ['/', '/app.js', '/trace/abc', '/api/meta', '/api/traces', '/api/traces?status=nope', `/api/traces/${'0'.repeat(32)}`, '/api/nothing',
      `/api/traces/${A}/steps/${stepIdOf(1)}/raw/output?download=1`, `/api/traces/${A}/export`, '/api/stats']
    for (const path of paths) {
      const reply = await request(server.port, path, { headers: { origin: 'https://evil.example' } })
      expect([200, 400, 404]).toContain(reply.status)
      expectSecurityHeaders(reply)
    }
    const stream = await events(server.port, { origin: 'https://evil.example' }, (text) => text.includes('heartbeat'), 2000)
    expect(stream.status).toBe(200)
  })

  it('has no mutating route: a POST is 403 even with a same-origin JSON request', async () => {
    for (const path of [`/api/traces/${A}/delete`, '/api/prune']) {
      const reply = await request(server.port, path, { method: 'POST', headers: { origin: server.url, 'content-type': 'application/json' }, body: '{"olderThan":"1s"}' })
      expect(reply.status).toBe(403)
    }
    expect((await request(server.port, '/api/meta')).json().csrfToken).toBeUndefined()
    expect((await request(server.port, `/api/traces/${A}`, { method: 'DELETE' })).status).toBe(405)
  })

  it('serves the client folder and its pages, and never a file outside it', async () => {
    expect((await request(server.port, '/')).body).toContain('<title>tracellm</title>')
    expect((await request(server.port, '/app.js')).body).toBe('console.log(1)')
    expect((await request(server.port, '/trace/abc?step=1')).body).toContain('<title>tracellm</title>')
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%2e%2e%2fsecret.txt', '/..\\secret.txt', '//secret.txt', '/app.js/../../secret.txt']) {
      const reply = await request(server.port, path)
      expect(reply.body).not.toContain('TOP-SECRET')
    }
    // a field name or id is never a path either
    expect((await request(server.port, `/api/traces/${A}/steps/${stepIdOf(1)}/raw/..%2f..%2fsecret.txt`)).status).toBe(400)
  })

  it('closes with a live stream open', async () => {
    const local = await startUiServer({ store: fakeStore([]), storeLabel: 'x.db', port: 0, pollMs: 20 })
    const stream = events(local.port, {}, () => false, 5000)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const started = Date.now()
    await local.close()
    await stream

    expect(Date.now() - started).toBeLessThan(1500)
  })
})

describe('--write', () => {
  let server: UiServer
  let token: string
  const store = fakeStore(docs())

  beforeAll(async () => {
    server = await startUiServer({ store, storeLabel: 'traces.db', port: 0, write: true })
    token = (await request(server.port, '/api/meta')).json().csrfToken
  })

  afterAll(async () => {
    await server.close()
  })

  const post = (headers: Record<string, string>, body = '{"olderThan":"30d"}') => request(server.port, '/api/prune', { method: 'POST', headers, body })

  it('serves a per-launch 32-byte token in /api/meta', async () => {
    expect(Buffer.from(token, 'base64url')).toHaveLength(32)
    expect((await request(server.port, '/api/meta')).json().readOnly).toBe(false)
  })

  it('accepts a mutation with the token, the server origin and a JSON body', async () => {
    const reply = await post({ origin: server.url, 'content-type': 'application/json', 'x-tracellm-token': token })

    expect(reply.status).toBe(200)
    expect(reply.json()).toEqual({ deleted: expect.any(Number) })
    expectSecurityHeaders(reply)
  })

  it.each([
    ['no token', { origin: 'SELF', 'content-type': 'application/json' }],
    ['a wrong token', { origin: 'SELF', 'content-type': 'application/json', 'x-tracellm-token': 'x'.repeat(43) }],
    ['no Origin', { 'content-type': 'application/json', 'x-tracellm-token': 'TOKEN' }],
    ['a cross-site Origin', { origin: 'https://evil.example', 'content-type': 'application/json', 'x-tracellm-token': 'TOKEN' }],
    ['a null Origin', { origin: 'null', 'content-type': 'application/json', 'x-tracellm-token': 'TOKEN' }],
    ['another loopback origin', { origin: 'http://127.0.0.1:1', 'content-type': 'application/json', 'x-tracellm-token': 'TOKEN' }],
    ['a text/plain body', { origin: 'SELF', 'content-type': 'text/plain', 'x-tracellm-token': 'TOKEN' }],
    ['a form post', { origin: 'SELF', 'content-type': 'application/x-www-form-urlencoded', 'x-tracellm-token': 'TOKEN' }],
    ['a cross-site fetch', { origin: 'SELF', 'content-type': 'application/json', 'x-tracellm-token': 'TOKEN', 'sec-fetch-site': 'cross-site' }],
  ])('refuses a mutation with %s (403)', async (_label, template) => {
    const headers = Object.fromEntries(Object.entries(template).map(([name, value]) => [name, value === 'SELF' ? server.url : value === 'TOKEN' ? token : value]))
    const before = store.docs.length
    const reply = await post(headers)

    expect(reply.status).toBe(403)
    expect(reply.json()).toEqual({ error: expect.any(String) })
    expect(store.docs.length).toBe(before)
  })

  it('deletes one trace through a store that can', async () => {
    const deleting = fakeStore(docs())
    deleting.delete = async (traceId) => {
      const before = deleting.docs.length
      deleting.docs.splice(0, deleting.docs.length, ...deleting.docs.filter((doc) => doc.traceId !== traceId))
      return { deleted: before - deleting.docs.length }
    }
    const local = await startUiServer({ store: deleting, storeLabel: 'x.db', port: 0, write: true })
    try {
      const csrf = (await request(local.port, '/api/meta')).json().csrfToken
      const headers = { origin: local.url, 'content-type': 'application/json', 'x-tracellm-token': csrf }
      expect((await request(local.port, `/api/traces/${A}/delete`, { method: 'POST', headers, body: '{}' })).json()).toEqual({ deleted: 1 })
      expect((await request(local.port, `/api/traces/${A}/delete`, { method: 'POST', headers, body: '{}' })).status).toBe(404)
    } finally {
      await local.close()
    }
  })

  it('validates the body and answers 503 for a delete the store cannot do yet', async () => {
    expect((await post({ origin: server.url, 'content-type': 'application/json', 'x-tracellm-token': token }, '{"olderThan":3}')).status).toBe(400)
    const reply = await request(server.port, `/api/traces/${A}/delete`, { method: 'POST', headers: { origin: server.url, 'content-type': 'application/json', 'x-tracellm-token': token }, body: '{}' })
    expect(reply.status).toBe(503)
  })
})

describe('--token', () => {
  let server: UiServer
  let launchToken: string

  beforeAll(async () => {
    server = await startUiServer({ store: fakeStore(docs()), storeLabel: 'traces.db', port: 0, token: true })
    launchToken = /#t=([A-Za-z0-9_-]+)$/.exec(server.launchUrl)?.[1] ?? ''
  })

  afterAll(async () => {
    await server.close()
  })

  it('puts the launch token in the URL fragment, which never reaches the server', () => {
    expect(server.launchUrl).toBe(`${server.url}/#t=${launchToken}`)
    expect(Buffer.from(launchToken, 'base64url')).toHaveLength(32)
  })

  it('refuses every API call without a session, the live stream included, but serves the page', async () => {
    expect((await request(server.port, '/api/meta')).status).toBe(403)
    expect((await request(server.port, '/api/traces')).status).toBe(403)
    expect((await request(server.port, `/api/traces?t=${launchToken}`)).status).toBe(403)
    expect((await events(server.port, {}, () => true, 1000)).status).toBe(403)
    expect((await request(server.port, '/')).status).toBe(503)
  })

  it('exchanges the token, posted once in a header, for an HttpOnly SameSite=Strict cookie that opens the API', async () => {
    const wrong = await request(server.port, '/api/session', { method: 'POST', headers: { origin: server.url, 'x-tracellm-token': 'nope' } })
    expect(wrong.status).toBe(403)
    expect(wrong.headers['set-cookie']).toBeUndefined()
    const crossOrigin = await request(server.port, '/api/session', { method: 'POST', headers: { origin: 'https://evil.example', 'x-tracellm-token': launchToken } })
    expect(crossOrigin.status).toBe(403)

    const reply = await request(server.port, '/api/session', { method: 'POST', headers: { origin: server.url, 'x-tracellm-token': launchToken } })
    expect(reply.status).toBe(200)
    const cookie = (reply.headers['set-cookie'] as string[])[0] as string
    expect(cookie).toMatch(/^tracellm_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/$/)
    expect(cookie).not.toContain(launchToken)

    const session = cookie.split(';')[0] as string
    expect((await request(server.port, '/api/meta', { headers: { cookie: session } })).json()).toMatchObject({ tokenAuth: true })
    expect((await events(server.port, { cookie: session }, () => true, 1000)).status).toBe(200)
    expect((await request(server.port, '/api/meta', { headers: { cookie: 'tracellm_session=forged' } })).status).toBe(403)
  })
})

describe('binding', () => {
  it('refuses a non-loopback host without allowRemote', async () => {
    await expect(startUiServer({ store: fakeStore([]), storeLabel: 'x.db', port: 0, host: '0.0.0.0' })).rejects.toThrow(/--allow-remote/)
  })

  it('with allowRemote, forces token mode and warns', async () => {
    const server = await startUiServer({ store: fakeStore([]), storeLabel: 'x.db', port: 0, host: '0.0.0.0', allowRemote: true })
    try {
      expect(server.launchUrl).toMatch(/#t=/)
      expect(server.warnings).toEqual([expect.stringMatching(/other machines/)])
      expect((await request(server.port, '/api/meta')).status).toBe(403)
    } finally {
      await server.close()
    }
  })

  it('fails with one line naming --port when the port is taken, and picks a free port for 0', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const error = await startUiServer({ store: fakeStore([]), storeLabel: 'x.db', port }).catch((caught: unknown) => caught as Error)
      expect(error).toBeInstanceOf(Error)
      expect((error as Error).message).toMatch(/--port/)
      expect((error as Error).message).not.toContain('\n')
    } finally {
      blocker.close()
    }
    const free = await startUiServer({ store: fakeStore([]), storeLabel: 'x.db', port: 0 })
    expect(free.port).toBeGreaterThan(0)
    await free.close()
  })
})

describe('the rules', () => {
  it('compares tokens exactly', () => {
    expect(sameToken('abc', 'abc')).toBe(true)
    expect(sameToken('abd', 'abc')).toBe(false)
    expect(sameToken('ab', 'abc')).toBe(false)
    expect(sameToken(undefined, 'abc')).toBe(false)
  })

  it('knows loopback binds and the hosts they answer to', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'].every(isLoopback)).toBe(true)
    expect(['0.0.0.0', '::', '192.168.1.2', 'example.com'].some(isLoopback)).toBe(false)
    expect([...allowedHosts('127.0.0.1', 7317)].sort()).toEqual(['127.0.0.1:7317', '[::1]:7317', 'localhost:7317'])
    expect(isSameOrigin('http://localhost:7317', 'localhost:7317')).toBe(true)
    expect(isSameOrigin('https://localhost:7317', 'localhost:7317')).toBe(false)
  })
})
