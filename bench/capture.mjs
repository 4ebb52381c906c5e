// node --expose-gc bench/capture.mjs   (after npm run build; part of npm run bench)
//
// Hostile values against the capture budgets (docs/reliability.md#capture-budgets): the time and
// memory one capture costs for a value far beyond its budget, and how a wrapper behaves for the
// calls that used to break it. Each case runs in a child process of its own, so a heap figure is
// not disturbed by the previous case and a case that never ends is stopped (after --timeout=S).
//
// Flags: --json          print the results as JSON instead of a table
//        --rounds=N      timed runs per case; the table shows the median (default 5)
//        --timeout=S     seconds a case may take before it is reported as "did not finish" (default 60)
//        --dist=DIR      measure another build of tracellm (default dist/ of this checkout), e.g. a
//                        build of an older commit, to compare before and after
//        --case=NAME     (internal) run one case in this process and print its result as JSON
import { spawn } from 'node:child_process'
import os from 'node:os'
import { dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from './args.mjs'
import { median, round } from './numbers.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const CASES = ['keys-1e5', 'keys-1e6', 'rope-100mb', 'flat-100mb', 'flat-10mb-prefix', 'sparse-1e9', 'args-80k', 'getter-recursion', 'spread-80k', 'thenable-then-throws']

const passed = process.argv.slice(2)
const distArg = passed.find((arg) => arg.startsWith('--dist='))
const caseArg = passed.find((arg) => arg.startsWith('--case='))
const args = parseArgs(passed.filter((arg) => arg !== distArg && arg !== caseArg), {
  parts: CASES,
  numbers: { rounds: 5, timeout: 60 },
  usage: 'node --expose-gc bench/capture.mjs [--json] [--rounds=5] [--timeout=60] [--dist=DIR] [--only=CASES]',
})
const dist = resolve(distArg === undefined ? resolve(HERE, '..', 'dist') : distArg.slice(7))

if (caseArg !== undefined) {
  const result = await runCase(caseArg.slice(7))
  process.stdout.write(`${JSON.stringify(result)}\n`)
  process.exit(0)
}

const results = []
for (const name of CASES) {
  if (!args.only.has(name)) continue
  results.push({ case: name, ...(await inChild(name)) })
}
const report = { node: process.version, platform: `${os.platform()} ${os.arch()}`, cpus: os.cpus().length, date: new Date().toISOString(), dist, rounds: args.rounds, results }
if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
else printTable(report)

// --- the parent: one child per case ---

function inChild(name) {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), `--case=${name}`, `--dist=${dist}`, `--rounds=${args.rounds}`], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk) => { out += chunk })
    child.stderr.on('data', (chunk) => { err += chunk })
    const killer = setTimeout(() => child.kill('SIGKILL'), args.timeout * 1000)
    child.on('exit', (code, signal) => {
      clearTimeout(killer)
      if (signal === 'SIGKILL') return done({ error: `did not finish within ${args.timeout} s` })
      try {
        done(JSON.parse(out.trim().split('\n').pop()))
      } catch {
        done({ error: `exit ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}` })
      }
    })
  })
}

function printTable(report) {
  const rows = [['case', 'ms (median)', 'heap during (MiB)', 'retained (MiB)', 'result']]
  for (const r of report.results) {
    if (r.error !== undefined) rows.push([r.case, '-', '-', '-', r.error])
    else rows.push([r.case, r.ms === undefined ? '-' : String(r.ms), r.heapMiB === undefined ? '-' : String(r.heapMiB), r.retainedMiB === undefined ? '-' : String(r.retainedMiB), r.result])
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)))
  process.stdout.write(`hostile capture: ${report.node} ${report.platform}, ${report.cpus} cpus, ${report.rounds} runs per case, dist ${report.dist}\n`)
  for (const row of rows) process.stdout.write(`${row.map((cell, i) => (i === rows[0].length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')}\n`)
  process.stdout.write('heap during = heapUsed + external right after the capture, before any GC (what flattening allocates);\nretained = after the source value is dropped and two GCs (what the record keeps alive).\n')
}

// --- the child: one case ---

async function runCase(name) {
  const lib = await import(pathToFileURL(resolve(dist, 'index.js')).href)
  const { capture } = await import(pathToFileURL(resolve(dist, 'serialization', 'capture.js')).href)
  lib.configure({ sinks: [{ name: 'null', write: () => {} }] })
  process.on('warning', () => {})
  switch (name) {
    case 'keys-1e5':
      return timed(() => wideObject(100_000), (value) => capture(value), describeCapture)
    case 'keys-1e6':
      return timed(() => wideObject(1_000_000), (value) => capture(value), describeCapture, 3)
    case 'rope-100mb':
      return timed(() => [rope(100_000_000)], (value) => capture(value), describeCapture)
    case 'flat-100mb':
      return timed(() => [flat(100_000_000)], (value) => capture(value), describeCapture)
    case 'flat-10mb-prefix':
      // a budget that allows a prefix of a long string: is the 10 MB source kept alive by the record?
      return timed(() => [flat(10_000_000)], (value) => capture(value, { maxDepth: 20, maxBreadth: 1000, maxNodes: 10_000, maxStringLength: 100, maxFieldBytes: 16 * 2 ** 20, maxKeyLength: 1024 }), describeCapture)
    case 'sparse-1e9':
      return timed(() => { const sparse = []; sparse.length = 1e9; sparse[5] = 'five'; return sparse }, (value) => capture(value), describeCapture)
    case 'args-80k':
      return timed(() => Array.from({ length: 80_000 }, (_, i) => `argument ${i}`), (value) => capture(value), describeCapture)
    case 'getter-recursion':
      return getterRecursion(lib)
    case 'spread-80k':
      return spread(lib)
    case 'thenable-then-throws':
      return thenable(lib)
    default:
      throw new Error(`unknown case ${name}`)
  }
}

/**
 * Runs `measure` on a fresh `make()` value `rounds` times: the median time, the heap growth right
 * after it (before any GC), and what is still on the heap once the value is dropped and collected
 * (the record and whatever it keeps alive).
 */
function timed(make, measure, describe, rounds = args.rounds) {
  const times = []
  const heaps = []
  const kept = []
  let result
  for (let i = 0; i < rounds; i++) {
    result = undefined
    gc()
    gc()
    const base = heapNow()
    let value = make()
    gc()
    const before = heapNow()
    const start = performance.now()
    result = measure(value)
    times.push(performance.now() - start)
    heaps.push(heapNow() - before)
    value = undefined
    gc()
    gc()
    kept.push(heapNow() - base)
  }
  return { ms: round(median(times), 2), heapMiB: round(median(heaps) / 2 ** 20, 1), retainedMiB: round(Math.max(0, median(kept)) / 2 ** 20, 1), result: describe(result) }
}

function heapNow() {
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.external
}

function describeCapture(result) {
  const json = JSON.stringify(result.value)
  return `${json.length} JSON chars, truncated ${result.truncated}: ${json.length > 70 ? `${json.slice(0, 34)}…${json.slice(-34)}` : json}`
}

function wideObject(n) {
  const object = {}
  for (let i = 0; i < n; i++) object[`k${i}`] = i
  return object
}

/** A string built by += of 100-character chunks, as streamed LLM text accumulates: a V8 rope. */
function rope(length) {
  const chunk = 'The quick brown fox jumps over the lazy dog, then naps in the sun until the evening comes. Again!!!'
  let text = ''
  while (text.length < length) text += chunk
  return text
}

/** The same length, flat (one contiguous buffer), as a file read or a JSON.parse gives. */
function flat(length) {
  const text = 'abcdefghij'.repeat(length / 10)
  text.charCodeAt(0)   // flattens the rope repeat() builds
  return text
}

function getterRecursion(lib) {
  // a getter that calls the traced function again: each capture of the argument reads the getter
  const depthLimit = 14
  let calls = 0
  let depth = 0
  const tool = lib.traceTool({ name: 'read' })(function read(holder) { return holder.value })
  const holder = {
    get value() {
      calls++
      if (depth >= depthLimit) return 0
      depth++
      try {
        return tool(holder)
      } finally {
        depth--
      }
    },
  }
  const start = performance.now()
  lib.trace({ prompt: 'recursion' })(() => tool(holder))()
  const ms = performance.now() - start
  return { ms: round(ms, 1), result: `${calls} getter calls at depth ${depthLimit} (the unwrapped function: ${depthLimit + 1})` }
}

function spread(lib) {
  const plain = function (...items) { return items.length }
  const traced = lib.trace({ prompt: 'spread' })(plain)
  const tool = lib.traceTool({ name: 'spread' })(plain)
  const inTrace = lib.trace({ prompt: 'outer' })((items) => tool(...items))
  const passThrough = function (...items) { return plain.apply(this, items) }
  const largest = (call) => {
    let low = 1000
    let high = 400_000
    while (high - low > 500) {
      const middle = (low + high) >> 1
      try {
        call(new Array(middle).fill(1))
        low = middle
      } catch {
        high = middle
      }
    }
    return low
  }
  const ok = (call) => { try { return call(new Array(80_000).fill(1)) === 80_000 } catch { return false } }
  return {
    result: `largest spread: unwrapped ≈${largest((items) => plain(...items))}, minimal pass-through wrapper ≈${largest((items) => passThrough(...items))}, trace ≈${largest((items) => traced(...items))}, traceTool in a trace ≈${largest(inTrace)}; 80 000 args: unwrapped ${ok((items) => plain(...items))}, trace ${ok((items) => traced(...items))}`,
  }
}

async function thenable(lib) {
  let unhandled = 0
  process.on('unhandledRejection', () => { unhandled++ })
  const make = () => ({ then() { throw new Error('then throws') } })
  const returned = []
  make()   // unwrapped: returned and never awaited
  returned.push(lib.trace({ prompt: 'thenable' })(make)())
  returned.push(lib.trace({ prompt: 'outer' })(() => { lib.traceTool({ name: 'tool' })(make)(); return 1 })())
  await new Promise((done) => setTimeout(done, 50))
  await lib.flush()
  return { result: `${unhandled} unhandled rejections from un-awaited thenables whose then throws (unwrapped: 0)` }
}
