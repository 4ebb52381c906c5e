// node bench/sqlite-lock.mjs   (after npm run build; npm run bench runs it after stores.mjs)
//
// A held SQLite write lock and the event loop (docs/reliability.md#sqlite-a-held-lock-never-freezes-the-event-loop).
// Three ways to write the same documents, each measured twice:
//
//   blocking   what tracellm 0.1 did: the write waits for the lock inside SQLite's busy handler
//              (busy_timeout 5000) on the event loop. A prototype in this file.
//   probe      design (a), what sqliteSink does now: tries of at most 4 ms (busy_timeout 4), and
//              between them sleeps on a timer, up to busyTimeoutMs in total. The real sink from dist/.
//   worker     design (b): the main thread turns documents into rows and posts them to a writer
//              thread that waits for the lock with busy_timeout 5000. A prototype in this file.
//
// healthy: 4 000 documents written directly (batches of 100, a macrotask turn between writes):
//          documents/s, event-loop delay p50/p99/max, main-thread event-loop utilization (ELU).
// locked:  another process holds BEGIN IMMEDIATE for --hold ms (default 5000) while traced calls
//          run through configure() and the export queue (20 traces every 100 ms); event-loop delay
//          during the hold, then how long after the release flush() took, and traces stored.
//
// Flags: --json  --hold=MS (default 5000)  --scale=F (healthy document count, default 1)
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { configure, flush, memorySink, sqliteSink, trace, traceTool } from '../dist/index.js'
import { toStepRows, toStoredJson, toTraceRow } from '../dist/document/rows.js'
import { parseArgs } from './args.mjs'
import { round } from './numbers.mjs'

const args = parseArgs(process.argv.slice(2), { parts: ['healthy', 'locked'], numbers: { hold: 5000, scale: 1 }, usage: 'node bench/sqlite-lock.mjs [--json] [--hold=5000] [--scale=1] [--only=healthy,locked]' })
const require = createRequire(import.meta.url)
const Database = require('better-sqlite3')
const HOLDER = fileURLToPath(new URL('../tests/fixtures/sqlite-lock-holder.mjs', import.meta.url))
const tmp = mkdtempSync(join(os.tmpdir(), 'tracellm-bench-lock-'))
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }))

const TRACE_SQL =
  'INSERT INTO traces (trace_id, root_span_id, parent_step_id, replay_of, project, environment, prompt, model_name, status, started_at, ended_at, ' +
  'duration_ms, retry_count, step_count, error_count, input_tokens, output_tokens, cost_usd, tags, document) ' +
  'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (trace_id, root_span_id) DO NOTHING'
const STEP_SQL =
  'INSERT INTO steps (trace_id, root_span_id, step_id, parent_step_id, seq, name, kind, status, started_at, duration_ms, attempts, retries, model, input_tokens, output_tokens) ' +
  'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (trace_id, root_span_id, step_id) DO NOTHING'

function toParams(doc) {
  const r = toTraceRow(doc)
  const trace = [r.traceId, r.rootSpanId, r.parentStepId, r.replayOf, r.project, r.environment, r.prompt, r.modelName, r.status, r.startedAt, r.endedAt,
    r.durationMs, r.retryCount, r.stepCount, r.errorCount, r.inputTokens, r.outputTokens, r.costUsd, JSON.stringify(r.tags), toStoredJson(doc)]
  const steps = toStepRows(doc).map((s) => [s.traceId, s.rootSpanId, s.stepId, s.parentStepId, s.seq, s.name, s.kind, s.status, s.startedAt,
    s.durationMs, s.attempts, s.retries, s.model, s.inputTokens, s.outputTokens])
  return [trace, steps]
}

/** The 0.1 behaviour: one connection on the event loop that waits for the lock in busy_timeout. */
function blockingSink(file) {
  const db = new Database(file, { fileMustExist: true })
  db.pragma('busy_timeout = 5000')
  db.pragma('synchronous = NORMAL')
  const insertTrace = db.prepare(TRACE_SQL)
  const insertStep = db.prepare(STEP_SQL)
  const write = db.transaction((batch) => {
    for (const doc of batch) {
      const [t, steps] = toParams(doc)
      if (insertTrace.run(...t).changes === 0) continue
      for (const s of steps) insertStep.run(...s)
    }
  })
  return { name: 'blocking', write: async (batch) => write(batch), close: () => db.close() }
}

const WRITER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.file, { fileMustExist: true })
db.pragma('busy_timeout = 5000')
db.pragma('synchronous = NORMAL')
const insertTrace = db.prepare(workerData.traceSql)
const insertStep = db.prepare(workerData.stepSql)
const write = db.transaction((rows) => {
  for (const [t, steps] of rows) {
    if (insertTrace.run(...t).changes === 0) continue
    for (const s of steps) insertStep.run(...s)
  }
})
parentPort.on('message', (message) => {
  if (message === 'stop') { db.close(); process.exit(0) }
  try { write.immediate(message.rows); parentPort.postMessage({ id: message.id }) }
  catch (error) { parentPort.postMessage({ id: message.id, error: error.message, code: error.code }) }
})
`

/** Design (b): rows made on the main thread, written by a thread that may block in busy_timeout. */
function workerSink(file) {
  const worker = new Worker(WRITER, { eval: true, workerData: { file, driver: require.resolve('better-sqlite3'), traceSql: TRACE_SQL, stepSql: STEP_SQL } })
  const waiting = new Map()
  let next = 0
  worker.on('message', ({ id, error, code }) => {
    const settle = waiting.get(id)
    waiting.delete(id)
    if (waiting.size === 0) worker.unref()
    settle?.(error === undefined ? undefined : Object.assign(new Error(error), { code }))
  })
  worker.unref()
  return {
    name: 'worker',
    write: (batch) => new Promise((resolve, reject) => {
      const id = next++
      waiting.set(id, (error) => (error === undefined ? resolve() : reject(error)))
      worker.ref()
      worker.postMessage({ id, rows: batch.map(toParams) })
    }),
    close: () => worker.postMessage('stop'),
  }
}

const DESIGNS = {
  blocking: blockingSink,
  probe: (file) => sqliteSink({ path: file }),
  worker: workerSink,
}

// --- documents ---

async function template() {
  const sink = memorySink({ limit: 10 })
  configure({ sinks: [sink] })
  const passage = 'Retrieval-augmented generation grounds a model in passages fetched for each question. '.repeat(10)
  const retrieve = traceTool({ name: 'retrieve', kind: 'retriever' })(async (q) => [{ id: 'a', text: passage }, { id: 'b', text: passage }])
  const generate = traceTool({ name: 'generate', kind: 'llm', model: 'fake-llm-1' })(async (q, docs) => ({ text: passage, sources: docs.map((d) => d.id) }))
  await trace({ prompt: 'bench_lock' })(async (q) => generate(q, await retrieve(q)))('What does reranking change?')
  await flush()
  configure({ sinks: [] })
  return sink.traces[0]
}

function copies(doc, count) {
  return Array.from({ length: count }, () => {
    const ids = new Map(doc.steps.map((step) => [step.stepId, randomHex(16)]))
    return { ...doc, traceId: randomHex(32), steps: doc.steps.map((s) => ({ ...s, stepId: ids.get(s.stepId), parentStepId: s.parentStepId === null ? null : ids.get(s.parentStepId) })) }
  })
}

function randomHex(length) {
  let out = ''
  while (out.length < length) out += Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, '0')
  return out.slice(0, length)
}

/** A file with the current schema, made by the real sink. */
async function newStore(name, doc) {
  const file = join(tmp, `${name}.db`)
  const sink = sqliteSink({ path: file })
  await sink.write(copies(doc, 1))
  sink.close()
  return file
}

function count(file) {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare('SELECT count(*) AS n FROM traces').get().n - 1
  } finally {
    db.close()
  }
}

// --- measurements ---

async function healthy(name, doc) {
  const file = await newStore(`healthy-${name}`, doc)
  const sink = DESIGNS[name](file)
  const docs = copies(doc, Math.max(100, Math.round(4000 * args.scale)))
  await sink.write(copies(doc, 100))
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  await sleep(10)
  const elu = performance.eventLoopUtilization()
  const start = performance.now()
  for (let index = 0; index < docs.length; index += 100) {
    await sink.write(docs.slice(index, index + 100))
    await new Promise((resolve) => setImmediate(resolve))
  }
  const ms = performance.now() - start
  const used = performance.eventLoopUtilization(elu)
  histogram.disable()
  await sink.close()
  return { design: name, documents: docs.length, docsPerSecond: round((docs.length * 1000) / ms), ...delays(histogram), mainThreadElu: round(used.utilization, 2) }
}

async function locked(name, doc) {
  const file = await newStore(`locked-${name}`, doc)
  const sink = DESIGNS[name](file)
  await sink.write(copies(doc, 1))
  const holder = await holdLock(file, args.hold)
  configure({ sinks: [sink], queue: { maxBatchSize: 20 } })
  const run = trace({ prompt: 'bench_lock' })(async (n) => n)
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  await sleep(10)
  let traces = 0
  let releasedAt
  void holder.released.then(() => { releasedAt = performance.now() })
  while (releasedAt === undefined) {
    for (let n = 0; n < 20; n++, traces++) void run(n)
    await sleep(100)
  }
  histogram.disable()
  const report = await flush(60_000)
  const catchUpMs = performance.now() - releasedAt
  configure({ sinks: [] })
  await sink.close()
  return { design: name, holdMs: args.hold, traces, stored: count(file) - 1, dropped: report.dropped, catchUpMs: round(catchUpMs), ...delays(histogram) }
}

function holdLock(file, holdMs) {
  const child = spawn(process.execPath, [HOLDER], { env: { ...process.env, DB_FILE: file, HOLD_MS: String(holdMs) }, stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  let onLine = () => {}
  child.stdout.on('data', (chunk) => {
    out += chunk
    onLine()
  })
  const seen = (line) => new Promise((resolve) => {
    const check = () => out.includes(line + '\n') && resolve()
    const previous = onLine
    onLine = () => { previous(); check() }
    check()
  })
  return seen('locked').then(() => ({ released: seen('released') }))
}

function delays(histogram) {
  return { p50Ms: round(histogram.percentile(50) / 1e6, 2), p99Ms: round(histogram.percentile(99) / 1e6, 2), maxMs: round(histogram.max / 1e6, 2) }
}

// --- run ---

const doc = await template()
const results = { node: process.version, cpus: os.cpus().length, healthy: [], locked: [] }
for (const name of Object.keys(DESIGNS)) {
  if (args.only.has('healthy')) results.healthy.push(await healthy(name, doc))
  if (args.only.has('locked')) results.locked.push(await locked(name, doc))
}

if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
else {
  const lines = [`tracellm SQLite lock bench — node ${results.node}, ${results.cpus} CPUs; designs: blocking (0.1), probe (a, sqliteSink), worker (b, prototype)`]
  if (results.healthy.length > 0) {
    lines.push('', 'healthy: direct writes of 100 documents        docs/s   loop delay p50 / p99 / max ms   main-thread ELU')
    for (const r of results.healthy) lines.push(`  ${r.design.padEnd(44)} ${String(r.docsPerSecond).padStart(7)}   ${`${r.p50Ms} / ${r.p99Ms} / ${r.maxMs}`.padStart(27)}   ${r.mainThreadElu}`)
  }
  if (results.locked.length > 0) {
    lines.push('', `locked: another process holds the lock ${args.hold} ms   loop delay p50 / p99 / max ms   stored/traced   dropped   flush after release ms`)
    for (const r of results.locked) lines.push(`  ${r.design.padEnd(44)} ${`${r.p50Ms} / ${r.p99Ms} / ${r.maxMs}`.padStart(27)}   ${`${r.stored}/${r.traces}`.padStart(13)}   ${String(r.dropped).padStart(7)}   ${r.catchUpMs}`)
  }
  process.stdout.write(`${lines.join('\n')}\n`)
}
