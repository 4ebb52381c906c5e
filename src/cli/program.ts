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
 *
 * This file is the wiring only: the commands, their flags and help. Each action is in
 * `commands/<name>.ts`, imported when that command runs, so the version, the help and a usage error
 * load only commander and the wiring, and `tracellm ui` not the library's barrel (docs/cli.md).
 */
import { Command, CommanderError, Option } from 'commander'
import { addFilters, DEFAULT_DB, DEFAULT_LIMIT, MAX_LIMIT, parseArgsJson, parseId, parseIgnore, parseLimit, parseNames, parsePort, parseRatio, parseWhen } from './args.js'
import type { DiffCommandOptions } from './commands/diff.js'
import type { ExportOptions } from './commands/export.js'
import type { ListOptions } from './commands/list.js'
import type { PruneCommandOptions } from './commands/prune.js'
import type { ReplayCommandOptions } from './commands/replay.js'
import type { ShowCommandOptions } from './commands/show.js'
import type { UiCommandOptions } from './commands/ui.js'
import { messageOf, oneLine, OutputClosed, UsageError } from './errors.js'
import { readVersion, type CliIo, type CommandContext, type RunState } from './io.js'

export type { CliIo, InputStream, OutputStream } from './io.js'

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

interface GlobalOptions {
  readonly db?: string
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

  // what each action gets: the command module is imported only when its command runs
  const contextOf = (command: Command): CommandContext => ({ io, state, dbOption: (command.optsWithGlobals() as GlobalOptions).db })

  program
    .command('demo')
    .description('run a small traced RAG pipeline (no network, no API key) and store its trace')
    .action(async (_options: unknown, command: Command) => {
      const { demoCommand } = await import('./commands/demo.js')
      await demoCommand(contextOf(command))
    })

  addFilters(
    program
      .command('list')
      .description('list traces, newest first')
      .addOption(new Option('--limit <n>', `how many traces (1-${MAX_LIMIT})`).argParser(parseLimit).default(DEFAULT_LIMIT))
      .option('--cursor <cursor>', 'continue after the page that printed this cursor')
      .option('--json', 'print {"items": [...], "nextCursor": ...} as JSON'),
  ).action(async (options: ListOptions, command: Command) => {
    const { listCommand } = await import('./commands/list.js')
    await listCommand(options, contextOf(command))
  })

  program
    .command('show')
    .description('show one trace: its header and the tree of its steps with a waterfall (every service of a continued trace)')
    .argument('<id>', 'a trace id, or a unique prefix of at least 4 characters (as `list` shows)', parseId)
    .option('--json', 'print the whole document as stored (snake_case JSON); for a trace continued across services, its first one (`export` gives all)')
    .option('--full', 'print inputs and outputs in full instead of one abbreviated line each')
    .action(async (id: string, options: ShowCommandOptions, command: Command) => {
      const { showCommand } = await import('./commands/show.js')
      await showCommand(id, options, contextOf(command))
    })

  addFilters(
    program
      .command('export')
      .description('write traces as stored (snake_case JSON): the given ids, or every trace matching the filters')
      .argument('[ids...]', 'trace ids or unique prefixes (default: every trace matching the filters)')
      .addOption(new Option('--format <format>', 'one JSON array, or one document per line').choices(['json', 'jsonl']).default('jsonl'))
      .option('--out <file>', 'write to this file (created with mode 0600) instead of stdout'),
  ).action(async (ids: ReadonlyArray<string>, options: ExportOptions, command: Command) => {
    const { exportCommand } = await import('./commands/export.js')
    await exportCommand(ids, options, contextOf(command))
  })

  program
    .command('prune')
    .description('delete traces started before a point in time, with their steps; --vacuum also gives the disk space back')
    .addOption(new Option('--older-than <when>', 'a duration such as 30d, 12h, 90m (that long ago) or an ISO date').argParser(parseWhen).makeOptionMandatory())
    .option('--dry-run', 'only count the traces that would be deleted')
    .option('-y, --yes', 'delete without asking for confirmation')
    .option('--vacuum', 'then return the freed space: SQLite shrinks the file (the first time, an older store is rewritten once); PostgreSQL runs VACUUM (ANALYZE)')
    .action(async (options: PruneCommandOptions, command: Command) => {
      const { pruneCommand } = await import('./commands/prune.js')
      await pruneCommand(options, contextOf(command))
    })

  program
    .command('stats')
    .description('totals of the store: traces, steps, errors, retries, tokens, time range, projects')
    .option('--json', 'print the totals as JSON')
    .action(async (options: { readonly json?: boolean }, command: Command) => {
      const { statsCommand } = await import('./commands/stats.js')
      await statsCommand(options, contextOf(command))
    })

  program
    .command('index')
    .description('build an optional index of the store: --text makes `list --search` fast (SQLite FTS5; PostgreSQL pg_trgm, which needs the right to create the extension)')
    .option('--text', 'index the text of every document for `--search`; kept up to date on every write afterwards')
    .action(async (options: { readonly text?: boolean }, command: Command) => {
      const { indexCommand } = await import('./commands/index.js')
      await indexCommand(options, contextOf(command))
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
      const { replayCommand } = await import('./commands/replay.js')
      await replayCommand(id, options, contextOf(command))
    })

  program
    .command('diff')
    .description('compare two traces step by step; exits with 1 when they differ')
    .argument('<a>', 'the trace before: an id, or a unique prefix of at least 4 characters', parseId)
    .argument('<b>', 'the trace after', parseId)
    .option('--json', 'print the comparison as JSON: {"equal", "a", "b", "summary", "trace", "steps"}')
    .addOption(new Option('--duration-ratio <n>', 'a step whose duration grew or shrank by at least this factor counts as changed (a number of at least 1; default: durations never count)').argParser(parseRatio))
    .addOption(new Option('--ignore <fields>', 'fields not compared, comma-separated: duration, input, metadata').argParser(parseIgnore))
    .action(async (a: string, b: string, options: DiffCommandOptions, command: Command) => {
      const { diffCommand } = await import('./commands/diff.js')
      await diffCommand(a, b, options, contextOf(command))
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
      const { uiCommand } = await import('./commands/ui.js')
      await uiCommand(options, contextOf(command))
    })

  return program
}

// --- errors ---

function report(error: unknown, io: CliIo, state: RunState): number {
  if (error instanceof CommanderError) {
    // --help and --version: printed already
    if (error.exitCode === 0) return 0
    // the help commander prints when no command is given
    if (error.code === 'commander.help' || error.code === 'commander.helpDisplayed') return 2
    io.stderr.write(`tracellm: ${oneLine(error.message.replace(/^error: /, ''), state.secrets)}\n`)
    return 2
  }
  if (error instanceof OutputClosed) return 0
  // `UsageError` of a command module (`commands/ui.ts`) too
  const usage = error instanceof UsageError || (error instanceof Error && error.name === 'UsageError')
  io.stderr.write(`tracellm: ${oneLine(messageOf(error), state.secrets)}\n`)
  return usage ? 2 : 1
}
