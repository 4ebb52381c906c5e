// node bench/ids.mjs   (part of npm run bench; run npm run build first)
//
// ns per id: tracellm's ids (dist/core/ids.js: nanoid's pooled random bytes, hex-encoded in bulk,
// each id a slice) against the ids of tracellm 0.1 (nanoid's customAlphabet, one character at a
// time), side by side in interleaved rounds. See bench/README.md.
//
// Flags: --json  --rounds=N (default 7)  --scale=F (default 1)
import { performance } from 'node:perf_hooks'
import { customAlphabet } from 'nanoid'
import { randomIds } from '../dist/core/ids.js'
import { parseArgs } from './args.mjs'
import { median, round } from './numbers.mjs'

const args = parseArgs(process.argv.slice(2), { parts: ['ids'], numbers: { rounds: 7, scale: 1 }, usage: 'node bench/ids.mjs [--json] [--rounds=7] [--scale=1]' })
const IDS_PER_ROUND = Math.max(1000, Math.round(1_000_000 * args.scale))

const ZERO32 = '0'.repeat(32)
const ZERO16 = '0'.repeat(16)
const hex32 = customAlphabet('0123456789abcdef', 32)
const hex16 = customAlphabet('0123456789abcdef', 16)
/** tracellm 0.1's ids, as src/core/ids.ts made them before ids were made in bulk. */
const customAlphabetIds = {
  traceId: () => {
    let id = hex32()
    while (id === ZERO32) id = hex32()
    return id
  },
  stepId: () => {
    let id = hex16()
    while (id === ZERO16) id = hex16()
    return id
  },
}

const SOURCES = { customAlphabet: customAlphabetIds, pooled: randomIds }
const KINDS = ['stepId', 'traceId']

/** The ids are kept in a ring of 1 024, as a live program keeps some, so none is optimized away. */
function timeIds(make, count) {
  const ring = new Array(1024)
  const start = performance.now()
  for (let i = 0; i < count; i++) ring[i & 1023] = make()
  const ns = ((performance.now() - start) * 1e6) / count
  if (ring[0].length === 0) throw new Error('unreachable')
  return ns
}

const samples = {}
for (const source of Object.keys(SOURCES)) for (const kind of KINDS) samples[`${source}.${kind}`] = []
const keys = Object.keys(samples)
for (let roundIndex = -2; roundIndex < args.rounds; roundIndex++) {
  const order = keys.map((_, index) => keys[(index + Math.max(roundIndex, 0)) % keys.length])
  for (const key of order) {
    const [source, kind] = key.split('.')
    const ns = timeIds(SOURCES[source][kind], IDS_PER_ROUND)
    if (roundIndex >= 0) samples[key].push(ns)
  }
}

const rows = KINDS.map((kind) => {
  const before = median(samples[`customAlphabet.${kind}`])
  const after = median(samples[`pooled.${kind}`])
  return { kind, hexDigits: kind === 'traceId' ? 32 : 16, customAlphabetNs: round(before, 1), pooledNs: round(after, 1), speedup: round(before / after, 1) }
})
// a trace of the async pipeline makes 1 trace id and 4 step ids (the root span's and 3 tools')
const perTrace = (source) => (median(samples[`${source}.traceId`]) + 4 * median(samples[`${source}.stepId`])) / 5
const mix = { customAlphabetNs: round(perTrace('customAlphabet'), 1), pooledNs: round(perTrace('pooled'), 1), speedup: round(perTrace('customAlphabet') / perTrace('pooled'), 1) }
const results = { node: process.version, rounds: args.rounds, idsPerRound: IDS_PER_ROUND, rows, mix, samples: Object.fromEntries(Object.entries(samples).map(([key, list]) => [key, list.map((value) => round(value, 1))])) }

if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
else {
  const lines = [`ids bench — node ${process.version}; median of ${args.rounds} interleaved rounds of ${IDS_PER_ROUND} ids`, '']
  const head = ['id', 'customAlphabet ns/id (0.1)', 'pooled ns/id (now)', 'speed-up']
  const body = [
    ...rows.map((row) => [`${row.kind} (${row.hexDigits} hex)`, row.customAlphabetNs, row.pooledNs, `${row.speedup}×`]),
    ['per id, 1 trace + 4 step ids', mix.customAlphabetNs, mix.pooledNs, `${mix.speedup}×`],
  ]
  const cells = [head, ...body.map((row) => row.map(String))]
  const widths = head.map((_, column) => Math.max(...cells.map((row) => row[column].length)))
  const line = (row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ')
  lines.push(line(head), widths.map((width) => '-'.repeat(width)).join('  '), ...body.map((row) => line(row.map(String))))
  process.stdout.write(`${lines.join('\n')}\n`)
}
