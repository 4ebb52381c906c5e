import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { runDemo } from '../../src/cli/demo.js'
import { openStore } from '../../src/stores/open-store.js'
import { shape } from '../helpers/memory.js'

/** A writable that keeps what it is given, as text. */
function collect(): { readonly stream: Writable; readonly text: () => string } {
  let text = ''
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      text += chunk.toString()
      callback()
    },
  })
  return { stream, text: () => text }
}

// The demo really waits (50 ms for its one retry, a few ms of simulated latency): it is the program
// users run, so it runs here as it is, without fake timers.
describe('runDemo', () => {
  let directory: string
  let path: string

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'tracellm-demo-'))
    path = join(directory, 'traces.db')
  })

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true })
  })

  it('records the RAG pipeline as a tree of steps', async () => {
    const doc = await runDemo({ path, out: collect().stream })

    expect(doc).toMatchObject({ prompt: 'answer_question', modelName: 'fake-llm-1', tags: ['demo'], status: 'success' })
    expect(shape(doc)).toEqual([
      'retrieve',
      'retrieve > search_shard',
      'retrieve > search_shard',
      'retrieve > search_shard',
      'rerank',
      'fetch_citations',
      'generate',
    ])
    expect(doc.steps.map((step) => step.kind)).toEqual(['retriever', 'retriever', 'retriever', 'retriever', 'reranker', 'tool', 'llm'])
    expect(doc.steps.find((step) => step.name === 'generate')).toMatchObject({ model: 'fake-llm-1', status: 'success' })
  })

  it('records the flaky tool as succeeding on its second attempt', async () => {
    const doc = await runDemo({ path, out: collect().stream })

    const citations = doc.steps.find((step) => step.name === 'fetch_citations')
    expect(citations).toMatchObject({
      status: 'success',
      attempts: 2,
      retries: 1,
      attemptErrors: [{ attempt: 1, error: { type: 'Error', message: expect.stringContaining('citation service unavailable') } }],
    })
    expect(doc.retryCount).toBeGreaterThanOrEqual(1)
  })

  it('runs the three shard searches concurrently under retrieve', async () => {
    const doc = await runDemo({ path, out: collect().stream })

    const retrieve = doc.steps.find((step) => step.name === 'retrieve')
    const shards = doc.steps.filter((step) => step.name === 'search_shard')
    expect(shards).toHaveLength(3)
    expect(shards.every((step) => step.parentStepId === retrieve?.stepId)).toBe(true)
    // every shard started before the first one ended
    const lastStart = Math.max(...shards.map((step) => Date.parse(step.startedAt)))
    const firstEnd = Math.min(...shards.map((step) => Date.parse(step.endedAt)))
    expect(lastStart).toBeLessThanOrEqual(firstEnd)
  })

  it('writes the same trace to the SQLite store', async () => {
    const doc = await runDemo({ path, out: collect().stream })

    const store = await openStore(path)
    const page = await store.list()
    const stored = await store.get(doc.traceId)
    await store.close()
    expect(page.items.map((item) => item.traceId)).toEqual([doc.traceId])
    expect(stored).toEqual(doc)
  })

  it('prints the tree, then the trace id and the file', async () => {
    const out = collect()
    const doc = await runDemo({ path, out: out.stream })

    const lines = out.text().trimEnd().split('\n')
    expect(out.text()).not.toMatch(/\u001b\[/)
    expect(lines.some((line) => line.startsWith('answer_question') && line.includes(doc.traceId.slice(0, 8)))).toBe(true)
    expect(lines.some((line) => line.includes('fetch_citations') && line.includes('retries 1'))).toBe(true)
    expect(lines.filter((line) => line.includes('search_shard'))).toHaveLength(3)
    expect(lines.slice(-4)).toEqual([
      `trace ${doc.traceId} written to ${path}`,
      `see it again:  npx tracellm list --db ${JSON.stringify(path)}`,
      `               npx tracellm show ${doc.traceId.slice(0, 8)} --db ${JSON.stringify(path)}`,
      `in a browser:  npx tracellm ui --db ${JSON.stringify(path)}   then http://127.0.0.1:7317/trace/${doc.traceId}`,
    ])
  })
})
