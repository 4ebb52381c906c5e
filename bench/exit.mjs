// How long a program whose work is done takes to end with a dead backend and 1 000 traces queued
// (docs/reliability.md#exit-bounds-a-dead-backend-never-holds-the-process). After `npm run build`:
//   node bench/exit.mjs [--traces=1000]
// Each backend runs in a child process (tests/fixtures/exit-load.mjs) with the default exitTimeoutMs.
import { spawn } from 'node:child_process'
import http from 'node:http'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { parseArgs } from './args.mjs'

const fixture = fileURLToPath(new URL('../tests/fixtures/exit-load.mjs', import.meta.url))
const { traces } = parseArgs(process.argv.slice(2), { parts: [], numbers: { traces: 1000 }, usage: 'node bench/exit.mjs [--traces=1000]' })

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)))
const blackhole = async () => {
  const sockets = new Set()
  const server = createServer((socket) => sockets.add(socket))
  const port = await listen(server)
  return { port, close: () => { for (const socket of sockets) socket.destroy(); server.close() } }
}
const answering = async (status) => {
  const server = http.createServer((request, response) => { request.resume(); request.on('end', () => { response.statusCode = status; response.end() }) })
  const port = await listen(server)
  return { port, close: () => { server.closeAllConnections(); server.close() } }
}
const refused = async () => {
  const server = createServer()
  const port = await listen(server)
  await new Promise((resolve) => server.close(resolve))
  return { port, close: () => undefined }
}

const backends = [
  ['PostgreSQL blackholed', blackhole, (port) => ({ SINK: 'postgres', PG_URL: `postgres://u:p@127.0.0.1:${port}/db` })],
  ['OTLP collector silent', blackhole, (port) => ({ SINK: 'otlp', OTLP_URL: `http://127.0.0.1:${port}/v1/traces` })],
  ['OTLP collector refusing connections', refused, (port) => ({ SINK: 'otlp', OTLP_URL: `http://127.0.0.1:${port}/v1/traces` })],
  ['OTLP collector answering 503', () => answering(503), (port) => ({ SINK: 'otlp', OTLP_URL: `http://127.0.0.1:${port}/v1/traces` })],
  ['OTLP collector answering 500', () => answering(500), (port) => ({ SINK: 'otlp', OTLP_URL: `http://127.0.0.1:${port}/v1/traces` })],
]

console.log(`exit after the work, ${traces} traces queued, default exitTimeoutMs (10 000 ms)`)
for (const [name, start, envOf] of backends) {
  const backend = await start()
  const child = spawn(process.execPath, [fixture], { env: { ...process.env, ...envOf(backend.port), TRACES: String(traces), YIELD_EVERY: '10', END: 'natural' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk) => { out += chunk })
  child.stderr.on('data', (chunk) => { err += chunk })
  const code = await new Promise((resolve) => child.on('exit', resolve))
  const done = Number(/work done (\d+)/.exec(out)?.[1])
  const lost = /tracellm: (\d+) trace\(s\) were not written/.exec(err)?.[1] ?? '0'
  console.log(`  ${name.padEnd(38)} exit ${String(code).padStart(2)} after ${((Date.now() - done) / 1000).toFixed(1).padStart(5)} s, not written at exit: ${lost}`)
  backend.close()
}
