// The redaction corpora through every sink, end to end
// (docs/reliability.md#redaction-what-a-leaked-credential-scanner-would-catch): each secret in keys,
// values, nested objects, Maps, Buffers, error messages and stacks, URLs and headers, and straddling
// the 64 KiB string limit; 0 leaks allowed. Each ordinary value as a value, a key and a step name;
// at most 2 % may be changed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import Database from 'better-sqlite3'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { configure, consoleSink, flush, jsonlSink, memorySink, otlpSink, sqliteSink, trace, traceTool, type TraceDocument } from '../../src/index.js'
import { ORDINARY_KEYS, ORDINARY_VALUES, SECRETS, written, type CorpusSecret } from './corpus.js'

const STRING_LIMIT = 65_536
const WINDOW = 8
const FILLER = 'lorem ipsum dolor sit amet '
const ONE_LINE = /^[\x21-\x7e]+(?: [\x21-\x7e]+)?$/

// --- a loopback OTLP/HTTP receiver (as in tests/sinks/otlp.test.ts) ---

let server: Server
let url = ''
const bodies: Buffer[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks))
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`
})

afterAll(async () => {
  configure({ sinks: [] })
  await new Promise<void>((done) => server.close(() => done()))
})

interface Outputs {
  readonly doc: TraceDocument
  /** What each sink wrote, as text: memory (JSON), JSONL file, SQLite rows, OTLP bodies, console. */
  readonly sinks: Readonly<Record<string, string>>
}

/** Runs `body` in a trace with every sink configured, and reads back what each one wrote. */
async function throughEverySink(body: () => Promise<void>): Promise<Outputs> {
  const dir = await mkdtemp(join(tmpdir(), 'tracellm-corpus-'))
  const memory = memorySink()
  const sqlite = sqliteSink({ path: join(dir, 'traces.db') })
  const console = new PassThrough()
  let consoleText = ''
  console.on('data', (chunk: Buffer) => { consoleText += chunk.toString('utf8') })
  bodies.length = 0
  configure({
    sinks: [memory, jsonlSink({ path: join(dir, 'traces.jsonl') }), sqlite, otlpSink({ url, protocol: 'http/json' }), consoleSink({ stream: console, colors: false })],
    capture: { maxFieldBytes: 1 << 22 },   // the string limit, not the field budget, is what cuts
    maxStepsPerTrace: 10_000,
    queue: { scheduleDelayMs: 0 },
  })
  try {
    await trace({ prompt: 'corpus' })(body)()
    await flush()
    sqlite.close()
    const db = new Database(join(dir, 'traces.db'), { readonly: true })
    let rows = ''
    try {
      for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>) {
        rows += JSON.stringify(db.prepare(`SELECT * FROM "${name.replaceAll('"', '""')}"`).all(), (_, v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : v))
      }
    } finally {
      db.close()
    }
    const doc = memory.traces[0] as TraceDocument
    expect(doc).toBeDefined()
    expect(bodies.length).toBeGreaterThan(0)
    expect(consoleText).toContain('corpus')
    return {
      doc,
      sinks: {
        memory: JSON.stringify(doc),
        jsonl: await readFile(join(dir, 'traces.jsonl'), 'utf8'),
        sqlite: rows,
        otlp: bodies.map((b) => b.toString('utf8')).join('\n'),
        console: consoleText,
      },
    }
  } finally {
    configure({ sinks: [] })
    await rm(dir, { recursive: true, force: true })
  }
}

/** The text and, appended, every base64-looking run decoded: a secret must not pass as base64 either. */
function withDecoded(text: string): string {
  let out = text.replaceAll(FILLER, '')
  for (const run of text.match(/[A-Za-z0-9+/]{16,}={0,2}/g) ?? []) out += `\n${Buffer.from(run, 'base64').toString('latin1')}`
  return out
}

/** Each secret whose random part shows (8 characters of it, anywhere) in the text. */
function leaks(text: string, corpus: ReadonlyArray<CorpusSecret>): string[] {
  const found: string[] = []
  for (const entry of corpus) {
    const shown = entry.random.some((part) => {
      for (let i = 0; i + WINDOW <= part.length; i++) if (text.includes(part.slice(i, i + WINDOW))) return true
      return false
    })
    if (shown) found.push(`${entry.provider} ${entry.name}`)
  }
  return found
}

/** How many characters of a secret's own text come before the cut when it straddles the string limit. */
function straddling(entry: CorpusSecret): string {
  const text = written(entry)
  const start = text.indexOf(entry.random[0] as string)
  const filler = FILLER.repeat(Math.ceil(STRING_LIMIT / FILLER.length))
  // the cut falls 12 characters into the first random part
  return `${filler.slice(0, STRING_LIMIT - start - 13)} ${text} and more text after it`
}

describe('redaction corpus: secrets', () => {
  it(`has at least 80 secrets of at least 40 providers (${SECRETS.length} of ${new Set(SECRETS.map((s) => s.provider)).size})`, () => {
    expect(SECRETS.length).toBeGreaterThanOrEqual(80)
    expect(new Set(SECRETS.map((s) => s.provider)).size).toBeGreaterThanOrEqual(40)
    for (const entry of SECRETS) expect(entry.random.join('').length).toBeGreaterThanOrEqual(WINDOW)
  })

  it('leaks none of them through any sink, wherever it is placed', async () => {
    const echo = traceTool({ name: 'echo' })((value: unknown) => value)
    const { doc, sinks } = await throughEverySink(async () => {
      for (const entry of SECRETS) {
        const text = written(entry)
        const name = entry.name_ ?? 'note'
        const bare = entry.name_ === undefined
        const placements: Record<string, unknown> = {
          value: { [name]: entry.secret },
          prose: `Here it is: ${text} (do not share)`,
          nested: [{ a: { b: [{ c: { d: { e: { [name]: entry.secret, line: text } } } }] } }],
          map: new Map<unknown, unknown>([[name, entry.secret], ['line', text]]),
          buffer: Buffer.from(`config dump\n${text}\nend of dump`),
          bytes: new TextEncoder().encode(`${text}\n`),
          url: `https://api.example.com/v1/callback?api_key=${encodeURIComponent(entry.secret)}&next=%2Fhome`,
          headers: { Authorization: `Bearer ${entry.secret}`, 'x-api-key': entry.secret, 'X-Request-Id': 'req-1' },
        }
        if (bare) placements.key = { [entry.secret]: 1, [`${entry.secret}#2`]: 2 }
        if (ONE_LINE.test(entry.secret)) {
          // a credential that fits in a header line or, as it is, in a query string
          placements.headerLines = `POST /v1/chat HTTP/1.1\r\nAuthorization: Bearer ${entry.secret}\r\nX-Api-Key: ${entry.secret}\r\nAccept: */*`
          if (bare) placements.query = `GET /v1/items?limit=20&q=${entry.secret} HTTP/1.1`
        }
        echo(placements)
        const fail = traceTool({ name: `call with ${text}` })(() => { throw new Error(`upstream rejected ${text}`) })
        try { fail() } catch { /* recorded */ }
        echo(straddling(entry))
      }
    })
    expect(doc.steps.length).toBe(SECRETS.length * 3)
    const failed = doc.steps.filter((step) => step.status === 'error')
    expect(failed.length).toBe(SECRETS.length)
    for (const step of failed) expect(step.error?.stack ?? '').toContain('upstream rejected')
    for (const [sink, text] of Object.entries(sinks)) {
      expect({ sink, leaks: leaks(withDecoded(text), SECRETS) }).toEqual({ sink, leaks: [] })
    }
  })
})

describe('redaction corpus: ordinary values', () => {
  it(`has at least 80 ordinary values (${ORDINARY_VALUES.length} values, ${ORDINARY_KEYS.length} key names)`, () => {
    expect(ORDINARY_VALUES.length + ORDINARY_KEYS.length).toBeGreaterThanOrEqual(80)
  })

  it('changes at most 2 % of them, in any sink', async () => {
    const echo = traceTool({ name: 'echo' })((value: unknown) => value)
    const { doc, sinks } = await throughEverySink(async () => {
      for (const value of ORDINARY_VALUES) {
        traceTool({ name: `lookup ${value}` })((v: unknown) => v)({ value, list: [value] })
      }
      echo(Object.fromEntries(ORDINARY_KEYS.map((key) => [key, `kept ${key}`])))
      echo(new Map(ORDINARY_KEYS.map((key) => [key, `kept ${key}`])))
    })
    const changed: string[] = []
    ORDINARY_VALUES.forEach((value, i) => {
      const step = doc.steps[i]
      const json = JSON.stringify(value).slice(1, -1)
      const intact = step?.name === `lookup ${value}`
        && JSON.stringify(step.input) === JSON.stringify([{ value, list: [value] }])
        && JSON.stringify(step.output) === JSON.stringify({ value, list: [value] })
        && ['jsonl', 'sqlite', 'otlp'].every((sink) => (sinks[sink] as string).includes(json.replaceAll('\\', '\\\\')) || (sinks[sink] as string).includes(json))
        && (sinks.console as string).includes(value)
      if (!intact) changed.push(value)
    })
    const keyStep = doc.steps[ORDINARY_VALUES.length]
    const mapStep = doc.steps[ORDINARY_VALUES.length + 1]
    for (const key of ORDINARY_KEYS) {
      const inObject = (keyStep?.output as Record<string, unknown> | undefined)?.[key] === `kept ${key}`
      const entries = ((mapStep?.output as { $map?: unknown[][] } | undefined)?.$map ?? [])
      const inMap = entries.some((entry) => entry[0] === key && entry[1] === `kept ${key}`)
      if (!inObject || !inMap) changed.push(key)
    }
    const total = ORDINARY_VALUES.length + ORDINARY_KEYS.length
    expect({ changed, rate: changed.length / total }).toEqual({ changed: [], rate: 0 })
    expect(changed.length / total).toBeLessThanOrEqual(0.02)
  })
})
