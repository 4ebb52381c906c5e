// `tracellm replay` and `tracellm diff`, run in-process through `main` against a real SQLite store in a
// temporary directory. The recorded traces come from a fixture pipeline built from the built package
// (`npm test` builds first), so the command imports a module that uses another copy of tracellm than
// the command itself, as a pipeline bundling its own copy would; one test runs the built bin, where
// both are the same copy. Every error path is checked for its exit code and for one line on stderr.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { expectOneLineError as expectCliError, run, type Result } from '../helpers/cli.js'
import { openStore, sqliteSink, type TraceDocument, type TraceId } from '../../src/index.js'
import { makeDocument, makeStep, traceIdOf } from '../helpers/documents.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const BIN = join(ROOT, 'dist', 'cli', 'tracellm.js')
const PIPELINE = join(ROOT, 'tests', 'fixtures', 'cli-replay-pipeline.mjs')
const BROKEN = join(ROOT, 'tests', 'fixtures', 'cli-replay-broken.mjs')

interface Fixture {
  readonly bodies: Map<string, number>
  record(path: string, pipeline: 'answer' | 'answerPrivately' | 'crawl', ...args: unknown[]): Promise<TraceDocument>
}

/** The error contract (one line `tracellm: …`, no stack trace), and nothing on stdout. */
function expectOneLineError(result: Result, code: number): void {
  expectCliError(result, code)
  expect(result.stdout).toBe('')
}

/** `tracellm replay <id> --db <db> --module <pipeline> --export <name> ...rest`. */
function replayArgs(id: string, name: string, ...rest: string[]): string[] {
  return ['replay', id, '--db', db, '--module', PIPELINE, '--export', name, ...rest]
}

async function seed(docs: ReadonlyArray<TraceDocument>): Promise<void> {
  const sink = sqliteSink({ path: db })
  await sink.write(docs)
  sink.close()
}

async function stored(traceId: string): Promise<TraceDocument | undefined> {
  const store = await openStore(db)
  try {
    return await store.get(traceId)
  } finally {
    await store.close()
  }
}

let fixture: Fixture
let directory: string
let db: string
/** A run of `answer('What is RAG?')`, recorded for real. */
let recorded: TraceDocument

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first')
  fixture = (await import(pathToFileURL(PIPELINE).href)) as Fixture
})

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'tracellm-cli-replay-'))
  db = join(directory, 'traces.db')
  recorded = await fixture.record(db, 'answer', 'What is RAG?')
  fixture.bodies.clear()
})

afterEach(() => {
  rmSync(directory, { recursive: true, force: true })
})

describe('tracellm replay', () => {
  it('exits with 0 and prints the tree and "matches" when the replay matches, without running a tool body', async () => {
    const result = await run(replayArgs(recorded.traceId.slice(0, 8), 'answer'))

    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(fixture.bodies.size).toBe(0)
    expect(result.stdout).toMatch(/^replaying [0-9a-f]{8} \(answer\) through answer from .*cli-replay-pipeline\.mjs, every tool call answered from the record$/m)
    expect(result.stdout).toMatch(/^answer {2}✓ success/m)
    expect(result.stdout).toMatch(/^ {2}replay of +[0-9a-f]{32}$/m)
    expect(result.stdout).toMatch(/^diff \(recorded → replay\)\n= answer /m)
    expect(result.stdout).toMatch(/^├─ search\s+retriever\s+✓/m)
    expect(result.stdout).toMatch(/^└─ generate\s+llm\s+✓/m)
    expect(result.stdout).toMatch(/^= answer .*no differences, 2 same$/m)
    expect(result.stdout).toContain('✓ the replay matches the record')
    expect(result.stdout).not.toContain('mismatches')
  })

  it('exits with 0 when a failed trace replays with the same error, without running the tool body', async () => {
    const failed = await fixture.record(db, 'crawl', 'https://example.test')
    fixture.bodies.clear()

    const result = await run(replayArgs(failed.traceId, 'crawl'))

    expect(failed.status).toBe('error')
    expect(fixture.bodies.size).toBe(0)
    expect(result.stdout).toMatch(/^= crawl .*no differences, 1 same$/m)
    expect(result.stdout).toContain('✓ the replay matches the record')
    expect(result.code).toBe(0)
  })

  it('stores the replay trace, with replay_of, where `list` and `show` find it', async () => {
    const result = await run([...replayArgs(recorded.traceId, 'answer'), '--json'])
    const { replay_trace_id: replayId } = JSON.parse(result.stdout) as { replay_trace_id: string }

    const listed = JSON.parse((await run(['list', '--db', db, '--json'])).stdout) as { items: Array<{ traceId: string; project: string }> }
    const shown = JSON.parse((await run(['show', replayId, '--db', db, '--json'])).stdout) as { replay_of?: string }

    expect(result.code).toBe(0)
    expect(result.stdout).not.toBe('')
    expect(listed.items.map((item) => item.traceId)).toEqual(expect.arrayContaining([recorded.traceId, replayId]))
    expect(listed.items.find((item) => item.traceId === replayId)?.project).toBe(recorded.project)
    expect(shown.replay_of).toBe(recorded.traceId)
  })

  it('exits with 1 and shows the changed JSON path when the code now returns something else', async () => {
    const result = await run(replayArgs(recorded.traceId, 'answerShouting'))

    expect(result.code).toBe(1)
    expect(result.stderr).toBe('')
    expect(result.stdout).toMatch(/^~ answer .*0 changed, 0 added, 0 removed, 2 same$/m)
    expect(result.stdout).toMatch(/^ {4}output \$\.text: "What is RAG\? retrieves documents, and… → "WHAT IS RAG\? RETRIEVES DOCUMENTS, AND…$/m)
    expect(result.stdout).toContain("✗ the replay differs from the record: the trace's output changed")
  })

  it('exits with 1 and names the tool when the code makes a call the record does not hold', async () => {
    const result = await run(replayArgs(recorded.traceId, 'answerSearchingTwice'))

    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/^mismatches \(1\)\n {2}✗ Replay mismatch at search call #2: expected 1 call\(s\) of this tool, got call #2\.$/m)
    expect(result.stdout).toMatch(/^answer {2}✗ error/m)
    expect(result.stdout).toContain('✗ the replay differs from the record: 1 mismatched call; 1 recorded call never made; status success → error')
    expect(fixture.bodies.size).toBe(0)
  })

  it('exits with 1 and lists the recorded calls the code no longer makes', async () => {
    const result = await run(replayArgs(recorded.traceId, 'answerWithoutModel'))

    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/^recorded calls never made \(1\)\n {2}- generate call #1$/m)
    expect(result.stdout).toMatch(/^- generate$/m)
    expect(result.stdout).toMatch(/✗ the replay differs from the record: 1 recorded call never made; the trace's output changed; steps: 1 removed$/m)
  })

  it('runs the tools not named by --tools for real with --mode partial', async () => {
    const result = await run(replayArgs(recorded.traceId, 'answer', '--mode', 'partial', '--tools', 'search'))

    expect(result.code).toBe(0)
    expect(Object.fromEntries(fixture.bodies)).toEqual({ generate: 1 })
    expect(result.stdout).toContain('search answered from the record, the other tools live')
  })

  it('implies --mode partial with --tools', async () => {
    const result = await run(replayArgs(recorded.traceId, 'answer', '--tools', 'generate'))

    expect(result.code).toBe(0)
    expect(Object.fromEntries(fixture.bodies)).toEqual({ search: 1 })
  })

  it('reports a different tool input as a mismatch with --match-input', async () => {
    const changed = await run(replayArgs(recorded.traceId, 'answer', '--args', '["What is HNSW?"]', '--match-input'))
    const lenient = await run(replayArgs(recorded.traceId, 'answer', '--args', '["What is HNSW?"]'))

    expect(changed.code).toBe(1)
    expect(changed.stdout).toMatch(/^ {2}✗ Replay mismatch at search call #1: expected input \["What is RAG\?"\], got input \["What is HNSW\?"\]\.$/m)
    expect(lenient.code).toBe(1)
    expect(lenient.stdout).not.toContain('mismatches')
    expect(lenient.stdout).toMatch(/^ {4}input \$\[0\]: "What is RAG\?" → "What is HNSW\?"$/m)
  })

  it('replays a trace recorded without its input with --args, and asks for them without', async () => {
    const hidden = await fixture.record(db, 'answerPrivately', 'What is RAG?')

    const withArgs = await run(replayArgs(hidden.traceId, 'answerPrivately', '--args', '["What is RAG?"]'))
    const without = await run(replayArgs(hidden.traceId, 'answerPrivately'))

    expect(withArgs.code).toBe(0)
    expect(withArgs.stdout).toContain('✓ the replay matches the record')
    expectOneLineError(without, 2)
    expect(without.stderr).toContain("has no recorded argument list (recorded with captureInput: false or mapInput): pass the arguments with --args '[...]'")
  })

  it('prints {ok, equal, mismatches, unused, replay_trace_id, diff} with --json', async () => {
    const matching = await run([...replayArgs(recorded.traceId, 'answer'), '--json'])
    const mismatching = await run([...replayArgs(recorded.traceId, 'answerSearchingTwice'), '--json'])

    expect(matching.code).toBe(0)
    expect(JSON.parse(matching.stdout)).toEqual({
      ok: true,
      equal: true,
      status: { recorded: 'success', replay: 'success' },
      mismatches: [],
      unused: [],
      recorded_trace_id: recorded.traceId,
      replay_trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      stored: true,
      diff: {
        equal: true,
        a: recorded.traceId,
        b: expect.stringMatching(/^[0-9a-f]{32}$/),
        summary: { added: 0, removed: 0, changed: 0, same: 2 },
        trace: { status: 'same', changes: [], durationRatio: expect.any(Number) },
        steps: [
          { path: 'search[0]', name: 'search', status: 'same', changes: [], durationRatio: expect.any(Number) },
          { path: 'generate[0]', name: 'generate', status: 'same', changes: [], durationRatio: expect.any(Number) },
        ],
      },
    })
    expect(mismatching.code).toBe(1)
    expect(JSON.parse(mismatching.stdout)).toMatchObject({
      ok: false,
      equal: false,
      status: { recorded: 'success', replay: 'error' },
      mismatches: ['Replay mismatch at search call #2: expected 1 call(s) of this tool, got call #2.'],
      unused: [{ name: 'generate', position: 0 }],
    })
  })

  it('fails with 2 naming the export and the exports available when the export is missing', async () => {
    const result = await run(replayArgs(recorded.traceId, 'anwser'))

    expectOneLineError(result, 2)
    expect(result.stderr).toMatch(/^tracellm: --export anwser: .*cli-replay-pipeline\.mjs has no export named "anwser"; its exports: .*\banswer, answerPrivately\b.*\bsettings\b/)
  })

  it('fails with 2 when the export is not a function, naming the functions there are', async () => {
    const result = await run(replayArgs(recorded.traceId, 'settings'))

    expectOneLineError(result, 2)
    expect(result.stderr).toMatch(/^tracellm: --export settings: expected a function \(the trace-wrapped pipeline\), got an object; the functions .* exports: answer, /)
    expect(result.stderr).not.toMatch(/exports: [^\n]*\bsettings\b/)
  })

  it('fails with 2 when the export starts no trace', async () => {
    const result = await run(replayArgs(recorded.traceId, 'untraced'))

    expectOneLineError({ ...result, stdout: result.stdout.replace(/^replaying [^\n]+\n\n/, '') }, 2)
    expect(result.stderr).toMatch(/^tracellm: cannot replay [0-9a-f]{8} \(answer\) through --export untraced: replay\(\): the function started no trace\./)
  })

  it('fails with 2 on --args that are not a JSON array', async () => {
    const broken = await run(replayArgs(recorded.traceId, 'answer', '--args', '["What is RAG?"'))
    const notArray = await run(replayArgs(recorded.traceId, 'answer', '--args', '"What is RAG?"'))

    expectOneLineError(broken, 2)
    expect(broken.stderr).toContain("option '--args <json>' argument '[\"What is RAG?\"' is invalid. Expected a JSON array of arguments")
    expectOneLineError(notArray, 2)
    expect(notArray.stderr).toContain('got a string.')
  })

  it('fails with 2 on --tools the record does not hold, and on --mode and --tools that do not fit', async () => {
    const typo = await run(replayArgs(recorded.traceId, 'answer', '--tools', 'serch'))
    const recordedWithTools = await run(replayArgs(recorded.traceId, 'answer', '--mode', 'recorded', '--tools', 'search'))
    const partialWithout = await run(replayArgs(recorded.traceId, 'answer', '--mode', 'partial'))

    expectOneLineError(typo, 2)
    expect(typo.stderr).toMatch(/^tracellm: --tools: trace [0-9a-f]{8} recorded no call of "serch"; its tools: search, generate\n$/)
    expectOneLineError(recordedWithTools, 2)
    expect(recordedWithTools.stderr).toBe('tracellm: --tools only applies with --mode partial\n')
    expectOneLineError(partialWithout, 2)
    expect(partialWithout.stderr).toBe('tracellm: --mode partial needs --tools: the tools answered from the record\n')
    expect(fixture.bodies.size).toBe(0)
  })

  it('fails with 2 without --module or --export, or with no file at --module', async () => {
    const noModule = await run(['replay', recorded.traceId, '--db', db, '--export', 'answer'])
    const noExport = await run(['replay', recorded.traceId, '--db', db, '--module', PIPELINE])
    const noFile = await run(['replay', recorded.traceId, '--db', db, '--module', join(directory, 'missing.mjs'), '--export', 'answer'])

    expectOneLineError(noModule, 2)
    expect(noModule.stderr).toContain("required option '--module <file>' not specified")
    expectOneLineError(noExport, 2)
    expect(noExport.stderr).toContain("required option '--export <name>' not specified")
    expectOneLineError(noFile, 2)
    expect(noFile.stderr).toMatch(/^tracellm: --module: no file at .*missing\.mjs\n$/)
  })

  it('fails with 1 when the module throws while it loads', async () => {
    const result = await run(['replay', recorded.traceId, '--db', db, '--module', BROKEN, '--export', 'answer'])

    expectOneLineError(result, 1)
    expect(result.stderr).toMatch(/^tracellm: cannot import .*cli-replay-broken\.mjs: the pipeline module failed to load\n$/)
  })

  it('fails with 1 on an unknown id, before importing the module', async () => {
    const result = await run(['replay', 'deadbeef', '--db', db, '--module', BROKEN, '--export', 'answer'])

    expectOneLineError(result, 1)
    expect(result.stderr).toMatch(/^tracellm: no trace with an id starting with deadbeef in /)
  })

  it('runs as the built bin, where the pipeline and the command share one copy of tracellm', () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`)
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
    delete env.TRACELLM_DB

    const result = spawnSync(process.execPath, [BIN, ...replayArgs(recorded.traceId, 'answer'), '--json'], { cwd: directory, env, encoding: 'utf8', timeout: 15_000 })
    const json = JSON.parse(result.stdout) as { ok: boolean; replay_trace_id: string }

    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(json.ok).toBe(true)
    return expect(stored(json.replay_trace_id)).resolves.toMatchObject({ replayOf: recorded.traceId })
  })
})

describe('tracellm diff', () => {
  it('exits with 0 and says so for two runs of the same pipeline on the same input', async () => {
    const again = await fixture.record(db, 'answer', 'What is RAG?')

    const result = await run(['diff', recorded.traceId.slice(0, 8), again.traceId.slice(0, 8), '--db', db])

    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^= answer {2}\([0-9a-f]{8} → [0-9a-f]{8}\)  .*no differences, 2 same$/m)
    expect(result.stdout).toMatch(/^= search\b/m)
  })

  it('exits with 1 and prints the changed paths for runs on different inputs', async () => {
    const other = await fixture.record(db, 'answer', 'What is HNSW?')

    const result = await run(['diff', recorded.traceId, other.traceId, '--db', db])

    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/^~ answer .*2 changed, 0 added, 0 removed, 0 same$/m)
    expect(result.stdout).toMatch(/^ {4}output \$\.text: "What is RAG\? retrieves documents, and… → "What is HNSW\? retrieves documents, an…$/m)
    expect(result.stdout).toMatch(/^ {4}input \$\[0\]: "What is RAG\?" → "What is HNSW\?"$/m)
    expect(result.stdout).toMatch(/^~ search\b/m)
    expect(result.stdout).toMatch(/^ {6}output \$\[0\]\.text: "What is RAG\? retrieves documents" → "What is HNSW\? retrieves documents"$/m)
  })

  it('prints the comparison as JSON with --json, with the exit code of the verdict', async () => {
    const other = await fixture.record(db, 'answer', 'What is HNSW?')

    const result = await run(['diff', recorded.traceId, other.traceId, '--db', db, '--json', '--ignore', 'input'])
    const json = JSON.parse(result.stdout) as { equal: boolean; a: string; b: string; summary: unknown; steps: Array<{ path: string; status: string; changes: Array<{ field: string; path?: string }> }> }

    expect(result.code).toBe(1)
    expect(json).toMatchObject({ equal: false, a: recorded.traceId, b: other.traceId, summary: { added: 0, removed: 0, changed: 2, same: 0 } })
    expect(json.steps.map((step) => [step.path, step.status])).toEqual([['search[0]', 'changed'], ['generate[0]', 'changed']])
    expect(json.steps[0]?.changes).toEqual([
      { field: 'output', path: '$[0].text', before: 'What is RAG? retrieves documents', after: 'What is HNSW? retrieves documents' },
    ])
  })

  it('counts a slower step as changed only with --duration-ratio', async () => {
    const fast = makeDocument({ traceId: traceIdOf(0xa1) as TraceId, steps: [makeStep({ durationMs: 10 })] })
    const slow = makeDocument({ traceId: traceIdOf(0xa2) as TraceId, steps: [makeStep({ durationMs: 25 })] })
    await seed([fast, slow])

    const lenient = await run(['diff', fast.traceId, slow.traceId, '--db', db])
    const strict = await run(['diff', fast.traceId, slow.traceId, '--db', db, '--duration-ratio', '2'])

    expect(lenient.code).toBe(0)
    expect(lenient.stdout).toMatch(/^= search {2}×2\.5$/m)
    expect(strict.code).toBe(1)
    expect(strict.stdout).toMatch(/^~ search {2}×2\.5$/m)
  })

  it('fails with one line and the right code on an unknown id or an invalid option', async () => {
    const unknown = await run(['diff', recorded.traceId, 'deadbeef', '--db', db])
    const ratio = await run(['diff', recorded.traceId, recorded.traceId, '--db', db, '--duration-ratio', '0.5'])
    const ignore = await run(['diff', recorded.traceId, recorded.traceId, '--db', db, '--ignore', 'output'])
    const missing = await run(['diff', recorded.traceId, '--db', db])

    expectOneLineError(unknown, 1)
    expect(unknown.stderr).toMatch(/^tracellm: no trace with an id starting with deadbeef in /)
    expectOneLineError(ratio, 2)
    expect(ratio.stderr).toContain('Expected a number of at least 1')
    expectOneLineError(ignore, 2)
    expect(ignore.stderr).toContain('Expected a comma-separated list of duration, input, metadata.')
    expectOneLineError(missing, 2)
    expect(missing.stderr).toContain("missing required argument 'b'")
  })
})
