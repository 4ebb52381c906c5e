/** `tracellm index --text`: builds the store's optional text index for `list --search`. */
import { createTextIndex } from '../../stores/open-store.js'
import { UsageError } from '../errors.js'
import { write, type CommandContext } from '../io.js'
import { dbOf, displayDb, withStore } from './store.js'

/** @internal Runs `tracellm index`. */
export async function indexCommand(options: { readonly text?: boolean }, context: CommandContext): Promise<void> {
  if (options.text !== true) throw new UsageError('nothing to index: pass --text')
  const db = dbOf(context)
  await withStore(db, async (store) => {
    const created = await createTextIndex(store)
    await write(context.io.stdout, created ? `text index created in ${displayDb(db)}\n` : `the text index of ${displayDb(db)} already exists\n`)
  })
}
