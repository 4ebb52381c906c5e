// PostgreSQL for the *.int.test.ts files: each test file gets its own fresh database on the server
// that tests/helpers/pg-global-setup.ts provides (TRACELLM_TEST_PG_URL), so files can run in parallel.
// Without a server the tests fail with the reason; TRACELLM_TEST_PG=skip skips them instead.
import { afterAll, beforeAll, describe } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** True when TRACELLM_TEST_PG=skip: the PostgreSQL tests are skipped, not failed. */
export const skipPostgres = process.env.TRACELLM_TEST_PG === 'skip'

/** `describe`, or `describe.skip` when TRACELLM_TEST_PG=skip. */
export const describePostgres = (name: string, body: () => void): void => (skipPostgres ? describe.skip : describe)(name, body)

/** The server's URL; throws the reason when there is none. */
export function serverUrl(): string {
  const url = process.env.TRACELLM_TEST_PG_URL
  if (url) return url
  throw new Error(
    'No PostgreSQL for the integration tests: ' + (process.env.TRACELLM_TEST_PG_ERROR ?? 'TRACELLM_TEST_PG_URL is not set and the Jest globalSetup did not start a cluster').replace(/\.$/, '') +
      '. Install PostgreSQL (initdb, pg_ctl), set TRACELLM_TEST_PG_URL, or set TRACELLM_TEST_PG=skip to skip these tests.',
  )
}

/** `url` pointing at another database of the same server. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = '/' + database
  return parsed.toString()
}

/** Runs one statement on `url` with a short-lived client. */
export async function sql<R extends Record<string, unknown> = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 })
  client.on('error', () => undefined)
  await client.connect()
  try {
    return (await client.query<R>(text, params)).rows
  } finally {
    await client.end()
  }
}

/** Creates a database with a random name; `drop()` removes it, closing whatever is still connected. */
export async function createDatabase(): Promise<{ readonly url: string; readonly name: string; drop(): Promise<void> }> {
  const server = serverUrl()
  const name = 'tracellm_' + randomBytes(6).toString('hex')
  await sql(server, 'CREATE DATABASE ' + name)
  return {
    url: withDatabase(server, name),
    name,
    drop: async () => {
      await sql(server, 'DROP DATABASE IF EXISTS ' + name + ' WITH (FORCE)')
    },
  }
}

/** A fresh database for the whole test file: created in beforeAll, dropped in afterAll. */
export function usePostgresDatabase(): { readonly url: () => string } {
  let database: Awaited<ReturnType<typeof createDatabase>> | undefined
  beforeAll(async () => {
    if (skipPostgres) return
    database = await createDatabase()
  })
  afterAll(async () => {
    await database?.drop()
  })
  return {
    url: () => {
      if (database === undefined) throw new Error('The test database was not created (see the beforeAll error).')
      return database.url
    },
  }
}

/** Polls `check` every 10 ms until it returns true; rejects with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error('Timed out waiting for ' + what)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
