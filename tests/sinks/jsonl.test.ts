import { describe, expect, it, jest } from '@jest/globals'
import { promises as fs } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { fromWire } from '../../src/document/wire.js'
import type { TraceDocument } from '../../src/document/document.js'
import { jsonlSink } from '../../src/sinks/jsonl.js'
import { runSinkContract } from '../contracts/sink.contract.js'
import { makeDocument, makeDocuments } from '../helpers/documents.js'

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tracellm-jsonl-'))
}

async function readLines(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return ''
    throw error
  })
  return text === '' ? [] : text.replace(/\n$/, '').split('\n')
}

async function readDocuments(file: string): Promise<TraceDocument[]> {
  return (await readLines(file)).map((line) => fromWire(JSON.parse(line)))
}

runSinkContract('jsonlSink', async () => {
  const dir = await tempDir()
  const file = join(dir, 'nested', 'traces.jsonl')
  return {
    sink: jsonlSink({ path: file }),
    readBack: () => readDocuments(file),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
})

describe('jsonlSink', () => {
  it('writes one snake_case JSON document per line', async () => {
    const dir = await tempDir()
    const file = join(dir, 'traces.jsonl')
    const doc = makeDocument({ modelName: 'gpt-4o', retryCount: 1 })

    await jsonlSink({ path: file }).write(Object.freeze([doc, makeDocument()]))

    const lines = await readLines(file)
    expect(lines).toHaveLength(2)
    const stored = JSON.parse(lines[0] as string) as Record<string, unknown>
    expect(stored).toMatchObject({ schema_version: 1, trace_id: doc.traceId, model_name: 'gpt-4o', retry_count: 1, duration_ms: 12.34 })
    expect(stored).not.toHaveProperty('traceId')
    expect((stored.steps as Array<Record<string, unknown>>)[0]).toMatchObject({ step_id: doc.steps[0]?.stepId, parent_step_id: null, attempt_errors: [] })
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps a line separator inside strings escaped, so every line is one document', async () => {
    const dir = await tempDir()
    const file = join(dir, 'traces.jsonl')

    await jsonlSink({ path: file }).write(Object.freeze([makeDocument({ prompt: 'a\nb\r\nc' }), makeDocument()]))

    const lines = await readLines(file)
    expect(lines).toHaveLength(2)
    expect(JSON.parse(lines[0] as string)).toMatchObject({ prompt: 'a\nb\r\nc' })
    await rm(dir, { recursive: true, force: true })
  })

  it('never appends a document twice: writeSync (the exit hook) skips what write already appended (docs/reliability.md#delivery-what-is-never-lost)', async () => {
    const dir = await tempDir()
    const file = join(dir, 'traces.jsonl')
    try {
      const sink = jsonlSink({ path: file })
      const first = Object.freeze(makeDocuments(5))
      const second = Object.freeze(makeDocuments(3))

      await sink.write(first)
      // the exit hook hands over a batch whose write already ran, plus one that never started
      sink.writeSync(Object.freeze([...first, ...second]))

      const lines = await readLines(file)
      expect(lines).toHaveLength(8)
      expect(new Set(lines.map((line) => (JSON.parse(line) as { trace_id: string }).trace_id)).size).toBe(8)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('does not touch the file system for an empty batch', async () => {
    const dir = await tempDir()
    const file = join(dir, 'sub', 'traces.jsonl')

    await jsonlSink({ path: file }).write(Object.freeze([]))

    await expect(stat(join(dir, 'sub'))).rejects.toMatchObject({ code: 'ENOENT' })
    await rm(dir, { recursive: true, force: true })
  })

  it('creates the parent directory on the first write, not at creation', async () => {
    const dir = await tempDir()
    const file = join(dir, 'a', 'b', 'traces.jsonl')

    const sink = jsonlSink({ path: file })
    await expect(stat(join(dir, 'a'))).rejects.toMatchObject({ code: 'ENOENT' })
    await sink.write(Object.freeze(makeDocuments(1)))

    expect((await stat(join(dir, 'a', 'b'))).isDirectory()).toBe(true)
    expect(await readLines(file)).toHaveLength(1)
    await rm(dir, { recursive: true, force: true })
  })

  it('creates the file with mode 0600', async () => {
    const dir = await tempDir()
    const file = join(dir, 'traces.jsonl')

    await jsonlSink({ path: file }).write(Object.freeze(makeDocuments(1)))

    expect((await stat(file)).mode & 0o777).toBe(0o600)
    await rm(dir, { recursive: true, force: true })
  })

  it('appends to an existing file', async () => {
    const dir = await tempDir()
    const file = join(dir, 'traces.jsonl')
    await jsonlSink({ path: file }).write(Object.freeze(makeDocuments(1)))

    await jsonlSink({ path: file }).write(Object.freeze(makeDocuments(2)))

    expect(await readLines(file)).toHaveLength(3)
    await rm(dir, { recursive: true, force: true })
  })

  it('never interleaves concurrent writes', async () => {
    const dir = await tempDir()
    const file = join(dir, 'traces.jsonl')
    const sink = jsonlSink({ path: file })
    const big = 'x'.repeat(200_000)
    const docs = makeDocuments(6, { output: big })

    await Promise.all([sink.write(Object.freeze(docs.slice(0, 3))), sink.write(Object.freeze(docs.slice(3)))])

    expect((await readDocuments(file)).map((doc) => doc.prompt)).toEqual(docs.map((doc) => doc.prompt))
    await rm(dir, { recursive: true, force: true })
  })

  it('rejects (for the queue to retry) when the path cannot be written, and succeeds later', async () => {
    const dir = await tempDir()
    const blocker = join(dir, 'blocker')
    await fs.writeFile(blocker, 'a file where a directory should be')
    const sink = jsonlSink({ path: join(blocker, 'traces.jsonl') })

    await expect(sink.write(Object.freeze(makeDocuments(1)))).rejects.toThrow()
    await rm(blocker)
    await sink.write(Object.freeze(makeDocuments(1)))

    expect(await readLines(join(blocker, 'traces.jsonl'))).toHaveLength(1)
    await rm(dir, { recursive: true, force: true })
  })

  it('writes synchronously with writeSync, creating the directory and the file (mode 0600)', async () => {
    const dir = await tempDir()
    const file = join(dir, 'exit', 'traces.jsonl')
    const docs = makeDocuments(2)

    jsonlSink({ path: file }).writeSync(Object.freeze(docs))

    expect(await readDocuments(file)).toEqual(docs)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    await rm(dir, { recursive: true, force: true })
  })

  it('shows only its path in String() and util.inspect()', () => {
    const sink = jsonlSink({ path: '/tmp/x/traces.jsonl' })

    expect(String(sink)).toBe('jsonlSink(/tmp/x/traces.jsonl)')
    expect(`${sink}`).toBe('jsonlSink(/tmp/x/traces.jsonl)')
    expect(inspect(sink)).toBe('jsonlSink(/tmp/x/traces.jsonl)')
    expect(inspect({ sinks: [sink] })).toContain('jsonlSink(/tmp/x/traces.jsonl)')
  })

  it.each([
    ['no options', undefined],
    ['no path', {}],
    ['an empty path', { path: '' }],
    ['a blank path', { path: '   ' }],
    ['a non-string path', { path: 42 }],
  ])('throws a TypeError at creation for %s', (_label, options) => {
    expect(() => jsonlSink(options as { path: string })).toThrow(TypeError)
  })

  it('is named "jsonl"', () => {
    expect(jsonlSink({ path: 'x.jsonl' }).name).toBe('jsonl')
  })
})
