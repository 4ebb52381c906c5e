// What a down OTLP collector costs a program (docs/otlp.md, docs/serverless.md): for each `timeoutMs`,
// a child process records one trace into an `otlpSink` whose URL refuses connections and ends; the
// bench reports how long after its last line the process exited. Then a `flushOnReturn` handler is
// called twice in one process: how long each call took to answer.
//
//   npm run build && node bench/otlp-down.mjs [--json]
import { execFile } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { parseArgs } from './args.mjs'

const args = parseArgs(process.argv.slice(2), { parts: [], numbers: {}, usage: 'node bench/otlp-down.mjs [--json]' })
const root = fileURLToPath(new URL('..', import.meta.url))
const url = await refusedUrl()
const timeouts = [undefined, 2000, 1000]

const exits = []
for (const timeoutMs of timeouts) {
  const sink = `otlpSink({ url: ${JSON.stringify(url)}${timeoutMs === undefined ? '' : `, timeoutMs: ${timeoutMs}`} })`
  const script = [
    "const { configure, otlpSink, trace } = await import('./dist/index.js')",
    `configure({ sinks: [${sink}] })`,
    "await trace({ prompt: 'p' })(async () => 1)()",
    'const last = performance.now()',
    "process.on('exit', () => console.log(JSON.stringify({ exitMs: Math.round(performance.now() - last) })))",
  ].join('\n')
  exits.push({ timeoutMs: timeoutMs ?? 'default (10000)', ...(await runModule(script)) })
}

const handlers = []
for (const timeoutMs of timeouts) {
  const sink = `otlpSink({ url: ${JSON.stringify(url)}${timeoutMs === undefined ? '' : `, timeoutMs: ${timeoutMs}`} })`
  const script = [
    "const { configure, otlpSink, trace } = await import('./dist/index.js')",
    `configure({ flushOnReturn: true, sinks: [${sink}] })`,
    "const handler = trace({ prompt: 'handler' })(async () => 'ok')",
    'const answers = []',
    'for (let call = 0; call < 2; call++) { const started = performance.now(); await handler(); answers.push(Math.round(performance.now() - started)) }',
    'console.log(JSON.stringify({ answerMs: answers }))',
    'process.exit(0)',
  ].join('\n')
  handlers.push({ timeoutMs: timeoutMs ?? 'default (10000)', ...(await runModule(script)) })
}

if (args.json) process.stdout.write(`${JSON.stringify({ exits, handlers })}\n`)
else {
  process.stdout.write('collector down (connection refused): one trace, then the process ends\n')
  for (const row of exits) process.stdout.write(`  timeoutMs ${String(row.timeoutMs).padEnd(16)} exit ${row.exitMs} ms after the last line\n`)
  process.stdout.write('collector down: a flushOnReturn handler, called twice\n')
  for (const row of handlers) process.stdout.write(`  timeoutMs ${String(row.timeoutMs).padEnd(16)} answers after ${row.answerMs.join(' ms, ')} ms\n`)
}

async function runModule(script) {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '--no-warnings', '-e', script], { cwd: root, timeout: 120_000 })
  return JSON.parse(stdout.trim().split('\n').at(-1))
}

/** A loopback URL where nothing listens. */
async function refusedUrl() {
  const server = createServer()
  await new Promise((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address()
  await new Promise((done) => server.close(done))
  return `http://127.0.0.1:${port}/v1/traces`
}
