// Replay of a trace written to PostgreSQL and read back through openStore (the store's JSONB round trip).
import { afterEach, beforeEach, expect, it } from '@jest/globals'
import { configure, flush, memorySink, trace, traceTool } from '../../src/index.js'
import { expectReplayToMatch } from '../../src/replay/testing.js'
import { postgresSink } from '../../src/stores/postgres/sink.js'
import { openStore } from '../../src/stores/open-store.js'
import { describePostgres, usePostgresDatabase } from '../helpers/postgres.js'

describePostgres('replay through the PostgreSQL store', () => {
  const database = usePostgresDatabase()
  let sink: ReturnType<typeof memorySink>

  beforeEach(() => {
    sink = memorySink()
  })

  afterEach(() => {
    configure({ sinks: [] })
  })

  it('replays a stored document with no tool body running', async () => {
    const store = postgresSink({ connectionString: database.url() })
    configure({ sinks: [store, sink], queue: { scheduleDelayMs: 0 } })
    let bodies = 0
    const search = traceTool({ name: 'search', kind: 'retriever' })(async (q: string) => { bodies++; return { hits: [q, `${q}!`], score: 0.5 } })
    const fail = traceTool({ name: 'check' })((hits: string[]) => { bodies++; if (hits.length > 1) throw new RangeError('too many hits'); return hits })
    const run = trace({ prompt: 'pg-replay' })(async (q: string) => {
      const { hits } = await search(q)
      try {
        return fail(hits)
      } catch (error) {
        return `recovered: ${(error as Error).message}`
      }
    })
    await run('q')
    await flush()
    await store.close()
    bodies = 0

    const reader = await openStore(database.url())
    const [summary] = (await reader.list({ prompt: 'pg-replay' })).items
    const stored = await reader.get(summary!.traceId)
    await reader.close()
    configure({ sinks: [sink], queue: { scheduleDelayMs: 0 } })
    const result = await expectReplayToMatch(stored!, run)

    expect(bodies).toBe(0)
    expect(result.value).toBe('recovered: too many hits')
  })
})
