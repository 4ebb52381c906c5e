// The store bench/ui.mjs measures the viewer on: N traces of ~9 KB (5 steps, ~1.6 KB of input and
// output each, so 100 000 traces make a ~1 GB file like the store measured in the design brief), spread over 10
// projects, 3 environments, 30 prompts, 5 models, one in 13 failed, one per second), one trace of
// 5 000 steps whose document is ~17 MB (each step ~3.5 KB of input and output), and one trace whose
// step input is a 10 MB string. Written with the SQLite sink's own writeSync in batches of 500 into a
// file under os.tmpdir() named by N and SEED_VERSION, kept for the next run: the bench reads it
// read-only, so a rerun starts in seconds. A second copy gets the text index (tracellm index --text).
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { sqliteSink } from '../dist/index.js'

/** Bump when the seeded documents change: the cached files of another version are not reused. */
export const SEED_VERSION = 4
export const BIG_STEPS = 5000
export const HUGE_BYTES = 10 * 1024 * 1024

const BASE = Date.UTC(2026, 10, 1)
export const hex = (n, width) => n.toString(16).padStart(width, '0')
export const at = (ms) => new Date(BASE + ms).toISOString()
const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(' ')

/** The ids of the special traces, after the N small ones. */
export function ids(traces) {
  return { big: hex(traces + 1, 32), huge: hex(traces + 2, 32), hugeStep: hex(0xbeef, 16) }
}

/** Text of about `length` characters, words varied by `seed`. */
function prose(seed, length) {
  let out = ''
  for (let i = 0; out.length < length; i++) out += WORDS[(seed * 7 + i * 13) % WORDS.length] + (i % 17 === 16 ? '. ' : ' ')
  return out.slice(0, length)
}

function step(i, parent, base, payload) {
  return {
    stepId: hex(i + 1, 16), parentStepId: parent, seq: i, name: 'tool_' + (i % 20), kind: i % 3 === 0 ? 'llm' : 'tool', status: i % 50 === 7 ? 'error' : 'success',
    startedAt: at(base + i), endedAt: at(base + i + 2), durationMs: 2, input: { query: 'question ' + i + ' ' + prose(i, payload), k: 5 }, output: ['result ' + i, prose(i + 1, payload)],
    error: i % 50 === 7 ? { type: 'Error', message: 'failed ' + i } : null, attempts: 1, retries: 0, attemptErrors: [], metadata: {},
    ...(i % 3 === 0 ? { model: 'gpt-4o', usage: { inputTokens: 10, outputTokens: 5 }, costUsd: 0.001 } : {}),
  }
}

function doc(n, steps, startMs) {
  return {
    schemaVersion: 1, traceId: hex(n + 1, 32), rootSpanId: hex(n + 1, 16), prompt: 'prompt_' + (n % 30), modelName: 'model_' + (n % 5), project: 'project_' + (n % 10),
    environment: ['dev', 'staging', 'prod'][n % 3], tags: ['t' + (n % 7), 't' + (n % 11)], metadata: { user: 'u' + (n % 100) },
    status: n % 13 === 0 ? 'error' : 'success', startedAt: at(startMs), endedAt: at(startMs + 50 + (n % 40)), durationMs: 50 + (n % 40),
    input: 'what is item ' + n + '? ' + prose(n, 250), output: { answer: 'answer ' + n }, error: n % 13 === 0 ? { type: 'Error', message: 'boom ' + (n % 17) } : null,
    retryCount: 0, usage: { inputTokens: 10, outputTokens: 5 }, steps, sdk: { name: 'tracellm', version: 'bench' },
  }
}

/** A small trace `n`, started `n` seconds after the base. */
export function smallTrace(n) {
  const base = n * 1000
  return doc(n, [0, 1, 2, 3, 4].map((i) => step(i, i === 0 ? null : hex(1, 16), base, 800)), base)
}

/** A trace started now, as a program would write it while the viewer is open (the live figure). */
export function liveTrace(n) {
  const started = Date.now() - BASE
  return { ...doc(n, [step(0, null, started, 60)], started), traceId: hex(0xfeed0000 + n, 32) }
}

function bigTrace(traces) {
  const base = traces * 1000 + 500
  const steps = []
  // a tree ten wide: step i hangs under step floor(i / 10)
  for (let i = 0; i < BIG_STEPS; i++) steps.push(step(i, i === 0 ? null : hex(Math.floor(i / 10) + 1, 16), base, 1700))
  return { ...doc(traces, steps, base), prompt: 'big_trace' }
}

function hugeTrace(traces) {
  const base = traces * 1000 + 700
  const huge = { ...step(1, null, base, 60), stepId: ids(traces).hugeStep, name: 'huge_input', input: prose(3, HUGE_BYTES) }
  return { ...doc(traces + 1, [step(0, null, base, 60), huge], base), prompt: 'huge_field' }
}

/**
 * The seeded file for `traces` (made when missing) and its indexed copy (made when `indexed` and
 * missing). Resolves `{ file, indexedFile, seededMs, indexMs }`; the times are undefined when the
 * files were already there.
 */
export async function seed(traces, { indexed = true, log = () => undefined } = {}) {
  const file = join(tmpdir(), `tracellm-bench-ui-v${SEED_VERSION}-${traces}.db`)
  const indexedFile = join(tmpdir(), `tracellm-bench-ui-v${SEED_VERSION}-${traces}-fts.db`)
  let seededMs
  let indexMs
  if (!existsSync(file)) {
    const partial = file + '.partial'
    for (const suffix of ['', '-wal', '-shm']) rmSync(partial + suffix, { force: true })
    log(`seeding ${traces} traces + a ${BIG_STEPS}-step trace + a 10 MB field into ${file} (once; kept for the next runs)`)
    const started = performance.now()
    const sink = sqliteSink({ path: partial })
    let batch = []
    for (let n = 0; n < traces; n++) {
      batch.push(smallTrace(n))
      if (batch.length === 500) {
        sink.writeSync(batch)
        batch = []
      }
      if (n > 0 && n % 20_000 === 0) log(`  ${n} traces, ${Math.round((performance.now() - started) / 1000)} s`)
    }
    sink.writeSync([...batch, bigTrace(traces)])
    sink.writeSync([hugeTrace(traces)])
    sink.close()
    seededMs = performance.now() - started
    // a file is used only once it is whole
    for (const suffix of ['-wal', '-shm']) if (existsSync(partial + suffix)) renameSync(partial + suffix, file + suffix)
    renameSync(partial, file)
  }
  if (indexed && !existsSync(indexedFile)) {
    const partial = indexedFile + '.partial'
    copyFileSync(file, partial)
    for (const suffix of ['-wal']) if (existsSync(file + suffix)) copyFileSync(file + suffix, partial + suffix)
    log('building the text index on a copy: tracellm index --text (once)')
    const started = performance.now()
    execFileSync(process.execPath, ['dist/cli/tracellm.js', '--db', partial, 'index', '--text'], { stdio: ['ignore', 'ignore', 'inherit'] })
    indexMs = performance.now() - started
    for (const suffix of ['-wal', '-shm']) if (existsSync(partial + suffix)) renameSync(partial + suffix, indexedFile + suffix)
    renameSync(partial, indexedFile)
    writeFileSync(indexedFile + '.info', JSON.stringify({ indexMs }))
  }
  return { file, indexedFile, seededMs, indexMs }
}
