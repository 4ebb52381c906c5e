// postgresSink when PostgreSQL misbehaves (docs/postgres.md, docs/reliability.md): connections terminated by the server,
// a server that accepts TCP and never answers, no server at all, a statement stuck behind a lock. The
// process always survives (tests/helpers/setup.ts fails any test with an unhandled rejection), the
// failed write rejects so that the export queue retries it, and the retry never duplicates.
import { afterEach, describe, expect, it } from '@jest/globals'
import { createServer, type Server, type Socket } from 'node:net'
import pg from 'pg'
import { configure, flush, trace, traceTool } from '../../src/index.js'
import { postgresSink, type PostgresSink } from '../../src/stores/postgres/sink.js'
import { makeDocument, makeDocuments } from '../helpers/documents.js'
import { spyWarnings } from '../helpers/memory.js'
import { describePostgres, sql, usePostgresDatabase, waitFor } from '../helpers/postgres.js'

const database = usePostgresDatabase()
const cleanups: Array<() => Promise<void> | void> = []

afterEach(async () => {
  configure({ sinks: [] })
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

let schemas = 0

/** A sink on a fresh schema of this file's database, closed after the test. */
function useSink(options: { readonly statementTimeoutMs?: number } = {}): { readonly sink: PostgresSink; readonly schema: string } {
  const schema = 'faults_' + ++schemas
  const sink = postgresSink({ connectionString: database.url(), schema, ...options })
  cleanups.push(() => sink.close())
  return { sink, schema }
}

async function countRows(schema: string): Promise<{ traces: number; distinct: number }> {
  const [row] = await sql<{ traces: number; distinct: number }>(database.url(), 'SELECT count(*)::int AS traces, count(DISTINCT trace_id)::int AS distinct FROM ' + schema + '.traces')
  return row as { traces: number; distinct: number }
}

/** Terminates this database's tracellm connections (what a DBA or a failover does); returns how many. */
async function terminateSinkConnections(client?: pg.Client): Promise<number> {
  const text = "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'tracellm' AND datname = current_database() AND pid <> pg_backend_pid()"
  const rows = client === undefined ? await sql<{ n: number }>(database.url(), text) : (await client.query<{ n: number }>(text)).rows
  return rows[0]?.n ?? 0
}

/** A client for polling pg_stat_activity quickly, ended after the test. */
async function adminClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: database.url() })
  client.on('error', () => undefined)
  await client.connect()
  cleanups.push(() => client.end())
  return client
}

/** A TCP server on 127.0.0.1 that accepts connections and never says a word. */
async function blackhole(): Promise<{ readonly port: number }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  )
  const address = server.address()
  if (typeof address !== 'object' || address === null) throw new Error('no address')
  return { port: address.port }
}

/** A port on 127.0.0.1 where nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (typeof address !== 'object' || address === null) throw new Error('no address')
  return address.port
}

describePostgres('postgresSink faults', () => {
  describe('connections terminated by the server', () => {
    it('survives pg_terminate_backend of its idle connection, warns once, and writes the next batch on a fresh one', async () => {
      const { sink, schema } = useSink()
      const warnings = spyWarnings()
      cleanups.push(() => warnings.restore())
      await sink.write(makeDocuments(2))

      expect(await terminateSinkConnections()).toBeGreaterThan(0)
      await waitFor('the pool to report the lost connection', () => warnings.messages().some((message) => /lost a connection/.test(message)))
      await sink.write(makeDocuments(2))

      expect(await countRows(schema)).toEqual({ traces: 4, distinct: 4 })
      expect(warnings.messages().filter((message) => /lost a connection/.test(message))).toHaveLength(1)
    })

    it('rejects a write whose connection is terminated mid-transaction; writing the batch again stores it once', async () => {
      const { sink, schema } = useSink()
      const admin = await adminClient()
      await sink.write([makeDocument()])   // migrations done, so the next write is one long INSERT
      const big = 'x'.repeat(60_000)
      const batch = makeDocuments(100, { input: [big, big] })

      const writing = Promise.resolve(sink.write(batch)).then(() => 'committed', (error: unknown) => error)
      let caught = 0
      await waitFor('the write to be running', async () => {
        const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'tracellm' AND datname = current_database() AND state IN ('active', 'idle in transaction')")
        if ((rows[0]?.n ?? 0) === 0) return false
        caught = await terminateSinkConnections(admin)
        return true
      })
      const outcome = await writing
      await sink.write(batch)

      expect(caught).toBeGreaterThan(0)
      // the INSERT may have committed just before the terminate arrived; otherwise the write failed
      if (outcome !== 'committed') expect(String((outcome as Error).message)).toMatch(/terminat|57P01|Connection/i)
      expect(await countRows(schema)).toEqual({ traces: 101, distinct: 101 })
    })

    it('delivers every trace exactly once through the export queue while its connections are terminated', async () => {
      const { sink, schema } = useSink()
      const warnings = spyWarnings()
      cleanups.push(() => warnings.restore())
      const admin = await adminClient()
      configure({ sinks: [sink], queue: { scheduleDelayMs: 0, maxBatchSize: 25, retry: { initialDelayMs: 10, maxDelayMs: 50, jitter: 0 } } })
      const look = traceTool({ name: 'look' })(async (n: number) => n + 1)
      const run = trace({ prompt: 'terminated-run' })(async (n: number, payload: string) => look(n + payload.length))
      const payload = 'p'.repeat(30_000)

      const runs = Array.from({ length: 300 }, (_, index) => run(index, payload))
      let terminated = 0
      await waitFor('the sink to be writing', async () => {
        const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'tracellm' AND datname = current_database()")
        if ((rows[0]?.n ?? 0) === 0) return false
        terminated += await terminateSinkConnections(admin)
        return true
      })
      await Promise.all(runs)
      const report = await flush(30_000)

      expect(terminated).toBeGreaterThan(0)
      expect(report).toMatchObject({ flushed: 300, dropped: 0, pending: 0, timedOut: false })
      expect(await countRows(schema)).toEqual({ traces: 300, distinct: 300 })
    })
  })

  describe('a server that does not answer', () => {
    it('rejects a write to a blackholed server after connectionTimeoutMs, without the password', async () => {
      const { port } = await blackhole()
      const sink = postgresSink({ connectionString: 'postgres://tracer:Bl4ckh0le-pw@127.0.0.1:' + port + '/db', connectionTimeoutMs: 300 })
      cleanups.push(() => sink.close())

      const started = Date.now()
      const error = await Promise.resolve(sink.write(makeDocuments(1))).then(() => undefined, (reason: unknown) => reason as Error)
      const elapsed = Date.now() - started

      expect(error).toBeInstanceOf(Error)
      expect(error?.message).toMatch(/timeout/i)
      expect(error?.message).toContain('postgres://tracer:***@127.0.0.1:' + port + '/db')
      expect(error?.message).not.toContain('Bl4ckh0le-pw')
      expect(elapsed).toBeGreaterThanOrEqual(250)
      expect(elapsed).toBeLessThan(3000)
    })

    it('rejects a write at once when nothing listens (server stopped), without the password', async () => {
      const port = await closedPort()
      const down = postgresSink({ connectionString: 'postgres://tracer:St0pped-pw@127.0.0.1:' + port + '/db' })
      cleanups.push(() => down.close())

      const error = await Promise.resolve(down.write(makeDocuments(1))).then(() => undefined, (reason: unknown) => reason as Error)

      expect(error?.message).toMatch(/ECONNREFUSED/)
      expect(error?.message).not.toContain('St0pped-pw')
    })

    it('rejects a write stuck behind a lock after statementTimeoutMs (57014), then writes once the lock is gone', async () => {
      const { sink, schema } = useSink({ statementTimeoutMs: 300 })
      await sink.write(makeDocuments(1))
      const admin = await adminClient()
      await admin.query('BEGIN')
      await admin.query('LOCK TABLE ' + schema + '.traces IN ACCESS EXCLUSIVE MODE')

      const error = await Promise.resolve(sink.write(makeDocuments(1))).then(() => undefined, (reason: unknown) => reason as Error & { code?: string })
      await admin.query('ROLLBACK')
      await sink.write(makeDocuments(1))

      expect(error?.code).toBe('57014')
      expect(await countRows(schema)).toEqual({ traces: 2, distinct: 2 })
    })
  })

  describe('secrets', () => {
    it('never shows the password in errors from the server', async () => {
      const url = new URL(database.url())
      url.password = 'Serv3r-s3cret'
      url.pathname = '/no_such_database'
      const sink = postgresSink({ connectionString: url.toString() })
      cleanups.push(() => sink.close())

      const error = await Promise.resolve(sink.write(makeDocuments(1))).then(() => undefined, (reason: unknown) => reason as Error & { code?: string })

      expect(error?.code).toBe('3D000')
      expect(error?.message).toMatch(/database "no_such_database" does not exist/)
      expect(error?.message).not.toContain('Serv3r-s3cret')
      expect(JSON.stringify(error)).not.toContain('Serv3r-s3cret')
      expect(String(error?.stack)).not.toContain('Serv3r-s3cret')
    })
  })
})
