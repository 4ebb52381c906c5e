// A PostgreSQL store in a schema of its own (docs/stores.md#postgresql-schema): what
// `postgresSink({ schema })` writes, `openStore(url, { schema })`, a URL's `?schema=` and the CLI's
// `--db postgres://…?schema=…` read. Before, `openStore` dropped its options on PostgreSQL and looked
// for the tables in the search_path's schema.
import { afterEach, describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { openStore } from '../../src/stores/open-store.js'
import { postgresSink } from '../../src/stores/postgres/sink.js'
import { makeDocument } from '../helpers/documents.js'
import { run } from '../helpers/cli.js'
import { describePostgres, sql, usePostgresDatabase } from '../helpers/postgres.js'

const database = usePostgresDatabase()
const cleanups: Array<() => Promise<unknown>> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A schema of this file's database, dropped after the test. */
function newSchema(): string {
  const schema = 'x_' + randomBytes(5).toString('hex')
  cleanups.push(() => sql(database.url(), 'DROP SCHEMA IF EXISTS ' + schema + ' CASCADE'))
  return schema
}

/** One document written by `postgresSink({ connectionString, schema })`. */
async function written(connectionString: string, schema?: string): Promise<ReturnType<typeof makeDocument>> {
  const sink = postgresSink({ connectionString, ...(schema === undefined ? {} : { schema }) })
  const doc = makeDocument()
  try {
    await sink.write([doc])
  } finally {
    await sink.close()
  }
  return doc
}

/** `url` with `?schema=<schema>` (or `&schema=` when it has a query already). */
function withSchema(url: string, schema: string): string {
  return url + (url.includes('?') ? '&' : '?') + 'schema=' + schema
}

describePostgres('a PostgreSQL store in its own schema', () => {
  describe('openStore', () => {
    it('reads with { schema } what postgresSink({ schema }) wrote', async () => {
      const schema = newSchema()
      const doc = await written(database.url(), schema)

      const store = await openStore(database.url(), { schema })
      cleanups.push(() => store.close())

      expect(await store.get(doc.traceId)).toEqual(doc)
      expect((await store.list()).items.map((item) => item.traceId)).toEqual([doc.traceId])
    })

    it('reads the schema a ?schema= of the URL names, read-only too', async () => {
      const schema = newSchema()
      const doc = await written(database.url(), schema)

      const store = await openStore(withSchema(database.url(), schema), { readOnly: true })
      cleanups.push(() => store.close())

      expect(await store.get(doc.traceId)).toEqual(doc)
      await expect(store.prune({ olderThan: '2100-01-01' })).rejects.toThrow(/read-?only/i)
    })

    it('does not see the tables of another schema', async () => {
      const schema = newSchema()
      await written(database.url(), schema)

      await expect(openStore(database.url(), { schema: newSchema() })).rejects.toThrow(/No trace store in postgres:\/\/.*\(schema x_[0-9a-f]+\): its tables do not exist yet/)
    })

    it('creates the tables of a new schema with { create: true }', async () => {
      const schema = newSchema()

      const store = await openStore(database.url(), { schema, create: true })
      cleanups.push(() => store.close())

      expect(await store.count()).toBe(0)
      expect(await sql(database.url(), 'SELECT to_regclass($1) IS NOT NULL AS present', [schema + '.traces'])).toEqual([{ present: true }])
    })

    it('rejects a schema the URL and the option name differently, before connecting', async () => {
      await expect(openStore(withSchema('postgres://u:p@127.0.0.1:1/db', 'one'), { schema: 'two' })).rejects.toThrow(TypeError)
      await expect(openStore(withSchema('postgres://u:p@127.0.0.1:1/db', 'one'), { schema: 'two' })).rejects.toThrow(/`schema` and the `\?schema=` of the connection string/)
    })
  })

  describe('postgresSink', () => {
    it('writes into the schema a ?schema= of its connection string names', async () => {
      const schema = newSchema()
      const doc = await written(withSchema(database.url(), schema))

      const rows = await sql(database.url(), 'SELECT trace_id FROM ' + schema + '.traces')

      expect(rows).toEqual([{ trace_id: doc.traceId }])
    })
  })

  describe('tracellm --db postgres://…?schema=…', () => {
    it('lists and shows the traces of that schema', async () => {
      const schema = newSchema()
      const doc = await written(database.url(), schema)
      const db = withSchema(database.url(), schema)

      const listed = await run(['list', '--db', db])
      const shown = await run(['show', doc.traceId, '--db', db])

      expect(listed.code).toBe(0)
      expect(listed.stdout).toContain(doc.traceId.slice(0, 8))
      expect(shown.code).toBe(0)
      expect(shown.stdout).toContain(doc.prompt)
    })
  })
})
