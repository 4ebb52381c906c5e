// Bytes allocated per step, by variant and scenario. bench/overhead.mjs runs it as a child process
// (part "alloc") with a young generation large enough that a whole round fits in it:
//
//   node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 bench/alloc.mjs [--json] [--rounds=5]
//
// A round: two gc(), heapUsed, N calls (the export queue drained and flushed as in the overhead
// bench), heapUsed again. With no collection in between, the difference is everything the round
// allocated, garbage included. A round during which a collection ran (a PerformanceObserver sees
// it) is thrown away and run again with half the calls. See bench/README.md.
import { PerformanceObserver } from 'node:perf_hooks'
import { configure, flush } from '../dist/index.js'
import { SCENARIOS, flushOtel, prepareVariants, resetFloor, timeRound, yieldToLoop } from './scenarios.mjs'
import { parseArgs } from './args.mjs'
import { median, round } from './numbers.mjs'

const args = parseArgs(process.argv.slice(2), { parts: ['alloc'], numbers: { rounds: 5, scale: 1 }, usage: 'node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 bench/alloc.mjs [--json] [--rounds=5]' })
if (typeof globalThis.gc !== 'function') {
  process.stderr.write('bench/alloc.mjs: run with --expose-gc\n')
  process.exit(2)
}
export const ALLOC_VARIANTS = ['floor', 'snapshot', 'uncaptured', 'tracellm', 'otel']
/** About 12 MiB of allocation per round at tracellm's rate, well inside a 64 MiB semi-space. */
const STEPS_PER_ROUND = Math.max(300, Math.round(3000 * args.scale))

let collections = 0
new PerformanceObserver((list) => { collections += list.getEntries().length }).observe({ entryTypes: ['gc'] })

configure({ sinks: [{ name: 'null', write: () => {} }] })
await prepareVariants()
const rows = []
for (const scenario of SCENARIOS) {
  const row = { scenario: scenario.id, label: scenario.label, bytesPerStep: {}, roundsDropped: 0 }
  for (const variant of ALLOC_VARIANTS) {
    const fn = scenario.build(variant)
    await timeRound(fn, 300, scenario.async, resetFloor)   // warm up: compile, fill caches
    await drain()
    const samples = []
    let calls = Math.max(16, Math.round(STEPS_PER_ROUND / scenario.steps))
    while (samples.length < args.rounds) {
      await quiet()
      const seen = collections
      const before = process.memoryUsage().heapUsed
      await timeRound(fn, calls, scenario.async, resetFloor)
      await drain()
      const after = process.memoryUsage().heapUsed
      await yieldToLoop()   // the observer reports on a later turn
      if (collections !== seen) {
        row.roundsDropped++
        if (row.roundsDropped > 20) throw new Error(`alloc bench: a collection ran in every round of ${scenario.id}/${variant}`)
        calls = Math.max(16, calls >> 1)
        continue
      }
      samples.push((after - before) / (calls * scenario.steps))
    }
    row.bytesPerStep[variant] = round(median(samples))
  }
  rows.push(row)
}

const results = { node: process.version, rounds: args.rounds, stepsPerRound: STEPS_PER_ROUND, rows }
if (args.json) process.stdout.write(`${JSON.stringify(results)}\n`)
else {
  process.stdout.write(`bytes allocated per step — node ${process.version}, median of ${args.rounds} rounds\n`)
  for (const row of rows) process.stdout.write(`${row.label}: ${ALLOC_VARIANTS.map((variant) => `${variant} ${row.bytesPerStep[variant]}`).join(', ')}\n`)
}

async function drain() {
  resetFloor()
  await flush()
  await flushOtel()
}

async function quiet() {
  await yieldToLoop()
  globalThis.gc()
  globalThis.gc()
  await yieldToLoop()
  await yieldToLoop()
}
