/** `tracellm list`: a page of trace summaries, newest first, and the command that prints the next. */
import type { ListQuery } from '../../index.js'
import { DEFAULT_LIMIT, toFilters, type FilterOptions } from '../args.js'
import { UsageError } from '../errors.js'
import { colorsFor, toJson, write, type CommandContext } from '../io.js'
import { renderList } from '../render.js'
import { dbOf, displayDb, withStore } from './store.js'

/** @internal The flags of `tracellm list`. */
export interface ListOptions extends FilterOptions {
  readonly limit: number
  readonly cursor?: string
  readonly json?: boolean
}

/** @internal Runs `tracellm list`. */
export async function listCommand(options: ListOptions, context: CommandContext): Promise<void> {
  const { io } = context
  const db = dbOf(context)
  if (options.cursor !== undefined && !/^[A-Za-z0-9_-]{1,200}$/.test(options.cursor)) {
    throw new UsageError('--cursor: expected the cursor a previous `tracellm list` printed')
  }
  const query: ListQuery = { ...toFilters(options), limit: options.limit, ...(options.cursor === undefined ? {} : { cursor: options.cursor }) }
  await withStore(db, async (store) => {
    const page = await store.list(query)
    if (options.json === true) {
      await write(io.stdout, `${toJson({ items: page.items, nextCursor: page.nextCursor }, 2)}\n`)
      return
    }
    if (page.items.length === 0) {
      const filtered = Object.keys(toFilters(options)).length > 0 || options.cursor !== undefined
      await write(io.stdout, filtered ? 'No traces match these filters.\n' : `No traces yet in ${displayDb(db)}. Run \`npx tracellm demo\` to record one.\n`)
      return
    }
    await write(io.stdout, `${renderList(page.items, { colors: colorsFor(io) })}\n`)
    if (page.nextCursor !== null) {
      await write(io.stdout, `\nmore: ${nextPageCommand(context.dbOption, options, page.nextCursor)}\n`)
    }
  })
}

/** The `list` command that fetches the next page: the same filters and limit, plus `--cursor`. */
function nextPageCommand(db: string | undefined, options: ListOptions, cursor: string): string {
  const args = ['npx', 'tracellm', 'list']
  if (db !== undefined) args.push('--db', displayDb(db))
  const flags: Array<[string, string | undefined]> = [
    ['--project', options.project],
    ['--env', options.environment ?? options.env],
    ['--prompt', options.prompt],
    ['--status', options.status],
    ['--model', options.model],
    ['--since', options.since],
    ['--until', options.until],
    ['--search', options.search],
  ]
  for (const [flag, value] of flags) if (value !== undefined) args.push(flag, value)
  if (options.limit !== DEFAULT_LIMIT) args.push('--limit', String(options.limit))
  args.push('--cursor', cursor)
  return args.map(shellQuote).join(' ')
}

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`
}
