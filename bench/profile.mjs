// Where tracellm spends its time: runs one scenario's tracellm variant under the V8 CPU profiler
// (in-process, through node:inspector) and prints the functions with the most self time, mapped
// back to src/ through dist's source maps.
//
//   npm run build && node bench/profile.mjs [async|sync|fanout|big-string|big-object] [--seconds=5] [--top=25] [--save=file.cpuprofile]
//
// The share column is a share of all samples taken while the loop ran (idle time included);
// "tracellm self" adds up the functions whose code lives in dist/ (that is, in src/).
import { readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { SourceMap } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { configure, flush, trace, traceTool } from '../dist/index.js'
import { QUESTION, SCENARIOS, timeRound } from './scenarios.mjs'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const distUrl = pathToFileURL(join(root, 'dist')).href
/** Source maps of dist/ files, by path; null when a file has none. */
const maps = new Map()
const options = { scenario: 'async', seconds: 5, top: 25, save: undefined, variant: 'tracellm' }
for (const arg of process.argv.slice(2)) {
  if (arg.startsWith('--seconds=')) options.seconds = Number(arg.slice(10))
  else if (arg.startsWith('--top=')) options.top = Number(arg.slice(6))
  else if (arg.startsWith('--save=')) options.save = arg.slice(7)
  else if (arg.startsWith('--variant=')) options.variant = arg.slice(10)
  else if (!arg.startsWith('--')) options.scenario = arg
  else throw new Error(`unknown argument ${arg}`)
}

configure({ sinks: [{ name: 'null', write: () => {} }] })
const workload = buildWorkload(options.scenario)
await workload.run(2000)   // warm-up, so the profile shows optimised code

const session = new Session()
session.connect()
await session.post('Profiler.enable')
await session.post('Profiler.setSamplingInterval', { interval: 100 })
await session.post('Profiler.start')
const started = performance.now()
let calls = 0
while (performance.now() - started < options.seconds * 1000) {
  await workload.run(workload.batch)
  calls += workload.batch
  await flush()
}
const elapsed = performance.now() - started
const { profile } = await session.post('Profiler.stop')
session.disconnect()
if (options.save !== undefined) writeFileSync(options.save, JSON.stringify(profile))

report(profile, elapsed, calls)

function buildWorkload(id) {
  const scenario = SCENARIOS.find((candidate) => candidate.id === id)
  if (scenario !== undefined) {
    const fn = scenario.build(options.variant)
    return { label: scenario.label, steps: scenario.steps, batch: 1000, run: (n) => timeRound(fn, n, scenario.async) }
  }
  if (id === 'big-string' || id === 'big-object') {
    const sentence = 'Retrieval-augmented generation grounds a model in documents fetched for each question. '
    const text = sentence.repeat(Math.ceil((1 << 20) / sentence.length)).slice(0, 1 << 20)
    const payload = id === 'big-string' ? text : Array.from({ length: 1024 }, (_, index) => ({ id: `doc-${index}`, score: 1 / (index + 1), text: text.slice(index * 900, index * 900 + 900) }))
    const fetchPage = traceTool({ name: 'fetch_page' })(async () => payload)
    const summarize = traceTool({ name: 'summarize' })((question, page) => page.length)
    const fn = trace({ prompt: 'bench_big' })(async (question) => summarize(question, await fetchPage(question)))
    return { label: `${id} (1 MiB payload)`, steps: 2, batch: 50, run: (n) => timeRound(fn, n, true) }
  }
  throw new Error(`unknown scenario ${id}: use one of ${SCENARIOS.map((s) => s.id).join(', ')}, big-string, big-object`)
}

function report(profile, elapsedMs, calls) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map()
  let total = 0
  for (let index = 0; index < profile.samples.length; index++) {
    const node = byId.get(profile.samples[index])
    const micros = profile.timeDeltas[index] ?? 0
    total += micros
    const key = frameKey(node.callFrame)
    self.set(key, (self.get(key) ?? 0) + micros)
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1])
  const ours = rows.filter(([key]) => key.startsWith('src/'))
  const oursTotal = ours.reduce((sum, [, micros]) => sum + micros, 0)
  const nsPerCall = (micros) => Math.round((micros * 1000) / calls)
  const lines = []
  lines.push(`profile of ${workload.label}, tracellm variant: ${calls} traces in ${(elapsedMs / 1000).toFixed(1)} s, ${Math.round((elapsedMs * 1e6) / calls)} ns/trace`)
  lines.push(`tracellm self time (code in src/): ${((100 * oursTotal) / total).toFixed(1)} % of samples, ${nsPerCall(oursTotal)} ns/trace`)
  lines.push('')
  lines.push(`top ${options.top} by self time (all code)`)
  for (const [key, micros] of rows.slice(0, options.top)) lines.push(`  ${pct(micros, total)}  ${String(nsPerCall(micros)).padStart(6)} ns/trace  ${key}`)
  lines.push('')
  const byFile = new Map()
  for (const [key, micros] of ours) {
    const file = key.slice(0, key.indexOf(':'))
    byFile.set(file, (byFile.get(file) ?? 0) + micros)
  }
  lines.push('tracellm self time by file')
  for (const [file, micros] of [...byFile.entries()].sort((a, b) => b[1] - a[1])) lines.push(`  ${pct(micros, total)} | ${pct(micros, oursTotal)}  ${String(nsPerCall(micros)).padStart(6)} ns/trace  ${file}`)
  lines.push('')
  lines.push(`top ${options.top} in src/ (share of all samples | share of tracellm self time)`)
  for (const [key, micros] of ours.slice(0, options.top)) lines.push(`  ${pct(micros, total)} | ${pct(micros, oursTotal)}  ${String(nsPerCall(micros)).padStart(6)} ns/trace  ${key}`)
  process.stdout.write(`${lines.join('\n')}\n`)
}

function pct(part, whole) {
  return `${((100 * part) / whole).toFixed(1).padStart(5)} %`
}

/** `src/core/run.ts:57 startStep` for our code, `name (node:…)` for the rest. */
function frameKey(frame) {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName
  if (!frame.url.startsWith(distUrl)) {
    if (frame.url === '') return name
    const where = frame.url.startsWith('file://') ? relative(root, fileURLToPath(frame.url)) : frame.url
    return `${name} (${where})`
  }
  const file = fileURLToPath(frame.url)
  let map = maps.get(file)
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')))
    } catch {
      map = null
    }
    maps.set(file, map)
  }
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber)
  if (entry === undefined || entry === null || entry.originalSource === undefined) return `${relative(root, file)}:${frame.lineNumber + 1} ${name}`
  const source = relative(root, resolve(dirname(file), entry.originalSource))
  return `${source}:${entry.originalLine + 1} ${name}`
}
