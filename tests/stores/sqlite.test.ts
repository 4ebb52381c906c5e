import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { inspect } from 'node:util'
import Database from 'better-sqlite3'
import type { TraceDocument, TraceId } from '../../src/document/document.js'
import { toWire } from '../../src/document/wire.js'
import { configure, flush, trace, traceTool } from '../../src/index.js'
import { MIGRATIONS } from '../../src/stores/sqlite/migrations.js'
import { sqliteSink } from '../../src/stores/sqlite/sink.js'
import { openSqliteStore } from '../../src/stores/sqlite/store.js'
import { openImportedStore, openStore } from '../../src/stores/open-store.js'
import { runSinkContract } from '../contracts/sink.contract.js'
import { runStoreContract } from '../contracts/store.contract.js'
import { runStoreViewerContract } from '../contracts/store-viewer.contract.js'
import { version2Rows } from '../helpers/version2.js'
import { makeDocument, makeDocuments, makeStep, stepIdOf, traceIdOf } from '../helpers/documents.js'
import { runNodeFile } from '../helpers/child.js'
import { spyWarnings } from '../helpers/memory.js'

let dirs: string[] = []

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tracellm-sqlite-'))
  dirs.push(dir)
  return dir
}

afterEach(async () => {
  configure({ sinks: [] })
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })))
  dirs = []
})

/** Counts turns of the event loop (setImmediate callbacks) until `stop()`, which returns the count. */
function countTurns(): { stop(): number } {
  let turns = 0
  let turning = true
  const turn = (): void => {
    turns++
    if (turning) setImmediate(turn)
  }
  setImmediate(turn)
  return {
    stop: () => {
      turning = false
      return turns
    },
  }
}

/** Reads rows straight from the file, as another tool would. */
function query<T>(file: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare(sql).all(...params) as T[]
  } finally {
    db.close()
  }
}

runSinkContract('sqliteSink', async () => {
  const file = join(await tempDir(), 'nested', 'traces.db')
  const sink = sqliteSink({ path: file })
  return {
    sink,
    readBack: () => readInOrder(file),
    cleanup: () => sink.close(),
  }
})

/**
 * Documents in the order they were written: the contract's documents share one start time and get
 * increasing ids, and the store lists newest first, then by id descending.
 */
async function readInOrder(file: string): Promise<TraceDocument[]> {
  if (!existsSync(file)) return []
  const store = await openSqliteStore(file)
  try {
    const page = await store.list({ limit: 500 })
    const docs = await Promise.all([...page.items].reverse().map((item) => store.get(item.traceId)))
    return docs as TraceDocument[]
  } finally {
    await store.close()
  }
}

runStoreContract('sqlite', async () => {
  const file = join(await tempDir(), 'traces.db')
  const sink = sqliteSink({ path: file })
  const store = await openStore(file, { create: true })
  return {
    sink,
    store,
    cleanup: async () => {
      await store.close()
      sink.close()
    },
  }
})

runStoreViewerContract('sqlite', async () => {
  const dir = await tempDir()
  const file = join(dir, 'traces.db')
  const sink = sqliteSink({ path: file })
  const store = await openStore(file, { create: true })
  return {
    sink,
    store,
    openReadOnly: () => openStore(file, { readOnly: true }),
    writeBeforeMigration: async (docs) => {
      const old = join(dir, 'version2.db')
      const db = new Database(old)
      db.exec(MIGRATIONS[0] as string)
      db.exec(MIGRATIONS[1] as string)
      db.pragma('user_version = 2')
      for (const doc of docs) {
        const rows = version2Rows(doc)
        db.prepare('INSERT INTO traces (' + rows.traceColumns.join(', ') + ') VALUES (' + rows.traceColumns.map(() => '?').join(', ') + ')').run(...rows.trace)
        for (const step of rows.steps) db.prepare('INSERT INTO steps (' + rows.stepColumns.join(', ') + ') VALUES (' + rows.stepColumns.map(() => '?').join(', ') + ')').run(...step)
      }
      db.close()
      return openStore(old)
    },
    cleanup: async () => {
      await store.close()
      sink.close()
    },
  }
})

describe('sqliteSink', () => {
  let dir: string
  let file: string

  beforeEach(async () => {
    dir = await tempDir()
    file = join(dir, 'traces.db')
  })

  it('creates the file with mode 0600 in WAL mode, at the latest schema version', async () => {
    const sink = sqliteSink({ path: file })

    await sink.write([makeDocument()])
    sink.close()

    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const db = new Database(file, { readonly: true })
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length)
    // INCREMENTAL: store.vacuum() can give pruned pages back without rewriting the file
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2)
    db.close()
  })

  it('migrates an existing file on a worker thread: the event loop keeps turning meanwhile', async () => {
    // 1 500 version-1 traces of ~10 KiB: the table rebuild takes a while, on the main thread in one go
    const db = new Database(file)
    db.exec(MIGRATIONS[0] as string)
    db.pragma('user_version = 1')
    const insert = db.prepare('INSERT INTO traces VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, 0, 0, 0, 0, 0, ?, ?)')
    const payload = 'x'.repeat(10_000)
    db.transaction(() => {
      for (let index = 0; index < 1500; index++) {
        const doc = makeDocument({ traceId: traceIdOf(0x9000 + index), input: [payload], steps: [] })
        insert.run(doc.traceId, doc.project, doc.environment, doc.prompt, doc.status, doc.startedAt, doc.endedAt, doc.durationMs, '[]', JSON.stringify(toWire(doc)))
      }
    })()
    db.close()
    const turns = countTurns()

    const sink = sqliteSink({ path: file })
    await sink.write([makeDocument()])
    const turned = turns.stop()
    sink.close()

    expect(query<{ v: number }>(file, 'SELECT user_version AS v FROM pragma_user_version')).toEqual([{ v: MIGRATIONS.length }])
    expect(query<{ n: number }>(file, 'SELECT count(*) AS n FROM traces')).toEqual([{ n: 1501 }])
    // a migration on the main thread would run in one turn: the write would span a handful of them
    expect(turned).toBeGreaterThan(100)
  })

  it('migrates a version-1 file: its traces stay readable and continued traces can then share their id', async () => {
    // a store as the first schema left it: one trace with a step, keyed by trace id alone
    const old = makeDocument({ traceId: '0af7651916cd43dd8448eb211c80319c' as TraceId, replayOf: 'ffffffffffffffffffffffffffffffff' as TraceId, costUsd: 0.5 })
    const db = new Database(file)
    db.exec(MIGRATIONS[0] as string)
    db.pragma('user_version = 1')
    db.prepare('INSERT INTO traces VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, 0, 1, 0, 0, 0, ?, ?)').run(
      old.traceId, old.project, old.environment, old.prompt, old.status, old.startedAt, old.endedAt, old.durationMs, '[]', JSON.stringify(toWire(old)),
    )
    const step = old.steps[0]!
    db.prepare('INSERT INTO steps VALUES (?, ?, NULL, 0, ?, ?, ?, ?, 1, 1, 0, NULL, NULL, NULL)').run(old.traceId, step.stepId, step.name, step.kind, step.status, step.startedAt)
    db.close()

    const sink = sqliteSink({ path: file })
    const continued = makeDocument({ traceId: old.traceId, rootSpanId: stepIdOf(0xb0), parentTraceId: old.traceId, parentStepId: step.stepId, startedAt: '2026-11-24T10:00:01.000Z' })
    await sink.write([continued])
    sink.close()

    expect(query<{ v: number }>(file, 'SELECT user_version AS v FROM pragma_user_version')).toEqual([{ v: MIGRATIONS.length }])
    const store = await openSqliteStore(file)
    try {
      expect(await store.getAll(old.traceId)).toEqual([old, continued])
      expect((await store.list()).items.map((item) => [item.prompt, item.replayOf, item.costUsd, item.parentStepId])).toEqual([
        ['answer', null, null, step.stepId],
        ['answer', old.replayOf, 0.5, null],
      ])
      expect((await store.stats()).steps).toBe(2)
      expect(await store.prune({ olderThan: new Date('2026-11-24T10:00:00.500Z') })).toEqual({ deleted: 1 })
    } finally {
      await store.close()
    }
    expect(query(file, 'SELECT trace_id, root_span_id, step_id FROM steps')).toEqual([{ trace_id: old.traceId, root_span_id: stepIdOf(0xb0), step_id: continued.steps[0]!.stepId }])
  })

  it('writes one traces row with the indexed columns and one steps row per step', async () => {
    const sink = sqliteSink({ path: file })
    const doc = makeDocument({
      modelName: 'gpt-4o',
      retryCount: 1,
      usage: { inputTokens: 3, outputTokens: 4 },
      steps: [
        makeStep({ attempts: 2, retries: 1 }),
        makeStep({ stepId: stepIdOf(2), parentStepId: stepIdOf(1), seq: 1, name: 'generate', kind: 'llm', model: 'gpt-4o', usage: { inputTokens: 3, outputTokens: 4 } }),
      ],
    })

    await sink.write([doc])
    sink.close()

    expect(query(file, 'SELECT trace_id, prompt, model_name, status, retry_count, step_count, input_tokens, output_tokens, json_valid(document) AS valid FROM traces')).toEqual([
      { trace_id: doc.traceId, prompt: 'answer', model_name: 'gpt-4o', status: 'success', retry_count: 1, step_count: 2, input_tokens: 3, output_tokens: 4, valid: 1 },
    ])
    expect(query(file, 'SELECT step_id, parent_step_id, seq, name, kind, attempts, retries, model, input_tokens FROM steps ORDER BY seq')).toEqual([
      { step_id: stepIdOf(1), parent_step_id: null, seq: 0, name: 'search', kind: 'tool', attempts: 2, retries: 1, model: null, input_tokens: null },
      { step_id: stepIdOf(2), parent_step_id: stepIdOf(1), seq: 1, name: 'generate', kind: 'llm', attempts: 1, retries: 0, model: 'gpt-4o', input_tokens: 3 },
    ])
  })

  it('stores the snake_case document', async () => {
    const sink = sqliteSink({ path: file })
    const doc = makeDocument()

    await sink.write([doc])
    sink.close()

    const [row] = query<{ document: string }>(file, 'SELECT document FROM traces')
    expect(JSON.parse(row!.document)).toMatchObject({ schema_version: 1, trace_id: doc.traceId, started_at: doc.startedAt, steps: [{ step_id: stepIdOf(1) }] })
  })

  it('gives the event loop a turn between transactions of a large batch', async () => {
    const sink = sqliteSink({ path: file })
    const big = makeDocuments(3000, { steps: Array.from({ length: 5 }, (_, seq) => makeStep({ stepId: stepIdOf(seq + 1), seq })) })
    const turns = countTurns()

    await sink.write(big)
    const turned = turns.stop()
    sink.close()

    expect(turned).toBeGreaterThan(1)
    expect(query<{ n: number }>(file, 'SELECT count(*) AS n FROM traces')[0]?.n).toBe(3000)
  })

  it('writes synchronously with writeSync', () => {
    const sink = sqliteSink({ path: file })

    sink.writeSync(makeDocuments(3))
    sink.close()

    expect(query<{ n: number }>(file, 'SELECT count(*) AS n FROM traces')[0]?.n).toBe(3)
  })

  it('does not open the file before the first write', () => {
    const sink = sqliteSink({ path: file })

    expect(String(sink)).toBe(`sqliteSink(${file})`)
    expect(inspect(sink)).toBe(`sqliteSink(${file})`)
    return expect(stat(file)).rejects.toThrow(/ENOENT/)
  })

  it.each([
    ['a missing path', {}, /path/],
    ['an empty path', { path: ' ' }, /path/],
    ['a negative busy timeout', { path: 'x.db', busyTimeoutMs: -1 }, /busyTimeoutMs/],
    ['a tiny size cap', { path: 'x.db', maxDatabaseBytes: 10 }, /maxDatabaseBytes/],
    ['an unknown option', { path: 'x.db', file: 'y.db' }, /file/],
  ])('rejects %s with a TypeError', (_label, options, message) => {
    expect(() => sqliteSink(options as never)).toThrow(TypeError)
    expect(() => sqliteSink(options as never)).toThrow(message)
  })

  it.each([
    ['a directory that cannot be created (a file is in the way)', async (): Promise<string> => {
      const blocker = join(dir, 'blocker')
      await writeFile(blocker, 'not a directory')
      return join(blocker, 'traces.db')
    }],
    // (a read-only file system fails the same way, with EROFS; as root, tests cannot make one)
    ['a path that is a directory', async (): Promise<string> => dir],
  ])('warns once and persists nothing on %s, without failing the traced calls', async (_label, makePath) => {
    const path = await makePath()
    const warnings = spyWarnings()
    try {
      configure({ sinks: [sqliteSink({ path })], queue: { scheduleDelayMs: 0 } })
      const run = trace({ prompt: 'serverless' })((n: number) => n * 2)

      expect(run(1)).toBe(2)
      await flush()
      expect(run(2)).toBe(4)
      await flush()
    } finally {
      warnings.restore()
    }

    const messages = warnings.messages().filter((message) => message.includes('SQLite'))
    expect(messages).toHaveLength(1)
    expect(messages[0]).toMatch(/will not be persisted/)
  })

  it('rejects a write while another connection holds the write lock, and writes once it is released', async () => {
    const sink = sqliteSink({ path: file, busyTimeoutMs: 50 })
    await sink.write([makeDocument()])
    const other = new Database(file)
    other.exec('BEGIN IMMEDIATE')

    await expect(sink.write([makeDocument()])).rejects.toMatchObject({ code: 'SQLITE_BUSY' })
    other.exec('COMMIT')
    other.close()
    await sink.write([makeDocument()])
    sink.close()

    expect(query<{ n: number }>(file, 'SELECT count(*) AS n FROM traces')[0]?.n).toBe(2)
  })

  it('takes back the earlier transactions of a batch that fails part-way, so a failed write stores nothing', async () => {
    const sink = sqliteSink({ path: file, maxDatabaseBytes: 512 * 1024 })
    // many small documents: several short transactions commit before the file is full
    const batch = makeDocuments(2000, { metadata: { text: 'y'.repeat(1500) } })

    await expect(sink.write(batch)).rejects.toMatchObject({ code: 'SQLITE_FULL' })
    sink.close()

    expect(query<{ n: number }>(file, 'SELECT count(*) AS n FROM traces')[0]?.n).toBe(0)
    expect(query<{ n: number }>(file, 'SELECT count(*) AS n FROM steps')[0]?.n).toBe(0)
  })

  it('on a full disk keeps the database readable and, through the queue, retries then drops and counts the batch', async () => {
    const sink = sqliteSink({ path: file, maxDatabaseBytes: 256 * 1024 })
    await sink.write(makeDocuments(5))
    const huge = makeDocuments(20, { metadata: { blob: 'x'.repeat(60_000) } })

    await expect(sink.write(huge)).rejects.toMatchObject({ code: 'SQLITE_FULL' })
    configure({ sinks: [sink], queue: { scheduleDelayMs: 0, retry: { maxRetries: 1, initialDelayMs: 1, maxDelayMs: 1 } } })
    const warnings = spyWarnings()
    let report
    try {
      const run = trace({ prompt: 'big' })(() => 'x'.repeat(60_000))
      for (let i = 0; i < 20; i++) run()
      report = await flush()
    } finally {
      warnings.restore()
    }

    expect(report.dropped).toBeGreaterThan(0)
    expect(report.flushed + report.dropped).toBe(20)
    const store = await openStore(file)
    expect(await store.count({ prompt: 'doc-0' })).toBe(1)
    expect((await store.stats()).traces).toBe(5 + report.flushed)
    await store.close()
    sink.close()
  })
})

describe('sqliteSink while another process holds the write lock', () => {
  const fixture = fileURLToPath(new URL('../fixtures/sqlite-lock-holder.mjs', import.meta.url))
  let holder: ChildProcess | undefined

  afterEach(() => {
    holder?.kill('SIGKILL')
    holder = undefined
  })

  /** Starts a process that holds `BEGIN IMMEDIATE` on `file` for `holdMs`; resolves once it holds it. */
  async function holdLock(file: string, holdMs: number): Promise<{ readonly released: Promise<void> }> {
    const child = spawn(process.execPath, [fixture], { env: { ...process.env, DB_FILE: file, HOLD_MS: String(holdMs) }, stdio: ['ignore', 'pipe', 'pipe'] })
    holder = child
    let stdout = ''
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const seen = (line: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (stdout.includes(line + '\n')) resolve()
        }
        child.stdout?.on('data', (chunk: Buffer) => {
          stdout += chunk.toString()
          check()
        })
        child.once('exit', () => {
          check()
          reject(new Error(`the lock holder exited before printing ${line}: ${stderr}`))
        })
        check()
      })
    const released = seen('released')
    released.catch(() => undefined)
    await seen('locked')
    return { released }
  }

  it('never freezes the event loop while the lock is held for 5 s, and stores every trace once it is released', async () => {
    const file = join(await tempDir(), 'locked.db')
    const sink = sqliteSink({ path: file })
    await sink.write([makeDocument()])
    const { released } = await holdLock(file, 5000)
    configure({ sinks: [sink], queue: { scheduleDelayMs: 0, maxBatchSize: 20 } })
    const delay = monitorEventLoopDelay({ resolution: 1 })
    const run = trace({ prompt: 'while locked' })((n: number) => n)

    delay.enable()
    // the histogram records from its first tick on: a freeze before it would go unseen
    await sleep(20)
    // 200 traces in bursts while the lock is held: every write meets the lock
    for (let burst = 0; burst < 10; burst++) {
      for (let n = 0; n < 20; n++) run(n)
      await sleep(200)
    }
    await released
    delay.disable()
    const report = await flush(20_000)
    sink.close()

    // the goal is 50 ms (npm run bench measures it); on a shared 2-core machine a turn is sometimes
    // late by a few tens of ms anyway, while a write blocked in busy_timeout froze it for 5 s
    // (docs/reliability.md#sqlite-a-held-lock-never-freezes-the-event-loop)
    expect(delay.max / 1e6).toBeLessThan(100)
    expect(report).toMatchObject({ dropped: 0, timedOut: false })
    expect(query<{ n: number }>(file, "SELECT count(*) AS n FROM traces WHERE prompt = 'while locked'")[0]?.n).toBe(200)
  }, 30_000)

  it('writes a batch still waiting for the lock when the process ends (natural exit, child process)', async () => {
    const file = join(await tempDir(), 'exit-stalled.db')
    const sink = sqliteSink({ path: file })
    await sink.write([makeDocument()])
    sink.close()
    const { released } = await holdLock(file, 1000)

    const child = await runNodeFile(fileURLToPath(new URL('../fixtures/sqlite-exit.mjs', import.meta.url)), { TRACELLM_DB: file, EXIT_MODE: 'natural', TRACES: '10' }, 15_000)
    await released

    expect({ code: child.code, stderr: child.stderr }).toEqual({ code: 0, stderr: '' })
    expect(query<{ n: number }>(file, "SELECT count(*) AS n FROM traces WHERE prompt = 'exiting'")[0]?.n).toBe(10)
  })

  it('writeSync (the exit hook) waits for the lock synchronously, up to busyTimeoutMs', async () => {
    const file = join(await tempDir(), 'exit-locked.db')
    const sink = sqliteSink({ path: file })
    await sink.write([makeDocument()])
    const { released } = await holdLock(file, 300)

    sink.writeSync([makeDocument({ traceId: traceIdOf(0x77) })])
    await released
    sink.close()

    expect(query<{ n: number }>(file, 'SELECT count(*) AS n FROM traces')[0]?.n).toBe(2)
  })
})

describe('sqliteSink file modes', () => {
  const modeOf = (path: string): number => statSync(path).mode & 0o777

  it('gives the -wal and -shm files mode 0600, like the database', async () => {
    const file = join(await tempDir(), 'private.db')
    const sink = sqliteSink({ path: file })

    await sink.write([makeDocument()])

    expect([modeOf(file), modeOf(file + '-wal'), modeOf(file + '-shm')]).toEqual([0o600, 0o600, 0o600])
    sink.close()
  })

  it('tightens -wal and -shm files left with a looser mode (an older version, another tool) to 0600', async () => {
    const file = join(await tempDir(), 'private.db')
    const first = sqliteSink({ path: file })
    await first.write([makeDocument()])
    chmodSync(file + '-wal', 0o644)
    chmodSync(file + '-shm', 0o644)
    const warnings = spyWarnings()

    const second = sqliteSink({ path: file })
    await second.write([makeDocument({ traceId: traceIdOf(0x51) })])
    warnings.restore()
    const modes = [modeOf(file + '-wal'), modeOf(file + '-shm')]
    first.close()
    second.close()

    expect(modes).toEqual([0o600, 0o600])
    expect(warnings.messages().filter((message) => message.includes('mode'))).toEqual([])
  })

  it('reports a store folder and file with loose modes in one warning that says how to fix them', async () => {
    const folder = join(await tempDir(), '.tracellm')
    mkdirSync(folder, { mode: 0o755 })
    chmodSync(folder, 0o755)
    const file = join(folder, 'traces.db')
    const old = new Database(file)
    old.close()
    chmodSync(file, 0o644)
    const warnings = spyWarnings()

    const sink = sqliteSink({ path: file })
    await sink.write([makeDocument()])
    await sink.write([makeDocument({ traceId: traceIdOf(0x52) })])
    const store = await openSqliteStore(file)
    await store.close()
    sink.close()
    warnings.restore()

    const messages = warnings.messages().filter((message) => message.includes('mode'))
    expect(messages).toHaveLength(1)
    expect(messages[0]).toContain(`${folder} has mode 0755`)
    expect(messages[0]).toContain(`${file} has mode 0644`)
    expect(messages[0]).toContain(`chmod 700 ${folder} && chmod 600 ${file}`)
    // the owner's choice is reported, not changed
    expect([modeOf(folder), modeOf(file)]).toEqual([0o755, 0o644])
  })
})

describe('the default sink', () => {
  const saved = process.env.TRACELLM_DB

  afterEach(() => {
    if (saved === undefined) delete process.env.TRACELLM_DB
    else process.env.TRACELLM_DB = saved
  })

  it('is a SQLite store at TRACELLM_DB when configure() is given no sinks', async () => {
    const file = join(await tempDir(), 'default.db')
    process.env.TRACELLM_DB = file
    configure({ queue: { scheduleDelayMs: 0 } })

    const step = traceTool({ name: 'step' })((n: number) => n + 1)
    trace({ prompt: 'defaults' })((n: number) => step(n))(1)
    await flush()
    configure({ sinks: [] })

    const store = await openStore(file)
    const page = await store.list()
    expect(page.items.map((item) => [item.prompt, item.stepCount])).toEqual([['defaults', 1]])
    await store.close()
  })
})

describe('openSqliteStore', () => {
  it('vacuum() switches a store of an older version to incremental vacuum once, and the file shrinks', async () => {
    const file = join(await tempDir(), 'old.db')
    // made the way tracellm 0.1 made it: tables first, no auto_vacuum
    const old = new Database(file)
    old.pragma('journal_mode = WAL')
    for (const [index, migration] of MIGRATIONS.entries()) {
      old.exec(migration)
      old.pragma(`user_version = ${index + 1}`)
    }
    old.close()
    const sink = sqliteSink({ path: file })
    await sink.write(makeDocuments(500, { metadata: { text: 'z'.repeat(4000) } }))
    sink.close()
    const store = await openSqliteStore(file)

    await store.prune({ olderThan: '2100-01-01' })
    const result = await store.vacuum()
    await store.close()

    expect(result.bytesAfter).toBeLessThan(result.bytesBefore / 10)
    expect(statSync(file).size).toBe(result.bytesAfter)
    expect(query<{ auto_vacuum: number }>(file, 'PRAGMA auto_vacuum')[0]?.auto_vacuum).toBe(2)
  })

  it('rejects a path with no store, without creating a file', async () => {
    const file = join(await tempDir(), 'none.db')

    await expect(openSqliteStore(file)).rejects.toThrow(`No trace store at ${file}.`)
    await expect(stat(file)).rejects.toThrow(/ENOENT/)
  })

  it('refuses a store written by a newer schema', async () => {
    const file = join(await tempDir(), 'future.db')
    const db = new Database(file)
    db.pragma('user_version = 99')
    db.close()

    await expect(openSqliteStore(file)).rejects.toThrow(/schema version 99/)
  })
})

describe('process exit', () => {
  const fixture = fileURLToPath(new URL('../fixtures/sqlite-exit.mjs', import.meta.url))

  function runChild(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [fixture], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
      const killer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`child did not exit: ${stderr}`)) }, 15_000)
      child.on('error', reject)
      child.on('exit', (code) => { clearTimeout(killer); resolve({ code, stderr }) })
    })
  }

  it.each([
    ['process.exit() right after the traces, with nothing flushed', 'exit', 3],
    ['a natural exit without flush()', 'natural', 0],
  ])('leaves every trace in SQLite on %s (built package, child process)', async (_label, mode, exitCode) => {
    const file = join(await tempDir(), 'exit.db')

    const { code, stderr } = await runChild({ TRACELLM_DB: file, EXIT_MODE: mode, TRACES: '50' })

    expect({ code, stderr }).toEqual({ code: exitCode, stderr: '' })
    const rows = query<{ prompt: string; step_count: number }>(file, 'SELECT prompt, step_count FROM traces')
    expect(rows).toHaveLength(50)
    expect(rows.every((row) => row.prompt === 'exiting' && row.step_count === 1)).toBe(true)
    expect(query<{ n: number }>(file, 'SELECT count(*) AS n FROM steps')[0]?.n).toBe(50)
  })
})

describe('the SQLite store: text search without the index', () => {
  it('scans on a worker thread: the event loop keeps turning, and an abort stops the scan with an AbortError', async () => {
    const file = join(await tempDir(), 'traces.db')
    const sink = sqliteSink({ path: file })
    // about 40 MB of documents for the LIKE to read
    sink.writeSync(makeDocuments(5000, { input: ['y'.repeat(8000)] }))
    sink.close()
    const store = await openStore(file)
    try {
      const turns = countTurns()
      const found = await store.count({ text: 'not in any document' })
      const counted = turns.stop()

      const controller = new AbortController()
      const scan = store.list({ text: 'neither here' }, { signal: controller.signal })
      setImmediate(() => controller.abort())

      expect(found).toBe(0)
      // a scan on the event loop runs in one turn
      expect(counted).toBeGreaterThan(5)
      await expect(scan).rejects.toMatchObject({ name: 'AbortError' })
      expect(await store.count({ text: 'yyyy' })).toBe(5000)
    } finally {
      await store.close()
    }
  })
})

describe('openImportedStore', () => {
  const docs = (): TraceDocument[] => [
    makeDocument({ traceId: traceIdOf(0x9001), prompt: 'first', startedAt: '2026-11-24T10:00:01.000Z' }),
    makeDocument({ traceId: traceIdOf(0x9002), prompt: 'second', startedAt: '2026-11-24T10:00:02.000Z', steps: [makeStep(), makeStep({ stepId: stepIdOf(2), seq: 1, output: 'two' })] }),
  ]

  it('loads a JSONL export into a read-only store in memory', async () => {
    const file = join(await tempDir(), 'export.jsonl')
    const written = docs()
    await writeFile(file, written.map((doc) => JSON.stringify(toWire(doc)) + '\n').join(''))

    const store = await openStore(file)
    try {
      expect(store.readOnly).toBe(true)
      expect((await store.list()).items.map((item) => item.prompt)).toEqual(['second', 'first'])
      expect(await store.get(traceIdOf(0x9002))).toEqual(written[1])
      expect((await store.steps(traceIdOf(0x9002))).map((step) => step.outputPreview)).toEqual(['[{"id":1}]', 'two'])
      expect(await store.stepField(traceIdOf(0x9002), stepIdOf(2), 'output')).toEqual({ found: true, value: 'two' })
      expect(await store.count({ text: 'second' })).toBe(1)
      await expect(store.prune({ olderThan: '1d' })).rejects.toThrow(/readonly|read-only/i)
    } finally {
      await store.close()
    }
  })

  it('loads a JSON array export, and names the line of a document that is not valid', async () => {
    const dir = await tempDir()
    const array = join(dir, 'export.json')
    const broken = join(dir, 'broken.jsonl')
    await writeFile(array, JSON.stringify(docs().map(toWire), null, 2))
    await writeFile(broken, JSON.stringify(toWire(docs()[0]!)) + '\n{"trace_id": 1}\n')

    const store = await openImportedStore(array)
    try {
      expect(await store.count()).toBe(2)
    } finally {
      await store.close()
    }
    await expect(openImportedStore(broken)).rejects.toThrow(/line 2/)
  })
})

describe('openStore with readOnly', () => {
  it('upgrades a file of an older version on a separate connection first, then opens it readonly', async () => {
    const file = join(await tempDir(), 'traces.db')
    const db = new Database(file)
    db.exec(MIGRATIONS[0] as string)
    db.exec(MIGRATIONS[1] as string)
    db.pragma('user_version = 2')
    db.close()

    const store = await openStore(file, { readOnly: true })
    try {
      expect(store.readOnly).toBe(true)
      expect(query<{ v: number }>(file, 'SELECT user_version AS v FROM pragma_user_version')).toEqual([{ v: MIGRATIONS.length }])
    } finally {
      await store.close()
    }
  })

  it('rejects a file it cannot upgrade with an error that says how', async () => {
    const file = join(await tempDir(), 'traces.db')
    const db = new Database(file)
    db.exec(MIGRATIONS[0] as string)
    db.exec(MIGRATIONS[1] as string)
    // a name migration 3 needs is taken: the upgrade fails (as on a file this user cannot write)
    db.exec('CREATE TABLE other (x); CREATE INDEX traces_project_started ON other (x)')
    db.pragma('user_version = 2')
    db.close()

    await expect(openStore(file, { readOnly: true })).rejects.toThrow(/schema version 2 .*Open it once for writing/)
  })

})
