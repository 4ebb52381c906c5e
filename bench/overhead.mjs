// npm run bench   (= npm run build && node --expose-gc bench/overhead.mjs)
//
// Per-step overhead of tracellm against a hand-written floor, the heap a finished trace holds, and
// the event-loop delay added by tracing 1 MiB payloads. See bench/README.md for how to read it.
//
// Flags: --json           print the results as JSON instead of tables
//        --rounds=N       timed rounds per variant (default 7)
//        --scale=F        multiply the iteration counts (default 1; 0.1 for a smoke run)
//        --only=LIST      run only some parts: overhead,heap,eventloop (default all three)
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import os from 'node:os'
import { configure, flush, memorySink, trace, traceTool } from '../dist/index.js'
import { QUESTION, SCENARIOS, VARIANTS, floorTraces, resetFloor, timeRound, yieldToLoop } from './scenarios.mjs'
import { parseArgs } from './args.mjs'
import { median, round } from './numbers.mjs'

const PARTS = ['overhead', 'heap', 'eventloop']
const args = parseArgs(process.argv.slice(2), { parts: PARTS, numbers: { rounds: 7, scale: 1 }, usage: 'node --expose-gc bench/overhead.mjs [--json] [--rounds=7] [--scale=1] [--only=overhead,heap,eventloop]' })
const ROUNDS = args.rounds
const SCALE = args.scale
/** Calls per timed round: a tracellm round takes about 0.3–0.5 s on a 2-core machine, a plain one 20–40 ms. */
const ITERATIONS = { async: 16000, sync: 20000, fanout: 6000 }
const WARMUP_ROUNDS = 2
const HEAP_TRACES = 2000
const DELAY_TRACES = 150   // per round and per variant
const DELAY_ROUNDS = 3

const nullSink = { name: 'null', write: () => {} }

if (typeof globalThis.gc !== 'function') {
  process.stderr.write('bench: run with --expose-gc (npm run bench does) for stable rounds and the heap figures.\n')
}

const started = performance.now()
const overhead = []
if (args.only.has('overhead')) for (const scenario of SCENARIOS) overhead.push(await measureOverhead(scenario))
const heap = []
if (args.only.has('heap')) for (const scenario of SCENARIOS) heap.push(await measureHeap(scenario))
const eventLoop = []
if (args.only.has('eventloop')) for (const payload of ['string', 'object']) eventLoop.push(await measureEventLoop(payload))
const totalSeconds = (performance.now() - started) / 1000

const results = {
  node: process.version,
  platform: `${os.platform()} ${os.arch()}`,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  date: new Date().toISOString(),
  rounds: ROUNDS,
  scale: SCALE,
  overhead,
  heap,
  eventLoop,
  totalSeconds: round(totalSeconds, 1),
}

if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
else printTables(results)

// --- per-step overhead ---

async function measureOverhead(scenario) {
  configure({ sinks: [nullSink] })
  const fns = Object.fromEntries(VARIANTS.map((variant) => [variant, scenario.build(variant)]))
  const iterations = Math.max(128, Math.round(ITERATIONS[scenario.id] * SCALE))
  const samples = Object.fromEntries(VARIANTS.map((variant) => [variant, []]))

  for (let round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
    // rotate which variant goes first, so none is always the one after a GC or a warm cache
    const order = VARIANTS.map((_, index) => VARIANTS[(index + Math.max(round, 0)) % VARIANTS.length])
    for (const variant of order) {
      await settle()
      const ms = await timeRound(fns[variant], iterations, scenario.async, resetFloor)
      if (round >= 0) samples[variant].push((ms * 1e6) / (iterations * scenario.steps))
      if (variant === 'tracellm' || variant === 'uncaptured') await flush()
      if (variant === 'floor' || variant === 'snapshot') resetFloor()
    }
  }

  const plain = median(samples.plain)
  const floor = median(samples.floor)
  const traced = median(samples.tracellm)
  const snapshot = median(samples.snapshot)
  const uncaptured = median(samples.uncaptured)
  const perRoundRatios = samples.tracellm.map((value, index) => (value - samples.plain[index]) / (samples.floor[index] - samples.plain[index]))
  return {
    scenario: scenario.id,
    label: scenario.label,
    stepsPerTrace: scenario.steps,
    iterations,
    nsPerStep: { plain: round(plain), floor: round(floor), snapshot: round(snapshot), uncaptured: round(uncaptured), tracellm: round(traced) },
    overheadNsPerStep: { floor: round(floor - plain), snapshot: round(snapshot - plain), uncaptured: round(uncaptured - plain), tracellm: round(traced - plain) },
    ratioUncaptured: round((uncaptured - plain) / (floor - plain), 2),
    ratio: round((traced - plain) / (floor - plain), 2),
    ratioToSnapshot: round((traced - plain) / (snapshot - plain), 2),
    ratioRange: [round(Math.min(...perRoundRatios), 2), round(Math.max(...perRoundRatios), 2)],
    samples: Object.fromEntries(VARIANTS.map((variant) => [variant, samples[variant].map((value) => round(value))])),
  }
}

// --- heap held per finished trace ---

async function measureHeap(scenario) {
  const results = {}
  for (const variant of ['floor', 'tracellm']) {
    const sink = memorySink({ limit: HEAP_TRACES * 2 })
    configure({ sinks: [sink] })
    const fn = scenario.build(variant)
    await timeRound(fn, 256, scenario.async)   // warm up, then forget what the warm-up left
    await flush()
    sink.clear()
    resetFloor()
    await settle()
    const before = process.memoryUsage().heapUsed
    await timeRound(fn, HEAP_TRACES, scenario.async)
    await flush()
    await settle()
    const after = process.memoryUsage().heapUsed
    const held = variant === 'floor' ? floorTraces().length : sink.traces.length
    if (held !== HEAP_TRACES) throw new Error(`heap bench: expected ${HEAP_TRACES} ${variant} traces held, got ${held}`)
    results[variant] = Math.round((after - before) / HEAP_TRACES)
    resetFloor()
    sink.clear()
  }
  configure({ sinks: [nullSink] })
  return { scenario: scenario.id, label: scenario.label, traces: HEAP_TRACES, bytesPerTrace: results }
}

// --- event-loop delay while tracing 1 MiB payloads ---

async function measureEventLoop(payloadKind) {
  configure({ sinks: [nullSink] })
  const payload = bigPayload(payloadKind)
  const variants = {
    plain: buildBigPipeline(payload, (fn) => fn, (fn) => fn),
    tracellm: buildBigPipeline(payload, (fn) => trace({ prompt: 'bench_big' })(fn), (fn, name) => traceTool({ name })(fn)),
  }
  // a fresh histogram per round: one re-enabled after disable() would count the pause as a delay
  const rounds = { plain: [], tracellm: [] }
  for (const variant of Object.keys(variants)) {
    for (let i = 0; i < 10; i++) await variants[variant](QUESTION)   // warm-up
  }
  for (let roundIndex = 0; roundIndex < DELAY_ROUNDS; roundIndex++) {
    for (const variant of Object.keys(variants)) {
      await yieldToLoop()   // no gc() here: a server does not collect between requests
      const histogram = monitorEventLoopDelay({ resolution: 1 })
      const start = performance.now()
      histogram.enable()
      for (let i = 0; i < DELAY_TRACES; i++) await variants[variant](QUESTION)
      histogram.disable()
      rounds[variant].push({
        p50: histogram.percentile(50) / 1e6,
        p99: histogram.percentile(99) / 1e6,
        max: histogram.max / 1e6,
        msPerTrace: (performance.now() - start) / DELAY_TRACES,
      })
      await flush()
    }
  }
  const summary = (variant) => ({
    p50Ms: round(median(rounds[variant].map((r) => r.p50)), 2),
    p99Ms: round(median(rounds[variant].map((r) => r.p99)), 2),
    maxMs: round(Math.max(...rounds[variant].map((r) => r.max)), 2),
    msPerTrace: round(median(rounds[variant].map((r) => r.msPerTrace)), 3),
  })
  const plain = summary('plain')
  const traced = summary('tracellm')
  return {
    payload: payloadKind,
    payloadBytes: Buffer.byteLength(JSON.stringify(payload)),
    traces: DELAY_TRACES * DELAY_ROUNDS,
    plain,
    tracellm: traced,
    addedP99Ms: round(traced.p99Ms - plain.p99Ms, 2),
    rounds: Object.fromEntries(Object.entries(rounds).map(([variant, list]) => [variant, list.map((r) => ({ p50Ms: round(r.p50, 2), p99Ms: round(r.p99, 2), maxMs: round(r.max, 2), msPerTrace: round(r.msPerTrace, 3) }))])),
  }
}

/** About 1 MiB: prose text, or 1024 records of ~1 KiB each. */
function bigPayload(kind) {
  const sentence = 'Retrieval-augmented generation grounds a model in documents fetched for each question. '
  const text = sentence.repeat(Math.ceil((1 << 20) / sentence.length)).slice(0, 1 << 20)
  if (kind === 'string') return text
  return Array.from({ length: 1024 }, (_, index) => ({ id: `doc-${index}`, score: 1 / (index + 1), text: text.slice(index * 900, index * 900 + 900) }))
}

/**
 * fetch_page waits 1 ms (the simulated I/O, so the loop is idle between traces and the delay monitor
 * gets samples in both variants) and returns the payload; summarize takes it as an argument, so
 * tracellm captures it twice per trace (output of one step, input of the next).
 */
function buildBigPipeline(payload, root, tool) {
  const fetchPage = tool(async (question) => {
    await new Promise((resolve) => setTimeout(resolve, 1))
    return payload
  }, 'fetch_page')
  const summarize = tool((question, page) => (typeof page === 'string' ? page.length : page.length), 'summarize')
  return root(async (question) => summarize(question, await fetchPage(question)))
}

// --- helpers ---

async function settle() {
  await yieldToLoop()
  if (typeof globalThis.gc === 'function') {
    globalThis.gc()
    globalThis.gc()
  }
}

function printTables(r) {
  const out = []
  out.push(`tracellm overhead bench — node ${r.node}, ${r.platform}, ${r.cpus} × ${r.cpuModel}`)
  out.push(`median of ${r.rounds} interleaved rounds per variant; capture and redaction on; payloads < 1 KiB; no-op sink`)
  if (r.overhead.length > 0) {
    out.push('', table(
      ['scenario', 'plain ns/step', 'floor ns/step', 'tracellm ns/step', 'floor overhead', 'snapshot overhead', 'tracellm overhead', 'ratio (goal ≤ 2)', 'ratio per round', 'vs snapshot', 'capture off: ratio'],
      r.overhead.map((o) => [
        o.label,
        o.nsPerStep.plain,
        o.nsPerStep.floor,
        o.nsPerStep.tracellm,
        o.overheadNsPerStep.floor,
        o.overheadNsPerStep.snapshot,
        o.overheadNsPerStep.tracellm,
        `${o.ratio.toFixed(2)}×`,
        `${o.ratioRange[0].toFixed(2)}–${o.ratioRange[1].toFixed(2)}`,
        `${o.ratioToSnapshot.toFixed(2)}×`,
        `${o.ratioUncaptured.toFixed(2)}×`,
      ]),
    ))
  }
  if (r.heap.length > 0) {
    out.push('', table(
      ['heap held per finished trace', 'floor bytes/trace', 'tracellm bytes/trace', 'tracellm bytes/step'],
      r.heap.map((h) => {
        const steps = SCENARIOS.find((scenario) => scenario.id === h.scenario)?.steps ?? 1
        return [h.label, h.bytesPerTrace.floor, h.bytesPerTrace.tracellm, Math.round(h.bytesPerTrace.tracellm / steps)]
      }),
    ))
  }
  if (r.eventLoop.length > 0) {
    out.push('', table(
      ['event-loop delay, 1 MiB payloads', 'plain p50/p99/max ms', 'tracellm p50/p99/max ms', 'added p99 ms (goal ≤ 10)', 'ms/trace plain → tracellm'],
      r.eventLoop.map((e) => [
        `${e.payload} (${(e.payloadBytes / 1048576).toFixed(2)} MiB), ${e.traces} traces`,
        `${e.plain.p50Ms} / ${e.plain.p99Ms} / ${e.plain.maxMs}`,
        `${e.tracellm.p50Ms} / ${e.tracellm.p99Ms} / ${e.tracellm.maxMs}`,
        e.addedP99Ms,
        `${e.plain.msPerTrace} → ${e.tracellm.msPerTrace}`,
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
