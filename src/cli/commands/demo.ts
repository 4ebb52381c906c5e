/** `tracellm demo`: runs the small traced RAG pipeline of `../demo.ts` and stores its trace. */
import { UsageError } from '../errors.js'
import type { CommandContext } from '../io.js'
import { runDemo } from '../demo.js'
import { dbOf, isPostgresUrl } from './store.js'

/** @internal Runs `tracellm demo`. */
export async function demoCommand(context: CommandContext): Promise<void> {
  const db = dbOf(context)
  if (isPostgresUrl(db)) throw new UsageError('`demo` writes to a SQLite file: pass --db <path>')
  await runDemo({ path: db, out: context.io.stdout as NodeJS.WritableStream })
}
