/**
 * The trace store as the commands reach it: which store `--db` names, how it may be printed, opening
 * and closing it around a command, and finding a trace by id or prefix. Imports `openStore` from its
 * own module, not the library's barrel, so `tracellm ui` does not load the barrel.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { TraceDocument, TraceStore } from '../../index.js'
import { openStore } from '../../stores/open-store.js'
import { DEFAULT_DB, MAX_LIMIT } from '../args.js'
import { CliError, messageOf, UsageError } from '../errors.js'
import { formatLocalTime, maskSecrets } from '../format.js'
import type { CommandContext } from '../io.js'

/** @internal The store of this run, its passwords kept out of every error message from now on. */
export function dbOf(context: CommandContext): string {
  const db = resolveDb(context.dbOption, context.io.env)
  context.state.secrets.push(...passwordsOf(db))
  return db
}

/** @internal Opens the store, runs `use` with it, and closes it. */
export async function withStore<T>(db: string, use: (store: TraceStore) => Promise<T>): Promise<T> {
  if (!isPostgresUrl(db) && !existsSync(resolve(db))) {
    throw new CliError(`no trace store at ${db}; run \`npx tracellm demo\` or trace something first`)
  }
  let store: TraceStore
  try {
    store = await openStore(db)
  } catch (error) {
    const message = messageOf(error).replace(/^tracellm:\s*/, '')
    // the postgres backend names the (masked) URL itself; better-sqlite3 says only "file is not a database"
    throw new CliError(maskSecrets(message).includes(displayDb(db)) ? message : `cannot open the trace store ${displayDb(db)}: ${message}`)
  }
  try {
    return await use(store)
  } finally {
    await store.close().catch(() => undefined)
  }
}

/** @internal A full trace id for `id` (a full id, or a prefix that matches exactly one trace). */
export async function resolveId(store: TraceStore, id: string, db: string): Promise<string> {
  if (id.length === 32) return id
  const [first] = (await store.list({ idPrefix: id, limit: 1 })).items
  if (first === undefined) throw new CliError(`no trace with an id starting with ${id} in ${displayDb(db)}`)
  // the documents of one trace continued across services share its id: only other ids are ambiguous
  const matching = await store.count({ idPrefix: id })
  const mine = matching === 1 ? 1 : await store.count({ idPrefix: first.traceId })
  if (matching > mine) {
    const other = (await store.list({ idPrefix: id, limit: Math.min(mine + 1, MAX_LIMIT) })).items.find((item) => item.traceId !== first.traceId)
    const shown = [first, ...(other === undefined ? [] : [other])].map((item) => `${item.traceId} (${formatLocalTime(item.startedAt)})`)
    const more = matching > mine + 1 ? ', …' : ''
    throw new CliError(`ambiguous id ${id}: matches ${shown.join(', ')}${more}; give more characters`)
  }
  return first.traceId
}

/** @internal Every document of a trace, earliest first (one per service it crossed). */
export async function getDocuments(store: TraceStore, traceId: string, db: string): Promise<ReadonlyArray<TraceDocument>> {
  const docs = await store.getAll(traceId)
  if (docs.length === 0) throw new CliError(`no trace with id ${traceId} in ${displayDb(db)}`)
  return docs
}

/** @internal The trace `traceId` (its first document). */
export async function getTrace(store: TraceStore, traceId: string, db: string): Promise<TraceDocument> {
  const doc = await store.get(traceId)
  if (doc === undefined) throw new CliError(`no trace with id ${traceId} in ${displayDb(db)}`)
  return doc
}

/** `--db`, else `TRACELLM_DB`, else `.tracellm/traces.db`. */
function resolveDb(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  if (flag !== undefined) {
    if (flag.trim() === '') throw new UsageError('--db: expected a SQLite file path or a postgres:// URL')
    return flag
  }
  const fromEnv = env.TRACELLM_DB
  return fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv : DEFAULT_DB
}

/** @internal Whether `--db` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text)
}

/** @internal The store as it may be printed: a URL's password masked. */
export function displayDb(db: string): string {
  return maskSecrets(db)
}

/** The password of a URL, as written and decoded: both are kept out of every message. */
function passwordsOf(db: string): string[] {
  if (!isPostgresUrl(db)) return []
  try {
    const password = new URL(db).password
    if (password === '') return []
    let decoded = password
    try {
      decoded = decodeURIComponent(password)
    } catch {
      // a malformed escape: the raw form is enough
    }
    return [password, decoded]
  } catch {
    return []
  }
}
