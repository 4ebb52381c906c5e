// The `tracellm` command, run in-process through `main` against real SQLite stores in a temporary
// directory. Every error path is checked for its exit code and for exactly one line on stderr.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { expectOneLineError, run } from '../helpers/cli.js'
import { displayWidth, formatLocalTime } from '../../src/cli/format.js'
import { openStore, sqliteSink, toWire, type TraceDocument, type TraceId } from '../../src/index.js'
import { makeDocument, makeDocuments, makeStep, stepIdOf, traceIdOf } from '../helpers/documents.js'
import { ragDocument } from '../fixtures/cli-documents.js'

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[/

async function seed(path: string, docs: ReadonlyArray<TraceDocument>): Promise<void> {
  const sink = sqliteSink({ path })
  await sink.write(docs)
  sink.close()
}

/** The three traces most tests read, newest first: c0ffee00, a1b2ffff, a1b2c3d4 (two share `a1b2`). */
const RAG = ragDocument('a1b2c3d4e5f60718293a4b5c6d7e8f90')
const SUMMARIZE = makeDocument({
  traceId: 'a1b2ffff000000000000000000000001' as TraceId,
  prompt: 'summarize',
  project: 'default',
  environment: 'test',
  startedAt: '2026-11-24T11:00:00.000Z',
  endedAt: '2026-11-24T11:00:00.012Z',
})
const NEEDLE = makeDocument({
  traceId: 'c0ffee00000000000000000000000002' as TraceId,
  prompt: 'answer_question',
  modelName: 'gpt-4o',
  project: 'rag-service',
  environment: 'production',
  input: ['where is the needle?'],
  startedAt: '2026-11-24T12:00:00.000Z',
  endedAt: '2026-11-24T12:00:00.012Z',
})

let directory: string
let db: string

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'tracellm-cli-'))
  db = join(directory, 'traces.db')
  await seed(db, [RAG, SUMMARIZE, NEEDLE])
})

afterEach(() => {
  rmSync(directory, { recursive: true, force: true })
})

/** The short ids of a `list` table, top to bottom. */
function listedIds(stdout: string): string[] {
  return stdout.split('\n').slice(1).map((line) => /^\S+ \S+ {2}([0-9a-f]{8})\b/.exec(line)?.[1]).filter((id): id is string => id !== undefined)
}

describe('tracellm', () => {
  it('prints help with every command on --help', async () => {
    const result = await run(['--help'])

    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    for (const command of ['demo', 'list', 'show', 'export', 'prune', 'stats']) expect(result.stdout).toMatch(new RegExp(`^ {2}${command}\\b`, 'm'))
  })

  it('prints the package version on --version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

    expect(await run(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' })
  })

  it('prints a command help on `<command> --help`', async () => {
    const result = await run(['list', '--help'])

    expect(result.code).toBe(0)
    expect(result.stdout).toContain('--status <status>')
    expect(result.stdout).toContain('--since <when>')
  })

  it('prints the help on stderr and exits with 2 without a command', async () => {
    const result = await run([])

    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('Usage: tracellm')
  })

  it('rejects an unknown command with a suggestion on one line', async () => {
    const result = await run(['lst'])

    expectOneLineError(result, 2)
    expect(result.stderr).toBe("tracellm: unknown command 'lst' (Did you mean list?)\n")
  })

  it('rejects an unknown option', async () => {
    const result = await run(['list', '--db', db, '--colour'])

    expectOneLineError(result, 2)
    expect(result.stderr).toContain("unknown option '--colour'")
  })

  it('accepts --db before the command', async () => {
    const result = await run(['--db', db, 'list'])

    expect(listedIds(result.stdout)).toEqual(['c0ffee00', 'a1b2ffff', 'a1b2c3d4'])
  })

  it('reads the store from TRACELLM_DB without --db', async () => {
    const result = await run(['list'], { env: { TRACELLM_DB: db } })

    expect(listedIds(result.stdout)).toEqual(['c0ffee00', 'a1b2ffff', 'a1b2c3d4'])
  })

  it('rejects an empty --db', async () => {
    expectOneLineError(await run(['list', '--db', '']), 2)
  })

  it('never prints the password of a postgres URL', async () => {
    const result = await run(['stats', '--db', 'postgres://tracer:hunter2@127.0.0.1:1/traces'])

    expectOneLineError(result, 1)
    expect(result.stderr).not.toContain('hunter2')
  })

  it('reports a file that is not a trace store on one line', async () => {
    const bogus = join(directory, 'not-a-db.txt')
    writeFileSync(bogus, 'hello, this is not SQLite '.repeat(100))

    const result = await run(['list', '--db', bogus])

    expectOneLineError(result, 1)
    expect(result.stderr).toContain(`cannot open the trace store ${bogus}`)
  })
})

describe('tracellm list', () => {
  it('prints a table of traces, newest first', async () => {
    const result = await run(['list', '--db', db])

    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    expect(result.stdout.split('\n')[0]).toMatch(/^time\s+id\s+prompt\s+status\s+duration\s+steps\s+retries\s+tokens$/)
    expect(listedIds(result.stdout)).toEqual(['c0ffee00', 'a1b2ffff', 'a1b2c3d4'])
  })

  it('shows local time, status, duration, steps, retries and tokens per trace', async () => {
    const result = await run(['list', '--db', db])

    const row = result.stdout.split('\n').find((line) => line.includes('a1b2c3d4'))
    expect(row).toBe(`${formatLocalTime(RAG.startedAt)}  a1b2c3d4  answer_question  ✗ error    100.0 ms      4        2  120+48`)
  })

  it('filters by status', async () => {
    expect(listedIds((await run(['list', '--db', db, '--status', 'error'])).stdout)).toEqual(['a1b2c3d4'])
  })

  it('filters by project and environment', async () => {
    const result = await run(['list', '--db', db, '--project', 'rag-service', '--env', 'production'])

    expect(listedIds(result.stdout)).toEqual(['c0ffee00', 'a1b2c3d4'])
  })

  it('accepts --environment for --env', async () => {
    expect(listedIds((await run(['list', '--db', db, '--environment', 'test'])).stdout)).toEqual(['a1b2ffff'])
  })

  it('filters by prompt and by model', async () => {
    expect(listedIds((await run(['list', '--db', db, '--prompt', 'summarize'])).stdout)).toEqual(['a1b2ffff'])
    expect(listedIds((await run(['list', '--db', db, '--model', 'gpt-4o'])).stdout)).toEqual(['c0ffee00'])
  })

  it('filters by a time range', async () => {
    const result = await run(['list', '--db', db, '--since', '2026-11-24T10:30:00Z', '--until', '2026-11-24T11:30:00Z'])

    expect(listedIds(result.stdout)).toEqual(['a1b2ffff'])
  })

  it('searches the text of the traces', async () => {
    expect(listedIds((await run(['list', '--db', db, '--search', 'NEEDLE'])).stdout)).toEqual(['c0ffee00'])
  })

  it('keeps the filters in the command that fetches the next page', async () => {
    const first = await run(['list', '--db', db, '--limit', '1', '--project', 'rag-service'])
    const hint = /^more: npx tracellm list --db \S+ --project rag-service --limit 1 --cursor (\S+)$/m.exec(first.stdout)

    const second = await run(['list', '--db', db, '--limit', '1', '--project', 'rag-service', '--cursor', hint?.[1] ?? ''])
    expect(listedIds(first.stdout)).toEqual(['c0ffee00'])
    expect(listedIds(second.stdout)).toEqual(['a1b2c3d4'])
  })

  it('pages with the printed --cursor until the last page', async () => {
    const first = await run(['list', '--db', db, '--limit', '2'])
    const hint = /^more: npx tracellm list --db (\S+) --limit 2 --cursor (\S+)$/m.exec(first.stdout)

    expect(listedIds(first.stdout)).toEqual(['c0ffee00', 'a1b2ffff'])
    expect(hint?.[1]).toBe(db)
    const second = await run(['list', '--db', db, '--limit', '2', '--cursor', hint?.[2] ?? ''])
    expect(listedIds(second.stdout)).toEqual(['a1b2c3d4'])
    expect(second.stdout).not.toContain('more:')
  })

  it('prints the page as JSON with --json', async () => {
    const result = await run(['list', '--db', db, '--limit', '2', '--json'])

    const page = JSON.parse(result.stdout) as { items: Array<{ traceId: string; stepCount: number }>; nextCursor: string | null }
    expect(page.items.map((item) => item.traceId)).toEqual([NEEDLE.traceId, SUMMARIZE.traceId])
    expect(page.items[0]).toMatchObject({ prompt: 'answer_question', status: 'success', stepCount: 1, modelName: 'gpt-4o' })
    expect(typeof page.nextCursor).toBe('string')
  })

  it('says how to record a trace when the store is empty', async () => {
    const empty = join(directory, 'empty.db')
    await (await openStore(empty, { create: true })).close()

    const result = await run(['list', '--db', empty])

    expect(result).toEqual({ code: 0, stdout: `No traces yet in ${empty}. Run \`npx tracellm demo\` to record one.\n`, stderr: '' })
  })

  it('says so when no trace matches the filters', async () => {
    const result = await run(['list', '--db', db, '--prompt', 'nothing-like-this'])

    expect(result).toEqual({ code: 0, stdout: 'No traces match these filters.\n', stderr: '' })
  })

  it('fails on one line, without creating it, when there is no store at the path', async () => {
    const missing = join(directory, 'missing', 'traces.db')

    const result = await run(['list', '--db', missing])

    expectOneLineError(result, 1)
    expect(result.stderr).toBe(`tracellm: no trace store at ${missing}; run \`npx tracellm demo\` or trace something first\n`)
    expect(existsSync(missing)).toBe(false)
  })

  it('rejects a status other than success or error', async () => {
    const result = await run(['list', '--db', db, '--status', 'maybe'])

    expectOneLineError(result, 2)
    expect(result.stderr).toContain("option '--status <status>' argument 'maybe' is invalid")
  })

  it('rejects a limit of 0 and one above 500', async () => {
    expectOneLineError(await run(['list', '--db', db, '--limit', '0']), 2)
    expectOneLineError(await run(['list', '--db', db, '--limit', '501']), 2)
    expectOneLineError(await run(['list', '--db', db, '--limit', '2.5']), 2)
  })

  it('rejects a --since that is neither a duration nor a date', async () => {
    const result = await run(['list', '--db', db, '--since', 'yesterdayish'])

    expectOneLineError(result, 2)
    expect(result.stderr).toContain("argument 'yesterdayish' is invalid")
  })

  it('accepts a duration such as 7d for --since', async () => {
    const result = await run(['list', '--db', db, '--since', '7d'])

    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
  })

  it('rejects a cursor that no page printed', async () => {
    expectOneLineError(await run(['list', '--db', db, '--cursor', 'bm90LWEtY3Vyc29y']), 1)
    expectOneLineError(await run(['list', '--db', db, '--cursor', 'not a cursor!']), 2)
  })

  it('prints no ANSI codes when stdout is not a terminal', async () => {
    expect((await run(['list', '--db', db])).stdout).not.toMatch(ANSI)
  })

  it('colours the table on a terminal', async () => {
    expect((await run(['list', '--db', db], { isTTY: true })).stdout).toMatch(ANSI)
  })

  it('prints no colours on a terminal when NO_COLOR is set', async () => {
    expect((await run(['list', '--db', db], { isTTY: true, env: { NO_COLOR: '1' } })).stdout).not.toMatch(ANSI)
  })
})

describe('tracellm show', () => {
  it('prints the header and the step tree of a trace given by its full id', async () => {
    const result = await run(['show', RAG.traceId, '--db', db])

    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    expect(result.stdout).toMatch(/^answer_question {2}✗ error {2}100\.0 ms\n/)
    expect(result.stdout).toContain(`  id        ${RAG.traceId}`)
    expect(result.stdout).toContain('  project   rag-service / production')
    expect(result.stdout).toMatch(/^├─ retrieve\s+retriever\s+✓\s+40\.0 ms\s+█+$/m)
    expect(result.stdout).toMatch(/^│ {2}└─ search\s+retriever\s+✓\s+20\.0 ms\s+█+$/m)
    expect(result.stdout).toContain('↻ 2 retries (3 attempts)')
    expect(result.stdout).toContain('✗ RateLimitError: slow down')
  })

  it('says "-" for the tokens of a trace without usage, as list does, and "in / out" for one with', async () => {
    const listed = (await run(['list', '--db', db])).stdout.split('\n')
    const none = (await run(['show', SUMMARIZE.traceId, '--db', db])).stdout
    const some = (await run(['show', RAG.traceId, '--db', db])).stdout

    expect(listed.find((line) => line.includes('a1b2ffff'))).toMatch(/ {2}-$/)
    expect(none).toMatch(/^ {2}tokens {4}-$/m)
    expect(listed.find((line) => line.includes('a1b2c3d4'))).toMatch(/ {2}120\+48$/)
    expect(some).toMatch(/^ {2}tokens {4}120 in \/ 48 out$/m)
  })

  it('finds a trace by a unique prefix of its id', async () => {
    const result = await run(['show', 'c0ff', '--db', db])

    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`  id        ${NEEDLE.traceId}`)
  })

  it('accepts an id in upper case', async () => {
    expect((await run(['show', 'C0FFEE00', '--db', db])).stdout).toContain(`  id        ${NEEDLE.traceId}`)
  })

  it('lists the matches of an ambiguous prefix on one line', async () => {
    const result = await run(['show', 'a1b2', '--db', db])

    expectOneLineError(result, 1)
    expect(result.stderr).toContain('ambiguous id a1b2')
    expect(result.stderr).toContain(SUMMARIZE.traceId)
    expect(result.stderr).toContain(RAG.traceId)
    expect(result.stdout).toBe('')
  })

  it('fails on one line for an unknown id', async () => {
    const result = await run(['show', 'deadbeef', '--db', db])

    expectOneLineError(result, 1)
    expect(result.stderr).toBe(`tracellm: no trace with an id starting with deadbeef in ${db}\n`)
  })

  it('fails on one line for an unknown full id', async () => {
    const result = await run(['show', traceIdOf(0xdead), '--db', db])

    expectOneLineError(result, 1)
    expect(result.stderr).toContain(`no trace with id ${traceIdOf(0xdead)}`)
  })

  it('rejects an id shorter than 4 characters or not hex', async () => {
    expectOneLineError(await run(['show', 'a1b', '--db', db]), 2)
    expectOneLineError(await run(['show', 'zzzzzzzz', '--db', db]), 2)
  })

  it('requires an id', async () => {
    const result = await run(['show', '--db', db])

    expectOneLineError(result, 2)
    expect(result.stderr).toContain("missing required argument 'id'")
  })

  it('prints the whole stored document with --json', async () => {
    const result = await run(['show', 'a1b2c3', '--db', db, '--json'])

    expect(JSON.parse(result.stdout)).toEqual(JSON.parse(JSON.stringify(toWire(RAG))))
  })

  it('fits the tree into the terminal width', async () => {
    const result = await run(['show', RAG.traceId, '--db', db], { columns: 70 })

    expect(Math.max(...result.stdout.split('\n').map(displayWidth))).toBeLessThanOrEqual(70)
  })

  it('prints inputs and outputs whole with --full', async () => {
    const result = await run(['show', RAG.traceId, '--db', db, '--full'])

    expect(result.stdout).toContain('x'.repeat(500))
  })

  it('prints no ANSI codes when stdout is not a terminal, and colours on a terminal', async () => {
    expect((await run(['show', RAG.traceId, '--db', db])).stdout).not.toMatch(ANSI)
    expect((await run(['show', RAG.traceId, '--db', db], { isTTY: true })).stdout).toMatch(ANSI)
  })

  it('fails on one line when there is no store', async () => {
    expectOneLineError(await run(['show', RAG.traceId, '--db', join(directory, 'nope.db')]), 1)
  })
})

describe('a trace continued across services', () => {
  // service A (rag-api) called service B (search) from its step `call_search`; B continued the trace
  const TRACE = 'b0b0b0b0000000000000000000000003' as TraceId
  const A = makeDocument({
    traceId: TRACE,
    rootSpanId: stepIdOf(0xa0),
    prompt: 'answer_question',
    project: 'rag-api',
    startedAt: '2026-11-24T13:00:00.000Z',
    endedAt: '2026-11-24T13:00:00.100Z',
    durationMs: 100,
    costUsd: 0.002,
    steps: [makeStep({ stepId: stepIdOf(0xa1), name: 'call_search', startedAt: '2026-11-24T13:00:00.010Z', durationMs: 80 })],
  })
  const B = makeDocument({
    traceId: TRACE,
    rootSpanId: stepIdOf(0xb0),
    parentTraceId: TRACE,
    parentStepId: stepIdOf(0xa1),
    prompt: 'search_handler',
    project: 'search',
    startedAt: '2026-11-24T13:00:00.020Z',
    endedAt: '2026-11-24T13:00:00.080Z',
    durationMs: 60,
    costUsd: 0.001,
    steps: [makeStep({ stepId: stepIdOf(0xb1), name: 'bm25', startedAt: '2026-11-24T13:00:00.030Z', durationMs: 20 })],
  })

  beforeEach(async () => {
    await seed(db, [B, A])
  })

  it('lists both documents, the continued one marked, with a cost column', async () => {
    const result = await run(['list', '--db', db, '--project', 'search'])

    expect(result.code).toBe(0)
    expect(result.stdout.split('\n')[0]).toMatch(/\bcost$/)
    expect(result.stdout).toMatch(/b0b0b0b0 {2}↳ search_handler .* \$0\.0010\n?$/)
    expect((await run(['list', '--db', db, '--project', 'rag-api'])).stdout).toMatch(/b0b0b0b0 {2}answer_question /)
  })

  it('shows both services in one tree, B under the step of A that called it', async () => {
    const result = await run(['show', 'b0b0', '--db', db])

    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^answer_question {2}✓ success/)
    expect(result.stdout).toContain('  services  2 documents: answer_question (rag-api), search_handler (search)')
    expect(result.stdout).toContain('  cost      $0.0030')
    expect(result.stdout).toMatch(/^└─ call_search\s+tool\s+✓/m)
    expect(result.stdout).toMatch(/^ {3}└─ search_handler \(search\)\s+service\s+✓\s+60\.0 ms/m)
    expect(result.stdout).toMatch(/^ {6}└─ bm25\s+tool\s+✓/m)
  })

  it('exports every document of the trace for its id, and the first one with show --json', async () => {
    const exported = await run(['export', TRACE, '--db', db])
    expect(exported.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { prompt: string; root_span_id: string }).root_span_id)).toEqual([stepIdOf(0xa0), stepIdOf(0xb0)])

    const everything = await run(['export', '--db', db, '--format', 'json'])
    const prompts = (JSON.parse(everything.stdout) as Array<{ prompt: string; trace_id: string }>).filter((doc) => doc.trace_id === TRACE).map((doc) => doc.prompt)
    expect(prompts.sort()).toEqual(['answer_question', 'search_handler'])

    expect(JSON.parse((await run(['show', TRACE, '--db', db, '--json'])).stdout)).toEqual(JSON.parse(JSON.stringify(toWire(A))))
  })

  it('shows a continued document whose caller is not in the store with its caller span', async () => {
    const alone = join(directory, 'alone.db')
    await seed(alone, [B])

    const result = await run(['show', TRACE, '--db', alone])

    expect(result.stdout).toContain(`  caller    span ${stepIdOf(0xa1)} (another service, not in this store)`)
    expect(result.stdout).toMatch(/^└─ bm25\s+tool/m)
  })
})

describe('tracellm export', () => {
  /** The trace ids of JSON Lines output. */
  function jsonlIds(stdout: string): string[] {
    return stdout.split('\n').filter((line) => line !== '').map((line) => (JSON.parse(line) as { trace_id: string }).trace_id)
  }

  it('writes every trace as one snake_case document per line, newest first', async () => {
    const result = await run(['export', '--db', db])

    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    expect(jsonlIds(result.stdout)).toEqual([NEEDLE.traceId, SUMMARIZE.traceId, RAG.traceId])
    const last = JSON.parse(result.stdout.trimEnd().split('\n')[2] as string) as unknown
    expect(last).toEqual(JSON.parse(JSON.stringify(toWire(RAG))))
  })

  it('writes one JSON array with --format json', async () => {
    const result = await run(['export', '--db', db, '--format', 'json'])

    const docs = JSON.parse(result.stdout) as Array<{ schema_version: number; trace_id: string }>
    expect(docs.map((doc) => doc.trace_id)).toEqual([NEEDLE.traceId, SUMMARIZE.traceId, RAG.traceId])
    expect(docs.every((doc) => doc.schema_version === 1)).toBe(true)
  })

  it('writes an empty JSON array when nothing matches', async () => {
    expect((await run(['export', '--db', db, '--format', 'json', '--prompt', 'none'])).stdout).toBe('[]\n')
  })

  it('exports the given ids and prefixes, in the order given', async () => {
    const result = await run(['export', RAG.traceId, 'c0ff', '--db', db])

    expect(jsonlIds(result.stdout)).toEqual([RAG.traceId, NEEDLE.traceId])
  })

  it('exports only the traces matching the filters', async () => {
    expect(jsonlIds((await run(['export', '--db', db, '--status', 'success', '--project', 'default'])).stdout)).toEqual([SUMMARIZE.traceId])
  })

  it('writes to a file with mode 0600 with --out, and says how many', async () => {
    const out = join(directory, 'export.jsonl')

    const result = await run(['export', '--db', db, '--out', out])

    expect(result).toEqual({ code: 0, stdout: `exported 3 traces to ${out}\n`, stderr: '' })
    expect(jsonlIds(readFileSync(out, 'utf8'))).toEqual([NEEDLE.traceId, SUMMARIZE.traceId, RAG.traceId])
    expect(statSync(out).mode & 0o777).toBe(0o600)
  })

  it('fails on one line for an unknown id before writing anything', async () => {
    const out = join(directory, 'export.jsonl')

    const result = await run(['export', RAG.traceId, 'deadbeef', '--db', db, '--out', out])

    expectOneLineError(result, 1)
    expect(result.stdout).toBe('')
    expect(existsSync(out)).toBe(false)
  })

  it('rejects ids together with filters', async () => {
    expectOneLineError(await run(['export', RAG.traceId, '--status', 'error', '--db', db]), 2)
  })

  it('rejects an unknown format', async () => {
    const result = await run(['export', '--db', db, '--format', 'xml'])

    expectOneLineError(result, 2)
    expect(result.stderr).toContain('Allowed choices are json, jsonl')
  })

  it('pages through more traces than one page holds', async () => {
    const many = join(directory, 'many.db')
    await seed(many, makeDocuments(520))

    const result = await run(['export', '--db', many])

    expect(new Set(jsonlIds(result.stdout)).size).toBe(520)
  })

  it('draws a progress bar on stderr when it is a terminal', async () => {
    const many = join(directory, 'many.db')
    await seed(many, makeDocuments(60))

    const result = await run(['export', '--db', many], { stderrTTY: true })

    expect(result.stderr).toMatch(/^\rexport \[/)
    expect(result.stderr).toMatch(/60\/60 100%\u001b\[K\n$/)
    expect(result.stdout).not.toContain('\r')
    expect(jsonlIds(result.stdout)).toHaveLength(60)
  })

  it('draws no progress bar when stderr is not a terminal', async () => {
    const many = join(directory, 'many.db')
    await seed(many, makeDocuments(60))

    expect((await run(['export', '--db', many])).stderr).toBe('')
  })
})

describe('JSON output with terminal-active characters', () => {
  // C1 controls (U+009B is the 8-bit CSI), line separators, bidi overrides and isolates: JSON allows
  // them raw, a terminal acts on them (docs/reliability.md#files-exports-and-disk-space)
  const HOSTILE = 'a\u009b31mred\u0085\u2028\u2029\u202eevil\u2066iso\u2069\u200f end'
  // eslint-disable-next-line no-control-regex
  const RAW = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f]/
  const TRICKY = makeDocument({
    traceId: 'bad0bad0000000000000000000000003' as TraceId,
    prompt: 'hostile',
    input: [HOSTILE],
    output: { text: HOSTILE },
    startedAt: '2026-11-24T13:00:00.000Z',
    endedAt: '2026-11-24T13:00:00.012Z',
  })

  beforeEach(async () => {
    await seed(db, [TRICKY])
  })

  it('export escapes them as \\u009b and the like, and the lines parse back to the same strings', async () => {
    const result = await run(['export', '--db', db, 'bad0bad0'])

    expect(result.code).toBe(0)
    expect(result.stdout).not.toMatch(RAW)
    expect(result.stdout).toContain('\\u009b31mred')
    const doc = JSON.parse(result.stdout) as { input: unknown[]; output: { text: string } }
    expect([doc.input[0], doc.output.text]).toEqual([HOSTILE, HOSTILE])
  })

  it('export --format json and --out escape them too', async () => {
    const out = join(directory, 'out.json')

    const result = await run(['export', '--db', db, '--format', 'json', '--out', out, 'bad0bad0'])

    expect(result.code).toBe(0)
    const text = readFileSync(out, 'utf8')
    expect(text).not.toMatch(RAW)
    expect((JSON.parse(text) as Array<{ output: { text: string } }>)[0]?.output.text).toBe(HOSTILE)
  })

  it('show --json and list --json escape them', async () => {
    const shown = await run(['show', '--db', db, '--json', 'bad0bad0'])
    const listed = await run(['list', '--db', db, '--json', '--prompt', 'hostile'])

    expect(shown.stdout).not.toMatch(RAW)
    expect((JSON.parse(shown.stdout) as { input: unknown[] }).input[0]).toBe(HOSTILE)
    expect(listed.stdout).not.toMatch(RAW)
  })
})

describe('tracellm prune', () => {
  const remaining = async (): Promise<string[]> => listedIds((await run(['list', '--db', db])).stdout)

  it('requires --older-than', async () => {
    const result = await run(['prune', '--db', db, '--yes'])

    expectOneLineError(result, 2)
    expect(result.stderr).toContain("required option '--older-than <when>' not specified")
  })

  it('rejects an --older-than that is neither a duration nor a date', async () => {
    expectOneLineError(await run(['prune', '--db', db, '--older-than', 'soon', '--yes']), 2)
  })

  it('deletes the traces started before the given time with --yes', async () => {
    const result = await run(['prune', '--db', db, '--older-than', '2026-11-24T11:30:00Z', '--yes'])

    expect(result).toEqual({ code: 0, stdout: `Deleted 2 traces started before ${formatLocalTime('2026-11-24T11:30:00Z')}.\n`, stderr: '' })
    expect(await remaining()).toEqual(['c0ffee00'])
  })

  it('only counts with --dry-run', async () => {
    const result = await run(['prune', '--db', db, '--older-than', '2026-11-24T11:30:00Z', '--dry-run'])

    expect(result.stdout).toBe(`Would delete 2 traces started before ${formatLocalTime('2026-11-24T11:30:00Z')}.\n`)
    expect(await remaining()).toHaveLength(3)
  })

  it('refuses to delete without --yes when it cannot ask', async () => {
    const result = await run(['prune', '--db', db, '--older-than', '2026-11-24T11:30:00Z'])

    expectOneLineError(result, 1)
    expect(result.stderr).toContain('refusing to delete 2 traces')
    expect(await remaining()).toHaveLength(3)
  })

  it('deletes after a yes on the terminal', async () => {
    const result = await run(['prune', '--db', db, '--older-than', '2026-11-24T11:30:00Z'], { answer: 'y\n' })

    expect(result.code).toBe(0)
    expect(result.stderr).toContain('Delete 2 traces started before')
    expect(await remaining()).toEqual(['c0ffee00'])
  })

  it('deletes nothing after a no on the terminal', async () => {
    const result = await run(['prune', '--db', db, '--older-than', '2026-11-24T11:30:00Z'], { answer: 'n\n' })

    expect(result.stdout).toBe('Nothing deleted.\n')
    expect(await remaining()).toHaveLength(3)
  })

  it('says so when there is nothing to prune', async () => {
    const result = await run(['prune', '--db', db, '--older-than', '2026-01-01', '--yes'])

    expect(result).toEqual({ code: 0, stdout: `Nothing to prune: no traces started before ${formatLocalTime('2026-01-01')}.\n`, stderr: '' })
  })

  it('draws a progress bar on stderr when it is a terminal', async () => {
    const many = join(directory, 'many.db')
    await seed(many, makeDocuments(60))

    const result = await run(['prune', '--db', many, '--older-than', '2030-01-01', '--yes'], { stderrTTY: true })

    expect(result.stdout).toBe(`Deleted 60 traces started before ${formatLocalTime('2030-01-01')}.\n`)
    expect(result.stderr).toMatch(/^\rprune \[.*60\/60 100%\u001b\[K\n$/)
  })

  it('fails on one line when there is no store', async () => {
    expectOneLineError(await run(['prune', '--db', join(directory, 'nope.db'), '--older-than', '7d', '--yes']), 1)
  })

  describe('--vacuum', () => {
    const bytesOf = (file: string): number => statSync(file).size + (existsSync(file + '-wal') ? statSync(file + '-wal').size : 0)

    it('gives the space of the pruned traces back: the file shrinks', async () => {
      const big = join(directory, 'big.db')
      await seed(big, makeDocuments(1000, { metadata: { text: 'y'.repeat(4000) } }))
      await seed(big, [NEEDLE])
      const before = bytesOf(big)

      const result = await run(['prune', '--db', big, '--older-than', '2026-11-24T11:30:00Z', '--yes', '--vacuum'])

      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/^Deleted 1,000 traces started before .*\.\nVacuumed the store: \d+\.\d MiB → \d+(\.\d)? KiB\.\n$/)
      expect(bytesOf(big)).toBeLessThan(before / 10)
    })

    it('without --vacuum leaves the size as it was', async () => {
      const big = join(directory, 'big.db')
      await seed(big, makeDocuments(1000, { metadata: { text: 'y'.repeat(4000) } }))
      const before = bytesOf(big)

      await run(['prune', '--db', big, '--older-than', '2030-01-01', '--yes'])

      expect(bytesOf(big)).toBeGreaterThan(before * 0.9)
    })

    it('only says it would vacuum with --dry-run', async () => {
      const result = await run(['prune', '--db', db, '--older-than', '2026-11-24T11:30:00Z', '--dry-run', '--vacuum'])

      expect(result.stdout).toBe(`Would delete 2 traces started before ${formatLocalTime('2026-11-24T11:30:00Z')}, then vacuum.\n`)
    })
  })
})

describe('tracellm stats', () => {
  it('prints the totals of the store', async () => {
    const result = await run(['stats', '--db', db])

    expect(result.code).toBe(0)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines.slice(0, 5)).toEqual(['traces   3', 'steps    6', 'errors   1  (33% of traces)', 'retries  2', 'tokens   120 in / 48 out'])
    expect(lines).toContain(`oldest   ${formatLocalTime(RAG.startedAt)}`)
    expect(lines).toContain(`newest   ${formatLocalTime(NEEDLE.startedAt)}`)
    expect(lines.slice(-3)).toEqual(['projects', '  rag-service  2', '  default      1'])
  })

  it('prints the totals as JSON with --json', async () => {
    const result = await run(['stats', '--db', db, '--json'])

    expect(JSON.parse(result.stdout)).toEqual({
      traces: 3, steps: 6, errors: 1, retries: 2, inputTokens: 120, outputTokens: 48, costUsd: 0,
      oldest: RAG.startedAt, newest: NEEDLE.startedAt,
      projects: [{ project: 'rag-service', traces: 2 }, { project: 'default', traces: 1 }],
    })
  })

  it('fails on one line when there is no store', async () => {
    expectOneLineError(await run(['stats', '--db', join(directory, 'nope.db')]), 1)
  })
})

// The demo really waits (a 50 ms retry and a few ms of simulated latency): it runs as users run it.
describe('tracellm demo', () => {
  it('records a trace into the store that list and show then read', async () => {
    const store = join(directory, 'demo', 'traces.db')

    const demo = await run(['demo', '--db', store])
    const listed = listedIds((await run(['list', '--db', store])).stdout)
    const show = await run(['show', listed[0] ?? '', '--db', store])

    expect(demo.code).toBe(0)
    expect(demo.stderr).toBe('')
    expect(demo.stdout).toContain(`npx tracellm show ${listed[0] ?? ''}`)
    expect(listed).toHaveLength(1)
    expect(show.stdout).toMatch(/├─ fetch_citations\s+tool\s+✓/)
  })

  it('refuses a postgres URL', async () => {
    expectOneLineError(await run(['demo', '--db', 'postgres://localhost/traces']), 2)
  })
})

describe('tracellm index', () => {
  it('builds the text index with --text once; --search then uses it and find the same traces', async () => {
    const before = await run(['list', '--db', db, '--search', 'needle', '--json'])

    const first = await run(['index', '--db', db, '--text'])
    const second = await run(['index', '--db', db, '--text'])
    const after = await run(['list', '--db', db, '--search', 'needle', '--json'])

    expect([first.code, first.stdout]).toEqual([0, `text index created in ${db}\n`])
    expect([second.code, second.stdout]).toEqual([0, `the text index of ${db} already exists\n`])
    expect(after.stdout).toBe(before.stdout)
    expect((JSON.parse(after.stdout) as { items: unknown[] }).items).toHaveLength(1)
  })

  it('fails on one line without --text, and when there is no store', async () => {
    expectOneLineError(await run(['index', '--db', db]), 2)
    expectOneLineError(await run(['index', '--db', join(directory, 'nope.db'), '--text']), 1)
  })
})
