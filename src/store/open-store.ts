/**
 * `openStore(pathOrUrl)`: one door to either backend. A `postgres://` or `postgresql://` URL opens
 * PostgreSQL; anything else is the path of a SQLite file.
 */
import { openSqliteStore } from '../sinks/sqlite.js'
import type { TraceStore } from './types.js'

/** Options of `openStore()`. @category store */
export interface OpenStoreOptions {
  /** SQLite only: create the file (and its schema) when it does not exist. @default false */
  readonly create?: boolean
}

/**
 * Opens the trace store at `pathOrUrl` for reading (and pruning): a SQLite file path, or a
 * `postgres://` URL. Rejects with a clear `Error` when there is no store there; the connection
 * string never appears in an error with its password.
 *
 * @example
 * import { openStore } from 'tracellm'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * const store = await openStore(join(mkdtempSync(join(tmpdir(), 'tracellm-')), 'traces.db'), { create: true })
 * const page = await store.list({ status: 'error', since: '7d', limit: 20 })
 * page.items.length   // => 0
 * await store.close()
 *
 * @category store
 * @since 0.1.0
 */
export async function openStore(pathOrUrl: string, options: OpenStoreOptions = {}): Promise<TraceStore> {
  if (typeof pathOrUrl !== 'string' || pathOrUrl.trim() === '') throw new TypeError('Expected a SQLite file path or a postgres:// URL.')
  if (isPostgresUrl(pathOrUrl)) {
    // loaded only for a URL, so reading a SQLite file never loads the PostgreSQL code
    const { openPostgresStore } = await import('../sinks/postgres.js')
    return openPostgresStore(pathOrUrl)
  }
  return openSqliteStore(pathOrUrl, { create: options.create === true })
}

/** @internal */
export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text)
}
