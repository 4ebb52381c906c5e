// npm run bench:ui   (builds, then node bench/ui.mjs [--traces=100000] [--runs=20])
//
// The figures of the viewer (docs/ui.md#figures, issue 11) on a seeded SQLite store (bench/ui-seed.mjs:
// N traces, one of 5 000 steps in a ~17 MB document, one with a 10 MB field; cached under os.tmpdir()).
// The viewer runs as `tracellm ui --port 0` in a child process, as a user runs it, so its RSS is its
// own. Server times are HTTP round trips from this process to 127.0.0.1 (p95 of --runs requests);
// browser figures come from headless Chromium (bench/ui-browser.mjs). Prints one table: figure,
// measured, bar, ok/over. Speed is measured here, never in a unit test.
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { performance } from 'node:perf_hooks'
import { gzipSync } from 'node:zlib'
import { openStore, sqliteSink } from '../dist/index.js'
import { parseArgs } from './args.mjs'
import { bigTrace, hugeField, launch, listPage, liveList } from './ui-browser.mjs'
import { BIG_STEPS, at, hex, ids, liveTrace, seed } from './ui-seed.mjs'

// `--traces N` as well as `--traces=N`
const argv = process.argv.slice(2).flatMap((arg, index, all) => (/^--(traces|runs)$/.test(arg) ? [`${arg}=${all[index + 1]}`] : /^--(traces|runs)$/.test(all[index - 1] ?? '') ? [] : [arg]))
const args = parseArgs(argv, { parts: ['server', 'browser'], numbers: { traces: 100_000, runs: 20 }, usage: 'node bench/ui.mjs [--traces=100000] [--runs=20] [--only=server,browser]' })
const N = args.traces
const RUNS = args.runs
const log = (line) => process.stderr.write(line + '\n')
const rows = []
/** One figure: `measured` in `unit`, compared with `bar` (lower is better); `null` measured prints n/a. */
const figure = (what, measured, bar, unit = 'ms', note = '') => rows.push({ what, measured, bar, unit, note })

const p95 = (values) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(values.length * 0.95) - 1)]
const round = (value) => (value >= 100 ? Math.round(value) : Math.round(value * 10) / 10)

// the pings reuse one connection, so that they measure the server's loop, not connection setup
const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 })

/** GET `path`: resolves `{ status, ms, bytes, body }`; ms from sending to the last byte. */
function get(port, path, headers = {}, agent = false) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const req = httpRequest({ host: '127.0.0.1', port, path, agent, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        resolve({ status: res.statusCode, ms: performance.now() - started, bytes: body.length, body })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

async function timed(port, paths) {
  const times = []
  for (const path of paths) {
    const reply = await get(port, path)
    if (reply.status !== 200) throw new Error(`${path}: ${reply.status} ${reply.body.toString().slice(0, 200)}`)
    times.push(reply.ms)
  }
  return p95(times)
}

/** Starts `tracellm ui --port 0` on `file`; resolves `{ port, pid, startMs, stop }`. */
function startViewer(file) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, ['dist/cli/tracellm.js', '--db', file, 'ui', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.once('exit', (code) => reject(new Error(`tracellm ui exited with ${code}: ${out}`)))
    child.stdout.on('data', (chunk) => {
      out += chunk
      const match = /http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
      if (match === null) return
      child.removeAllListeners('exit')
      resolve({
        port: Number(match[1]), pid: child.pid, startMs: performance.now() - started,
        stop: () => new Promise((done) => { child.once('exit', done); child.kill('SIGTERM') }),
      })
    })
  })
}

/** Samples the viewer's RSS every 50 ms and keeps the highest per phase (`phase(name)` starts one), to tell what made the peak. */
function rssSampler(pid) {
  let current = 'start'
  const peaks = new Map()
  const timer = setInterval(() => {
    try {
      const rss = memoryOf(pid).rss
      if (rss > (peaks.get(current) ?? 0)) peaks.set(current, rss)
    } catch {}
  }, 50)
  return {
    phase: (name) => { current = name },
    stop: () => clearInterval(timer),
    worst: () => [...peaks].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([name, mib]) => `${name} ${Math.round(mib)} MiB`).join(', '),
  }
}

/** VmRSS and VmHWM (peak) of a process, in MiB. */
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN)
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 }
}

/** Pings /api/meta every 5 ms while `work` runs; resolves the work's result and the slowest ping. */
async function withPings(port, work) {
  let running = true
  let slowest = 0
  let pings = 0
  const pinger = (async () => {
    while (running) {
      const reply = await get(port, '/api/meta', {}, keepAlive)
      slowest = Math.max(slowest, reply.ms)
      pings++
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()
  try {
    return { result: await work(), slowest, pings }
  } finally {
    running = false
    await pinger
  }
}

/** Resolves the ms from `committed()` until /api/events sends `traces`. */
function sseAfter(port, write) {
  return new Promise((resolve, reject) => {
    let committed
    const req = httpRequest({ host: '127.0.0.1', port, path: '/api/events', headers: { host: `127.0.0.1:${port}` } }, (res) => {
      res.setEncoding('utf8')
      res.on('data', (chunk) => {
        if (committed !== undefined && chunk.includes('event: traces')) {
          req.destroy()
          resolve(Date.now() - committed)
        }
      })
      // the stream is open: commit now
      setTimeout(async () => { committed = await write() }, 600)
    })
    req.on('error', (error) => { if (committed === undefined) reject(error) })
    req.end()
    setTimeout(() => { req.destroy(); resolve(null) }, 8000)
  })
}

const { file, indexedFile, seededMs, indexMs } = await seed(N, { log })
if (seededMs !== undefined) log(`seeded in ${Math.round(seededMs / 1000)} s`)
const { big, huge, hugeStep } = ids(N)
const since = at(Math.floor(N / 2) * 1000)

// --- the server on the store without the text index ---
const viewer = await startViewer(file)
log(`tracellm ui on port ${viewer.port} (pid ${viewer.pid}), listening after ${Math.round(viewer.startMs)} ms`)
const versionStarted = performance.now()
execFileSync(process.execPath, ['dist/cli/tracellm.js', '--version'], { stdio: 'ignore' })
const versionMs = performance.now() - versionStarted
figure('start: `tracellm ui` to listening, process start included', viewer.startMs, 300, 'ms', `\`tracellm --version\`, the process alone, takes ${Math.round(versionMs)} ms`)
const rss = rssSampler(viewer.pid)
try {
  if (args.only.has('server')) {
    rss.phase('list filters')
    const pick = (values, run) => values[run % values.length]
    const filters = [
      ['none (first page)', () => ''],
      ['project', (run) => `project=project_${run % 10}`],
      ['environment', (run) => `environment=${pick(['dev', 'staging', 'prod'], run)}`],
      ['prompt', (run) => `prompt=prompt_${run % 30}`],
      ['model', (run) => `model=model_${run % 5}`],
      ['status', (run) => `status=${run % 2 === 0 ? 'error' : 'success'}`],
      ['since', () => `since=${since}`],
      ['project + since', (run) => `project=project_${run % 10}&since=${since}`],
      ['status + since', () => `status=error&since=${since}`],
      ['model + environment', (run) => `model=model_${run % 5}&environment=prod`],
      ['prompt + status + since', (run) => `prompt=prompt_${run % 30}&status=error&since=${since}`],
    ]
    await get(viewer.port, '/api/traces')
    const listTimes = []
    for (const [name, query] of filters) {
      const ms = await timed(viewer.port, Array.from({ length: RUNS }, (_, run) => `/api/traces?${query(run)}`))
      listTimes.push([name, ms])
    }
    const worst = listTimes.reduce((a, b) => (b[1] > a[1] ? b : a))
    figure(`list page, server p95, worst of ${filters.length} indexed filters (${worst[0]})`, worst[1], 50, 'ms', listTimes.map(([name, ms]) => `${name} ${round(ms)}`).join(', '))

    // text search without the index: a full scan on the server's worker thread
    rss.phase('text scan')
    const scan = await withPings(viewer.port, () => get(viewer.port, `/api/traces?text=${encodeURIComponent(`item ${N - 4242}?`)}`))
    figure('text search without the index: first results', scan.result.ms, 2000)
    figure('  event-loop stall during the scan (slowest /api/meta ping every 5 ms)', scan.slowest, 20, 'ms', `${scan.pings} pings`)

    rss.phase('skeleton')
    const skeleton = await get(viewer.port, `/api/traces/${big}/steps`)
    const zipped = await get(viewer.port, `/api/traces/${big}/steps`, { 'accept-encoding': 'gzip' })
    const previews = await get(viewer.port, `/api/traces/${big}/previews`)
    figure(`${BIG_STEPS}-step trace: skeleton payload, JSON`, skeleton.bytes / 1024, 1024, 'KiB', `${Math.round(skeleton.bytes / BIG_STEPS)} B/step; the I/O previews apart (/previews): ${Math.round(previews.bytes / 1024)} KiB in ${round(previews.ms)} ms`)
    figure(`${BIG_STEPS}-step trace: skeleton payload, as sent to a browser (gzip)`, zipped.bytes / 1024, 1024, 'KiB')
    figure(`${BIG_STEPS}-step trace: skeleton, server, first request`, skeleton.ms, 50)
    figure(`  the skeleton again, from the field cache, p95`, await timed(viewer.port, Array.from({ length: RUNS }, () => `/api/traces/${big}/steps`)), 50)
    rss.phase('steps')
    // distinct steps, so every request extracts (none is answered from the field cache)
    const stepPaths = Array.from({ length: RUNS + 1 }, (_, run) => `/api/traces/${big}/steps/${hex(1 + Math.floor((run + 0.5) * BIG_STEPS / (RUNS + 1)), 16)}`)
    // the first step opened reads the ~17 MB document's bytes; the store keeps them for the next steps
    figure('a step\'s data (in a ~17 MB document), server: the first step opened in the trace', await timed(viewer.port, stepPaths.slice(0, 1)), 50)
    figure(`  ${RUNS} other steps of the trace, server p95 (none from the field cache)`, await timed(viewer.port, stepPaths.slice(1)), 50)
    figure('  the same steps again, from the field cache, p95', await timed(viewer.port, stepPaths.slice(1)), 50)
    rss.phase('10 MB field')
    const hugeReply = await get(viewer.port, `/api/traces/${huge}/steps/${hugeStep}`)
    const input = JSON.parse(hugeReply.body.toString()).fields.input
    figure('10 MB field: the step\'s answer (preview + size + raw link)', hugeReply.bytes / 1024, 64 + 4, 'KiB', `inline ${input.inline}, preview ${Buffer.byteLength(input.preview ?? '') } B, bytes ${input.bytes}, rawUrl ${input.rawUrl ? 'yes' : 'no'}; ${round(hugeReply.ms)} ms uncached`)
  }

  if (args.only.has('browser')) {
    const session = await launch(`http://127.0.0.1:${viewer.port}`)
    try {
      rss.phase('browser: list')
      const list = await listPage(session)
      figure('list page: first contentful paint (median of 5 loads)', list.paint.median, 500, 'ms', `max ${round(list.paint.max)}`)
      figure('list page: first rows painted (median of 5 loads)', list.rows.median, 500, 'ms', `max ${round(list.rows.max)}`)
      rss.phase('browser: 5 000-step trace')
      const tree = await bigTrace(session, big)
      figure(`${BIG_STEPS}-step trace: interactive (rows painted, no long task left)`, tree.interactive, 1000)
      figure(`${BIG_STEPS}-step trace: rendered rows ÷ visible rows while scrolling`, tree.scroll.worstRatio, 2, '×', `${tree.scroll.worstRendered} rows for ${tree.scroll.visible} visible, ${tree.scroll.frames} frames`)
      figure(`${BIG_STEPS}-step trace: longest task while scrolling`, tree.scroll.longestTask, 50, 'ms', `longest frame ${round(tree.scroll.longestFrame)} ms`)
      figure(`${BIG_STEPS}-step trace: collapse all ([)`, tree.toggles.collapse, 100)
      figure(`${BIG_STEPS}-step trace: expand all (])`, tree.toggles.expand, 100)
      figure('browser JS heap on the 5 000-step trace', tree.heapBytes === null ? null : tree.heapBytes / 1024 / 1024, 200, 'MiB')
      rss.phase('browser: 10 MB field')
      const field = await hugeField(session, huge, hugeStep)
      const answer = field.received.find((reply) => !reply.url.includes('/raw/'))
      figure('10 MB field: bytes the page received for the step', answer === undefined ? null : answer.bytes / 1024, 64 + 4, 'KiB', `raw value requested: ${field.rawRequested ? 'yes' : 'no'}, ${field.shownChars} characters shown`)
      figure('10 MB field: longest task on the page', field.longestTask, 200)
      rss.phase('live')
      // this process is not the viewer's: its commits are another process's for the viewer
      const writer = sqliteSink({ path: file })
      const commit = (doc) => async () => {
        writer.writeSync([doc])
        return Date.now()
      }
      const forStream = liveTrace(1)
      const forPage = liveTrace(2)
      figure('live: a trace committed by another process, until /api/events says so', await sseAfter(viewer.port, commit(forStream)), 1000)
      figure('live: … until the list page shows it (its row or a "new trace" bar)', await liveList(session, forPage.traceId, commit(forPage)), 1000)
      writer.close()
      // the seeded file stays as it was for the next run
      const cleanup = await openStore(file)
      await cleanup.delete(forStream.traceId)
      await cleanup.delete(forPage.traceId)
      await cleanup.close()
    } finally {
      await session.context.close().catch(() => undefined)
      await session.browser.close().catch(() => undefined)
    }
  }
  const memory = memoryOf(viewer.pid)
  figure('server RSS, peak (VmHWM)', memory.peak, 150 + 64, 'MiB', `now ${round(memory.rss)} MiB; highest while: ${rss.worst()}; bar 150 MiB + the 64 MiB field cache`)
} finally {
  rss.stop()
  await viewer.stop()
}

// --- the server on the indexed copy ---
if (args.only.has('server')) {
  const indexed = await startViewer(indexedFile)
  try {
    const words = ['item', 'answer', 'boom', 'lorem', 'tempor', 'magna', 'question', 'dolor']
    const paths = Array.from({ length: RUNS }, (_, run) => `/api/traces?text=${encodeURIComponent(run % 3 === 0 ? `item ${(run * 7919) % N}?` : words[run % words.length])}`)
    await get(indexed.port, paths[0])
    figure('text search with the index (tracellm index --text), server p95', await timed(indexed.port, paths), 150, 'ms', indexMs === undefined ? '' : `index built in ${round(indexMs / 1000)} s`)
  } finally {
    await indexed.stop()
  }
}

const js = readFileSync('dist/ui/client/app.js')
const css = readFileSync('dist/ui/client/app.css')
figure('initial JS (app.js), gzip', gzipSync(js).length / 1000, 80, 'KB')
figure('initial CSS (app.css), gzip', gzipSync(css).length / 1000, 15, 'KB')

console.log(`\ntracellm ui, ${N} traces + one of ${BIG_STEPS} steps + one with a 10 MB field (${new Date().toISOString().slice(0, 10)}, node ${process.version})\n`)
console.log('| figure | measured | bar | |')
console.log('|---|---|---|---|')
for (const row of rows) {
  const measured = row.measured === null || row.measured === undefined ? 'n/a' : `${round(row.measured)} ${row.unit}`
  const verdict = row.measured === null || row.measured === undefined ? 'n/a' : row.measured <= row.bar ? 'ok' : 'over'
  console.log(`| ${row.what} | ${measured}${row.note ? ` (${row.note})` : ''} | ≤ ${row.bar} ${row.unit} | ${verdict} |`)
}
