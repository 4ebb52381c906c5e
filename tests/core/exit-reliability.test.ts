// docs/reliability.md: delivery at process.exit() and on an uncaught exception, the exit bound with
// dead backends, flush reports reconciled with what the store and a collector really hold, and
// `whenFull: 'wait'`. Every case runs the built package in child processes, as a user's program runs
// (tests/fixtures/exit-load.mjs).
import { describe, expect, it } from '@jest/globals'
import Database from 'better-sqlite3'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runNodeFile, type ChildResult } from '../helpers/child.js'

const fixture = fileURLToPath(new URL('../fixtures/exit-load.mjs', import.meta.url))

function run(env: Record<string, string>, timeoutMs = 60_000): Promise<ChildResult> {
  return runNodeFile(fixture, env, timeoutMs)
}

/** Runs `count` jobs, `width` at a time. */
async function pool<T>(count: number, width: number, job: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count)
  let next = 0
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) {
      const index = next++
      results[index] = await job(index)
    }
  }))
  return results
}

function sqliteCount(file: string): number {
  if (!existsSync(file)) return 0
  const db = new Database(file, { readonly: true })
  try {
    return (db.prepare('SELECT count(*) AS n FROM traces').get() as { n: number }).n
  } finally {
    db.close()
  }
}

/** The traces in a JSONL file, or -1 when one of them is there twice (append is not idempotent). */
function jsonlCount(file: string): number {
  if (!existsSync(file)) return 0
  const ids = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { trace_id: string }).trace_id)
  return new Set(ids).size === ids.length ? ids.length : -1
}

function workDoneAt(stdout: string): number {
  const match = /work done (\d+)/.exec(stdout)
  if (match === null) throw new Error('the fixture did not finish its work: ' + stdout)
  return Number(match[1])
}

async function listen(server: Server | HttpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

const connections = new WeakMap<Server | HttpServer, Set<Socket>>()

/** A server that accepts connections and never reads or answers them. */
function blackhole(): Server {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  connections.set(server, sockets)
  return server
}

async function close(server: Server | HttpServer): Promise<void> {
  (server as { closeAllConnections?: () => void }).closeAllConnections?.()
  // a socket nobody reads never sees its peer go: destroy it, or close() waits forever
  for (const socket of connections.get(server) ?? []) socket.destroy()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

/** A port where nothing listens: connecting is refused at once. */
async function refusedPort(): Promise<number> {
  const server = createServer()
  const port = await listen(server)
  await close(server)
  return port
}

/** A collector answering every request with `status`, counting the traces of the requests it accepted (http/json). */
async function collector(status: number): Promise<{ readonly url: string; readonly accepted: () => number; close(): Promise<void> }> {
  const traces = new Set<string>()
  const server = createHttpServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      if (status === 200) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ traceId: string }> }> }> }
        for (const resource of body.resourceSpans) for (const scope of resource.scopeSpans) for (const span of scope.spans) traces.add(span.traceId)
      }
      response.statusCode = status
      response.setHeader('content-type', 'application/json')
      response.end(status === 200 ? '{}' : '{"code":3,"message":"refused"}')
    })
  })
  const port = await listen(server)
  return { url: `http://127.0.0.1:${port}/v1/traces`, accepted: () => traces.size, close: () => close(server) }
}

describe('delivery: nothing finished is lost on process.exit() or an uncaught exception (docs/reliability.md#delivery-what-is-never-lost)', () => {
  // 500 traces with a macrotask every 25: batches are being written when the program ends, so the
  // exit hook has to write the rest of a batch in flight (it skipped it before, losing up to 100)
  const cases = [
    ['sqlite', 'exit', 3],
    ['sqlite', 'throw', 1],
    ['jsonl', 'exit', 3],
    ['jsonl', 'throw', 1],
  ] as const
  it.each(cases)('%s, ending with %s: 20 runs of 500 traces, 0 lost, none written twice', async (sink, end, code) => {
    const dir = await mkdtemp(join(tmpdir(), `tracellm-exit-${sink}-${end}-`))
    const results = await pool(20, 4, async (index) => {
      const file = join(dir, `${index}.${sink === 'sqlite' ? 'db' : 'jsonl'}`)
      const child = await run({ SINK: sink, TRACELLM_DB: file, TRACE_FILE: file, TRACES: '500', YIELD_EVERY: '25', END: end })
      return { code: child.code, stored: sink === 'sqlite' ? sqliteCount(file) : jsonlCount(file), warned: child.stderr.includes('were not written') }
    })
    expect(results.map((result) => result.code)).toEqual(new Array(20).fill(code))
    expect(results.map((result) => result.stored)).toEqual(new Array(20).fill(500))
    expect(results.some((result) => result.warned)).toBe(false)
  }, 120_000)

  it.each([['otlp'], ['postgres']])('a sink that cannot write synchronously (%s) names, in one synchronous warning, how many traces process.exit() cost it', async (sink) => {
    const port = await refusedPort()
    const child = await run({ SINK: sink, OTLP_URL: `http://127.0.0.1:${port}/v1/traces`, PG_URL: `postgres://tracellm@127.0.0.1:${port}/traces`, TRACES: '300', END: 'exit' })

    expect(child.code).toBe(3)
    const lines = child.stderr.split('\n').filter((line) => line.includes('were not written'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`tracellm: 300 trace\\(s\\) were not written \\(300 to sink "${sink}"\\): the process exited`))
  })
})

describe('exit bound: a dead backend never holds a finished program (docs/reliability.md#exit-bounds-a-dead-backend-never-holds-the-process)', () => {
  // 1 000 traces queued against each dead backend, exitTimeoutMs 3 000 (the default, 10 000, is
  // measured by bench/exit.mjs): the program ends within the bound after its work, with one warning
  const EXIT_TIMEOUT_MS = 3000
  const MARGIN_MS = 2000

  const backends: Array<[string, () => Promise<{ readonly env: Record<string, string>; close(): Promise<void> }>]> = [
    ['a blackholed PostgreSQL (a socket that never answers)', async () => {
      const server = blackhole()
      const port = await listen(server)
      return { env: { SINK: 'postgres', PG_URL: `postgres://tracellm:secret@127.0.0.1:${port}/traces`, PG_CONNECT_MS: '2000' }, close: () => close(server) }
    }],
    ['a silent OTLP collector', async () => {
      const server = blackhole()
      const port = await listen(server)
      return { env: { SINK: 'otlp', OTLP_URL: `http://127.0.0.1:${port}/v1/traces`, OTLP_TIMEOUT_MS: '2000' }, close: () => close(server) }
    }],
    ['an OTLP collector refusing connections', async () => {
      const port = await refusedPort()
      // the exporter's own retries (ref'd timers) last up to its timeoutMs: kept within exitTimeoutMs, as the defaults are
      return { env: { SINK: 'otlp', OTLP_URL: `http://127.0.0.1:${port}/v1/traces`, OTLP_TIMEOUT_MS: '2000' }, close: async () => undefined }
    }],
    ['an OTLP collector answering 503 forever', async () => {
      const dead = await collector(503)
      return { env: { SINK: 'otlp', OTLP_URL: dead.url, OTLP_TIMEOUT_MS: '2000' }, close: () => dead.close() }
    }],
    ['an OTLP collector answering 500 forever', async () => {
      const dead = await collector(500)
      return { env: { SINK: 'otlp', OTLP_URL: dead.url }, close: () => dead.close() }
    }],
  ]

  it.each(backends)('%s: exits within exitTimeoutMs, the traces not written counted in one warning', async (_name, start) => {
    const backend = await start()
    try {
      const child = await run({ ...backend.env, TRACES: '1000', YIELD_EVERY: '50', END: 'natural', EXIT_TIMEOUT_MS: String(EXIT_TIMEOUT_MS) }, 60_000)
      const exitedAfter = Date.now() - workDoneAt(child.stdout)

      expect(child.code).toBe(0)
      expect(exitedAfter).toBeLessThanOrEqual(EXIT_TIMEOUT_MS + MARGIN_MS)
      const warnings = child.stderr.split('\n').filter((line) => line.includes('were not written'))
      // a collector answering 500 refuses at once: every trace is dropped (and warned about) before the exit
      if (warnings.length === 1) expect(warnings[0]).toMatch(/exit timeout of 3000 ms/)
      else expect(child.stderr).toMatch(/answered 500/)
      expect(child.stderr).not.toContain('secret')
    } finally {
      await backend.close()
    }
  }, 60_000)
})

describe('accounting: flush() reports add up against what was really stored (docs/reliability.md#accounting-flush-and-stats-add-up)', () => {
  interface Reported {
    readonly report: { flushed: number; dropped: number; pending: number; timedOut: boolean; droppedBy: Record<string, number> }
    readonly stats: { produced: number; written: number; dropped: number; pending: number; droppedBy: Record<string, number> }
  }
  const reportOf = (child: ChildResult): Reported => JSON.parse(child.stdout.split('\n').find((line) => line.startsWith('{')) ?? '{}') as Reported

  it('a tight loop of 5 001 traces with whenFull "drop": the report says what was stored and what was dropped, and why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracellm-drop-'))
    const file = join(dir, 'traces.db')
    const child = await run({ SINK: 'sqlite', TRACELLM_DB: file, TRACES: '5001', FLUSH: '1' })
    const { report, stats } = reportOf(child)

    const stored = sqliteCount(file)
    expect(report.flushed).toBe(stored)
    expect(report.flushed + report.dropped).toBe(5001)
    expect(report.droppedBy.overflow).toBe(report.dropped)
    expect(stats).toMatchObject({ produced: 5001, written: stored, dropped: 5001 - stored, pending: 0 })
    expect(child.stderr).toContain('is full')
  })

  it('a tight loop of 100 000 traces with whenFull "wait" stores every one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracellm-wait-'))
    const file = join(dir, 'traces.db')
    const child = await run({ SINK: 'sqlite', TRACELLM_DB: file, TRACES: '100000', WHEN_FULL: 'wait', FLUSH: '1' }, 150_000)
    const { report, stats } = reportOf(child)

    expect(sqliteCount(file)).toBe(100_000)
    expect(report).toMatchObject({ flushed: 100_000, dropped: 0, pending: 0, timedOut: false })
    expect(stats).toMatchObject({ produced: 100_000, written: 100_000, dropped: 0 })
    expect(child.stderr).not.toContain('is full')
  }, 150_000)

  it('a collector answering 400: dropped, not flushed; a healthy one: everything it holds is flushed', async () => {
    const refusing = await collector(400)
    const healthy = await collector(200)
    try {
      const refused = reportOf(await run({ SINK: 'otlp', OTLP_URL: refusing.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', TRACES: '50', FLUSH: '1' }))
      const accepted = reportOf(await run({ SINK: 'otlp', OTLP_URL: healthy.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', TRACES: '50', FLUSH: '1' }))

      expect(refused.report).toMatchObject({ flushed: 0, dropped: 50, droppedBy: { rejected: 50 } })
      expect(accepted.report).toMatchObject({ flushed: 50, dropped: 0 })
      expect(healthy.accepted()).toBe(accepted.report.flushed)
    } finally {
      await refusing.close()
      await healthy.close()
    }
  })

  it('a dead collector: flush() and exportStats() both count the traces the exporter gave up on as dropped', async () => {
    const port = await refusedPort()
    const child = await run({ SINK: 'otlp', OTLP_URL: `http://127.0.0.1:${port}/v1/traces`, OTLP_TIMEOUT_MS: '1000', TRACES: '50', FLUSH: '1' })
    const { report, stats } = reportOf(child)

    expect(report).toMatchObject({ flushed: 0, dropped: 50, pending: 0 })
    expect(stats).toMatchObject({ produced: 50, written: 0, dropped: 50 })
  })
})

describe('flush() on a sink that never settles and holds no handle (docs/reliability.md#accounting-flush-and-stats-add-up)', () => {
  it('resolves at its timeout with the document pending: the code after `await flush()` runs and the process ends with 0, not 13', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracellm-hang-'))
    const file = join(dir, 'hang.mjs')
    const { writeFileSync } = await import('node:fs')
    writeFileSync(file, [
      `import { configure, flush, trace } from ${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)}`,
      "configure({ sinks: [{ name: 'never', write: () => new Promise(() => {}) }], queue: { exitTimeoutMs: 1000 } })",
      "trace({ prompt: 'hang' })(() => 1)()",
      'const report = await flush(300)',
      "console.log('after flush ' + JSON.stringify(report))",
    ].join('\n'))

    const child = await runNodeFile(file, {}, 20_000)

    expect(child.code).toBe(0)
    expect(child.stdout).toContain('after flush {"flushed":0,"dropped":0,"pending":1,"timedOut":true')
  })
})
