/**
 * `openStore(pathOrUrl)`: one door to either backend. A `postgres://` or `postgresql://` URL opens
 * PostgreSQL (`postgres/`, loaded only then); a `.jsonl` or `.json` path an imported export; anything
 * else is the path of a SQLite file (`sqlite/`).
 */
import { readFile } from 'node:fs/promises'
import type { TraceDocument } from '../document/document.js'
import { fromWire } from '../document/wire.js'
import { openMemorySqliteStore, openSqliteStore } from './sqlite/store.js'
import type { TraceStore } from './types.js'

/** Options of `openStore()`. @category store */
export interface OpenStoreOptions {
  /**
   * Create the store when it does not exist: the SQLite file and its schema, or PostgreSQL's tables (as
   * a `postgresSink` does on its first write; `migrate` of `postgresSink`).
   * @default false
   */
  readonly create?: boolean
  /**
   * Opens the store so that nothing can write through it: SQLite opens the file `readonly`,
   * PostgreSQL runs every session with `default_transaction_read_only = on`; `prune`, `vacuum` and any
   * write reject. A store of an older schema version is upgraded first on a separate, writable
   * connection (SQLite), or rejected with an error that says how to upgrade it (PostgreSQL); see
   * docs/stores.md#read-only. A `.jsonl` or `.json` path is always read-only.
   * @default false
   */
  readonly readOnly?: boolean
  /**
   * PostgreSQL only: the schema holding the tables, the `schema` the `postgresSink` that wrote them was
   * given. A `?schema=` parameter of the URL says the same (what `--db` of the CLI takes);
   * docs/stores.md#postgresql-schema.
   * @default the URL's `?schema=`, else the first schema of the `search_path`, usually `public`
   * @since 0.2.0
   */
  readonly schema?: string
  /** PostgreSQL only: connections the store may open. @default 4 @since 0.2.0 */
  readonly poolSize?: number
  /** PostgreSQL only: how long opening a connection may take (0: no limit). @default 5000 @since 0.2.0 */
  readonly connectionTimeoutMs?: number
  /** PostgreSQL only: server-side limit of each statement (0: no limit). @default 10000 @since 0.2.0 */
  readonly statementTimeoutMs?: number
  /** PostgreSQL only: client-side limit of each query (0: no limit). @default statementTimeoutMs + 5000 @since 0.2.0 */
  readonly queryTimeoutMs?: number
}

/** The options only a PostgreSQL store takes. */
const POSTGRES_ONLY = ['schema', 'poolSize', 'connectionTimeoutMs', 'statementTimeoutMs', 'queryTimeoutMs'] as const

/**
 * Opens the trace store at `pathOrUrl` for reading (and pruning): a SQLite file path, a
 * `postgres://` URL, or the path of a `.jsonl` / `.json` export (`tracellm export`), which
 * `openImportedStore` loads. Rejects with a clear `Error` when there is no store there; the connection
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
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected the `openStore` options to be an object.')
  if (options.readOnly !== undefined && typeof options.readOnly !== 'boolean') throw new TypeError('Expected `readOnly` to be a boolean.')
  const readOnly = options.readOnly === true
  if (isPostgresUrl(pathOrUrl)) {
    // loaded only for a URL, so reading a SQLite file never loads the PostgreSQL code
    const { openPostgresStore } = await import('./postgres/store.js')
    const given = Object.fromEntries(POSTGRES_ONLY.filter((key) => options[key] !== undefined).map((key) => [key, options[key]]))
    return openPostgresStore(pathOrUrl, { ...given, readOnly, ...(options.create === true ? { migrate: true } : {}) })
  }
  const postgresOnly = POSTGRES_ONLY.find((key) => options[key] !== undefined)
  if (postgresOnly !== undefined) throw new TypeError('Expected no `' + postgresOnly + '` for ' + pathOrUrl + ': it is an option of a PostgreSQL store (a postgres:// URL).')
  if (/\.jsonl?$/i.test(pathOrUrl)) return openImportedStore(pathOrUrl)
  return openSqliteStore(pathOrUrl, { create: options.create === true, readOnly })
}

/**
 * Loads an export (`tracellm export`: one snake_case document per line, or `--format json`, one JSON
 * array) into a store in memory, read-only once loaded: what `tracellm ui --file` serves. Rejects
 * with an error naming the line of a document that is not valid. The whole file is read into memory.
 *
 * @example
 * import { openImportedStore } from 'tracellm'
 * import { mkdtempSync, writeFileSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * const file = join(mkdtempSync(join(tmpdir(), 'tracellm-')), 'traces.jsonl')
 * writeFileSync(file, '')
 * const store = await openImportedStore(file)
 * store.readOnly             // => true
 * await store.count()        // => 0
 * await store.close()
 *
 * @category store
 * @since 0.2.0
 */
export async function openImportedStore(file: string): Promise<TraceStore> {
  if (typeof file !== 'string' || file.trim() === '') throw new TypeError('Expected the path of a .jsonl or .json export.')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new Error('Cannot read the export ' + file + ': ' + (error instanceof Error ? error.message : String(error)))
  }
  return openMemorySqliteStore(parseExport(text, file))
}

/** @internal The documents of an export's text: a JSON array, or one document per line. */
export function parseExport(text: string, file: string): TraceDocument[] {
  const trimmed = text.trimStart()
  const documents: TraceDocument[] = []
  const read = (value: unknown, where: string): void => {
    try {
      documents.push(fromWire(value))
    } catch (error) {
      throw new Error('The export ' + file + ' holds an invalid document ' + where + ': ' + (error instanceof Error ? error.message : String(error)))
    }
  }
  if (trimmed.startsWith('[')) {
    let values: unknown
    try {
      values = JSON.parse(trimmed)
    } catch (error) {
      throw new Error('The export ' + file + ' is not valid JSON: ' + (error instanceof Error ? error.message : String(error)))
    }
    ;(values as unknown[]).forEach((value, index) => read(value, 'at index ' + String(index)))
    return documents
  }
  const lines = text.split('\n')
  lines.forEach((line, index) => {
    if (line.trim() === '') return
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      throw new Error('The export ' + file + ' is not valid JSON on line ' + String(index + 1) + ': ' + (error instanceof Error ? error.message : String(error)))
    }
    read(value, 'on line ' + String(index + 1))
  })
  return documents
}

/**
 * @internal Builds the opt-in text index of a store (`tracellm index --text`, docs/stores.md#text-search);
 * resolves false when it was there already. Rejects for a read-only or imported store.
 */
export async function createTextIndex(store: TraceStore): Promise<boolean> {
  const build = (store as TraceStore & { readonly createTextIndex?: () => Promise<boolean> }).createTextIndex
  if (typeof build !== 'function') throw new Error('This trace store cannot have a text index.')
  return build()
}

/** @internal */
export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text)
}
