// `tracellm ui`: in-process through `main` (its line, its errors, --file), and as the built bin in a
// child process that Ctrl-C (SIGINT) stops cleanly.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { main, type CliIo } from '../../src/cli/program.js'
import { sqliteSink, toWire } from '../../src/index.js'
import type { TraceId } from '../../src/document/document.js'
import type { UiServer } from '../../src/ui/types.js'
import { makeDocument } from '../helpers/documents.js'
import { request } from '../ui/http.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const BIN = join(ROOT, 'dist', 'cli', 'tracellm.js')
const A = 'aaaaaaaa000000000000000000000001' as TraceId
const B = 'bbbbbbbb000000000000000000000002' as TraceId

let directory: string
let db: string

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'tracellm-cli-ui-'))
  db = join(directory, 'traces.db')
  const sink = sqliteSink({ path: db })
  await sink.write([makeDocument({ traceId: A }), makeDocument({ traceId: B, startedAt: '2026-11-25T00:00:00.000Z' })])
  sink.close()
})

afterAll(() => {
  rmSync(directory, { recursive: true, force: true })
})

interface UiRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  /** What `use` returned while the viewer ran. */
  readonly seen: unknown
}

/** Runs `tracellm ui …args` in-process; `use` gets the running server, and the command stops when it resolves. */
async function ui(args: ReadonlyArray<string>, use: (server: UiServer) => Promise<unknown> = async () => undefined): Promise<UiRun> {
  let stdout = ''
  let stderr = ''
  let seen: unknown
  let stop: () => void = () => undefined
  const stopped = new Promise<void>((resolve) => { stop = resolve })
  const io: CliIo = {
    stdout: { write: (chunk: string) => { stdout += chunk; return true } },
    stderr: { write: (chunk: string) => { stderr += chunk; return true } },
    env: {},
    uiStopped: stopped,
    onUiListening: (server) => { void use(server).then((value) => { seen = value }, (error: unknown) => { seen = error }).finally(stop) },
  }
  const code = await main(['ui', ...args], io)
  return { code, stdout, stderr, seen }
}

describe('tracellm ui', () => {
  it('prints its URL and store, serves the API read-only, and exits 0 when stopped', async () => {
    const result = await ui(['--db', db, '--port', '0'], async (server) => (await request(server.port, '/api/traces')).json())

    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`^tracellm ui: http://127\\.0\\.0\\.1:\\d+ \\(store ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, read-only\\)\\n$`))
    expect(result.stderr).toBe('')
    expect((result.seen as { items: unknown[] }).items).toHaveLength(2)
  })

  it('prints the URL with the launch token in its fragment with --token', async () => {
    const result = await ui(['--db', db, '--port', '0', '--token'], async (server) => (await request(server.port, '/api/traces')).status)

    expect(result.stdout).toMatch(/^tracellm ui: http:\/\/127\.0\.0\.1:\d+\/#t=[A-Za-z0-9_-]{43} \(store .*, read-only, token required\)\n$/)
    expect(result.seen).toBe(403)
  })

  it('fails with one line naming --port when the port is busy', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    try {
      const result = await ui(['--db', db, '--port', String((blocker.address() as { port: number }).port)])
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^tracellm: port \d+ is already in use on 127\.0\.0\.1; pass --port <n> to use another one, or --port 0 for a free one\n$/)
    } finally {
      blocker.close()
    }
  })

  it('answers a missing store as every command does', async () => {
    const result = await ui(['--db', join(directory, 'none.db'), '--port', '0'])

    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^tracellm: no trace store at .*none\.db; run `npx tracellm demo`/)
  })

  it.each([
    [['--host', '0.0.0.0'], /--allow-remote/],
    [['--port', 'http'], /--port/],
    [['--port', '70000'], /--port/],
    [['--file', 'x.jsonl', '--db', 'y.db'], /--file or --db/],
  ])('refuses %j as a usage error (exit 2)', async (args, message) => {
    const result = await ui(['--db', db, ...args])

    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.stderr.split('\n')).toHaveLength(2)
  })

  it('views a JSONL export with --file, read-only', async () => {
    const file = join(directory, 'export.jsonl')
    writeFileSync(file, `${JSON.stringify(toWire(makeDocument({ traceId: A })))}\n${JSON.stringify(toWire(makeDocument({ traceId: B })))}\n`)
    const result = await ui(['--file', file, '--port', '0'], async (server) => (await request(server.port, '/api/traces')).json())

    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`(store ${file} (imported, 2 documents), read-only)`)
    expect((result.seen as { items: Array<{ traceId: string }> }).items.map((item) => item.traceId).sort()).toEqual([A, B])
  })

  it('views a JSON array export with --file too', async () => {
    const file = join(directory, 'export.json')
    writeFileSync(file, JSON.stringify([toWire(makeDocument({ traceId: A }))], null, 2))
    const result = await ui(['--file', file, '--port', '0'], async (server) => (await request(server.port, '/api/traces/count')).json())

    expect(result.seen).toEqual({ count: 1 })
    expect(result.stdout).toContain('(imported, 1 document)')
  })

  it('reports a writable store with --write and serves the CSRF token', async () => {
    const result = await ui(['--db', db, '--port', '0', '--write'], async (server) => (await request(server.port, '/api/meta')).json())

    expect(result.stdout).toMatch(/, writable\)\n$/)
    expect(result.seen).toMatchObject({ readOnly: false, csrfToken: expect.any(String) })
  })

  it('names the line of an export that is not a document', async () => {
    const file = join(directory, 'broken.jsonl')
    writeFileSync(file, `${JSON.stringify(toWire(makeDocument()))}\n{"schema_version": 2}\n`)
    const result = await ui(['--file', file, '--port', '0'])

    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^tracellm: --file .*broken\.jsonl: The export .*broken\.jsonl holds an invalid document on line 2: Expected `schema_version` to be 1/)
  })

  it('is listed in the help now that its pages exist', async () => {
    let stdout = ''
    await main(['--help'], { stdout: { write: (chunk: string) => { stdout += chunk; return true } }, stderr: { write: () => true }, env: {} })

    expect(stdout).toContain('list')
    expect(stdout).toMatch(/^\s+ui\b/m)
  })
})

describe('tracellm ui (bin)', () => {
  it('serves until Ctrl-C, then closes cleanly with exit code 0', async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`)
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
    delete env.TRACELLM_DB
    const child = spawn(process.execPath, [BIN, 'ui', '--db', db, '--port', '0'], { cwd: directory, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${stderr}`)), 10_000)
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        const match = /http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)
        if (match !== null) { clearTimeout(timer); resolve(Number(match[1])) }
      })
    })
    try {
      const reply = await request(port, '/api/meta')
      expect(reply.json()).toMatchObject({ readOnly: true, store: { kind: 'sqlite' } })
      // the built client (dist/ui/client) is the page, at / and at every client route
      for (const path of ['/', `/trace/${'a'.repeat(32)}`]) {
        const page = await request(port, path)
        expect(page.status).toBe(200)
        expect(page.headers['content-type']).toMatch(/^text\/html/)
        expect(page.body).toContain('<script type="module" src="/app.js"></script>')
      }
    } finally {
      child.kill('SIGINT')
    }
    let timer: NodeJS.Timeout | undefined
    const code = await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), 5000) })])
    clearTimeout(timer)
    if (code === 'timeout') child.kill('SIGKILL')

    expect(code).toBe(0)
    expect(stderr).toBe('')
  })
})
