// Every equality filter of the list reads its own index in the list's order (docs/stores.md, the
// viewer's list page: server p95 ≤ 50 ms on 100 000 traces), replayOf included: without an index,
// `list({ replayOf })` read every row (300 ms on 100 000 traces) on the event loop.
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type BetterSqlite3 from 'better-sqlite3'
import { sqliteSink } from '../../src/index.js'
import { SUMMARY_COLUMNS, whereClause } from '../../src/stores/sqlite/reads.js'
import { normalizeQuery, ORDER_BY } from '../../src/stores/query.js'
import type { ListQuery } from '../../src/stores/types.js'
import { makeDocument, traceIdOf } from '../helpers/documents.js'

const Driver = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3
let directory: string
let db: BetterSqlite3.Database

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'tracellm-indexes-'))
  const sink = sqliteSink({ path: join(directory, 'traces.db') })
  await sink.write([makeDocument({ traceId: traceIdOf(2) })])
  sink.close()
  db = new Driver(join(directory, 'traces.db'), { readonly: true })
})

afterAll(() => {
  db?.close()
  rmSync(directory, { recursive: true, force: true })
})

const plan = (query: ListQuery): string => {
  const clause = whereClause(normalizeQuery(query), true)
  const sql = 'EXPLAIN QUERY PLAN SELECT ' + SUMMARY_COLUMNS + ' FROM traces' + clause.sql + ' ORDER BY ' + ORDER_BY.newest + ' LIMIT 51'
  return (db.prepare(sql).all(...clause.params) as Array<{ detail: string }>).map((row) => row.detail).join('; ')
}

describe('the list\'s indexes', () => {
  it.each([
    [{ project: 'shop' }, 'traces_project_started'],
    [{ environment: 'prod' }, 'traces_environment_started'],
    [{ prompt: 'answer' }, 'traces_prompt_started'],
    [{ modelName: 'gpt-4o' }, 'traces_model_name_started'],
    [{ status: 'error' }, 'traces_status_started'],
    [{ replayOf: traceIdOf(1) }, 'traces_replay_of_started'],
  ] as Array<[ListQuery, string]>)('%j reads %s, in the list\'s order', (query, index) => {
    const detail = plan(query)
    expect(detail).toContain(`USING INDEX ${index}`)
    expect(detail).not.toContain('TEMP B-TREE')
  })
})
