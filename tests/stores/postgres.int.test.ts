// postgresSink and the PostgreSQL store against a real PostgreSQL (tests/helpers/pg-global-setup.ts):
// the sink and store contracts, then what only this backend does. Each test gets its own schema in
// this file's database, so the tests never see each other's rows.
import { afterAll, afterEach, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { inspect } from 'node:util'
import type { TraceDocument } from '../../src/document/document.js'
import type { Names } from '../../src/stores/postgres/driver.js'
import { MIGRATIONS } from '../../src/stores/postgres/migrations.js'
import { postgresSink, type PostgresSink } from '../../src/stores/postgres/sink.js'
import { openPostgresStore } from '../../src/stores/postgres/store.js'
import { toWire } from '../../src/document/wire.js'
import type { TraceStore } from '../../src/stores/types.js'
import { runSinkContract } from '../contracts/sink.contract.js'
import { runStoreViewerContract } from '../contracts/store-viewer.contract.js'
import { version2Rows } from '../helpers/version2.js'
import { runStoreContract } from '../contracts/store.contract.js'
import { makeDocument, makeDocuments, makeStep, stepIdOf, traceIdOf } from '../helpers/documents.js'
import { spyWarnings } from '../helpers/memory.js'
import { describePostgres, sql, usePostgresDatabase } from '../helpers/postgres.js'

const database = usePostgresDatabase()

/** A sink and a store on a new schema of this file's database; `cleanup` closes both and drops the schema. */
async function harness(options: { readonly migrateStore?: boolean } = {}): Promise<{ sink: PostgresSink; store: TraceStore; schema: string; url: string; cleanup(): Promise<void> }> {
  const url = database.url()
  const schema = 's_' + randomBytes(5).toString('hex')
  const sink = postgresSink({ connectionString: url, schema })
  const store = await openPostgresStore(url, { schema, migrate: options.migrateStore ?? true })
  return {
    sink,
    store,
    schema,
    url,
    cleanup: async () => {
      await store.close()
      await sink.close()
      await sql(url, 'DROP SCHEMA IF EXISTS ' + schema + ' CASCADE')
    },
  }
}

const opened: Array<() => Promise<void>> = []

/** A harness closed after the test. */
async function useHarness(): ReturnType<typeof harness> {
  const made = await harness()
  opened.push(made.cleanup)
  return made
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((cleanup) => cleanup()))
})

describePostgres('postgres backend', () => {
  runSinkContract('postgresSink', async () => {
    const made = await harness()
    return {
      sink: made.sink,
      // the contract's documents share one start time and get increasing ids; the store lists newest
      // first, then by id descending: reversed, that is the order they were written in
      readBack: async () => {
        const page = await made.store.list({ limit: 500 })
        return (await Promise.all([...page.items].reverse().map((item) => made.store.get(item.traceId)))) as TraceDocument[]
      },
      cleanup: made.cleanup,
    }
  })

  runStoreContract('postgres', async () => {
    const made = await harness()
    return { sink: made.sink, store: made.store, cleanup: made.cleanup }
  })

  runStoreViewerContract('postgres', async () => {
    const made = await harness()
    const extra: string[] = []
    return {
      sink: made.sink,
      store: made.store,
      openReadOnly: () => openPostgresStore(made.url, { schema: made.schema, readOnly: true }),
      writeBeforeMigration: async (docs) => {
        const schema = 's_' + randomBytes(5).toString('hex')
        extra.push(schema)
        const names: Names = { schema, traces: schema + '.traces', steps: schema + '.steps', migrations: schema + '.tracellm_migrations' }
        await sql(made.url, 'CREATE SCHEMA ' + schema)
        for (const migration of MIGRATIONS.slice(0, 2)) for (const statement of migration.statements(names)) await sql(made.url, statement)
        await sql(made.url, 'CREATE TABLE ' + names.migrations + ' (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())')
        for (const migration of MIGRATIONS.slice(0, 2)) await sql(made.url, 'INSERT INTO ' + names.migrations + ' (version, name) VALUES ($1, $2)', [migration.version, migration.name])
        for (const doc of docs) {
          const rows = version2Rows(doc)
          const placeholders = (values: unknown[]): string => values.map((_, index) => '$' + String(index + 1)).join(', ')
          await sql(made.url, 'INSERT INTO ' + names.traces + ' (' + rows.traceColumns.join(', ') + ') VALUES (' + placeholders(rows.trace) + ')', rows.trace)
          for (const step of rows.steps) await sql(made.url, 'INSERT INTO ' + names.steps + ' (' + rows.stepColumns.join(', ') + ') VALUES (' + placeholders(step) + ')', step)
        }
        // a store opened without readOnly upgrades the schema under the advisory lock
        return openPostgresStore(made.url, { schema })
      },
      cleanup: async () => {
        await made.cleanup()
        for (const schema of extra) await sql(made.url, 'DROP SCHEMA IF EXISTS ' + schema + ' CASCADE')
      },
    }
  })

  describe('postgresSink', () => {
    it('shows its URL without the password in String() and inspect()', () => {
      const sink = postgresSink({ connectionString: 'postgres://tracer:s3cret-Pa55@db.internal:5432/traces?sslmode=require&password=other-s3cret' })

      expect(String(sink)).toBe('postgresSink(postgres://tracer:***@db.internal:5432/traces?sslmode=require&password=***)')
      expect(inspect(sink)).toBe(String(sink))
      expect(inspect({ sinks: [sink] }, { depth: 5 })).not.toMatch(/s3cret/)
    })

    it('rejects invalid and unknown options with a TypeError that never shows the URL', () => {
      const url = 'postgres://u:hunter22@localhost/db'

      expect(() => postgresSink({ connectionString: url, pool: 3 } as never)).toThrow(/Unknown `postgresSink` option `pool`/)
      expect(() => postgresSink({ connectionString: url, schema: 'x"; drop schema public; --' })).toThrow(TypeError)
      expect(() => postgresSink({ connectionString: url, schema: 'a'.repeat(64) })).toThrow(/schema/)
      expect(() => postgresSink({ connectionString: url, poolSize: 0 })).toThrow(/poolSize/)
      expect(() => postgresSink({ connectionString: url, connectionTimeoutMs: -1 })).toThrow(/connectionTimeoutMs/)
      expect(() => postgresSink({ connectionString: url, migrate: 'yes' as never })).toThrow(/migrate/)
      expect(() => postgresSink({ connectionString: 'mysql://u:hunter22@localhost/db' })).toThrow(/postgres:\/\//)
      expect(() => postgresSink({ connectionString: 'mysql://u:hunter22@localhost/db' })).not.toThrow(/hunter22/)
      expect(() => postgresSink(undefined as never)).toThrow(TypeError)
    })

    it('does not connect before the first write and has no writeSync', async () => {
      const sink = postgresSink({ connectionString: 'postgres://nobody@127.0.0.1:1/none' })

      await sink.write([])
      await sink.close()

      expect(sink).not.toHaveProperty('writeSync')
    })

    it('stores a trace row with the indexed columns and one row per step', async () => {
      const { sink, url, schema } = await useHarness()
      const doc = makeDocument({
        modelName: 'gpt-4o',
        tags: ['a'],
        retryCount: 1,
        usage: { inputTokens: 3, outputTokens: 4 },
        steps: [makeStep(), makeStep({ stepId: stepIdOf(2), parentStepId: stepIdOf(1), seq: 1, status: 'error', kind: 'llm', model: 'gpt-4o', usage: { inputTokens: 3, outputTokens: 4 } })],
      })

      await sink.write([doc])

      const [trace] = await sql(url, 'SELECT prompt, model_name, status, started_at = $1::timestamptz AS exact, retry_count, step_count, error_count, input_tokens::int, tags, document->>\'trace_id\' AS wire_id FROM ' + schema + '.traces', [doc.startedAt])
      expect(trace).toEqual({ prompt: 'answer', model_name: 'gpt-4o', status: 'success', exact: true, retry_count: 1, step_count: 2, error_count: 1, input_tokens: 3, tags: ['a'], wire_id: doc.traceId })
      const steps = await sql(url, 'SELECT step_id, parent_step_id, seq, kind, model FROM ' + schema + '.steps ORDER BY seq')
      expect(steps).toEqual([
        { step_id: stepIdOf(1), parent_step_id: null, seq: 0, kind: 'tool', model: null },
        { step_id: stepIdOf(2), parent_step_id: stepIdOf(1), seq: 1, kind: 'llm', model: 'gpt-4o' },
      ])
    })

    it('stores a batch that repeats a trace, and a retried batch, once', async () => {
      const { sink, url, schema } = await useHarness()
      const batch = makeDocuments(3)

      await sink.write([...batch, batch[0] as TraceDocument])
      await sink.write(batch)

      const [counts] = await sql(url, 'SELECT (SELECT count(*)::int FROM ' + schema + '.traces) AS traces, (SELECT count(DISTINCT trace_id)::int FROM ' + schema + '.traces) AS distinct_traces, (SELECT count(*)::int FROM ' + schema + '.steps) AS steps')
      expect(counts).toEqual({ traces: 3, distinct_traces: 3, steps: 3 })
    })

    it('writes more rows than one statement may bind (65535 parameters)', async () => {
      const { sink, store } = await useHarness()
      const steps = Array.from({ length: 5000 }, (_, index) => makeStep({ stepId: stepIdOf(index + 1), seq: index }))
      const docs = [makeDocument({ steps }), ...makeDocuments(4)]

      await sink.write(docs)

      expect(await store.stats()).toMatchObject({ traces: 5, steps: 5004 })
      expect((await store.get(docs[0]!.traceId))?.steps).toHaveLength(5000)
    })

    it('stores NUL and lone surrogates anywhere in a document as U+FFFD', async () => {
      const { sink, store } = await useHarness()
      const doc = makeDocument({
        prompt: 'p\u0000\ud800',
        project: 'proj\u0000',
        modelName: 'm\udc00',
        tags: ['t\u0000'],
        metadata: { 'k\u0000ey': 'v\ud83d', nested: { '\udfff': ['\u0000'] } },
        status: 'error',
        error: { type: 'Error\u0000', message: 'bad \ud800 message', stack: 'at \u0000' },
        steps: [makeStep({ name: 'step\u0000', kind: 'to\ud800ol', error: { type: 'E', message: '\u0000' }, attemptErrors: [{ attempt: 1, error: { type: 'E', message: 'x\udbff' } }] })],
      })

      await sink.write([doc])

      const back = await store.get(doc.traceId)
      expect(back).toMatchObject({
        prompt: 'p\uFFFD\uFFFD',
        project: 'proj\uFFFD',
        modelName: 'm\uFFFD',
        tags: ['t\uFFFD'],
        metadata: { 'k\uFFFDey': 'v\uFFFD', nested: { '\uFFFD': ['\uFFFD'] } },
        error: { type: 'Error\uFFFD', message: 'bad \uFFFD message', stack: 'at \uFFFD' },
        steps: [{ name: 'step\uFFFD', kind: 'to\uFFFDol', error: { message: '\uFFFD' }, attemptErrors: [{ error: { message: 'x\uFFFD' } }] }],
      })
      expect((await store.list({ project: 'proj\uFFFD' })).items[0]).toMatchObject({ prompt: 'p\uFFFD\uFFFD', modelName: 'm\uFFFD', tags: ['t\uFFFD'] })
    })

    it('commits the rest of a batch when the database rejects one document, storing a placeholder for it', async () => {
      const { sink, store } = await useHarness()
      const warnings = spyWarnings()
      const good = makeDocuments(5)
      // retry_count is an int4 column: 1e12 is out of range (SQLSTATE 22003)
      const bad = makeDocument({ prompt: 'too many retries', retryCount: 1e12 })

      await sink.write([good[0]!, good[1]!, bad, good[2]!, good[3]!, good[4]!])
      warnings.restore()

      for (const doc of good) expect(await store.get(doc.traceId)).toEqual(doc)
      expect(await store.get(bad.traceId)).toMatchObject({ prompt: 'too many retries', status: 'success', retryCount: 0, steps: [], error: { type: 'Unstorable', message: '[Unstorable: 22003]' } })
      expect(await store.count()).toBe(6)
      expect(warnings.messages().join('\n')).toMatch(/could not store trace [0-9a-f]{32} \(SQLSTATE 22003\)/)
    })

    it('keeps a valid time in the placeholder of a document whose start time PostgreSQL rejects', async () => {
      const { sink, store } = await useHarness()
      const warnings = spyWarnings()
      opened.push(async () => warnings.restore())
      const bad = makeDocument({ startedAt: '2026-02-30T10:00:00.000Z' })

      await sink.write([bad, makeDocument()])

      expect(await store.count()).toBe(2)
      expect((await store.list({ prompt: 'answer' })).items.find((item) => item.traceId === bad.traceId)).toMatchObject({ startedAt: bad.endedAt, endedAt: bad.endedAt })
      expect((await store.get(bad.traceId))?.error).toEqual({ type: 'Unstorable', message: '[Unstorable: 22008]' })
    })

    it('stores a placeholder for a document that cannot be serialized, and drops one without a valid id', async () => {
      const { sink, store } = await useHarness()
      const warnings = spyWarnings()
      const unserializable = makeDocument({ metadata: { big: 1n as never } })
      const noId = makeDocument({ traceId: "x'); drop table traces; --" as never })
      const good = makeDocument()

      const result = await sink.write([unserializable, noId, good])
      warnings.restore()

      // the one it gave up on is handed back, so the export queue counts it as dropped, not written
      expect(result).toEqual({ dropped: [{ doc: noId, reason: 'PostgreSQL could not store it (invalid trace id)' }] })
      expect(await store.count()).toBe(2)
      expect((await store.get(unserializable.traceId))?.error).toEqual({ type: 'Unstorable', message: '[Unstorable: unserializable]' })
      expect(await store.get(good.traceId)).toEqual(good)
      expect(warnings.messages().join('\n')).toMatch(/dropped a trace it could not store \(invalid trace id\)/)
    })

    it('stores SQL injection strings and LIKE wildcards as plain data and searches them literally', async () => {
      const { sink, store } = await useHarness()
      const prompts = ["x'); drop table traces; --", '100%', 'a_b', 'back\\slash', "it's", 'say "hi"', '$1']
      const docs = prompts.map((prompt) => makeDocument({ prompt, input: [prompt] }))
      // what each one would also match if %, _ or \ were not taken literally
      const decoys = ['1000', 'axb', 'back/slash', 'say hi'].map((prompt) => makeDocument({ prompt, input: [prompt] }))

      await sink.write([...docs, ...decoys])

      for (const doc of docs) {
        expect((await store.list({ prompt: doc.prompt })).items.map((item) => item.traceId)).toEqual([doc.traceId])
        expect((await store.list({ text: doc.prompt })).items.map((item) => item.traceId)).toEqual([doc.traceId])
      }
      expect(await store.count()).toBe(prompts.length + decoys.length)
    })

    it('creates its tables once in the schema it is given, recording the migration', async () => {
      const { sink, url, schema } = await useHarness()

      await sink.write(makeDocuments(1))
      await sink.write(makeDocuments(1))

      const tables = await sql(url, 'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema])
      expect(tables.map((row) => row.table_name)).toEqual(['steps', 'tracellm_migrations', 'traces'])
      expect(await sql(url, 'SELECT version, name FROM ' + schema + '.tracellm_migrations ORDER BY version')).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })))
    })

    it('migrates a version-1 schema: its traces stay readable and continued traces can then share their id', async () => {
      const url = database.url()
      const schema = 's_' + randomBytes(5).toString('hex')
      opened.push(() => sql(url, 'DROP SCHEMA IF EXISTS ' + schema + ' CASCADE').then(() => undefined))
      // a schema as the first migration left it: one trace with a step, keyed by trace id alone
      const names: Names = { schema, traces: schema + '.traces', steps: schema + '.steps', migrations: schema + '.tracellm_migrations' }
      await sql(url, 'CREATE SCHEMA ' + schema)
      for (const statement of (MIGRATIONS[0] as (typeof MIGRATIONS)[number]).statements(names)) await sql(url, statement)
      await sql(url, 'CREATE TABLE ' + names.migrations + ' (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())')
      await sql(url, 'INSERT INTO ' + names.migrations + " (version, name) VALUES (1, 'traces and steps')")
      const old = makeDocument({ traceId: traceIdOf(0x7001), replayOf: traceIdOf(0x7002), costUsd: 0.5 })
      const step = old.steps[0]!
      await sql(url, 'INSERT INTO ' + names.traces + " VALUES ($1, 'default', 'test', 'answer', NULL, 'success', $2, $3, 12.34, 0, 1, 0, 0, 0, '[]', $4)", [old.traceId, old.startedAt, old.endedAt, JSON.stringify(toWire(old))])
      await sql(url, 'INSERT INTO ' + names.steps + " VALUES ($1, $2, NULL, 0, 'retrieve', 'tool', 'success', $3, 1, 1, 0, NULL, NULL, NULL)", [old.traceId, step.stepId, step.startedAt])

      const sink = postgresSink({ connectionString: url, schema })
      const continued = makeDocument({ traceId: old.traceId, rootSpanId: stepIdOf(0xb0), parentTraceId: old.traceId, parentStepId: step.stepId, startedAt: '2026-11-24T10:00:01.000Z' })
      await sink.write([continued])
      await sink.close()

      const store = await openPostgresStore(url, { schema })
      try {
        expect(await store.getAll(old.traceId)).toEqual([old, continued])
        expect((await store.list()).items.map((item) => [item.replayOf, item.costUsd, item.parentStepId])).toEqual([
          [null, null, step.stepId],
          [old.replayOf, 0.5, null],
        ])
        expect((await store.stats()).steps).toBe(2)
        expect(await store.prune({ olderThan: new Date('2026-11-24T10:00:00.500Z') })).toEqual({ deleted: 1 })
      } finally {
        await store.close()
      }
      expect(await sql(url, 'SELECT trace_id, root_span_id, step_id FROM ' + names.steps)).toEqual([{ trace_id: old.traceId, root_span_id: stepIdOf(0xb0), step_id: continued.steps[0]!.stepId }])
      expect((await sql(url, 'SELECT version FROM ' + names.migrations + ' ORDER BY version')).map((row) => row.version)).toEqual(MIGRATIONS.map((m) => m.version))
    })

    it('with migrate: false, needs only INSERT and SELECT on tables that already exist', async () => {
      const { url, schema } = await useHarness()
      const role = 'writer_' + randomBytes(4).toString('hex')
      await sql(url, 'CREATE ROLE ' + role + ' LOGIN')
      await sql(url, 'GRANT USAGE ON SCHEMA ' + schema + ' TO ' + role)
      await sql(url, 'GRANT SELECT, INSERT ON ' + schema + '.traces, ' + schema + '.steps TO ' + role)
      const asWriter = url.replace('postgres@', role + '@')
      const sink = postgresSink({ connectionString: asWriter, schema, migrate: false })
      const doc = makeDocument()

      try {
        await sink.write([doc])
        await sink.write([doc])
      } finally {
        await sink.close()
      }

      expect(await sql(url, 'SELECT trace_id FROM ' + schema + '.traces')).toEqual([{ trace_id: doc.traceId }])
      await sql(url, 'DROP OWNED BY ' + role + '; DROP ROLE ' + role)
    })

    it('with migrate: false and no tables, rejects the write with a clear error', async () => {
      const sink = postgresSink({ connectionString: database.url(), schema: 'nowhere', migrate: false })

      await expect(sink.write(makeDocuments(1))).rejects.toThrow(/relation "nowhere.traces" does not exist \(SQLSTATE 42P01\)/)
      await sink.close()
    })

    it('rejects writes after close(), which is idempotent', async () => {
      const { sink } = await useHarness()
      await sink.write(makeDocuments(1))

      await sink.close()
      await sink.close()

      await expect(sink.write(makeDocuments(1))).rejects.toThrow(/closed/)
    })
  })

  describe('openPostgresStore', () => {
    it('rejects when the database has no tracellm tables', async () => {
      await expect(openPostgresStore(database.url(), { schema: 'empty_schema' })).rejects.toThrow(/No trace store in postgres:\/\/.*: its tables do not exist yet/)
    })

    it('opens the tables a sink created, without migrate', async () => {
      const { sink, url, schema } = await useHarness()
      const doc = makeDocument()
      await sink.write([doc])

      const store = await openPostgresStore(url, { schema })
      try {
        expect(await store.get(doc.traceId)).toEqual(doc)
        expect(store.kind).toBe('postgres')
      } finally {
        await store.close()
      }
    })

    it('vacuum() runs VACUUM (ANALYZE) on both tables after a prune and reports their size', async () => {
      const { sink, store } = await useHarness()
      await sink.write(makeDocuments(200, { metadata: { text: 'v'.repeat(2000) } }))
      await store.prune({ olderThan: '2100-01-01' })

      const result = await store.vacuum()

      expect(result.bytesBefore).toBeGreaterThan(0)
      expect(result.bytesAfter).toBeGreaterThan(0)
      expect(result.bytesAfter).toBeLessThanOrEqual(result.bytesBefore)
    })

    it('keeps keyset paging exact for start times with microseconds', async () => {
      const { store, url, schema, sink } = await useHarness()
      const docs = [traceIdOf(0xa1), traceIdOf(0xa2), traceIdOf(0xa3)].map((traceId) => makeDocument({ traceId }))
      await sink.write(docs)
      // rows written by another tool may carry more precision than the SDK's milliseconds
      await sql(url, "UPDATE " + schema + ".traces SET started_at = started_at + interval '1 microsecond' WHERE trace_id = $1", [docs[1]!.traceId])

      const first = await store.list({ limit: 1 })
      const second = await store.list({ limit: 1, cursor: first.nextCursor! })
      const third = await store.list({ limit: 1, cursor: second.nextCursor! })

      expect([first, second, third].map((page) => page.items[0]?.traceId)).toEqual([docs[1]!.traceId, docs[2]!.traceId, docs[0]!.traceId])
      expect(third.nextCursor).toBeNull()
    })
  })

  describe('import', () => {
    it('fails the write with a clear error when pg is not installed', async () => {
      // the built package copied where no node_modules can be found
      const dir = await mkdtemp(join(tmpdir(), 'tracellm-nopg-'))
      opened.push(() => rm(dir, { recursive: true, force: true }))
      await cp(fileURLToPath(new URL('../../dist', import.meta.url)), join(dir, 'dist'), { recursive: true })
      await writeFile(join(dir, 'package.json'), '{"type":"module"}')
      const script = "const { postgresSink } = await import(process.argv[1]); await postgresSink({ connectionString: 'postgres://u:Pw-n0pg@127.0.0.1:1/db' }).write([{ traceId: '0'.repeat(32) }]).then(() => console.log('written'), (error) => console.log(error.message))"

      const output = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, join(dir, 'dist', 'stores', 'postgres', 'sink.js')], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] })
        let stdout = ''
        child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
        child.on('error', reject)
        child.on('exit', () => resolve(stdout.trim()))
      })

      expect(output).toBe('tracellm: install pg to use postgresSink (npm install pg).')
    })

    it('does not load pg when tracellm is imported', async () => {
      const entry = fileURLToPath(new URL('../../dist/index.js', import.meta.url))
      const script = "import(process.argv[1]).then(() => { const loaded = Object.keys(require('module')._cache).filter((key) => /[\\\\/]node_modules[\\\\/]pg[\\\\/]/.test(key)); console.log(JSON.stringify(loaded)) })"

      const output = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['-e', script, entry], { stdio: ['ignore', 'pipe', 'inherit'] })
        let stdout = ''
        child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
        child.on('error', reject)
        child.on('exit', () => resolve(stdout.trim()))
      })

      expect(output).toBe('[]')
    })
  })
})

afterAll(async () => {
  await Promise.all(opened.splice(0).map((cleanup) => cleanup()))
})
