// openStore's options that only a PostgreSQL store takes, and the `?schema=` of a connection string
// (docs/stores.md#postgresql-schema), without a server: the PostgreSQL side is
// tests/stores/postgres-schema.int.test.ts.
import { describe, expect, it } from '@jest/globals'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore } from '../../src/stores/open-store.js'
import { checkOptions, schemaParameter, SINK_OPTION_KEYS } from '../../src/stores/postgres/options.js'

describe('openStore', () => {
  it('rejects an option of a PostgreSQL store for a SQLite file, with a TypeError', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tracellm-open-')), 'traces.db')

    await expect(openStore(file, { create: true, schema: 'tracing' })).rejects.toThrow(TypeError)
    await expect(openStore(file, { create: true, statementTimeoutMs: 1000 })).rejects.toThrow(/`statementTimeoutMs` .*PostgreSQL store/)
  })
})

describe('schemaParameter', () => {
  it('takes the schema out of the query, keeping the other parameters', () => {
    expect(schemaParameter('postgres://u:p@db:5432/traces?schema=tracing')).toEqual({ url: 'postgres://u:p@db:5432/traces', schema: 'tracing' })
    expect(schemaParameter('postgres://u:p@db/traces?sslmode=require&schema=tracing&application_name=x')).toEqual({
      url: 'postgres://u:p@db/traces?sslmode=require&application_name=x',
      schema: 'tracing',
    })
    expect(schemaParameter('postgres://db/traces?sslmode=require')).toEqual({ url: 'postgres://db/traces?sslmode=require', schema: undefined })
    expect(schemaParameter('postgres://db/traces')).toEqual({ url: 'postgres://db/traces', schema: undefined })
  })

  it('reads no query out of a password that holds a ?', () => {
    expect(schemaParameter('postgres://u:p?schema=no@db/traces')).toEqual({ url: 'postgres://u:p?schema=no@db/traces', schema: undefined })
  })
})

describe('checkOptions of the PostgreSQL sink and store', () => {
  const check = (options: { connectionString: string; schema?: string }) => checkOptions(options, 'postgresSink', SINK_OPTION_KEYS, { migrate: true, poolSize: 2 })

  it('connects without ?schema= and names the schema it gave', () => {
    expect(check({ connectionString: 'postgres://u:p@db/traces?schema=tracing' })).toMatchObject({
      connectionString: 'postgres://u:p@db/traces',
      givenUrl: 'postgres://u:p@db/traces?schema=tracing',
      schema: 'tracing',
    })
    expect(check({ connectionString: 'postgres://u:p@db/traces?schema=tracing', schema: 'tracing' })).toMatchObject({ schema: 'tracing' })
  })

  it('rejects a ?schema= that is no identifier, and two names for the schema', () => {
    expect(() => check({ connectionString: 'postgres://db/traces?schema=a;drop' })).toThrow(/`\?schema=` of the connection string to be an identifier/)
    expect(() => check({ connectionString: 'postgres://db/traces?schema=' })).toThrow(TypeError)
    expect(() => check({ connectionString: 'postgres://db/traces?schema=one', schema: 'two' })).toThrow(/name the same schema, got two and one/)
  })
})
