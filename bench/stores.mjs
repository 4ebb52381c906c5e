// npm run bench:stores   (= npm run build && node bench/stores.mjs; npm run bench runs it after overhead.mjs)
//
// Store throughput: documents/s and steps/s that sqliteSink and postgresSink write, batched (100
// documents per write(), as the export queue sends them) and one write per trace, with the event-loop
// delay (p50/p99/max) during each run; then the real pipeline (configure + traced calls + flush()) with
// each store, against a no-op sink. See bench/README.md for how to read it.
//
// PostgreSQL: TRACELLM_BENCH_PG_URL if set (the bench creates and drops its own schemas there), else a
// throwaway cluster from the local binaries (bench/pg-cluster.mjs), stopped and removed at the end.
// When neither works, one line says why and only SQLite is reported.
//
// Flags: --json           print the results as JSON instead of tables
//        --rounds=N       timed rounds per run (default 3)
//        --scale=F        multiply the document counts (default 1; 0.1 for a smoke run)
//        --rate=N         traces/s of the paced pipeline runs (default 500)
//        --only=LIST      sqlite,postgres,pipeline (default all three)
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { configure, flush, memorySink, postgresSink, shutdown, sqliteSink, trace, traceTool } from '../dist/index.js'
import { startCluster, stopCluster } from './pg-cluster.mjs'
import { parseArgs } from './args.mjs'
import { median, round } from './numbers.mjs'

const PARTS = ['sqlite', 'postgres', 'pipeline']
const args = parseArgs(process.argv.slice(2), { parts: PARTS, numbers: { rounds: 3, scale: 1, rate: 500 }, usage: 'node bench/stores.mjs [--json] [--rounds=3] [--scale=1] [--rate=500] [--only=sqlite,postgres,pipeline]' })
const SCALE = args.scale
const ROUNDS = args.rounds
const BATCH = 100   // the export queue's default maxBatchSize
/** Documents per timed round (before --scale). Chosen so that a round takes ~0.5–2 s on a 2-core machine. */
const DOCS = {
  sqlite: { batched: 4000, perTrace: 2000 },
  postgres: { batched: 3000, perTrace: 800 },
}
/** Traces per pipeline round: 2000 as fast as possible; at --rate, 2 s worth (1000 at the default 500 traces/s). */
const PIPELINE_TRACES = { max: 2000, rateSeconds: 2 }
const PIPELINE_WORKERS = 8
const STEPS = 5
const QUESTION = 'How does reranking retrieved passages change the answers of a retrieval-augmented generation pipeline?'
const PASSAGE = 'Retrieval-augmented generation grounds a language model in passages fetched for each question; a reranker then orders them by relevance so that the best context comes first and the answer cites it. '

const started = performance.now()
const tmp = mkdtempSync(join(os.tmpdir(), 'tracellm-bench-stores-'))
let cluster
let pgSetup = { url: undefined, source: undefined, error: undefined }
const schemas = []
let interrupted = false
let cleaned

// stop the cluster and remove the files on Ctrl-C too (the cluster's watchdog covers a hard kill)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    interrupted = true
    cleanup().finally(() => process.exit(130))
  })
}

const results = {
  node: process.version,
  platform: `${os.platform()} ${os.arch()}`,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  date: new Date().toISOString(),
  rounds: ROUNDS,
  scale: SCALE,
  document: undefined,
  postgres: undefined,
  writes: [],
  pipeline: [],
  totalSeconds: 0,
}

try {
  const template = await buildTemplate()
  results.document = {
    steps: template.steps.length,
    storedBytes: Buffer.byteLength(JSON.stringify(template)),
  }

  if (args.only.has('postgres') || args.only.has('pipeline')) pgSetup = await setUpPostgres()
  results.postgres = pgSetup.url === undefined
    ? { available: false, reason: pgSetup.error ?? 'not requested (--only)' }
    : { available: true, source: pgSetup.source }
  if (pgSetup.url === undefined && (args.only.has('postgres') || args.only.has('pipeline'))) {
    process.stderr.write(`bench: PostgreSQL unavailable, reporting SQLite only: ${firstLine(pgSetup.error)}\n`)
  }

  if (args.only.has('sqlite')) {
    for (const mode of ['batched', 'perTrace']) {
      const sink = sqliteSink({ path: join(tmp, `writes-${mode}.db`) })
      results.writes.push(await measureWrites('sqlite', mode, sink, template))
      sink.close()
    }
  }
  if (args.only.has('postgres') && pgSetup.url !== undefined) {
    for (const mode of ['batched', 'perTrace']) {
      const sink = postgresSink({ connectionString: pgSetup.url, schema: schemaName(`writes_${mode}`) })
      results.writes.push(await measureWrites('postgres', mode, sink, template))
      await sink.close()
    }
  }
  if (args.only.has('pipeline')) {
    for (const load of [{ kind: 'max' }, { kind: 'rate', rate: args.rate }]) {
      const tag = load.kind === 'max' ? 'max' : `rate${load.rate}`
      results.pipeline.push(await measurePipeline('none (no-op sink)', load, () => ({ name: 'null', write: () => {} })))
      results.pipeline.push(await measurePipeline('sqlite', load, () => sqliteSink({ path: join(tmp, `pipeline-${tag}.db`) })))
      if (pgSetup.url !== undefined) {
        results.pipeline.push(await measurePipeline('postgres', load, () => postgresSink({ connectionString: pgSetup.url, schema: schemaName(`pipeline_${tag}`) })))
      }
    }
  }
} finally {
  await cleanup()
}

results.totalSeconds = round((performance.now() - started) / 1000, 1)
if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
else printTables(results)

// --- the documents ---

/**
 * One realistic document, made by tracellm itself: a root trace and 5 tool steps (embed, retrieve,
 * rerank, generate, moderate), each taking and returning ~1 KiB, captured and redacted with the
 * defaults into a memory sink.
 */
async function buildTemplate() {
  const sink = memorySink({ limit: 10 })
  configure({ sinks: [sink] })
  const request = buildRequest(async () => {})
  await request(QUESTION)
  await flush()
  const doc = sink.traces[0]
  if (doc === undefined || doc.steps.length !== STEPS) throw new Error('bench: the template trace was not recorded')
  configure({ sinks: [{ name: 'null', write: () => {} }] })
  return doc
}

function text(length, seed) {
  return (seed + ' ' + PASSAGE.repeat(Math.ceil(length / PASSAGE.length))).slice(0, length)
}

/** About 1 KiB as JSON. */
function passages(count, seed) {
  return Array.from({ length: count }, (_, index) => ({ id: `${seed}-${index}`, score: 1 / (index + 2), text: text(Math.floor(900 / count), `${seed} ${index}`) }))
}

/** The traced request: 5 tools with ~1 KiB in and out; `io` is awaited in `retrieve` (the simulated network call). */
function buildRequest(io) {
  const embed = traceTool({ name: 'embed', kind: 'embedding', model: 'fake-embed-1' })(async (question) => ({ question, vector: Array.from({ length: 64 }, (_, i) => Math.round(Math.sin(i) * 1e4) / 1e4) }))
  const retrieve = traceTool({ name: 'retrieve', kind: 'retriever' })(async (query) => {
    await io()
    return passages(4, 'doc')
  })
  const rerank = traceTool({ name: 'rerank', kind: 'reranker' })(async (question, docs) => docs.slice(0, 3).map((doc) => ({ ...doc, score: doc.score * 2 })))
  const generate = traceTool({ name: 'generate', kind: 'llm', model: 'fake-llm-1' })(async (question, docs) => ({ text: text(900, 'answer'), sources: docs.map((doc) => doc.id) }))
  const moderate = traceTool({ name: 'moderate', kind: 'guardrail' })(async (answer) => ({ flagged: false, categories: {}, checked: answer.text }))
  return trace({ prompt: 'bench_store', modelName: 'fake-llm-1', tags: ['bench'] })(async (question) => {
    const query = await embed(question)
    const docs = await retrieve(query)
    const top = await rerank(question, docs)
    const answer = await generate(question, top)
    await moderate(answer)
    return answer
  })
}

/** `count` copies of the template with fresh 32-hex trace ids, 16-hex step ids and start times. */
function copies(template, count) {
  const base = Date.now()
  const ids = randomBytes(count * (16 + 8 * template.steps.length)).toString('hex')
  let at = 0
  const take = (length) => ids.slice(at, (at += length))
  const out = new Array(count)
  for (let index = 0; index < count; index++) {
    const traceId = take(32)
    const stepIds = new Map(template.steps.map((step) => [step.stepId, take(16)]))
    const shift = base + index - Date.parse(template.startedAt)
    const moved = (iso) => new Date(Date.parse(iso) + shift).toISOString()
    out[index] = {
      ...template,
      traceId,
      startedAt: moved(template.startedAt),
      endedAt: moved(template.endedAt),
      steps: template.steps.map((step) => ({
        ...step,
        stepId: stepIds.get(step.stepId),
        parentStepId: step.parentStepId === null ? null : stepIds.get(step.parentStepId),
        startedAt: moved(step.startedAt),
        endedAt: moved(step.endedAt),
      })),
    }
  }
  return out
}

// --- direct writes: batched vs one write per trace ---

/**
 * Calls `sink.write` directly: `batched` with slices of 100 documents, `perTrace` with `[doc]`. One
 * macrotask turn (setImmediate) after every write, in both modes: traces end in separate turns, and
 * it keeps what the delay monitor sees down to the sink's own synchronous stretches.
 */
async function measureWrites(store, mode, sink, template) {
  const count = Math.max(BATCH, Math.round(DOCS[store][mode] * SCALE))
  const size = mode === 'batched' ? BATCH : 1
  await sink.write(copies(template, size))   // connects / opens, migrates, warms up
  const rounds = []
  for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
    const docs = copies(template, count)
    await yieldToLoop()
    const histogram = monitorEventLoopDelay({ resolution: 1 })
    histogram.enable()
    const start = performance.now()
    for (let index = 0; index < docs.length; index += size) {
      await sink.write(size === 1 ? [docs[index]] : docs.slice(index, index + size))
      await yieldToLoop()
    }
    const ms = performance.now() - start
    histogram.disable()
    rounds.push({ docsPerSecond: (count * 1000) / ms, ...delays(histogram) })
  }
  return {
    store,
    mode,
    documentsPerWrite: size,
    documents: count,
    stepsPerDocument: template.steps.length,
    ...summarize(rounds, template.steps.length),
  }
}

// --- the real pipeline ---

/**
 * `configure({ sinks: [sink] })`, then traced requests (each awaits one 1 ms timer in `retrieve`, the
 * simulated network call), then `flush()`; the delay monitor runs from the first call to the end of
 * the flush. Load `max`: 8 workers, each starting its next request when the last one returns, as fast
 * as the process goes. Load `rate`: requests started on a 1 ms timer at a fixed rate (open loop, so
 * a stalled loop gets the missed arrivals in a burst). The sink is wrapped to count what it was given,
 * so what the queue dropped (overflow) shows.
 */
async function measurePipeline(label, load, makeSink) {
  const traces = Math.max(PIPELINE_WORKERS * 10, Math.round((load.kind === 'max' ? PIPELINE_TRACES.max : PIPELINE_TRACES.rateSeconds * load.rate) * SCALE))
  const rounds = []
  const request = buildRequest(() => new Promise((resolve) => setTimeout(resolve, 1)))
  const sink = makeSink()
  let written = 0
  const counted = {
    name: sink.name,
    write: (batch) => {
      written += batch.length
      return sink.write(batch)
    },
    ...(sink.writeSync === undefined ? {} : { writeSync: (batch) => sink.writeSync(batch) }),
    close: () => sink.close?.(),
  }
  configure({ sinks: [counted] })
  for (let i = 0; i < 50; i++) await request(QUESTION)   // warm-up, and opens / migrates the store
  await flush(60_000)
  for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
    written = 0
    await yieldToLoop()
    const histogram = monitorEventLoopDelay({ resolution: 1 })
    histogram.enable()
    const start = performance.now()
    if (load.kind === 'max') await closedLoop(request, traces)
    else await openLoop(request, traces, load.rate)
    const callsMs = performance.now() - start
    const report = await flush(60_000)
    const ms = performance.now() - start
    histogram.disable()
    rounds.push({ tracesPerSecond: (traces * 1000) / callsMs, docsPerSecond: (written * 1000) / ms, written, dropped: traces - written, timedOut: report.timedOut, ...delays(histogram) })
  }
  await shutdown(60_000)
  return {
    sink: label,
    load: load.kind === 'max' ? `max, ${PIPELINE_WORKERS} workers` : `${load.rate} traces/s`,
    traces,
    tracesPerSecond: round(median(rounds.map((r) => r.tracesPerSecond))),
    docsPerSecond: round(median(rounds.map((r) => r.docsPerSecond))),
    dropped: rounds.reduce((sum, r) => sum + r.dropped, 0),
    timedOut: rounds.some((r) => r.timedOut),
    p50Ms: round(median(rounds.map((r) => r.p50)), 2),
    p99Ms: round(median(rounds.map((r) => r.p99)), 2),
    maxMs: round(Math.max(...rounds.map((r) => r.max)), 2),
    rounds: rounds.map((r) => ({ tracesPerSecond: round(r.tracesPerSecond), docsPerSecond: round(r.docsPerSecond), written: r.written, dropped: r.dropped, p99Ms: round(r.p99, 2), maxMs: round(r.max, 2) })),
  }
}

async function closedLoop(request, traces) {
  let next = 0
  const worker = async () => {
    while (next < traces) {
      next++
      await request(QUESTION)
    }
  }
  await Promise.all(Array.from({ length: PIPELINE_WORKERS }, worker))
}

async function openLoop(request, traces, rate) {
  const start = performance.now()
  const running = []
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(traces, Math.floor(((performance.now() - start) * rate) / 1000) + 1)
      while (running.length < due) running.push(request(QUESTION))
      if (running.length < traces) setTimeout(tick, 1)
      else resolve()
    }
    tick()
  })
  await Promise.all(running)
}

// --- PostgreSQL server ---

async function setUpPostgres() {
  const given = process.env.TRACELLM_BENCH_PG_URL
  if (given) return { url: given, source: 'TRACELLM_BENCH_PG_URL', error: undefined }
  try {
    cluster = await startCluster({ prefix: 'tracellm-bench-pg-' })
    return { url: cluster.url, source: 'throwaway cluster (' + cluster.bin + ')', error: undefined }
  } catch (error) {
    return { url: undefined, source: undefined, error: 'could not start a throwaway cluster (set TRACELLM_BENCH_PG_URL to use a running server): ' + (error instanceof Error ? error.message : String(error)) }
  }
}

/** A schema of this run's own, dropped at the end (it matters on a server given by TRACELLM_BENCH_PG_URL). */
function schemaName(part) {
  const name = `tracellm_bench_${process.pid}_${part}`.toLowerCase()
  schemas.push(name)
  return name
}

function cleanup() {
  cleaned ??= (async () => {
    if (results.document !== undefined) await shutdown(5000).catch(() => undefined)
    if (pgSetup.url !== undefined && cluster === undefined && schemas.length > 0) {
      try {
        const { default: pg } = await import('pg')
        const client = new pg.Client({ connectionString: pgSetup.url })
        await client.connect()
        for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`)
        await client.end()
      } catch (error) {
        process.stderr.write(`bench: could not drop the bench schemas (${schemas.join(', ')}): ${error instanceof Error ? error.message : String(error)}\n`)
      }
    }
    if (cluster !== undefined) await stopCluster(cluster)
    rmSync(tmp, { recursive: true, force: true })
    if (interrupted) process.stderr.write('bench: interrupted; cleaned up\n')
  })()
  return cleaned
}

// --- helpers ---

function delays(histogram) {
  return { p50: histogram.percentile(50) / 1e6, p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 }
}

function summarize(rounds, steps) {
  const docs = median(rounds.map((r) => r.docsPerSecond))
  return {
    docsPerSecond: round(docs),
    stepsPerSecond: round(docs * steps),
    p50Ms: round(median(rounds.map((r) => r.p50)), 2),
    p99Ms: round(median(rounds.map((r) => r.p99)), 2),
    maxMs: round(Math.max(...rounds.map((r) => r.max)), 2),
    rounds: rounds.map((r) => ({ docsPerSecond: round(r.docsPerSecond), p50Ms: round(r.p50, 2), p99Ms: round(r.p99, 2), maxMs: round(r.max, 2) })),
  }
}

function yieldToLoop() {
  return new Promise((resolve) => setImmediate(resolve))
}

function firstLine(text) {
  return String(text ?? '').split('\n')[0]
}

function printTables(r) {
  const out = []
  out.push(`tracellm store bench — node ${r.node}, ${r.platform}, ${r.cpus} × ${r.cpuModel}`)
  if (r.document !== undefined) {
    out.push(`documents: ${r.document.steps} steps each, ~1 KiB captured in and out per step, ${(r.document.storedBytes / 1024).toFixed(1)} KiB as JSON; median of ${r.rounds} round${r.rounds === 1 ? '' : 's'}`)
  }
  out.push(r.postgres?.available ? `PostgreSQL: ${r.postgres.source}` : `PostgreSQL: not measured: ${firstLine(r.postgres?.reason ?? 'not requested')}`)
  if (r.writes.length > 0) {
    out.push('', table(
      ['direct sink writes', 'docs/write', 'docs', 'docs/s', 'steps/s', 'loop delay p50/p99/max ms', 'docs/s per round'],
      r.writes.map((w) => [
        `${w.store}, ${w.mode === 'batched' ? 'batched' : 'one write per trace'}`,
        w.documentsPerWrite,
        w.documents,
        w.docsPerSecond,
        w.stepsPerSecond,
        `${w.p50Ms} / ${w.p99Ms} / ${w.maxMs}`,
        w.rounds.map((x) => x.docsPerSecond).join(', '),
      ]),
    ))
  }
  if (r.pipeline.length > 0) {
    out.push('', table(
      ['pipeline: configure + traced calls + flush()', 'load', 'traces', 'traces/s', 'written docs/s', 'dropped', 'loop delay p50/p99/max ms', 'p99 ≤ 10 ms'],
      r.pipeline.map((p) => [
        p.sink,
        p.load,
        p.traces,
        p.tracesPerSecond,
        p.docsPerSecond,
        p.dropped + (p.timedOut ? ' (flush timed out)' : ''),
        `${p.p50Ms} / ${p.p99Ms} / ${p.maxMs}`,
        p.p99Ms <= 10 ? 'yes' : 'NO',
      ]),
    ))
  }
  out.push('', `total ${r.totalSeconds} s`)
  process.stdout.write(`${out.join('\n')}\n`)
}

function table(head, rows) {
  const cells = [head, ...rows.map((row) => row.map(String))]
  const widths = head.map((_, column) => Math.max(...cells.map((row) => row[column].length)))
  const line = (row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ')
  return [line(head), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map((row) => line(row.map(String)))].join('\n')
}
