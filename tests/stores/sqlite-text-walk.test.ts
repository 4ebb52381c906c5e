// A page of a word most traces hold, with the SQLite text index (docs/stores.md#text-search): SQLite
// walks the traces newest first and tests each against the index's matches (whereClause's `walk`),
// instead of reading every match to sort them; the pages are those of the plain substring search.
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { TraceDocument } from '../../src/document/document.js'
import { openStore, sqliteSink, type TraceStore } from '../../src/index.js'
import { whereClause } from '../../src/stores/sqlite/reads.js'
import { createTextIndex } from '../../src/stores/open-store.js'
import { normalizeQuery } from '../../src/stores/query.js'
import { ftsQuery } from '../../src/stores/sqlite/text-index.js'
import { makeDocument, traceIdOf } from '../helpers/documents.js'

const COUNT = 2100
const base = Date.UTC(2026, 10, 1)
const docs: TraceDocument[] = Array.from({ length: COUNT }, (_, n) => makeDocument({
  traceId: traceIdOf(0x7000 + n), project: `p${n % 3}`, startedAt: new Date(base + n * 1000).toISOString(),
  input: n % 500 === 7 ? `a common and rare word ${n}` : n % 300 === 11 ? `commonly, a words-worth ${n}?` : `a common word ${n}`,
}))

let directory: string
let plain: TraceStore
let indexed: TraceStore

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'tracellm-text-walk-'))
  for (const name of ['plain.db', 'indexed.db']) {
    const sink = sqliteSink({ path: join(directory, name) })
    await sink.write(docs)
    sink.close()
  }
  plain = await openStore(join(directory, 'plain.db'))
  indexed = await openStore(join(directory, 'indexed.db'))
  await createTextIndex(indexed)
}, 60_000)

afterAll(async () => {
  await plain.close()
  await indexed.close()
  rmSync(directory, { recursive: true, force: true })
})

const ids = async (store: TraceStore, query: Parameters<TraceStore['list']>[0]) => {
  const first = await store.list(query)
  const second = first.nextCursor === null ? undefined : await store.list({ ...query, cursor: first.nextCursor })
  return [first.items.map((item) => item.traceId), second?.items.map((item) => item.traceId) ?? null]
}

describe('a common word with the text index', () => {
  it('pages as the substring search does, newest first, with filters, for a common and a rare word', async () => {
    for (const query of [
      { text: 'common' }, { text: 'COMMON word', project: 'p1' }, { text: 'rare' }, { text: 'common', limit: 7 },
      // whole words (followed by a space or a mark) and prefixes (ending the text)
      { text: 'common ' }, { text: 'commonly,' }, { text: 'word ' }, { text: 'words-' }, { text: 'word 1' }, { text: `worth ${0x7000 + 11}?` }, { text: 'rare word 7' },
    ]) {
      expect(await ids(indexed, query)).toEqual(await ids(plain, query))
    }
    const [first] = await ids(indexed, { text: 'common' })
    expect(first?.[0]).toBe(docs[COUNT - 1]!.traceId)
    expect(await indexed.count({ text: 'common' })).toBe(COUNT)
    expect(await indexed.count({ text: 'common ' })).toBe(await plain.count({ text: 'common ' }))
    expect(await indexed.count({ text: 'word ' })).toBe(await plain.count({ text: 'word ' }))
  })

  it('tests the matches row by row in the list\'s order when asked to walk', () => {
    const query = normalizeQuery({ text: 'common' })
    expect(whereClause(query, true, '"common"*', true).sql).toContain('+traces.rowid IN (SELECT rowid FROM traces_fts')
    expect(whereClause(query, true, '"common"*').sql).not.toContain('+traces.rowid')
  })
})

describe('the probe of the newest traces', () => {
  it('answers a page of a word many traces hold from the newest traces alone, without the index\'s matches', async () => {
    // a copy whose index has lost its rows: what it still finds, it found without FTS5
    const path = join(directory, 'probed.db')
    const sink = sqliteSink({ path })
    await sink.write(docs)
    sink.close()
    const probed = await openStore(path)
    try {
      await createTextIndex(probed)
      const raw = new (createRequire(import.meta.url)('better-sqlite3'))(path)
      raw.exec('DELETE FROM traces_fts')
      raw.close()
      expect(await ids(probed, { text: 'common', limit: 20 })).toEqual(await ids(plain, { text: 'common', limit: 20 }))
      expect(await ids(probed, { text: 'word', project: 'p2' })).toEqual(await ids(plain, { text: 'word', project: 'p2' }))
      // a rare word does not fill a page among the newest 1 000: the index is asked, and has nothing
      expect((await probed.list({ text: 'rare' })).items).toEqual([])
    } finally {
      await probed.close()
    }
  })
})

describe('ftsQuery', () => {
  it('makes a word the text ends a prefix, and a word a space or a mark ends a whole word', () => {
    expect(ftsQuery('dolor')).toBe('"dolor"*')
    expect(ftsQuery('item 42?')).toBe('"item" "42"')
    expect(ftsQuery('gpt-4o')).toBe('"gpt" "4o"*')
    expect(ftsQuery('"x" OR y*')).toBe('"x" "OR" "y"')
    expect(ftsQuery('naïve café')).toBe('"naïve" "café"*')
    expect(ftsQuery('?!')).toBeUndefined()
  })
})
