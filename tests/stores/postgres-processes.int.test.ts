// Several processes, one database (docs/postgres.md): four children of the built package start at
// once, each racing to apply the migrations and then writing 1000 traces through configure(), trace()
// and shutdown(). Every trace arrives exactly once and the migrations run once.
import { expect, it } from '@jest/globals'
import { fileURLToPath } from 'node:url'
import { runNodeFile, type ChildResult } from '../helpers/child.js'
import { describePostgres, sql, usePostgresDatabase } from '../helpers/postgres.js'
import { MIGRATIONS } from '../../src/stores/postgres/migrations.js'

const fixture = fileURLToPath(new URL('../fixtures/pg-writer.mjs', import.meta.url))
const database = usePostgresDatabase()

function runWriter(env: Record<string, string>): Promise<ChildResult> {
  return runNodeFile(fixture, env, 60_000)
}

describePostgres('postgresSink from several processes', () => {
  it('stores 4 × 1000 traces written at once by 4 processes, each once, migrating once', async () => {
    const url = database.url()
    const schema = 'shared'

    const results = await Promise.all([1, 2, 3, 4].map((n) => runWriter({ PG_URL: url, PG_SCHEMA: schema, WRITER: 'w' + n, TRACE_COUNT: '1000' })))

    for (const result of results) {
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' })
      expect(JSON.parse(result.stdout)).toMatchObject({ flushed: 1000, dropped: 0, pending: 0, timedOut: false })
    }
    const [counts] = await sql(url, 'SELECT count(*)::int AS traces, count(DISTINCT trace_id)::int AS distinct_traces, (SELECT count(*)::int FROM shared.steps) AS steps FROM shared.traces')
    expect(counts).toEqual({ traces: 4000, distinct_traces: 4000, steps: 4000 })
    const perWriter = await sql(url, "SELECT tags->>0 AS writer, count(*)::int AS n FROM shared.traces GROUP BY 1 ORDER BY 1")
    expect(perWriter).toEqual([1, 2, 3, 4].map((n) => ({ writer: 'w' + n, n: 1000 })))
    expect(await sql(url, 'SELECT version FROM shared.tracellm_migrations ORDER BY version')).toEqual(MIGRATIONS.map(({ version }) => ({ version })))
  }, 90_000)
})
