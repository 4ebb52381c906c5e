/** `tracellm diff`: compares two traces step by step; traces that differ set exit code 1. */
import { diffTraces, renderDiff, type DiffOptions } from '../../index.js'
import { CliError, messageOf } from '../errors.js'
import { shortId } from '../format.js'
import { colorsFor, columnsOf, toJson, write, type CommandContext } from '../io.js'
import { diffToJson } from '../render.js'
import { dbOf, getTrace, resolveId, withStore } from './store.js'

/** @internal The flags of `tracellm diff`. */
export interface DiffCommandOptions {
  readonly json?: boolean
  readonly durationRatio?: number
  readonly ignore?: DiffOptions['ignore']
}

/** @internal Runs `tracellm diff <a> <b>`. */
export async function diffCommand(a: string, b: string, options: DiffCommandOptions, context: CommandContext): Promise<void> {
  const { io } = context
  const db = dbOf(context)
  const [before, after] = await withStore(db, async (store) => {
    const first = await getTrace(store, await resolveId(store, a, db), db)
    const second = await getTrace(store, await resolveId(store, b, db), db)
    return [first, second] as const
  })
  let diff: ReturnType<typeof diffTraces>
  try {
    diff = diffTraces(before, after, {
      ...(options.durationRatio === undefined ? {} : { durationRatio: options.durationRatio }),
      ...(options.ignore === undefined ? {} : { ignore: options.ignore }),
    })
  } catch (error) {
    throw new CliError(`cannot compare ${shortId(before.traceId)} with ${shortId(after.traceId)}: ${messageOf(error)}`)
  }
  if (!diff.equal) context.state.exitCode = 1
  if (options.json === true) {
    await write(io.stdout, `${toJson(diffToJson(diff), 2)}\n`)
    return
  }
  await write(io.stdout, `${renderDiff(diff, { colors: colorsFor(io), width: columnsOf(io) })}\n`)
}
