/**
 * The `tracellm` command: a commander program whose commands call the public API (`openStore`,
 * `toWire`, `replay`, `diffTraces`, `runDemo`) and print. `main` never calls `process.exit` and never
 * throws: it resolves with the exit code, so tests run it in-process and `tracellm.ts` only wires it
 * to the process.
 *
 * Exit codes: 0 success; 1 a failure at run time (no store, unknown or ambiguous id, a failed query,
 * a refused prune) or a verdict of "different" (`replay` that does not match its record, `diff` of
 * two traces that differ), so both can gate CI; 2 a usage error (unknown command or option, a
 * missing or invalid flag value, a module export that is not a traced pipeline).
 * Every error is one line on stderr, `tracellm: <message>`, never a stack trace.
 */
import { existsSync, readFileSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline/promises'
import { pathToFileURL } from 'node:url'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { configure, diffTraces, openStore, postgresSink, renderDiff, replay, shutdown, sqliteSink, toWire, type AnyFunction, type DiffOptions, type JsonValue, type ListQuery, type ReplayResult, type Sink, type TraceDocument, type TraceStore } from '../index.js'
import { createTextIndex } from '../store/open-store.js'
import { terminalSafeJson } from '../serialization/terminal.js'
import { runUi, type UiCommandContext, type UiCommandOptions } from './commands/ui.js'
import { runDemo } from './demo.js'
import { clean, diffToJson, formatBytes, formatCount, formatLocalTime, maskSecrets, progressBar, renderList, renderReplay, renderShow, renderStats, replayProblems, shortId, truncate, wantsColors, type ProgressBar, type ReplayReport } from './render.js'

/** @internal A stream `main` writes to: `process.stdout`, or a test's collector. */
export interface OutputStream {
  write(chunk: string): unknown
  readonly isTTY?: boolean
  readonly columns?: number
  /** True once the reader went away (a closed pipe). */
  readonly destroyed?: boolean
  once?(event: 'drain' | 'close', listener: () => void): unknown
  off?(event: 'drain' | 'close', listener: () => void): unknown
}

/** @internal A stream `prune` may ask for confirmation on. */
export interface InputStream extends NodeJS.ReadableStream {
  readonly isTTY?: boolean
}

/** @internal Everything `main` touches outside itself. */
export interface CliIo {
  readonly stdout: OutputStream
  readonly stderr: OutputStream
  /** Read for `TRACELLM_DB` and `NO_COLOR`. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Whether stdout is a terminal (colours). @default stdout.isTTY */
  readonly isTTY?: boolean
  /** Where `prune` asks for confirmation when it is a terminal and `--yes` is not given. */
  readonly stdin?: InputStream
  /** `ui` stops when this resolves instead of on SIGINT or SIGTERM (tests). */
  readonly uiStopped?: Promise<unknown>
  /** Called with the running viewer (tests). */
  readonly onUiListening?: UiCommandContext['onListening']
}

/**
 * @internal Runs the `tracellm` command line `argv` (without `node` and the script) and resolves with
 * the exit code: 0, 1 (a failure at run time) or 2 (a usage error). It never rejects and never exits
 * the process; every error is one line `tracellm: <message>` on `io.stderr`.
 *
 * @example
 * import { main } from './program.js'
 * const code = await main(['--version'], { stdout: process.stdout, stderr: process.stderr, env: {} })
 * code   // => 0
 */
export async function main(argv: ReadonlyArray<string>, io: CliIo): Promise<number> {
  const state: RunState = { secrets: [], exitCode: 0 }
  try {
    const program = buildProgram(io, state)
    await program.parseAsync([...argv], { from: 'user' })
    return state.exitCode
  } catch (error) {
    try {
      return report(error, io, state)
    } catch {
      return 1
    }
  }
}

// --- the program ---

const DEFAULT_DB = '.tracellm/traces.db'
const DEFAULT_LIMIT = 20
const MAX_LIMIT = 500
const EXPORT_PAGE = 500
/** Fewer traces than this export or prune without a progress bar: it would only flash. */
const PROGRESS_THRESHOLD = 50

interface RunState {
  /** Passwords of the `--db` URL: removed from every error message. */
  secrets: string[]
  /** The exit code of a command that ran to its end: 1 for a verdict of "different". */
  exitCode: number
}

/** A failure at run time: printed as it is, exit code 1. */
class CliError extends Error {
  override readonly name = 'CliError'
}

/** stdout was closed by its reader: stop without a message. */
class OutputClosed extends Error {
  override readonly name = 'OutputClosed'
}

/** A usage mistake found after parsing (a flag combination): exit code 2. */
class UsageError extends Error {
  override readonly name = 'UsageError'
}

interface GlobalOptions {
  readonly db?: string
}

interface FilterOptions {
  readonly project?: string
  readonly env?: string
  readonly environment?: string
  readonly prompt?: string
  readonly status?: 'success' | 'error'
  readonly model?: string
  readonly since?: string
  readonly until?: string
  readonly search?: string
}

function buildProgram(io: CliIo, state: RunState): Command {
  const program = new Command('tracellm')
  program
    .description('Read the traces tracellm recorded: list, show, export, prune and stats; replay and diff them.')
    .version(readVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--db <pathOrUrl>', `the trace store: a SQLite file or a postgres:// URL (default: $TRACELLM_DB, else ${DEFAULT_DB})`)
    .configureOutput({
      writeOut: (text) => { io.stdout.write(text) },
      writeErr: (text) => { io.stderr.write(text) },
      // errors are printed once, on one line, by `report`
      outputError: () => undefined,
    })
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .showSuggestionAfterError(true)
    .helpCommand('help [command]', 'show help for a command')
    .addHelpText('after', '\nExamples:\n  npx tracellm demo\n  npx tracellm list --status error --since 1d\n  npx tracellm show 0af76519\n  npx tracellm export --since 7d --out traces.jsonl\n  npx tracellm replay 0af76519 --module dist/pipeline.js --export answer\n  npx tracellm diff 0af76519 5f1a9c3d\n')

  const dbOf = (command: Command): string => {
    const db = resolveDb((command.optsWithGlobals() as GlobalOptions).db, io.env)
    state.secrets.push(...passwordsOf(db))
    return db
  }

  program
    .command('demo')
    .description('run a small traced RAG pipeline (no network, no API key) and store its trace')
    .action(async (_options: unknown, command: Command) => {
      const db = dbOf(command)
      if (isPostgresUrl(db)) throw new UsageError('`demo` writes to a SQLite file: pass --db <path>')
      await runDemo({ path: db, out: io.stdout as NodeJS.WritableStream })
    })

  addFilters(
    program
      .command('list')
      .description('list traces, newest first')
      .addOption(new Option('--limit <n>', `how many traces (1-${MAX_LIMIT})`).argParser(parseLimit).default(DEFAULT_LIMIT))
      .option('--cursor <cursor>', 'continue after the page that printed this cursor')
      .option('--json', 'print {"items": [...], "nextCursor": ...} as JSON'),
  ).action(async (options: FilterOptions & { readonly limit: number; readonly cursor?: string; readonly json?: boolean }, command: Command) => {
    const db = dbOf(command)
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
        await write(io.stdout, `\nmore: ${nextPageCommand(command, options, page.nextCursor)}\n`)
      }
    })
  })

  program
    .command('show')
    .description('show one trace: its header and the tree of its steps with a waterfall (every service of a continued trace)')
    .argument('<id>', 'a trace id, or a unique prefix of at least 4 characters (as `list` shows)', parseId)
    .option('--json', 'print the whole document as stored (snake_case JSON); for a trace continued across services, its first one (`export` gives all)')
    .option('--full', 'print inputs and outputs in full instead of one abbreviated line each')
    .action(async (id: string, options: { readonly json?: boolean; readonly full?: boolean }, command: Command) => {
      const db = dbOf(command)
      await withStore(db, async (store) => {
        const docs = await getDocuments(store, await resolveId(store, id, db), db)
        if (options.json === true) {
          await write(io.stdout, `${toJson(toWire(docs[0] as TraceDocument), 2)}\n`)
          return
        }
        await write(io.stdout, `${renderShow(docs, { colors: colorsFor(io), columns: columnsOf(io), full: options.full === true })}\n`)
      })
    })

  addFilters(
    program
      .command('export')
      .description('write traces as stored (snake_case JSON): the given ids, or every trace matching the filters')
      .argument('[ids...]', 'trace ids or unique prefixes (default: every trace matching the filters)')
      .addOption(new Option('--format <format>', 'one JSON array, or one document per line').choices(['json', 'jsonl']).default('jsonl'))
      .option('--out <file>', 'write to this file (created with mode 0600) instead of stdout'),
  ).action(async (ids: ReadonlyArray<string>, options: FilterOptions & { readonly format: 'json' | 'jsonl'; readonly out?: string }, command: Command) => {
    const db = dbOf(command)
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
      const progress = total > PROGRESS_THRESHOLD && io.stderr.isTTY === true ? progressBar(io.stderr, total, 'export') : undefined
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
  })

  program
    .command('prune')
    .description('delete traces started before a point in time, with their steps; --vacuum also gives the disk space back')
    .addOption(new Option('--older-than <when>', 'a duration such as 30d, 12h, 90m (that long ago) or an ISO date').argParser(parseWhen).makeOptionMandatory())
    .option('--dry-run', 'only count the traces that would be deleted')
    .option('-y, --yes', 'delete without asking for confirmation')
    .option('--vacuum', 'then return the freed space: SQLite shrinks the file (the first time, an older store is rewritten once); PostgreSQL runs VACUUM (ANALYZE)')
    .action(async (options: { readonly olderThan: string; readonly dryRun?: boolean; readonly yes?: boolean; readonly vacuum?: boolean }, command: Command) => {
      const db = dbOf(command)
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
        const progress: ProgressBar | undefined = matching > PROGRESS_THRESHOLD && io.stderr.isTTY === true ? progressBar(io.stderr, matching, 'prune') : undefined
        let result: { readonly deleted: number }
        try {
          result = await store.prune({ olderThan: before, ...(progress === undefined ? {} : { onProgress: (deleted: number) => progress.update(deleted) }) })
        } finally {
          progress?.finish()
        }
        await write(io.stdout, `Deleted ${noun(result.deleted)} ${when}.\n`)
        await vacuum()
      })
    })

  program
    .command('stats')
    .description('totals of the store: traces, steps, errors, retries, tokens, time range, projects')
    .option('--json', 'print the totals as JSON')
    .action(async (options: { readonly json?: boolean }, command: Command) => {
      const db = dbOf(command)
      await withStore(db, async (store) => {
        const stats = await store.stats()
        await write(io.stdout, options.json === true ? `${toJson(stats, 2)}\n` : `${renderStats(stats, { colors: colorsFor(io) })}\n`)
      })
    })

  program
    .command('index')
    .description('build an optional index of the store: --text makes `list --search` fast (SQLite FTS5; PostgreSQL pg_trgm, which needs the right to create the extension)')
    .option('--text', 'index the text of every document for `--search`; kept up to date on every write afterwards')
    .action(async (options: { readonly text?: boolean }, command: Command) => {
      if (options.text !== true) throw new UsageError('nothing to index: pass --text')
      const db = dbOf(command)
      await withStore(db, async (store) => {
        const created = await createTextIndex(store)
        await write(io.stdout, created ? `text index created in ${displayDb(db)}\n` : `the text index of ${displayDb(db)} already exists\n`)
      })
    })

  program
    .command('replay')
    .description('run a traced pipeline again with its tool calls answered from a recorded trace, and compare; exits with 1 when the replay differs')
    .argument('<id>', 'the recorded trace: an id, or a unique prefix of at least 4 characters', parseId)
    .addOption(new Option('--module <file>', 'the JavaScript module that exports the pipeline (a path, relative to the working directory)').makeOptionMandatory())
    .addOption(new Option('--export <name>', 'the export of --module to call: the trace-wrapped pipeline, or a function that calls it').makeOptionMandatory())
    .addOption(new Option('--mode <mode>', 'recorded: every tool call answered from the record; partial: only those of --tools (default: partial with --tools, else recorded)').choices(['recorded', 'partial']))
    .addOption(new Option('--tools <names>', 'with --mode partial, the tools answered from the record (comma-separated); the others run for real').argParser(parseNames))
    .option('--match-input', "also require each tool call's input to equal the recorded one")
    .addOption(new Option('--args <json>', "the arguments to call the pipeline with, as a JSON array (default: the recorded trace's input)").argParser(parseArgsJson))
    .option('--json', 'print {"ok", "equal", "mismatches", "unused", "replay_trace_id", "diff", ...} as JSON')
    .action(async (id: string, options: ReplayCommandOptions, command: Command) => {
      const db = dbOf(command)
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
      if (!stored) io.stderr.write(`tracellm: warning: the replay trace was not stored in ${displayDb(db)}: ${oneLine(failure, state)}\n`)

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
    })

  program
    .command('diff')
    .description('compare two traces step by step; exits with 1 when they differ')
    .argument('<a>', 'the trace before: an id, or a unique prefix of at least 4 characters', parseId)
    .argument('<b>', 'the trace after', parseId)
    .option('--json', 'print the comparison as JSON: {"equal", "a", "b", "summary", "trace", "steps"}')
    .addOption(new Option('--duration-ratio <n>', 'a step whose duration grew or shrank by at least this factor counts as changed (a number of at least 1; default: durations never count)').argParser(parseRatio))
    .addOption(new Option('--ignore <fields>', 'fields not compared, comma-separated: duration, input, metadata').argParser(parseIgnore))
    .action(async (a: string, b: string, options: { readonly json?: boolean; readonly durationRatio?: number; readonly ignore?: DiffOptions['ignore'] }, command: Command) => {
      const db = dbOf(command)
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
      if (!diff.equal) state.exitCode = 1
      if (options.json === true) {
        await write(io.stdout, `${toJson(diffToJson(diff), 2)}\n`)
        return
      }
      await write(io.stdout, `${renderDiff(diff, { colors: colorsFor(io), width: columnsOf(io) })}\n`)
    })

  program
    .command('ui')
    .description('serve a local web viewer of the store on 127.0.0.1, read-only; Ctrl-C stops it')
    .addOption(new Option('--port <n>', 'the port to listen on; 0 picks a free one').argParser(parsePort).default(7317))
    .option('--host <address>', 'the address to listen on; a non-loopback address needs --allow-remote', '127.0.0.1')
    .option('--allow-remote', 'allow a non-loopback --host; turns on --token')
    .option('--open', 'open the viewer in the system browser')
    .option('--write', 'allow deleting traces from the viewer (behind a per-launch CSRF token)')
    .option('--token', 'require the launch token printed in the URL (for shared machines)')
    .option('--file <export>', 'view a JSONL or JSON export (the `export` format) instead of a store, read-only')
    .action(async (options: UiCommandOptions, command: Command) => {
      const given = (command.optsWithGlobals() as GlobalOptions).db
      const context: UiCommandContext = {
        // --file replaces the store, unless --db is given too (a usage error)
        db: options.file !== undefined && given === undefined ? undefined : dbOf(command),
        displayDb,
        version: readVersion(),
        stdout: io.stdout,
        stderr: io.stderr,
        ...(io.uiStopped === undefined ? {} : { stopped: io.uiStopped }),
        ...(io.onUiListening === undefined ? {} : { onListening: io.onUiListening }),
      }
      await runUi(options, context)
    })

  return program
}

interface ReplayCommandOptions {
  readonly module: string
  readonly export: string
  readonly mode?: 'recorded' | 'partial'
  readonly tools?: ReadonlyArray<string>
  readonly matchInput?: boolean
  readonly args?: ReadonlyArray<JsonValue>
  readonly json?: boolean
}

/** The filters `list` and `export` share; they map one to one onto `ListQuery`. */
function addFilters(command: Command): Command {
  return command
    .option('--project <name>', 'only this project')
    .option('--env <name>', 'only this environment')
    .addOption(new Option('--environment <name>', 'only this environment').hideHelp())
    .option('--prompt <name>', "only traces with this prompt (the trace's name)")
    .addOption(new Option('--status <status>', 'only successful or failed traces').choices(['success', 'error']))
    .option('--model <name>', 'only traces of this model')
    .addOption(new Option('--since <when>', 'started at or after: a duration such as 7d, 12h, 30m (that long ago) or an ISO date').argParser(parseWhen))
    .addOption(new Option('--until <when>', 'started before: a duration or an ISO date').argParser(parseWhen))
    .option('--search <text>', 'case-insensitive text anywhere in the trace (prompt, inputs, outputs, errors, metadata)')
}

function toFilters(options: FilterOptions): ListQuery {
  const environment = options.environment ?? options.env
  return {
    ...(options.project === undefined ? {} : { project: options.project }),
    ...(environment === undefined ? {} : { environment }),
    ...(options.prompt === undefined ? {} : { prompt: options.prompt }),
    ...(options.status === undefined ? {} : { status: options.status }),
    ...(options.model === undefined ? {} : { modelName: options.model }),
    ...(options.since === undefined ? {} : { since: options.since }),
    ...(options.until === undefined ? {} : { until: options.until }),
    ...(options.search === undefined || options.search === '' ? {} : { text: options.search }),
  }
}

// --- replay ---

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

// --- the store ---

async function withStore<T>(db: string, use: (store: TraceStore) => Promise<T>): Promise<T> {
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

/** A full trace id for `id` (a full id, or a prefix that matches exactly one trace). */
async function resolveId(store: TraceStore, id: string, db: string): Promise<string> {
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

/** Every document of a trace, earliest first (one per service it crossed). */
async function getDocuments(store: TraceStore, traceId: string, db: string): Promise<ReadonlyArray<TraceDocument>> {
  const docs = await store.getAll(traceId)
  if (docs.length === 0) throw new CliError(`no trace with id ${traceId} in ${displayDb(db)}`)
  return docs
}

async function getTrace(store: TraceStore, traceId: string, db: string): Promise<TraceDocument> {
  const doc = await store.get(traceId)
  if (doc === undefined) throw new CliError(`no trace with id ${traceId} in ${displayDb(db)}`)
  return doc
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

/** `--db`, else `TRACELLM_DB`, else `.tracellm/traces.db`. */
function resolveDb(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  if (flag !== undefined) {
    if (flag.trim() === '') throw new UsageError('--db: expected a SQLite file path or a postgres:// URL')
    return flag
  }
  const fromEnv = env.TRACELLM_DB
  return fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv : DEFAULT_DB
}

function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text)
}

/** The store as it may be printed: a URL's password masked. */
function displayDb(db: string): string {
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

// --- flags ---

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** `7d` (that long ago) or an ISO date → an ISO instant, fixed when the command line is read. */
function parseWhen(value: string): string {
  const text = value.trim()
  const duration = DURATION.exec(text)
  if (duration !== null) return new Date(Date.now() - Number(duration[1]) * (UNIT_MS[duration[2] as string] as number)).toISOString()
  const date = new Date(text)
  if (ISO_DATE.test(text) && !Number.isNaN(date.getTime())) return date.toISOString()
  throw new InvalidArgumentError('Expected a duration such as 30m, 12h, 7d or 2w, or an ISO date such as 2026-11-24 or 2026-11-24T10:00:00Z.')
}

function parsePort(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n > 65_535) throw new InvalidArgumentError('Expected a port number from 0 to 65535 (0 picks a free one).')
  return n
}

function parseLimit(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new InvalidArgumentError(`Expected an integer from 1 to ${MAX_LIMIT}.`)
  }
  return n
}

/** `a,b, c` → `['a', 'b', 'c']`. */
function parseNames(value: string): string[] {
  const names = value.split(',').map((name) => name.trim()).filter((name) => name !== '')
  if (names.length === 0) throw new InvalidArgumentError('Expected one or more names, comma-separated.')
  return names
}

function parseArgsJson(value: string): JsonValue[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch (error) {
    throw new InvalidArgumentError(`Expected a JSON array of arguments, such as '["What is RAG?"]': ${messageOf(error)}.`)
  }
  if (!Array.isArray(parsed)) throw new InvalidArgumentError(`Expected a JSON array of arguments, such as '["What is RAG?"]', got ${kindOf(parsed)}.`)
  return parsed as JsonValue[]
}

function parseRatio(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < 1) throw new InvalidArgumentError('Expected a number of at least 1, such as 2 or 1.5.')
  return n
}

const IGNORABLE = ['duration', 'input', 'metadata'] as const

function parseIgnore(value: string): Array<(typeof IGNORABLE)[number]> {
  const names = parseNames(value)
  const wrong = names.filter((name) => !(IGNORABLE as ReadonlyArray<string>).includes(name))
  if (wrong.length > 0) throw new InvalidArgumentError(`Expected a comma-separated list of ${IGNORABLE.join(', ')}.`)
  return names as Array<(typeof IGNORABLE)[number]>
}

function parseId(value: string): string {
  try {
    return parseIdValue(value)
  } catch (error) {
    throw new InvalidArgumentError(messageOf(error))
  }
}

function parseIdValue(value: string): string {
  const id = value.trim().toLowerCase()
  if (!/^[0-9a-f]{4,32}$/.test(id)) {
    throw new UsageError(`expected a trace id (32 hex characters) or a unique prefix of at least 4, got ${JSON.stringify(value.slice(0, 40))}`)
  }
  return id
}

/** The `list` command that fetches the next page: the same filters and limit, plus `--cursor`. */
function nextPageCommand(command: Command, options: FilterOptions & { readonly limit: number }, cursor: string): string {
  const args = ['npx', 'tracellm', 'list']
  const globals = command.optsWithGlobals() as GlobalOptions
  if (globals.db !== undefined) args.push('--db', displayDb(globals.db))
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

// --- output ---

function colorsFor(io: CliIo): boolean {
  return wantsColors(io.isTTY ?? io.stdout.isTTY, io.env)
}

/**
 * JSON as the command prints it, to stdout or an `--out` file alike: C1 controls, line separators and
 * bidirectional overrides escaped, so a trace cannot act on the terminal that shows it and a file is
 * safe to `cat` (docs/reliability.md#files-exports-and-disk-space).
 */
function toJson(value: unknown, indent?: number): string {
  return terminalSafeJson(JSON.stringify(value, null, indent))
}

/** The terminal width, or 100 when stdout is not a terminal. */
function columnsOf(io: CliIo): number {
  return typeof io.stdout.columns === 'number' && io.stdout.columns > 0 ? io.stdout.columns : 100
}

/**
 * Writes and waits for `drain` when the stream asks to, so a large export never piles up in memory.
 * A stream closed by its reader (`tracellm export | head`) ends the command quietly.
 */
async function write(stream: OutputStream, text: string): Promise<void> {
  if (isClosed(stream)) throw new OutputClosed()
  const ok = stream.write(text)
  if (ok === false && typeof stream.once === 'function') {
    await new Promise<void>((resolveWait) => {
      const done = (): void => {
        stream.off?.('drain', done)
        stream.off?.('close', done)
        resolveWait()
      }
      stream.once?.('drain', done)
      stream.once?.('close', done)
    })
  }
  if (isClosed(stream)) throw new OutputClosed()
}

function isClosed(stream: OutputStream): boolean {
  return stream.destroyed === true
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

async function confirm(io: CliIo, question: string): Promise<boolean> {
  const input = io.stdin
  if (input === undefined) return false
  const reader = createInterface({ input, output: io.stderr as NodeJS.WritableStream, terminal: false })
  try {
    const answer = await reader.question(question)
    return /^(y|yes)$/i.test(answer.trim())
  } finally {
    reader.close()
  }
}

// --- errors ---

function report(error: unknown, io: CliIo, state: RunState): number {
  if (error instanceof CommanderError) {
    // --help and --version: printed already
    if (error.exitCode === 0) return 0
    // the help commander prints when no command is given
    if (error.code === 'commander.help' || error.code === 'commander.helpDisplayed') return 2
    io.stderr.write(`tracellm: ${oneLine(error.message.replace(/^error: /, ''), state)}\n`)
    return 2
  }
  if (error instanceof OutputClosed) return 0
  // `UsageError` of a command module (`commands/ui.ts`) too
  const usage = error instanceof UsageError || (error instanceof Error && error.name === 'UsageError')
  io.stderr.write(`tracellm: ${oneLine(messageOf(error), state)}\n`)
  return usage ? 2 : 1
}

function oneLine(message: string, state: RunState): string {
  let text = maskSecrets(message).replace(/^tracellm:\s*/, '')
  for (const secret of state.secrets) if (secret.length >= 3) text = text.split(secret).join('***')
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

/** `null`, `an array`, `a string`, `an object`: what a value is, for an error message. */
function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  const type = typeof value
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}

function messageOf(error: unknown): string {
  try {
    if (error instanceof Error) return error.message || error.name
    return String(error)
  } catch {
    return 'unknown error'
  }
}

function readVersion(): string {
  try {
    const text = readPackageJson()
    const version: unknown = (JSON.parse(text) as { version?: unknown }).version
    return typeof version === 'string' ? version : '0.0.0'
  } catch {
    return '0.0.0'
  }
}

/** package.json is two folders up from both src/cli/ (tests) and dist/cli/ (the bin). */
function readPackageJson(): string {
  return readFileSync(new URL('../../package.json', import.meta.url), 'utf8')
}
