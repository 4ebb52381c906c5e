/** `tracellm show`: one trace, its header and the tree of its steps with a waterfall, or its JSON. */
import { toWire, type TraceDocument } from '../../index.js'
import { colorsFor, columnsOf, toJson, write, type CommandContext } from '../io.js'
import { renderShow } from '../render.js'
import { dbOf, getDocuments, resolveId, withStore } from './store.js'

/** @internal The flags of `tracellm show`. */
export interface ShowCommandOptions {
  readonly json?: boolean
  readonly full?: boolean
}

/** @internal Runs `tracellm show <id>`. */
export async function showCommand(id: string, options: ShowCommandOptions, context: CommandContext): Promise<void> {
  const { io } = context
  const db = dbOf(context)
  await withStore(db, async (store) => {
    const docs = await getDocuments(store, await resolveId(store, id, db), db)
    if (options.json === true) {
      await write(io.stdout, `${toJson(toWire(docs[0] as TraceDocument), 2)}\n`)
      return
    }
    await write(io.stdout, `${renderShow(docs, { colors: colorsFor(io), columns: columnsOf(io), full: options.full === true })}\n`)
  })
}
