/**
 * The `tracellm ui` HTTP server: Hono on `@hono/node-server`, the only file that imports them, and
 * loaded only by the `ui` command, so `import 'tracellm'` never loads a web framework
 * (docs/dependencies.md#the-viewer). Routes are thin: what they answer is in `api.ts`, the rules they
 * enforce in `security.ts`, and why in docs/ui.md#security.
 */
import { existsSync, statSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import { Hono, type Context } from 'hono'
import { compress } from 'hono/compress'
import { csrf } from 'hono/csrf'
import { secureHeaders } from 'hono/secure-headers'
import { streamSSE } from 'hono/streaming'
import { toWire } from '../document/wire.js'
import {
  ApiError, checkTraceId, countTraces, diff, documentsOf, facets, fromStore, listTraces, messageOf, overview, rawTraceField, traceHeader,
} from './api.js'
import { FIELD_CACHE_BYTES, FieldCache, cachedRawField, cachedPreviews, cachedSkeleton, cachedStepDetail } from './field-cache.js'
import {
  CONTENT_SECURITY_POLICY, SESSION_COOKIE, TOKEN_HEADER, allowedHosts, cookieValue, isAllowedHost, isJsonContentType, isLoopback, isSameOrigin, newToken,
  sameToken, urlHost,
} from './security.js'
import type { UiServer, UiServerOptions, ViewerStore } from './types.js'

/** @internal The default port: fixed, so bookmarks and deep links survive restarts. */
export const DEFAULT_PORT = 7317

const RAW_CHUNK = 64 * 1024

/**
 * @internal Starts the viewer's server on `host:port` (127.0.0.1:7317 by default) and resolves once
 * it listens. Rejects with a one-line `Error` naming `--port` when the port is taken, and refuses a
 * non-loopback `host` unless `allowRemote` (which forces token mode).
 */
export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const host = options.host ?? '127.0.0.1'
  const requestedPort = options.port ?? DEFAULT_PORT
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65_535) {
    throw new TypeError('Expected `--port` to be an integer from 0 to 65535.')
  }
  const warnings: string[] = []
  const remote = !isLoopback(host)
  if (remote && options.allowRemote !== true) {
    throw new Error(`refusing to listen on ${host}, which is not a loopback address: pass --allow-remote to accept connections from other machines (token auth is then required)`)
  }
  if (remote) warnings.push(`listening on ${host}: other machines can reach the viewer; it requires the launch token, but the traffic is plain HTTP`)
  const tokenMode = options.token === true || remote
  const state: ServerState = {
    store: options.store,
    write: options.write === true,
    launchToken: tokenMode ? newToken() : undefined,
    sessions: new Set(),
    csrfToken: newToken(),
    allowed: new Set(),
    streams: new Set(),
    stats: undefined,
    overviews: new Map(),
    fields: new FieldCache(options.fieldCacheBytes ?? FIELD_CACHE_BYTES),
  }
  const app = buildApp(state, options)
  const server = createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false }) as Server
  const port = await listen(server, requestedPort, host)
  state.allowed = allowedHosts(host, port)
  const url = `http://${urlHost(host)}:${port}`
  let closing: Promise<void> | undefined
  return {
    url,
    launchUrl: state.launchToken === undefined ? url : `${url}/#t=${state.launchToken}`,
    port,
    warnings,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const stream of state.streams) stream.abort()
        server.close(() => resolve())
        server.closeIdleConnections()
        // live streams end on their abort; anything still open is cut after they had a moment to
        setTimeout(() => server.closeAllConnections(), 200).unref()
      })
      return closing
    },
  }
}

interface ServerState {
  readonly store: ViewerStore
  readonly write: boolean
  /** `--token`: the launch token the page exchanges for a session cookie. */
  readonly launchToken: string | undefined
  readonly sessions: Set<string>
  /** `--write`: the per-launch token mutations carry in `X-Tracellm-Token`. */
  readonly csrfToken: string
  allowed: ReadonlySet<string>
  /** The live `/api/events` streams, ended by `close()`. */
  readonly streams: Set<AbortController>
  stats: { readonly at: number; readonly value: Promise<unknown> } | undefined
  /** `/api/overview` per query string, cached as `stats` is. */
  readonly overviews: Map<string, { readonly at: number; readonly value: Promise<unknown> }>
  /** Steps and raw fields extracted from the store, per data version (docs/ui.md#figures). */
  readonly fields: FieldCache
}

function buildApp(state: ServerState, options: UiServerOptions): Hono {
  const app = new Hono()
  const { store } = state
  const pollMs = options.pollMs ?? 500
  const heartbeatMs = options.heartbeatMs ?? 15_000
  const statsCacheMs = options.statsCacheMs ?? 5_000

  // headers first, so every answer carries them, refusals included
  app.use('*', async (c, next) => {
    await next()
    c.res.headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY)
    for (const name of [...c.res.headers.keys()]) if (name.toLowerCase().startsWith('access-control-')) c.res.headers.delete(name)
  })
  app.use('*', secureHeaders({
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: 'same-origin',
    crossOriginResourcePolicy: 'same-origin',
    referrerPolicy: 'no-referrer',
    xContentTypeOptions: 'nosniff',
    xFrameOptions: 'DENY',
  }))
  app.use('*', async (c, next) => {
    if (!isAllowedHost(c.req.header('host'), state.allowed)) return refuse(c, 403, 'this Host is not allowed (the viewer answers only on its own loopback address)')
    if (c.req.method === 'OPTIONS') return c.json({ error: 'OPTIONS is not supported: the viewer allows no cross-origin requests' }, 405, { Allow: 'GET, HEAD, POST' })
    if (c.req.header('sec-fetch-site') === 'cross-site') return refuse(c, 403, 'cross-site requests are refused')
    if (!['GET', 'HEAD', 'POST'].includes(c.req.method)) return c.json({ error: `${c.req.method} is not supported` }, 405, { Allow: 'GET, HEAD, POST' })
    return next()
  })

  // every POST: same origin, and (but for the session exchange) JSON and the CSRF token
  app.use('/api/*', async (c, next) => {
    if (c.req.method !== 'POST') return next()
    if (!isSameOrigin(c.req.header('origin'), c.req.header('host') ?? '')) return refuse(c, 403, 'Origin must be this server')
    if (c.req.path === '/api/session') return next()
    if (!state.write) return refuse(c, 403, 'the viewer is read-only: start it with --write to delete traces')
    if (!isJsonContentType(c.req.header('content-type'))) return refuse(c, 403, 'Content-Type must be application/json')
    if (!sameToken(c.req.header(TOKEN_HEADER), state.csrfToken)) return refuse(c, 403, `${TOKEN_HEADER} is missing or wrong`)
    return next()
  })
  // Hono's own check, against form posts; ours above already covers them
  app.use('/api/*', csrf({ origin: (origin, c) => isSameOrigin(origin, c.req.header('host') ?? '') }))
  // JSON answers go gzipped (off the event loop): the skeleton of a 5 000-step trace with its
  // previews is 2–3 MB of JSON (docs/ui.md#figures). The live stream (text/event-stream) is never buffered.
  app.use('/api/*', compress({ encoding: 'gzip', contentTypeFilter: /^application\/json/ }))

  if (state.launchToken !== undefined) {
    const launchToken = state.launchToken
    app.post('/api/session', (c) => {
      if (!sameToken(c.req.header(TOKEN_HEADER), launchToken)) return refuse(c, 403, `${TOKEN_HEADER} must be the launch token`)
      const session = newToken()
      state.sessions.add(session)
      c.header('Set-Cookie', `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`)
      return c.json({ ok: true })
    })
    app.use('/api/*', async (c, next) => {
      const session = cookieValue(c.req.header('cookie'), SESSION_COOKIE)
      if (session === undefined || ![...state.sessions].some((known) => sameToken(session, known))) {
        return refuse(c, 403, 'a session is required: open the URL with the token that `tracellm ui` printed')
      }
      return next()
    })
  }

  app.get('/api/meta', (c) => c.json({
    version: options.version ?? '0.0.0',
    store: { kind: store.kind, location: options.storeLabel },
    readOnly: !state.write,
    tokenAuth: state.launchToken !== undefined,
    ...(state.write ? { csrfToken: state.csrfToken } : {}),
  }))
  // a client that goes away (a newer search typed, a page left) cancels its read: a text scan stops on its worker
  app.get('/api/traces', async (c) => c.json(await listTraces(store, params(c), c.req.raw.signal)))
  app.get('/api/traces/count', async (c) => c.json(await countTraces(store, params(c), c.req.raw.signal)))
  app.get('/api/facets', async (c) => c.json(await facets(store, params(c))))
  app.get('/api/traces/:id', async (c) => c.json(await traceHeader(store, c.req.param('id'))))
  app.get('/api/traces/:id/raw/:field', async (c) => raw(c, await rawTraceField(store, c.req.param('id'), c.req.param('field')), `${c.req.param('id')}-${c.req.param('field')}`))
  app.get('/api/traces/:id/steps', async (c) => c.body(await cachedSkeleton(store, state.fields, c.req.param('id')), 200, { 'Content-Type': 'application/json' }))
  app.get('/api/traces/:id/previews', async (c) => c.body(await cachedPreviews(store, state.fields, c.req.param('id')), 200, { 'Content-Type': 'application/json' }))
  app.get('/api/traces/:id/steps/:stepId', async (c) => c.body(await cachedStepDetail(store, state.fields, c.req.param('id'), c.req.param('stepId')), 200, { 'Content-Type': 'application/json' }))
  app.get('/api/traces/:id/steps/:stepId/raw/:field', async (c) => {
    const { id, stepId, field } = c.req.param()
    return raw(c, await cachedRawField(store, state.fields, id, stepId, field), `${id.slice(0, 8)}-${stepId}-${field}`)
  })
  app.get('/api/traces/:id/export', async (c) => {
    const id = c.req.param('id')
    const docs = await documentsOf(store, id)
    const body = docs.map((doc) => `${JSON.stringify(toWire(doc))}\n`).join('')
    return c.body(body, 200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Disposition': `attachment; filename="trace-${id}.jsonl"` })
  })
  app.get('/api/diff', async (c) => c.json(await diff(store, params(c))))
  app.get('/api/stats', async (c) => {
    const now = Date.now()
    if (state.stats === undefined || now - state.stats.at > statsCacheMs) {
      const value = fromStore(() => store.stats())
      state.stats = { at: now, value }
      // a failed read is not cached
      value.catch(() => { if (state.stats?.value === value) state.stats = undefined })
    }
    return c.json(await state.stats.value as object)
  })
  app.get('/api/overview', async (c) => {
    const now = Date.now()
    const key = new URL(c.req.url).search
    let entry = state.overviews.get(key)
    if (entry === undefined || now - entry.at > statsCacheMs) {
      for (const [old, cached] of state.overviews) if (now - cached.at > statsCacheMs) state.overviews.delete(old)
      const made = { at: now, value: overview(store, params(c)) }
      state.overviews.set(key, made)
      // a failed read (or a refused query) is not cached
      made.value.catch(() => { if (state.overviews.get(key) === made) state.overviews.delete(key) })
      entry = made
    }
    return c.json(await entry.value as object)
  })
  app.get('/api/events', (c) => streamSSE(c, async (stream) => {
    const stop = new AbortController()
    state.streams.add(stop)
    stream.onAbort(() => stop.abort())
    try {
      let last = await versionOf(store).catch(() => '')
      let beat = Date.now()
      while (!stop.signal.aborted) {
        await sleep(pollMs, stop.signal)
        if (stop.signal.aborted) break
        const now = await versionOf(store).catch(() => last)
        if (now !== last) {
          last = now
          const info = await changeOf(store).catch(() => undefined)
          if (info !== undefined) await stream.writeSSE({ event: 'traces', data: JSON.stringify(info) })
        }
        if (Date.now() - beat >= heartbeatMs) {
          beat = Date.now()
          await stream.writeSSE({ event: 'heartbeat', data: '{}' })
        }
      }
    } finally {
      state.streams.delete(stop)
    }
  }))

  if (state.write) {
    app.post('/api/traces/:id/delete', async (c) => {
      const remove = store.delete
      if (remove === undefined) throw new ApiError(503, 'this store cannot delete a single trace yet; use POST /api/prune')
      const id = c.req.param('id')
      checkTraceId(id)
      // the delete tells whether the trace was there: its documents are never read
      const result = await fromStore(() => remove.call(store, id))
      if (result.deleted === 0) throw new ApiError(404, `no trace with id ${id}`)
      state.stats = undefined
      state.overviews.clear()
      return c.json({ deleted: result.deleted })
    })
    app.post('/api/prune', async (c) => {
      const body: unknown = await c.req.json().catch(() => undefined)
      const olderThan = typeof body === 'object' && body !== null ? (body as { olderThan?: unknown }).olderThan : undefined
      if (typeof olderThan !== 'string') throw new ApiError(400, 'Expected a JSON body {"olderThan": "30d"} (a duration or an ISO date).')
      const result = await fromStore(() => store.prune({ olderThan }))
      state.stats = undefined
      state.overviews.clear()
      return c.json({ deleted: result.deleted })
    })
  }

  app.all('/api/*', (c) => c.json({ error: 'no such API endpoint' }, 404))
  const clientDir = options.clientDir
  if (clientDir !== undefined && isDirectory(clientDir)) {
    app.use('*', serveStatic({ root: clientDir }))
    // the client routes its own pages (/trace/:id, /compare, /store): every other GET is its page
    app.get('*', serveStatic({ root: clientDir, path: 'index.html' }))
  } else {
    app.get('*', (c) => c.text('tracellm ui: the viewer\'s pages are not built (no client folder); the JSON API answers under /api/ (docs/ui.md#api)\n', 503))
  }
  app.notFound((c) => refuse(c, 404, 'not found'))
  app.onError((error, c) => {
    if (error instanceof ApiError) return c.json({ error: error.message }, error.status)
    return c.json({ error: `internal error: ${messageOf(error)}` }, 500)
  })
  return app
}

function refuse(c: Context, status: 403 | 404, message: string): Response {
  return c.json({ error: message }, status)
}

function params(c: Context): URLSearchParams {
  return new URL(c.req.url).searchParams
}

/** A JSON value as `application/json`, sent in chunks; `?download=1` makes it an attachment. */
function raw(c: Context, text: string, name: string): Response {
  const download = c.req.query('download')
  if (download !== undefined && download !== '1') throw new ApiError(400, 'Expected `download` to be 1.')
  let offset = 0
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= text.length) return controller.close()
      let end = Math.min(offset + RAW_CHUNK, text.length)
      // never between the two halves of a surrogate pair, which would encode as two U+FFFD
      if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--
      controller.enqueue(new TextEncoder().encode(text.slice(offset, end)))
      offset = end
    },
  })
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' }
  if (download === '1') headers['Content-Disposition'] = `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}.json"`
  return c.body(body, 200, headers)
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}

/** What changes when another process commits: `dataVersion()`, else the count and the newest start. */
async function versionOf(store: ViewerStore): Promise<string> {
  if (store.dataVersion !== undefined) return store.dataVersion()
  const info = await changeOf(store)
  return `${info.count}:${info.newestStartedAt ?? ''}`
}

async function changeOf(store: ViewerStore): Promise<{ newestStartedAt: string | null; count: number }> {
  const [page, count] = await Promise.all([store.list({ limit: 1 }), store.count()])
  return { newestStartedAt: page.items[0]?.startedAt ?? null, count }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening)
      if (error.code === 'EADDRINUSE') reject(new Error(`port ${port} is already in use on ${host}; pass --port <n> to use another one, or --port 0 for a free one`))
      else if (error.code === 'EACCES') reject(new Error(`no permission to listen on port ${port}; pass --port <n> with a port above 1023, or --port 0 for a free one`))
      else reject(new Error(`cannot listen on ${host}:${port} (${messageOf(error)}); pass --host or --port to change it`))
    }
    const onListening = (): void => {
      server.off('error', onError)
      resolve((server.address() as AddressInfo).port)
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}

function isDirectory(path: string): boolean {
  try {
    return existsSync(path) && statSync(path).isDirectory()
  } catch {
    return false
  }
}
