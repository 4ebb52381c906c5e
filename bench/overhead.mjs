// npm run bench   (= npm run build && node --expose-gc bench/overhead.mjs)
//
// Per-step overhead of tracellm against a hand-written floor, the snapshot reference and
// OpenTelemetry, capture and redaction of realistic LLM payloads against JSON.stringify, bytes
// allocated per step, the heap a finished trace holds, and the event-loop delay added by tracing
// 1 MiB payloads. See bench/README.md for how to read it.
//
// Flags: --json           print the results as JSON instead of tables
//        --rounds=N       timed rounds per variant (default 7)
//        --scale=F        multiply the iteration counts (default 1; 0.1 for a smoke run)
//        --only=LIST      run only some parts: overhead,payload,alloc,heap,eventloop (default all)
import { spawnSync } from 'node:child_process'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { configure, flush, memorySink, toWire, trace, traceTool } from '../dist/index.js'
import { capture } from '../dist/serialization/capture.js'
import { createRedactor } from '../dist/serialization/redact.js'
import { QUESTION, SCENARIOS, VARIANTS, floorTraces, flushOtel, freshPayloads, llmPayloadPool, prepareVariants, resetFloor, timeRound, yieldToLoop } from './scenarios.mjs'
import { parseArgs } from './args.mjs'
import { median, round } from './numbers.mjs'

const PARTS = ['overhead', 'payload', 'alloc', 'heap', 'eventloop']
const args = parseArgs(process.argv.slice(2), { parts: PARTS, numbers: { rounds: 7, scale: 1 }, usage: 'node --expose-gc bench/overhead.mjs [--json] [--rounds=7] [--scale=1] [--only=overhead,payload,alloc,heap,eventloop]' })
const ROUNDS = args.rounds
const SCALE = args.scale
/** Calls per timed round: a tracellm round takes about 0.3–0.5 s on a 2-core machine, a plain one 20–40 ms. */
const ITERATIONS = { async: 16000, sync: 20000, fanout: 6000, llm: 6000 }
/** The variants set side by side with tracellm in the ratio table, each as (its overhead ÷ the floor's). */
const COMPARED = ['snapshot', 'uncaptured', 'tracellm', 'otel', 'openllmetry']
/** Payloads per round of the payload part (of the 4 096 of the shared pool). */
const PAYLOAD_CALLS = 2048
const WARMUP_ROUNDS = 2
const HEAP_TRACES = 2000
const DELAY_TRACES = 150   // per round and per variant
const DELAY_ROUNDS = 3

const nullSink = { name: 'null', write: () => {} }

if (typeof globalThis.gc !== 'function') {
  process.stderr.write('bench: run with --expose-gc (npm run bench does) for stable rounds and the heap figures.\n')
}

const started = performance.now()
await prepareVariants()
const overhead = []
if (args.only.has('overhead')) for (const scenario of SCENARIOS) overhead.push(await measureOverhead(scenario))
const payload = args.only.has('payload') ? await measurePayload(overhead.find((o) => o.scenario === 'llm')) : undefined
const alloc = args.only.has('alloc') ? measureAlloc() : undefined
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
  payload,
  alloc,
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
      if (variant === 'otel' || variant === 'openllmetry') await flushOtel()
      if (variant === 'floor' || variant === 'snapshot') resetFloor()
    }
  }

  const ns = Object.fromEntries(VARIANTS.map((variant) => [variant, median(samples[variant])]))
  const plain = ns.plain
  const floorOverhead = ns.floor - plain
  const overheadOf = (variant) => ns[variant] - plain
  const perRound = (variant, base) => samples[variant].map((value, index) => (value - samples.plain[index]) / (samples[base][index] - samples.plain[index]))
  const range = (list) => [round(Math.min(...list), 2), round(Math.max(...list), 2)]
  return {
    scenario: scenario.id,
    label: scenario.label,
    stepsPerTrace: scenario.steps,
    iterations,
    nsPerStep: Object.fromEntries(VARIANTS.map((variant) => [variant, round(ns[variant])])),
    overheadNsPerStep: Object.fromEntries(VARIANTS.filter((variant) => variant !== 'plain').map((variant) => [variant, round(overheadOf(variant))])),
    /** Each variant's overhead ÷ the floor's overhead. */
    vsFloor: Object.fromEntries(COMPARED.map((variant) => [variant, round(overheadOf(variant) / floorOverhead, 2)])),
    ratio: round(overheadOf('tracellm') / floorOverhead, 2),
    ratioUncaptured: round(overheadOf('uncaptured') / floorOverhead, 2),
    ratioToSnapshot: round(overheadOf('tracellm') / overheadOf('snapshot'), 2),
    /** How many times tracellm's overhead fits in OpenTelemetry's (> 1: tracellm is ahead). */
    otelVsTracellm: round(overheadOf('otel') / overheadOf('tracellm'), 2),
    openllmetryVsTracellm: round(overheadOf('openllmetry') / overheadOf('tracellm'), 2),
    ratioRange: range(perRound('tracellm', 'floor')),
    ratioToSnapshotRange: range(perRound('tracellm', 'snapshot')),
    samples: Object.fromEntries(VARIANTS.map((variant) => [variant, samples[variant].map((value) => round(value))])),
  }
}

// --- capture and redaction of realistic LLM payloads, against JSON.stringify ---

/**
 * The ~4 KiB chat requests of scenario (d), each a different one: per call, one JSON.stringify,
 * tracellm's capture, its redaction of the captured value, and both in a row, in interleaved rounds
 * (one pass over 2 048 requests per operation and round). `llmRow` is the overhead table's row of
 * scenario (d), to set the end-to-end figures beside it.
 */
async function measurePayload(llmRow) {
  const { payloads } = llmPayloadPool()
  const redactor = createRedactor()   // what configure() builds by default
  const captured = payloads.map((payload) => capture(payload.request).value)
  const calls = Math.max(128, Math.round(PAYLOAD_CALLS * SCALE))
  let offset = 0
  const sink = new Array(256)
  const ops = {
    stringify: (index) => JSON.stringify(payloads[index].request),
    capture: (index) => capture(payloads[index].request),
    redact: (index) => redactor.value(captured[index], 'input'),
    captureRedact: (index) => redactor.value(capture(payloads[index].request).value, 'input'),
  }
  const names = Object.keys(ops)
  const samples = Object.fromEntries(names.map((name) => [name, []]))
  for (let roundIndex = -WARMUP_ROUNDS; roundIndex < ROUNDS; roundIndex++) {
    const order = names.map((_, index) => names[(index + Math.max(roundIndex, 0)) % names.length])
    for (const name of order) {
      await settle()
      const op = ops[name]
      const start = performance.now()
      for (let i = 0; i < calls; i++) sink[i & 255] = op((offset + i) % payloads.length)
      const elapsed = performance.now() - start
      if (roundIndex >= 0) samples[name].push((elapsed * 1e6) / calls)
    }
    offset = (offset + calls) % payloads.length   // the next round walks other payloads
  }
  const ns = Object.fromEntries(names.map((name) => [name, median(samples[name])]))
  const stringifyPerRound = samples.stringify
  const redactRatios = samples.redact.map((value, index) => value / stringifyPerRound[index])
  const requestBytes = median(payloads.map((payload) => JSON.stringify(payload.request).length))
  const responseBytes = median(payloads.map((payload) => JSON.stringify(payload.response).length))
  return {
    requestBytes,
    responseBytes,
    calls,
    nsPerCall: Object.fromEntries(names.map((name) => [name, round(ns[name])])),
    vsStringify: { capture: round(ns.capture / ns.stringify, 2), redact: round(ns.redact / ns.stringify, 2), captureRedact: round(ns.captureRedact / ns.stringify, 2) },
    redactVsStringifyRange: [round(Math.min(...redactRatios), 2), round(Math.max(...redactRatios), 2)],
    // end to end, from the overhead table's scenario (d): what capture and redaction add to a traced
    // call (tracellm − tracellm with capture off) against what the snapshot's two JSON.stringify add
    // (snapshot − floor), both for the same request and response
    endToEnd: llmRow === undefined ? undefined : {
      captureNsPerCall: round(llmRow.nsPerStep.tracellm - llmRow.nsPerStep.uncaptured),
      stringifyNsPerCall: round(llmRow.nsPerStep.snapshot - llmRow.nsPerStep.floor),
      ratio: round((llmRow.nsPerStep.tracellm - llmRow.nsPerStep.uncaptured) / (llmRow.nsPerStep.snapshot - llmRow.nsPerStep.floor), 2),
    },
    samples: Object.fromEntries(names.map((name) => [name, samples[name].map((value) => round(value))])),
  }
}

// --- bytes allocated per step (a child process with a young generation a round fits in) ---

function measureAlloc() {
  const script = fileURLToPath(new URL('./alloc.mjs', import.meta.url))
  const flags = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64']
  const child = spawnSync(process.execPath, [...flags, script, '--json', `--scale=${SCALE}`], { encoding: 'utf8', maxBuffer: 1 << 24 })
  if (child.status !== 0) {
    process.stderr.write(`bench: the allocation part failed (${child.status ?? child.signal}): ${child.stderr.trim().split('\n').slice(-3).join(' | ')}\n`)
    return undefined
  }
  return JSON.parse(child.stdout)
}

// --- heap held per finished trace ---

async function measureHeap(scenario) {
  const results = {}
  let jsonBytesPerTrace
  for (const variant of ['floor', 'tracellm']) {
    const sink = memorySink({ limit: HEAP_TRACES * 2 })
    configure({ sinks: [sink] })
    // scenario (d) gets a new payload per call: held by the trace alone, as in a program
    const fn = scenario.id === 'llm' ? scenario.build(variant, freshPayloads(1_000_000)) : scenario.build(variant)
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
    if (variant === 'tracellm') jsonBytesPerTrace = Math.round(sink.traces.reduce((sum, doc) => sum + Buffer.byteLength(JSON.stringify(toWire(doc))), 0) / HEAP_TRACES)
    resetFloor()
    sink.clear()
  }
  configure({ sinks: [nullSink] })
  return { scenario: scenario.id, label: scenario.label, traces: HEAP_TRACES, bytesPerTrace: results, jsonBytesPerTrace, heldVsJson: round(results.tracellm / jsonBytesPerTrace, 2) }
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
  const times = (value) => `${value.toFixed(2)}×`
  out.push(`tracellm overhead bench — node ${r.node}, ${r.platform}, ${r.cpus} × ${r.cpuModel}`)
  out.push(`median of ${r.rounds} interleaved rounds per variant; capture and redaction on; payloads < 1 KiB in (a)–(c), a unique ~4 KiB chat request per call in (d); no-op sinks`)
  if (r.overhead.length > 0) {
    out.push('', table(
      ['ns/step', 'plain', 'floor', 'snapshot', 'capture off', 'tracellm', 'OTel SDK', 'OpenLLMetry-style'],
      r.overhead.map((o) => [o.label, o.nsPerStep.plain, o.nsPerStep.floor, o.nsPerStep.snapshot, o.nsPerStep.uncaptured, o.nsPerStep.tracellm, o.nsPerStep.otel, o.nsPerStep.openllmetry]),
    ))
    out.push('', table(
      ['overhead ÷ floor overhead', 'snapshot', 'capture off', 'tracellm', 'OTel SDK', 'OpenLLMetry-style', 'tracellm ÷ snapshot', 'OTel ÷ tracellm', 'per round: ÷ floor', '÷ snapshot'],
      r.overhead.map((o) => [
        o.label,
        times(o.vsFloor.snapshot),
        times(o.vsFloor.uncaptured),
        times(o.vsFloor.tracellm),
        times(o.vsFloor.otel),
        times(o.vsFloor.openllmetry),
        times(o.ratioToSnapshot),
        times(o.otelVsTracellm),
        `${o.ratioRange[0].toFixed(2)}–${o.ratioRange[1].toFixed(2)}`,
        `${o.ratioToSnapshotRange[0].toFixed(2)}–${o.ratioToSnapshotRange[1].toFixed(2)}`,
      ]),
    ))
  }
  if (r.payload !== undefined) {
    const p = r.payload
    out.push('', table(
      [`unique chat request (${(p.requestBytes / 1024).toFixed(1)} KiB of JSON), per call`, 'ns/call', '÷ JSON.stringify'],
      [
        ['JSON.stringify(request)', p.nsPerCall.stringify, times(1)],
        ['capture(request)', p.nsPerCall.capture, times(p.vsStringify.capture)],
        [`redaction of the captured request (per round ${p.redactVsStringifyRange[0].toFixed(2)}–${p.redactVsStringifyRange[1].toFixed(2)})`, p.nsPerCall.redact, times(p.vsStringify.redact)],
        ['capture + redaction', p.nsPerCall.captureRedact, times(p.vsStringify.captureRedact)],
        ...(p.endToEnd === undefined ? [] : [[`end to end, scenario (d): tracellm − capture off, ÷ snapshot − floor (request + ${(p.responseBytes / 1024).toFixed(1)} KiB response)`, p.endToEnd.captureNsPerCall, times(p.endToEnd.ratio)]]),
      ],
    ))
  }
  if (r.alloc !== undefined) {
    const variants = ['floor', 'snapshot', 'uncaptured', 'tracellm', 'otel']
    out.push('', table(
      ['bytes allocated per step', 'floor', 'snapshot', 'capture off', 'tracellm', 'OTel SDK'],
      r.alloc.rows.map((row) => [row.label, ...variants.map((variant) => row.bytesPerStep[variant])]),
    ))
  }
  if (r.heap.length > 0) {
    out.push('', table(
      ['heap held per finished trace', 'floor bytes/trace', 'tracellm bytes/trace', 'tracellm bytes/step', 'its JSON bytes', 'held ÷ JSON'],
      r.heap.map((h) => {
        const steps = SCENARIOS.find((scenario) => scenario.id === h.scenario)?.steps ?? 1
        return [h.label, h.bytesPerTrace.floor, h.bytesPerTrace.tracellm, Math.round(h.bytesPerTrace.tracellm / steps), h.jsonBytesPerTrace, times(h.heldVsJson)]
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
