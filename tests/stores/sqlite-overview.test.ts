// The SQLite store's overview (docs/stores.md#overview) beyond the store-viewer contract: a store in a
// file reads it on a worker thread, an imported export (in memory) on this one; both give the same tables.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from '@jest/globals'
import type { TraceDocument } from '../../src/document/document.js'
import { toWire } from '../../src/document/wire.js'
import { sqliteSink } from '../../src/index.js'
import { openImportedStore, openStore } from '../../src/stores/open-store.js'
import { makeDocument, makeStep, stepIdOf, traceIdOf } from '../helpers/documents.js'

let dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })))
  dirs = []
})

function documents(): TraceDocument[] {
  return [
    makeDocument({ traceId: traceIdOf(0x7001), prompt: 'a', startedAt: '2026-11-24T10:00:01.000Z', steps: [
      makeStep({ durationMs: 4 }),
      makeStep({ stepId: stepIdOf(2), seq: 1, name: 'llm', model: 'm', usage: { inputTokens: 7, outputTokens: 3 }, costUsd: 0.5, status: 'error', error: { type: 'E', message: 'x' }, retries: 1, attempts: 2 }),
    ] }),
    makeDocument({ traceId: traceIdOf(0x7002), prompt: 'b', startedAt: '2026-11-24T10:00:02.000Z', steps: [makeStep({ durationMs: 8 })] }),
  ]
}

describe('the SQLite store overview', () => {
  it('gives the same tables from a file (read on a worker thread) and from an imported export (in memory)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracellm-overview-'))
    dirs.push(dir)
    const path = join(dir, 'traces.db')
    const sink = sqliteSink({ path })
    await sink.write(documents())
    sink.close()
    const exported = join(dir, 'export.jsonl')
    await writeFile(exported, documents().map((doc) => JSON.stringify(toWire(doc)) + '\n').join(''))

    const file = await openStore(path, { readOnly: true })
    const imported = await openImportedStore(exported)
    try {
      const fromFile = await file.overview()
      const fromMemory = await imported.overview()

      expect(fromFile).toEqual(fromMemory)
      expect(fromFile).toEqual({
        failingSteps: [{ name: 'llm', steps: 1, errors: 1 }],
        slowestSteps: [{ name: 'search', steps: 2, p50Ms: 6, p95Ms: 7.8 }, { name: 'llm', steps: 1, p50Ms: 3.2, p95Ms: 3.2 }],
        mostRetried: [{ name: 'llm', steps: 1, retriedSteps: 1, retries: 1 }],
        byModel: [{ name: 'm', count: 1, inputTokens: 7, outputTokens: 3, costUsd: 0.5 }],
        byPrompt: [{ name: 'a', count: 1, inputTokens: 0, outputTokens: 0, costUsd: null }, { name: 'b', count: 1, inputTokens: 0, outputTokens: 0, costUsd: null }],
      })
      expect(await file.overview({ since: '2026-11-24T10:00:02.000Z' })).toMatchObject({ failingSteps: [], byPrompt: [{ name: 'b', count: 1 }] })
      expect(await imported.overview({ since: '2026-11-24T10:00:02.000Z' })).toMatchObject({ failingSteps: [], byPrompt: [{ name: 'b', count: 1 }] })
    } finally {
      await file.close()
      await imported.close()
    }
  })

  it('rejects with a clear error when the worker cannot read the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracellm-overview-'))
    dirs.push(dir)
    const path = join(dir, 'traces.db')
    const sink = sqliteSink({ path })
    await sink.write(documents())
    sink.close()
    const store = await openStore(path, { readOnly: true })
    try {
      await rm(path)
      await expect(store.overview()).rejects.toThrow(/Cannot read the overview of the trace store/)
    } finally {
      await store.close()
    }
  })
})
