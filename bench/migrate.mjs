// How long migrating an existing SQLite store to the current schema takes, and whether the program
// notices: a store of the first schema (version 1) is filled with N traces, then a `sqliteSink` makes
// its first write to it, which migrates the file on a worker thread. Reports the file size, the time
// until that first write resolved, and the event-loop delay meanwhile (monitorEventLoopDelay); then,
// for comparison, the same migrations run directly on the main thread (what they would block).
//
//   npm run build && node bench/migrate.mjs [--traces=20000] [--json]
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync, statSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { fromWire } from '../dist/index.js'
import { MIGRATIONS } from '../dist/stores/sqlite/migrations.js'
import { sqliteSink } from '../dist/stores/sqlite/sink.js'
import { openSqliteStore } from '../dist/stores/sqlite/store.js'
import { parseArgs } from './args.mjs'

const args = parseArgs(process.argv.slice(2), { parts: [], numbers: { traces: 20_000 }, usage: 'node bench/migrate.mjs [--traces=20000] [--json]' })
const dir = mkdtempSync(join(tmpdir(), 'tracellm-bench-migrate-'))

try {
  const file = join(dir, 'v1.db')
  fillVersion1(file, args.traces)
  const bytes = statSync(file).size
  const copy = join(dir, 'v1-copy.db')
  copyFileSync(file, copy)

  // the sink: the first write waits for the migration, which runs on a worker thread
  const delay = monitorEventLoopDelay({ resolution: 1 })
  const sink = sqliteSink({ path: file })
  delay.enable()
  const started = performance.now()
  await sink.write([fromWire(document(args.traces + 1))])
  const sinkMs = performance.now() - started
  delay.disable()
  sink.close()

  // the same migrations on the main thread, as a synchronous open would run them
  const before = performance.now()
  const db = new Database(copy)
  db.pragma('foreign_keys = ON')
  db.transaction(() => {
    for (let version = 1; version < MIGRATIONS.length; version++) db.exec(MIGRATIONS[version])
    db.pragma(`user_version = ${MIGRATIONS.length}`)
  }).immediate()
  db.close()
  const mainMs = performance.now() - before
  const store = await openSqliteStore(file)
  const count = await store.count()
  await store.close()

  const result = {
    traces: args.traces,
    fileMiB: Math.round(bytes / 1048576),
    sinkFirstWriteMs: Math.round(sinkMs),
    loopDelayMaxMs: Math.round(delay.max / 1e6),
    loopDelayP99Ms: Math.round(delay.percentile(99) / 1e6),
    mainThreadMigrationMs: Math.round(mainMs),
    tracesAfter: count,
  }
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`)
  else {
    process.stdout.write(`store of schema 1: ${result.traces} traces, ${result.fileMiB} MiB\n`)
    process.stdout.write(`sqliteSink first write (migrates on a worker thread): ${result.sinkFirstWriteMs} ms, event-loop delay p99 ${result.loopDelayP99Ms} ms, max ${result.loopDelayMaxMs} ms\n`)
    process.stdout.write(`the same migrations on the main thread: ${result.mainThreadMigrationMs} ms, which would block the loop that long\n`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}

/** A file as the first schema left it: `traces` rows of ~13 KiB documents with 5 steps each. */
function fillVersion1(file, count) {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.exec(MIGRATIONS[0])
  db.pragma('user_version = 1')
  const trace = db.prepare('INSERT INTO traces VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, 0, 5, 0, 0, 0, ?, ?)')
  const step = db.prepare('INSERT INTO steps VALUES (?, ?, NULL, ?, ?, ?, ?, ?, 1, 1, 0, NULL, NULL, NULL)')
  db.transaction(() => {
    for (let index = 0; index < count; index++) {
      const doc = document(index)
      trace.run(doc.trace_id, 'default', 'bench', 'answer', 'success', doc.started_at, doc.ended_at, 5, '[]', JSON.stringify(doc))
      for (const s of doc.steps) step.run(doc.trace_id, s.step_id, s.seq, s.name, 'tool', 'success', s.started_at)
    }
  })()
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
}

function document(index) {
  const at = new Date(Date.UTC(2026, 0, 1) + index * 1000).toISOString()
  const payload = 'x'.repeat(2000)
  const steps = Array.from({ length: 5 }, (_, k) => ({
    step_id: (index * 8 + k + 1).toString(16).padStart(16, '0'), parent_step_id: null, seq: k, name: `tool_${k}`, kind: 'tool', status: 'success',
    started_at: at, ended_at: at, duration_ms: 1, input: [payload], output: 'ok', error: null, attempts: 1, retries: 0, attempt_errors: [], metadata: {},
  }))
  return {
    schema_version: 1, trace_id: index.toString(16).padStart(32, '0'), prompt: 'answer', project: 'default', environment: 'bench', tags: [], metadata: {},
    status: 'success', started_at: at, ended_at: at, duration_ms: 5, error: null, retry_count: 0, usage: { input_tokens: 0, output_tokens: 0 }, steps,
    sdk: { name: 'tracellm', version: '0.1.0' },
  }
}
