/**
 * pg, the PostgreSQL driver: an optional peer dependency, loaded on the first connection (never by
 * `import 'tracellm'`), in this file only. A `Connection` is a lazily created pool with the store's
 * session settings, the clients it lends (a cancelled read cancels its statement on the server), its
 * transactions, and its one warning channel; every message it makes names the database without its
 * password. Every value travels as a bound parameter; SQL text is built by concatenation from fixed
 * pieces and validated identifiers only.
 */
import type { Pool, PoolClient, PoolConfig } from 'pg'
import { abortError } from '../query.js'
import type { Settings } from './options.js'

/** @internal Qualified, quoted table names. */
export interface Names {
  readonly schema: string | undefined
  readonly traces: string
  readonly steps: string
  readonly migrations: string
}

/** @internal One query on one client: rows with every value as the server's text. */
export type Query = (sql: string, params?: ReadonlyArray<unknown>) => Promise<Array<Record<string, string | null>>>

/** @internal A lazily opened pool and what runs on it. */
export interface Connection {
  /** The connection string with its password replaced by `***`. */
  readonly shownUrl: string
  /** `postgres (<shownUrl>)`, as messages name the database. */
  readonly label: string
  /** One warning per `key` and connection, its text without the password. */
  warn(key: string, message: string): void
  /** Any failure, as an Error that names the database without its password and keeps the SQLSTATE. */
  safeError(error: unknown, doing: string): Error
  /** Runs `work` on one client; a client that failed for a reason other than the data is discarded. */
  withClient<T>(work: (query: Query, names: Names) => Promise<T>, signal?: AbortSignal): Promise<T>
  /** Runs `work` in one transaction on one client. */
  transaction<T>(work: (query: Query, names: Names) => Promise<T>): Promise<T>
  /** `withClient`, its failures made safe (`safeError`), an abort rejected as such. */
  read<T>(doing: string, work: (query: Query, names: Names) => Promise<T>, signal?: AbortSignal): Promise<T>
  readonly closed: boolean
  /** Ends the pool once the work in flight is done. Idempotent. */
  close(): Promise<void>
}

/** @internal Connects to the database of `settings` on first use. */
export function connection(settings: Settings): Connection {
  const secrets = secretsOf(settings.givenUrl)
  const shownUrl = redactUrl(settings.givenUrl)
  const label = 'postgres (' + shownUrl + ')'
  const warned = new Set<string>()
  let state: Promise<{ readonly pool: Pool; readonly names: Names }> | undefined
  let closing: Promise<void> | undefined

  const warn = (key: string, message: string): void => {
    if (warned.has(key)) return
    warned.add(key)
    try {
      process.emitWarning(redactText(message, secrets), { type: 'TracellmWarning', code: 'TRACELLM_POSTGRES' })
    } catch {
      // a throwing warning listener must not reach the program
    }
  }

  /** Any failure, as an Error that names the database without its password and keeps the SQLSTATE. */
  const safeError = (error: unknown, doing: string): Error => {
    // already ours, and already redacted (a closed sink, pg missing)
    if (error instanceof Error && error.message.startsWith('tracellm: ')) return error
    const code = codeOf(error)
    const message = error instanceof Error ? error.message : String(error)
    const safe = new Error(redactText('tracellm: ' + doing + ' ' + label + ' failed: ' + message + (code === undefined ? '' : ' (SQLSTATE ' + code + ')'), secrets))
    if (code !== undefined) Object.defineProperty(safe, 'code', { value: code, enumerable: true })
    return safe
  }

  const connect = (): Promise<{ readonly pool: Pool; readonly names: Names }> => {
    if (closing !== undefined) return Promise.reject(new Error('tracellm: ' + label + ' is closed.'))
    state ??= createPool().catch((error: unknown) => {
      state = undefined
      throw error
    })
    return state
  }

  const createPool = async (): Promise<{ readonly pool: Pool; readonly names: Names }> => {
    const pg = await loadDriver()
    const quote = (name: string): string => pg.escapeIdentifier(name)
    const prefix = settings.schema === undefined ? '' : quote(settings.schema) + '.'
    const names: Names = {
      schema: settings.schema === undefined ? undefined : quote(settings.schema),
      traces: prefix + 'traces',
      steps: prefix + 'steps',
      migrations: prefix + 'tracellm_migrations',
    }
    const config: PoolConfig = {
      connectionString: settings.connectionString,
      max: settings.poolSize,
      connectionTimeoutMillis: settings.connectionTimeoutMs,
      idleTimeoutMillis: 10_000,
      allowExitOnIdle: true,
      keepAlive: true,
      application_name: 'tracellm',
      // every value arrives as the server's text, converted here: a process-wide pg.types setting of
      // the application must not change what tracellm reads
      types: { getTypeParser: () => (value: string) => value } as unknown as PoolConfig['types'],
      ...(settings.statementTimeoutMs > 0 ? { statement_timeout: settings.statementTimeoutMs, idle_in_transaction_session_timeout: settings.statementTimeoutMs } : {}),
      ...(settings.queryTimeoutMs > 0 ? { query_timeout: settings.queryTimeoutMs } : {}),
      // every transaction of the session refuses writes (docs/postgres.md#read-only)
      ...(settings.readOnly === true ? { options: '-c default_transaction_read_only=on' } : {}),
    }
    let pool: Pool
    try {
      pool = new pg.Pool(config)
    } catch (error) {
      throw safeError(error, 'connecting to')
    }
    // [measured] pg_terminate_backend makes an idle client emit `error`; without a listener Node crashes
    pool.on('error', (error: Error) => {
      warn('pool-error', 'tracellm: ' + label + ' lost a connection (' + (codeOf(error) ?? error.message) + '); the next batch opens a fresh one.')
    })
    // a client checked out of the pool has no listener of the pool's: a backend ended mid-query must not crash either
    pool.on('connect', (client: PoolClient) => {
      client.on('error', () => undefined)
    })
    return { pool, names }
  }

  /** Runs `work` on one client; a client that failed for a reason other than the data is discarded. */
  const withClient = async <T>(work: (query: Query, names: Names) => Promise<T>, signal?: AbortSignal): Promise<T> => {
    const { pool, names } = await connect()
    const client = await pool.connect()
    let broken: Error | undefined
    // a cancelled read: the server cancels the running statement, the read rejects with an AbortError
    const onAbort = (): void => {
      const pid = (client as unknown as { processID?: unknown }).processID
      if (typeof pid === 'number') pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const query: Query = async (sql, params = []) => {
      try {
        const result = await client.query(sql, params as unknown[])
        return result.rows as Array<Record<string, string | null>>
      } catch (error) {
        if (!isDataError(error)) broken = error instanceof Error ? error : new Error(String(error))
        throw error
      }
    }
    try {
      const result = await work(query, names)
      if (signal?.aborted === true) throw abortError(signal)
      return result
    } catch (error) {
      if (signal?.aborted === true) throw abortError(signal)
      throw error
    } finally {
      signal?.removeEventListener('abort', onAbort)
      client.release(broken)
    }
  }

  const transaction = <T>(work: (query: Query, names: Names) => Promise<T>): Promise<T> =>
    withClient(async (query, names) => {
      await query('BEGIN')
      try {
        const result = await work(query, names)
        await query('COMMIT')
        return result
      } catch (error) {
        // the client is discarded (release with an error) when even the rollback fails
        await query('ROLLBACK').catch(() => undefined)
        throw error
      }
    })

  const read = async <T>(doing: string, work: (query: Query, names: Names) => Promise<T>, signal?: AbortSignal): Promise<T> => {
    try {
      return await withClient(work, signal)
    } catch (error) {
      if (error instanceof Error && error.name === 'AbortError') throw error
      throw safeError(error, doing)
    }
  }

  const close = (): Promise<void> => {
    closing ??= (async () => {
      const pending = state
      state = undefined
      const opened = await pending?.catch(() => undefined)
      await opened?.pool.end().catch(() => undefined)
    })()
    return closing
  }

  return {
    shownUrl,
    label,
    warn,
    safeError,
    withClient,
    transaction,
    read,
    get closed() {
      return closing !== undefined
    },
    close,
  }
}

/**
 * @internal Errors of the data itself: retrying cannot help, splitting the batch can. Class 22 (data
 * exception: 22P02 invalid text, 22P05 untranslatable character, 22021, 22003 out of range, 22007
 * and 22008 bad dates), class 23 (constraint violations) and 54000 (a value too large). Everything
 * else (connection errors, class 08, 57P01, 40001, 40P01, 53300, timeouts, a missing table) fails
 * the write so that the export queue retries it.
 */
export function isDataError(error: unknown): boolean {
  const code = codeOf(error)
  return code !== undefined && (code.startsWith('22') || code.startsWith('23') || code === '54000')
}

/** @internal The SQLSTATE of an error, if it has one. */
export function codeOf(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/** The password of a connection string, as written and decoded, to be blanked wherever it shows up. */
function secretsOf(connectionString: string): string[] {
  const found = new Set<string>()
  const add = (value: string | undefined): void => {
    if (value === undefined || value.length < 3) return
    found.add(value)
    try {
      found.add(decodeURIComponent(value))
    } catch {
      // not percent-encoded
    }
  }
  const userinfo = userinfoOf(connectionString)
  if (userinfo !== undefined && userinfo.includes(':')) add(userinfo.slice(userinfo.indexOf(':') + 1))
  for (const match of connectionString.matchAll(/[?&]password=([^&#]*)/gi)) add(match[1])
  return [...found].sort((a, b) => b.length - a.length)
}

/** `user:password` of `scheme://user:password@host…`: up to the last `@`, which may sit in a bad password. */
function userinfoOf(url: string): string | undefined {
  const start = url.indexOf('://')
  if (start === -1) return undefined
  const rest = url.slice(start + 3)
  const at = rest.lastIndexOf('@')
  return at === -1 ? undefined : rest.slice(0, at)
}

/** The URL with its password (in the userinfo or a `password=` parameter) replaced by `***`. */
function redactUrl(url: string): string {
  const start = url.indexOf('://') + 3
  const userinfo = userinfoOf(url)
  let shown = url
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':')
    const user = colon === -1 ? userinfo : userinfo.slice(0, colon) + ':***'
    shown = url.slice(0, start) + user + url.slice(start + userinfo.length)
  }
  return shown.replace(/([?&]password=)[^&#]*/gi, '$1***')
}

function redactText(text: string, secrets: ReadonlyArray<string>): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:)[^\s@]*@/gi, '$1***@')
  for (const secret of secrets) out = out.split(secret).join('***')
  return out
}

type Driver = typeof import('pg')

let driver: Promise<Driver> | undefined

/** `pg` is an optional peer dependency: loaded on first use, with a clear error when it is missing. */
function loadDriver(): Promise<Driver> {
  driver ??= import('pg').then(
    (loaded) => loaded,
    (error: unknown) => {
      driver = undefined
      const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        throw new Error('tracellm: install pg to use postgresSink (npm install pg).')
      }
      throw error
    },
  )
  return driver
}
