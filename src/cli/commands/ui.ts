/**
 * `tracellm ui`: opens the store read-only (or writable with `--write`), starts the viewer's server
 * and waits for Ctrl-C (docs/ui.md). The server module, and with it Hono, is imported only here and
 * only when the command runs, so neither `import 'tracellm'` nor any other command loads it.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TraceDocument } from '../../document/document.js'
import { openStore, parseExport } from '../../stores/open-store.js'
import { sqliteSink } from '../../stores/sqlite/sink.js'
import { isLoopback } from '../../ui/security.js'
import type { UiServer, ViewerStore } from '../../ui/types.js'
import { readVersion, type CommandContext } from '../io.js'
import { dbOf, displayDb } from './store.js'

/** @internal The flags of `tracellm ui`. */
export interface UiCommandOptions {
  readonly port: number
  readonly host: string
  readonly allowRemote?: boolean
  readonly open?: boolean
  readonly write?: boolean
  readonly token?: boolean
  readonly file?: string
}

/** @internal What the command needs from the program around it. */
export interface UiCommandContext {
  /** The resolved `--db` (when `--file` is not given), and how to print it. */
  readonly db: string | undefined
  readonly displayDb: (db: string) => string
  readonly version: string
  readonly stdout: { write(chunk: string): unknown }
  readonly stderr: { write(chunk: string): unknown }
  /** Resolves when the viewer should stop; default: the first SIGINT or SIGTERM. */
  readonly stopped?: Promise<unknown>
  /** Called with the running server (tests). */
  readonly onListening?: (server: UiServer) => void
}

/** @internal A usage mistake (exit code 2); `program.ts` tells it by its name. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** @internal A failure at run time (exit code 1). */
export class UiError extends Error {
  override readonly name = 'UiError'
}

/** @internal The `ui` action of `program.ts`: `runUi` with the store of `--db`, unless `--file` replaces it. */
export async function uiCommand(options: UiCommandOptions, context: CommandContext): Promise<void> {
  const { io } = context
  await runUi(options, {
    // --file replaces the store, unless --db is given too (a usage error)
    db: options.file !== undefined && context.dbOption === undefined ? undefined : dbOf(context),
    displayDb,
    version: readVersion(),
    stdout: io.stdout,
    stderr: io.stderr,
    ...(io.uiStopped === undefined ? {} : { stopped: io.uiStopped }),
    ...(io.onUiListening === undefined ? {} : { onListening: io.onUiListening }),
  })
}

/** @internal Runs `tracellm ui` until it is stopped; resolves once the server and the store are closed. */
export async function runUi(options: UiCommandOptions, context: UiCommandContext): Promise<void> {
  if (options.file !== undefined && context.db !== undefined) throw new UsageError('give --file or --db, not both')
  if (options.file !== undefined && options.write === true) throw new UsageError('--write cannot be used with --file: an imported export is read-only')
  if (!isLoopback(options.host) && options.allowRemote !== true) {
    throw new UsageError(`--host ${options.host} is not a loopback address: add --allow-remote to accept other machines (the launch token is then required)`)
  }
  let startUiServer: typeof import('../../ui/server.js').startUiServer
  try {
    ({ startUiServer } = await import('../../ui/server.js'))
  } catch (error) {
    throw new UiError(`tracellm ui needs the optional packages hono and @hono/node-server: npm install hono @hono/node-server (${messageOf(error)})`)
  }
  const opened = options.file === undefined ? await openDb(context.db as string, options.write === true, context.displayDb) : await openExport(options.file)
  let server: UiServer
  try {
    server = await startUiServer({
      store: opened.store,
      storeLabel: opened.label,
      port: options.port,
      host: options.host,
      write: options.write === true,
      token: options.token === true,
      allowRemote: options.allowRemote === true,
      clientDir: fileURLToPath(new URL('../../ui/client/', import.meta.url)),
      version: context.version,
    })
  } catch (error) {
    await opened.close()
    throw new UiError(messageOf(error))
  }
  try {
    for (const warning of server.warnings) context.stderr.write(`tracellm: warning: ${warning}\n`)
    const mode = [options.write === true ? 'writable' : 'read-only', ...(server.launchUrl === server.url ? [] : ['token required'])].join(', ')
    context.stdout.write(`tracellm ui: ${server.launchUrl} (store ${opened.label}, ${mode})\n`)
    if (options.open === true) openBrowser(server.launchUrl, context.stderr)
    context.onListening?.(server)
    await (context.stopped ?? untilSignal())
  } finally {
    await server.close()
    await opened.close()
  }
}

interface OpenedStore {
  readonly store: ViewerStore
  readonly label: string
  close(): Promise<void>
}

async function openDb(db: string, write: boolean, displayDb: (db: string) => string): Promise<OpenedStore> {
  const postgres = /^postgres(ql)?:\/\//i.test(db)
  if (!postgres && !existsSync(resolve(db))) throw new UiError(`no trace store at ${db}; run \`npx tracellm demo\` or trace something first`)
  let store: ViewerStore
  try {
    // `readOnly` opens SQLite `readonly` and PostgreSQL sessions read-only (docs/ui.md#security)
    store = await openStore(db, { readOnly: !write })
  } catch (error) {
    throw new UiError(`cannot open the trace store ${displayDb(db)}: ${messageOf(error)}`)
  }
  return { store, label: displayDb(db), close: () => store.close().catch(() => undefined) }
}

/** Loads a JSONL or JSON export (the `export` command's formats) into a temporary SQLite file, then opens it read-only. */
async function openExport(file: string): Promise<OpenedStore> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new UiError(`--file ${file}: ${messageOf(error)}`)
  }
  let docs: TraceDocument[]
  try {
    docs = parseExport(text, file)
  } catch (error) {
    throw new UiError(`--file ${file}: ${messageOf(error)}`)
  }
  const directory = mkdtempSync(join(tmpdir(), 'tracellm-ui-'))
  const path = join(directory, 'traces.db')
  const cleanup = (): void => rmSync(directory, { recursive: true, force: true })
  try {
    const sink = sqliteSink({ path })
    try {
      await sink.write(docs)
    } finally {
      sink.close()
    }
    if (!existsSync(path)) {
      // an export without a document: the sink opens nothing, so make an empty store
      await (await openStore(path, { create: true })).close()
    }
    const store = await openStore(path, { readOnly: true })
    return { store, label: `${file} (imported, ${docs.length} ${docs.length === 1 ? 'document' : 'documents'})`, close: async () => { await store.close().catch(() => undefined); cleanup() } }
  } catch (error) {
    cleanup()
    throw new UiError(`--file ${file}: ${messageOf(error)}`)
  }
}


function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}

/** Launches the system browser on `url`, as an argument (never through a shell). */
function openBrowser(url: string, stderr: { write(chunk: string): unknown }): void {
  const [command, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['explorer.exe', [url]] : ['xdg-open', [url]]
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true })
    child.on('error', () => stderr.write(`tracellm: could not open a browser (${command}); open ${url} yourself\n`))
    child.unref()
  } catch {
    stderr.write(`tracellm: could not open a browser; open ${url} yourself\n`)
  }
}

function messageOf(error: unknown): string {
  try {
    return (error instanceof Error ? error.message || error.name : String(error)).replace(/^tracellm:\s*/, '')
  } catch {
    return 'unknown error'
  }
}
