/**
 * `tracellm replay`: runs a traced pipeline again with its tool calls answered from a recorded trace,
 * stores the replay's own trace, and reports how it compares; a replay that differs sets exit code 1.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { configure, postgresSink, replay, shutdown, sqliteSink, type AnyFunction, type JsonValue, type ReplayResult, type Sink, type TraceDocument } from '../../index.js'
import { CliError, kindOf, messageOf, oneLine, UsageError } from '../errors.js'
import { clean, shortId, truncate } from '../format.js'
import { colorsFor, columnsOf, toJson, write, type CommandContext } from '../io.js'
import { diffToJson, renderReplay, replayProblems, type ReplayReport } from '../render.js'
import { dbOf, displayDb, getTrace, isPostgresUrl, resolveId, withStore } from './store.js'

/** @internal The flags of `tracellm replay`. */
export interface ReplayCommandOptions {
  readonly module: string
  readonly export: string
  readonly mode?: 'recorded' | 'partial'
  readonly tools?: ReadonlyArray<string>
  readonly matchInput?: boolean
  readonly args?: ReadonlyArray<JsonValue>
  readonly json?: boolean
}

/** @internal Runs `tracellm replay <id>`. */
export async function replayCommand(id: string, options: ReplayCommandOptions, context: CommandContext): Promise<void> {
  const { io, state } = context
  const db = dbOf(context)
  const mode = options.mode ?? (options.tools === undefined ? 'recorded' : 'partial')
  if (mode === 'recorded' && options.tools !== undefined) throw new UsageError('--tools only applies with --mode partial')
  if (mode === 'partial' && options.tools === undefined) throw new UsageError('--mode partial needs --tools: the tools answered from the record')
  const recorded = await withStore(db, async (store) => getTrace(store, await resolveId(store, id, db), db))
  const label = `${shortId(recorded.traceId)} (${truncate(clean(recorded.prompt), 60)})`
  if (options.tools !== undefined) checkTools(recorded, options.tools)
  if (options.args === undefined && !Array.isArray(recorded.input)) {
    throw new UsageError(`trace ${label} has no recorded argument list (recorded with captureInput: false or mapInput): pass the arguments with --args '[...]'`)
  }
  const fn = await loadPipeline(options.module, options.export)

  if (options.json !== true) {
    const answered = mode === 'recorded' ? 'every tool call answered from the record' : `${options.tools?.join(', ') ?? ''} answered from the record, the other tools live`
    await write(io.stdout, `replaying ${label} through ${options.export} from ${options.module}, ${answered}\n\n`)
  }
  // the replay's own trace goes to the store it was read from, filed under the same project
  configure({ sinks: [sinkFor(db)], project: recorded.project, environment: recorded.environment })
  let result: ReplayResult<unknown>
  try {
    result = await replay(recorded, fn, {
      ...(options.args === undefined ? {} : { args: [...options.args] }),
      mode,
      ...(options.tools === undefined ? {} : { tools: options.tools }),
      matchInput: options.matchInput === true,
    })
  } catch (error) {
    throw new UsageError(`cannot replay ${label} through --export ${options.export}: ${messageOf(error)}`)
  } finally {
    await shutdown()
  }
  const failure = await storeReplay(db, result.doc)
  const stored = failure === undefined
  if (!stored) io.stderr.write(`tracellm: warning: the replay trace was not stored in ${displayDb(db)}: ${oneLine(failure, state.secrets)}\n`)

  const report: ReplayReport = {
    recorded,
    replayed: result.doc,
    diff: result.diff,
    mismatches: result.mismatches.map((mismatch) => mismatch.message),
    unused: result.unused,
  }
  const matches = replayProblems(report).length === 0
  if (!matches) state.exitCode = 1
  if (options.json === true) {
    const json = {
      ok: matches,
      equal: result.diff.equal,
      status: { recorded: recorded.status, replay: result.doc.status },
      mismatches: report.mismatches,
      unused: report.unused,
      recorded_trace_id: recorded.traceId,
      replay_trace_id: result.doc.traceId,
      stored,
      diff: diffToJson(result.diff),
    }
    await write(io.stdout, `${toJson(json, 2)}\n`)
    return
  }
  await write(io.stdout, `${renderReplay(report, { colors: colorsFor(io), columns: columnsOf(io) })}\n`)
  await write(io.stdout, stored
    ? `replay trace ${result.doc.traceId} written to ${displayDb(db)}: npx tracellm show ${shortId(result.doc.traceId)}\n`
    : `replay trace ${result.doc.traceId} (not stored)\n`)
}

/**
 * The export `name` of the module at `file` (resolved against the working directory), which must be
 * a function. A missing file, export or function is a usage error naming what the module exports;
 * a module that fails to load is a failure at run time.
 */
async function loadPipeline(file: string, name: string): Promise<AnyFunction> {
  const path = resolve(file)
  if (!existsSync(path)) throw new UsageError(`--module: no file at ${file}`)
  let namespace: Readonly<Record<string, unknown>>
  try {
    namespace = (await import(pathToFileURL(path).href)) as Readonly<Record<string, unknown>>
  } catch (error) {
    const code = (error as { readonly code?: unknown } | null)?.code
    const hint = code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?tsx?$/i.test(path)
      ? ' (a TypeScript file: import its compiled JavaScript, or run tracellm under a TypeScript loader such as `node --import tsx`)'
      : ''
    throw new CliError(`cannot import ${file}: ${messageOf(error)}${hint}`)
  }
  const names = Object.keys(namespace)
  const functions = names.filter((key) => typeof namespace[key] === 'function')
  const listed = (list: ReadonlyArray<string>): string => (list.length === 0 ? 'none' : list.join(', '))
  if (!names.includes(name)) {
    throw new UsageError(`--export ${name}: ${file} has no export named ${JSON.stringify(name)}; its exports: ${listed(names)}`)
  }
  const value = namespace[name]
  if (typeof value !== 'function') {
    throw new UsageError(`--export ${name}: expected a function (the trace-wrapped pipeline), got ${kindOf(value)}; the functions ${file} exports: ${listed(functions)}`)
  }
  return value as AnyFunction
}

/** `--tools` must name tools of the recorded trace: a typo would silently run every tool live. */
function checkTools(recorded: TraceDocument, tools: ReadonlyArray<string>): void {
  const known = [...new Set(recorded.steps.filter((step) => step.kind !== 'trace').map((step) => step.name))]
  const unknown = tools.filter((tool) => !known.includes(tool))
  if (unknown.length > 0) {
    const shown = known.length === 0 ? 'none' : known.map((name) => truncate(clean(name), 60)).join(', ')
    throw new UsageError(`--tools: trace ${shortId(recorded.traceId)} recorded no call of ${unknown.map((tool) => JSON.stringify(tool)).join(', ')}; its tools: ${shown}`)
  }
}

function sinkFor(db: string): Sink {
  return isPostgresUrl(db) ? postgresSink({ connectionString: db }) : sqliteSink({ path: db })
}

/**
 * Makes sure the replay's trace is in the store. The pipeline's own tracellm delivers it there when it
 * is this copy of the package (configured above); a pipeline bundling another copy delivers it to
 * that copy's sinks instead, so the document `replay` returned is written here directly (writes are
 * idempotent). Resolves with why it could not be stored, or undefined once it is.
 */
async function storeReplay(db: string, doc: TraceDocument): Promise<string | undefined> {
  try {
    if (await withStore(db, async (store) => (await store.get(doc.traceId)) !== undefined)) return undefined
    const sink = sinkFor(db)
    try {
      await sink.write(Object.freeze([doc]))
    } finally {
      await sink.close?.()
    }
    const found = await withStore(db, async (store) => (await store.get(doc.traceId)) !== undefined)
    return found ? undefined : 'the sink did not write it'
  } catch (error) {
    return messageOf(error)
  }
}
