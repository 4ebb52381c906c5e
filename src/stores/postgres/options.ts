/**
 * The options of the PostgreSQL sink and store, checked once for both: the connection string (its
 * password never quoted back), the schema (an option, or `?schema=` in the URL: docs/stores.md),
 * pool size and timeouts.
 */

/** Options of `postgresSink()`. @category sinks */
export interface PostgresSinkOptions {
  /** A `postgres://` or `postgresql://` URL. Its password never appears in `String(sink)`, warnings or errors. */
  readonly connectionString: string
  /**
   * The schema holding the tables (created by the migration when missing). A `?schema=` parameter of
   * `connectionString` says the same (docs/stores.md#postgresql-schema); given both ways, they must agree.
   * @default the first schema of the `search_path`, usually `public`
   */
  readonly schema?: string
  /** Create or upgrade the tables before the first write. Set `false` when a role without DDL rights writes. @default true */
  readonly migrate?: boolean
  /** Connections the sink may open. One batch is written at a time, so two are plenty. @default 2 */
  readonly poolSize?: number
  /** How long opening a connection may take (0: no limit). @default 5000 */
  readonly connectionTimeoutMs?: number
  /** Server-side limit of each statement, and of a transaction left idle (0: no limit). @default 10000 */
  readonly statementTimeoutMs?: number
  /** Client-side limit of each query, for a server that stopped answering (0: no limit). @default statementTimeoutMs + 5000 */
  readonly queryTimeoutMs?: number
}

/** @internal Checked options. */
export interface Settings {
  /** The connection string as given, for messages (with its password masked). */
  readonly givenUrl: string
  /** The connection string pg connects with: as given, without `?schema=`. */
  readonly connectionString: string
  readonly schema: string | undefined
  readonly migrate: boolean
  readonly poolSize: number
  readonly connectionTimeoutMs: number
  readonly statementTimeoutMs: number
  readonly queryTimeoutMs: number
  /** A store's sessions run with `default_transaction_read_only = on`. */
  readonly readOnly?: boolean
}

/** @internal The options of `postgresSink` (and, but `connectionString`, of the store). */
export const SINK_OPTION_KEYS = new Set(['connectionString', 'schema', 'migrate', 'poolSize', 'connectionTimeoutMs', 'statementTimeoutMs', 'queryTimeoutMs'])
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
const POSTGRES_URL = /^postgres(ql)?:\/\//i

/** @internal Checks `options` of `owner`; throws a `TypeError` naming the bad one. */
export function checkOptions(options: PostgresSinkOptions, owner: string, keys: ReadonlySet<string>, defaults: { readonly migrate: boolean; readonly poolSize: number }): Settings {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `' + owner + '` options to be an object with a `connectionString`.')
  for (const key of Object.keys(options)) {
    if (!keys.has(key)) throw new TypeError('Unknown `' + owner + '` option `' + key + '`.')
  }
  const connectionString: unknown = options.connectionString
  // the value is never quoted back: it may hold a password
  if (typeof connectionString !== 'string' || !POSTGRES_URL.test(connectionString.trim())) {
    throw new TypeError('Expected `connectionString` to be a postgres:// or postgresql:// URL.')
  }
  const given = connectionString.trim()
  const inUrl = schemaParameter(given)
  const option: unknown = options.schema
  if (option !== undefined && (typeof option !== 'string' || !IDENTIFIER.test(option))) {
    throw new TypeError('Expected `schema` to be an identifier: a letter or _ then up to 62 letters, digits or _.')
  }
  if (inUrl.schema !== undefined && !IDENTIFIER.test(inUrl.schema)) {
    throw new TypeError('Expected the `?schema=` of the connection string to be an identifier: a letter or _ then up to 62 letters, digits or _.')
  }
  if (option !== undefined && inUrl.schema !== undefined && option !== inUrl.schema) {
    throw new TypeError('Expected `schema` and the `?schema=` of the connection string to name the same schema, got ' + option + ' and ' + inUrl.schema + '.')
  }
  const schema = option ?? inUrl.schema
  const migrate: unknown = options.migrate ?? defaults.migrate
  if (typeof migrate !== 'boolean') throw new TypeError('Expected `migrate` to be a boolean.')
  const poolSize = integerOption(options.poolSize, 'poolSize', defaults.poolSize, 1, 1000)
  const connectionTimeoutMs = integerOption(options.connectionTimeoutMs, 'connectionTimeoutMs', DEFAULT_CONNECTION_TIMEOUT_MS, 0, MAX_TIMEOUT_MS)
  const statementTimeoutMs = integerOption(options.statementTimeoutMs, 'statementTimeoutMs', DEFAULT_STATEMENT_TIMEOUT_MS, 0, MAX_TIMEOUT_MS)
  const queryTimeoutMs = integerOption(options.queryTimeoutMs, 'queryTimeoutMs', statementTimeoutMs === 0 ? 0 : statementTimeoutMs + 5000, 0, MAX_TIMEOUT_MS)
  return { givenUrl: given, connectionString: inUrl.url, schema, migrate, poolSize, connectionTimeoutMs, statementTimeoutMs, queryTimeoutMs }
}

function integerOption(value: unknown, key: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError('Expected `' + key + '` to be an integer from ' + min + ' to ' + max + ', got ' + String(value) + '.')
  }
  return value
}

const DEFAULT_CONNECTION_TIMEOUT_MS = 5000
const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000
const MAX_TIMEOUT_MS = 2_147_483_647

/**
 * @internal The `schema` parameter of a connection string's query (docs/stores.md#postgresql-schema),
 * and the string without it, which pg connects with. The query starts at the first `?` after the
 * userinfo (a password may hold a `?`).
 */
export function schemaParameter(url: string): { readonly url: string; readonly schema: string | undefined } {
  const start = url.indexOf('?', Math.max(0, url.lastIndexOf('@')))
  if (start === -1) return { url, schema: undefined }
  let schema: string | undefined
  const kept = url.slice(start + 1).split('&').filter((pair) => {
    const equals = pair.indexOf('=')
    if ((equals === -1 ? pair : pair.slice(0, equals)) !== 'schema') return true
    schema = decode(equals === -1 ? '' : pair.slice(equals + 1))
    return false
  })
  return { url: url.slice(0, start) + (kept.length === 0 ? '' : '?' + kept.join('&')), schema }
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
