/** `tracellm stats`: the totals of the store. */
import { colorsFor, toJson, write, type CommandContext } from '../io.js'
import { renderStats } from '../render.js'
import { dbOf, withStore } from './store.js'

/** @internal Runs `tracellm stats`. */
export async function statsCommand(options: { readonly json?: boolean }, context: CommandContext): Promise<void> {
  const { io } = context
  const db = dbOf(context)
  await withStore(db, async (store) => {
    const stats = await store.stats()
    await write(io.stdout, options.json === true ? `${toJson(stats, 2)}\n` : `${renderStats(stats, { colors: colorsFor(io) })}\n`)
  })
}
