// An unindexed text search of a large SQLite store is split by rowid over one worker per core
// (docs/stores.md#text-search); each range's first rows are merged into the list's order. The documents
// are written out of time order, so that both ranges hold the newest matches, and the pages and counts
// must be those the documents say.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { TraceDocument } from '../../src/document/document.js'
import { openStore, sqliteSink, type TraceStore } from '../../src/index.js'
import { compareRows } from '../../src/stores/sqlite/reads.js'
import { makeDocument, traceIdOf } from '../helpers/documents.js'

// over SPLIT_SCAN_ROWS (20 000) in src/stores/sqlite/reads.ts
const COUNT = 20_400
const base = Date.UTC(2026, 10, 1)
// a permutation of the times: rowid order and time order disagree everywhere
const at = (n: number): number => (n * 7919) % COUNT
const docs: TraceDocument[] = Array.from({ length: COUNT }, (_, n) => makeDocument({
  traceId: traceIdOf(0x10000 + n), startedAt: new Date(base + at(n) * 1000).toISOString(), durationMs: (n * 37) % 1000,
  input: n % 97 === 5 ? `needle ${n}` : `hay ${n}`,
}))
const needles = docs.filter((doc) => String(doc.input).startsWith('needle'))

let directory: string
let store: TraceStore

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'tracellm-split-scan-'))
  const sink = sqliteSink({ path: join(directory, 'traces.db') })
  await sink.write(docs)
  sink.close()
  store = await openStore(join(directory, 'traces.db'))
}, 60_000)

afterAll(async () => {
  await store.close()
  rmSync(directory, { recursive: true, force: true })
})

describe('a split text scan', () => {
  it('pages newest first across both ranges, as the documents say', async () => {
    const expected = [...needles].sort((a, b) => b.startedAt.localeCompare(a.startedAt)).map((doc) => doc.traceId)
    const seen: string[] = []
    let cursor: string | undefined
    do {
      const page = await store.list({ text: 'needle', limit: 50, ...(cursor === undefined ? {} : { cursor }) })
      seen.push(...page.items.map((item) => item.traceId))
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    expect(needles.length).toBeGreaterThan(150)
    expect(seen).toEqual(expected)
    expect(await store.count({ text: 'needle' })).toBe(needles.length)
    expect(await store.count({ text: 'hay' })).toBe(COUNT - needles.length)
  })

  it('merges a sorted page (slowest) the same way', async () => {
    const page = await store.list({ text: 'needle', sort: 'slowest', limit: 20 })
    const expected = [...needles].sort((a, b) => b.durationMs - a.durationMs || b.startedAt.localeCompare(a.startedAt)).slice(0, 20)
    expect(page.items.map((item) => item.traceId)).toEqual(expected.map((doc) => doc.traceId))
  })
})

describe('compareRows', () => {
  it('orders as SQLite does: DESC, NULL below every value, then the next column', () => {
    const rows = [{ c: 1, t: 'a' }, { c: null, t: 'b' }, { c: 3, t: 'a' }, { c: 3, t: 'b' }]
    expect([...rows].sort(compareRows('c DESC NULLS LAST, t DESC'))).toEqual([{ c: 3, t: 'b' }, { c: 3, t: 'a' }, { c: 1, t: 'a' }, { c: null, t: 'b' }])
    expect([...rows].sort(compareRows('c, t'))).toEqual([{ c: null, t: 'b' }, { c: 1, t: 'a' }, { c: 3, t: 'a' }, { c: 3, t: 'b' }])
  })
})
