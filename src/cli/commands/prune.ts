/** `tracellm prune`: deletes the traces started before a point in time, then optionally vacuums. */
import { CliError } from '../errors.js'
import { formatBytes, formatCount, formatLocalTime } from '../format.js'
import { confirm, progressFor, write, type CommandContext } from '../io.js'
import { dbOf, withStore } from './store.js'

/** @internal The flags of `tracellm prune`. */
export interface PruneCommandOptions {
  /** An ISO instant (`parseWhen`). */
  readonly olderThan: string
  readonly dryRun?: boolean
  readonly yes?: boolean
  readonly vacuum?: boolean
}

/** @internal Runs `tracellm prune`. */
export async function pruneCommand(options: PruneCommandOptions, context: CommandContext): Promise<void> {
  const { io } = context
  const db = dbOf(context)
  const before = options.olderThan
  const when = `started before ${formatLocalTime(before)}`
  await withStore(db, async (store) => {
    const matching = await store.count({ until: before })
    const noun = (n: number): string => `${formatCount(n)} ${n === 1 ? 'trace' : 'traces'}`
    const vacuum = async (): Promise<void> => {
      if (options.vacuum !== true) return
      const { bytesBefore, bytesAfter } = await store.vacuum()
      const sizes = `${formatBytes(bytesBefore)} → ${formatBytes(bytesAfter)}`
      await write(io.stdout, store.kind === 'postgres'
        ? `Vacuumed the tables (VACUUM (ANALYZE)): ${sizes}; PostgreSQL keeps most freed space for new rows (docs/postgres.md: VACUUM FULL).\n`
        : `Vacuumed the store: ${sizes}.\n`)
    }
    if (matching === 0) {
      await write(io.stdout, `Nothing to prune: no traces ${when}.\n`)
      if (options.dryRun !== true) await vacuum()
      return
    }
    if (options.dryRun === true) {
      await write(io.stdout, `Would delete ${noun(matching)} ${when}${options.vacuum === true ? ', then vacuum' : ''}.\n`)
      return
    }
    if (options.yes !== true) {
      if (io.stdin?.isTTY !== true) throw new CliError(`refusing to delete ${noun(matching)} ${when} without --yes`)
      if (!(await confirm(io, `Delete ${noun(matching)} ${when}? [y/N] `))) {
        await write(io.stdout, 'Nothing deleted.\n')
        return
      }
    }
    const progress = progressFor(io, matching, 'prune')
    let result: { readonly deleted: number }
    try {
      result = await store.prune({ olderThan: before, ...(progress === undefined ? {} : { onProgress: (deleted: number) => progress.update(deleted) }) })
    } finally {
      progress?.finish()
    }
    await write(io.stdout, `Deleted ${noun(result.deleted)} ${when}.\n`)
    await vacuum()
  })
}
