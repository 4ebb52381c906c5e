// node bench/store-viewer.mjs [--scale=1]   (after npm run build)
//
// What the viewer asks of a store (docs/stores.md): 20 000 traces (× --scale) plus one trace of 5 000
// steps, then the median time of: the skeleton of the 5 000-step trace (`steps()`) and its JSON size,
// one step (`step()`) and one field of it (`stepField()`), a list page per indexed filter with `since`,
// every facet with a filter, `dataVersion()`, and a text search without and with the text index
// (with the event loop's longest stall during the unindexed scan). SQLite, then PostgreSQL (a
// throwaway cluster from the local binaries, or TRACELLM_BENCH_PG_URL); one line says why when it
// cannot run.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { openStore, postgresSink, sqliteSink } from '../dist/index.js'
import { openPostgresStore } from '../dist/stores/postgres/store.js'
import { createTextIndex } from '../dist/stores/open-store.js'
import { startCluster, stopCluster } from './pg-cluster.mjs'

const scale = Number((process.argv.find((arg) => arg.startsWith('--scale=')) ?? '--scale=1').slice(8))
const TRACES = Math.round(20_000 * scale)
const BIG_STEPS = 5000
const ROUNDS = 7

const hex = (n, width) => n.toString(16).padStart(width, '0')
const at = (ms) => new Date(Date.UTC(2026, 10, 1) + ms).toISOString()

function step(i, parent) {
  return {
    stepId: hex(i + 1, 16), parentStepId: parent, seq: i, name: 'tool_' + (i % 20), kind: i % 3 === 0 ? 'llm' : 'tool', status: i % 50 === 0 ? 'error' : 'success',
    startedAt: at(i), endedAt: at(i + 2), durationMs: 2, input: { query: 'question ' + i, k: 5 }, output: ['result ' + i, 'x'.repeat(200)],
    error: i % 50 === 0 ? { type: 'Error', message: 'failed ' + i } : null, attempts: 1, retries: 0, attemptErrors: [], metadata: {},
    ...(i % 3 === 0 ? { model: 'gpt-4o', usage: { inputTokens: 10, outputTokens: 5 }, costUsd: 0.001 } : {}),
  }
}

function doc(n, steps) {
  return {
    schemaVersion: 1, traceId: hex(n + 1, 32), rootSpanId: hex(n + 1, 16), prompt: 'prompt_' + (n % 30), modelName: 'model_' + (n % 5), project: 'project_' + (n % 10),
    environment: ['dev', 'staging', 'prod'][n % 3], tags: ['t' + (n % 7), 't' + (n % 11)], metadata: { user: 'u' + (n % 100) },
    status: n % 13 === 0 ? 'error' : 'success', startedAt: at(n * 1000), endedAt: at(n * 1000 + 50), durationMs: 50,
    input: 'what is item ' + n + '? ' + 'lorem ipsum dolor sit amet '.repeat(10), output: { answer: 'answer ' + n }, error: n % 13 === 0 ? { type: 'Error', message: 'boom' } : null,
    retryCount: 0, usage: { inputTokens: 10, outputTokens: 5 }, steps, sdk: { name: 'tracellm', version: 'bench' },
  }
}

const documents = () => {
  const out = []
  for (let n = 0; n < TRACES; n++) out.push(doc(n, [step(0, null), step(1, hex(1, 16)), step(2, hex(1, 16))]))
  const bigSteps = []
  for (let i = 0; i < BIG_STEPS; i++) bigSteps.push(step(i, i === 0 ? null : hex(Math.floor(i / 10) + 1, 16)))
  out.push(doc(TRACES + 1, bigSteps))
  return out
}

async function time(fn) {
  const times = []
  let result
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now()
    result = await fn()
    times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  return { ms: Math.round(times[Math.floor(times.length / 2)] * 10) / 10, result }
}

async function measure(label, store) {
  const big = hex(TRACES + 2, 32)
  const rows = []
  const add = (what, ms, extra = '') => rows.push([what, ms, extra])
  const skeleton = await time(() => store.steps(big))
  add('steps() of 5 000 steps', skeleton.ms, (JSON.stringify(skeleton.result).length / 1024).toFixed(0) + ' KiB as JSON')
  add('step() in the 5 000-step trace', (await time(() => store.step(big, hex(4000, 16)))).ms)
  add('stepField(output)', (await time(() => store.stepField(big, hex(4000, 16), 'output'))).ms)
  const since = at(TRACES * 1000 / 2)
  for (const filter of [{ project: 'project_3' }, { environment: 'prod' }, { prompt: 'prompt_7' }, { modelName: 'model_2' }, { status: 'error' }]) {
    add('list ' + Object.keys(filter)[0] + ' + since', (await time(() => store.list({ ...filter, since }))).ms)
  }
  for (const field of ['project', 'environment', 'prompt', 'modelName', 'status', 'tags']) {
    add('facets(' + field + ', since)', (await time(() => store.facets(field, { since, environment: 'prod' }))).ms)
  }
  add('dataVersion()', (await time(() => store.dataVersion())).ms)
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  const scan = await time(() => store.list({ text: 'item 1234?' }))
  histogram.disable()
  add('list text, no index', scan.ms, 'event loop max stall ' + (histogram.max / 1e6).toFixed(1) + ' ms')
  const started = performance.now()
  await createTextIndex(store)
  add('tracellm index --text', Math.round(performance.now() - started))
  add('list text, with index', (await time(() => store.list({ text: 'item 1234?' }))).ms)
  console.log('\n' + label + ' (' + TRACES + ' traces + one of ' + BIG_STEPS + ' steps), median of ' + ROUNDS + ' (ms)')
  for (const [what, ms, extra] of rows) console.log('  ' + what.padEnd(34) + String(ms).padStart(8) + '  ' + extra)
}

const docs = documents()
const dir = mkdtempSync(join(tmpdir(), 'tracellm-viewer-'))
try {
  const file = join(dir, 'traces.db')
  const sink = sqliteSink({ path: file })
  for (let index = 0; index < docs.length; index += 500) sink.writeSync(docs.slice(index, index + 500))
  sink.close()
  const store = await openStore(file)
  await measure('SQLite', store)
  await store.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}

let cluster
try {
  const url = process.env.TRACELLM_BENCH_PG_URL ?? (cluster = await startCluster({ prefix: 'tracellm-viewer-pg-' })).url
  const schema = 'viewer_' + randomBytes(4).toString('hex')
  const sink = postgresSink({ connectionString: url, schema })
  for (let index = 0; index < docs.length; index += 500) await sink.write(docs.slice(index, index + 500))
  await sink.close()
  const store = await openPostgresStore(url, { schema })
  await measure('PostgreSQL', store)
  await store.close()
} catch (error) {
  console.log('\nPostgreSQL: not measured: ' + (error instanceof Error ? error.message.split('\n')[0] : String(error)))
} finally {
  if (cluster !== undefined) await stopCluster(cluster)
}
