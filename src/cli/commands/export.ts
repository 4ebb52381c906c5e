/** `tracellm export`: traces as stored (snake_case JSON), to stdout or a file, as JSONL or one array. */
import { open, type FileHandle } from 'node:fs/promises'
import { toWire, type ListQuery, type TraceDocument, type TraceStore } from '../../index.js'
import { parseIdValue, toFilters, type FilterOptions } from '../args.js'
import { CliError, messageOf, UsageError } from '../errors.js'
import { formatCount } from '../format.js'
import { progressFor, toJson, write, type CommandContext, type OutputStream } from '../io.js'
import { dbOf, getDocuments, resolveId, withStore } from './store.js'

/** @internal The flags of `tracellm export`. */
export interface ExportOptions extends FilterOptions {
  readonly format: 'json' | 'jsonl'
  readonly out?: string
}

const EXPORT_PAGE = 500

/** @internal Runs `tracellm export [ids...]`. */
export async function exportCommand(ids: ReadonlyArray<string>, options: ExportOptions, context: CommandContext): Promise<void> {
  const { io } = context
  const db = dbOf(context)
  const filters = toFilters(options)
  if (ids.length > 0 && Object.keys(filters).length > 0) throw new UsageError('give trace ids or filters, not both')
  const wanted = ids.map((id) => parseIdValue(id))
  await withStore(db, async (store) => {
    // resolve every id before writing anything, so a typo fails without a partial file
    const resolved: string[] = []
    for (const id of wanted) {
      const full = await resolveId(store, id, db)
      if (!resolved.includes(full)) resolved.push(full)
    }
    // an id names a trace: every document stored under it (one per service it crossed)
    let total = 0
    if (resolved.length === 0) total = await store.count(filters)
    else for (const id of resolved) total += await store.count({ idPrefix: id })
    const target = options.out === undefined ? undefined : await openExportFile(options.out)
    const sink: OutputStream = target?.stream ?? io.stdout
    const progress = progressFor(io, total, 'export')
    let count = 0
    try {
      const emit = async (doc: TraceDocument): Promise<void> => {
        const json = toJson(toWire(doc))
        await write(sink, options.format === 'jsonl' ? `${json}\n` : `${count === 0 ? '[\n' : ',\n'}${json}`)
        count++
        progress?.update(count)
      }
      if (resolved.length > 0) {
        for (const id of resolved) for (const doc of await getDocuments(store, id, db)) await emit(doc)
      } else {
        for await (const doc of everyTrace(store, filters)) await emit(doc)
      }
      if (options.format === 'json') await write(sink, count === 0 ? '[]\n' : '\n]\n')
    } finally {
      progress?.finish()
      await target?.close()
    }
    if (options.out !== undefined) {
      await write(io.stdout, `exported ${formatCount(count)} ${count === 1 ? 'trace' : 'traces'} to ${options.out}\n`)
    }
  })
}

/** Every trace matching `filters`, newest first, a page of summaries at a time. */
async function* everyTrace(store: TraceStore, filters: ListQuery): AsyncGenerator<TraceDocument> {
  let cursor: string | null = null
  do {
    const page: Awaited<ReturnType<TraceStore['list']>> = await store.list({ ...filters, limit: EXPORT_PAGE, ...(cursor === null ? {} : { cursor }) })
    for (const item of page.items) {
      // this item's document among those of its trace; pruned between the page and now: skip it
      const doc = (await store.getAll(item.traceId)).find((candidate) => (candidate.rootSpanId ?? null) === item.rootSpanId)
      if (doc !== undefined) yield doc
    }
    cursor = page.nextCursor
  } while (cursor !== null)
}

interface ExportFile {
  readonly stream: OutputStream
  close(): Promise<void>
}

/** The `--out` file, mode 0600 (traces hold prompts and personal data), truncated if it exists. */
async function openExportFile(path: string): Promise<ExportFile> {
  let handle: FileHandle
  try {
    handle = await open(path, 'w', 0o600)
    await handle.chmod(0o600)
  } catch (error) {
    throw new CliError(`cannot write ${path}: ${messageOf(error)}`)
  }
  let pending: Promise<unknown> = Promise.resolve()
  let failure: unknown
  return {
    stream: {
      write: (chunk: string) => {
        pending = pending.then(() => handle.write(chunk)).catch((error: unknown) => { failure ??= error })
        return true
      },
    },
    close: async () => {
      await pending
      await handle.close()
      if (failure !== undefined) throw new CliError(`cannot write ${path}: ${messageOf(failure)}`)
    },
  }
}
