/**
 * What the `tracellm` command touches outside itself (its streams, environment and terminal), what
 * each command gets from the program around it, and the helpers that write, ask and size output.
 * Light on purpose: `program.ts` imports it before any command runs.
 */
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline/promises'
import { OutputClosed } from './errors.js'
import { progressBar, wantsColors, type ProgressBar } from './format.js'
import { terminalSafeJson } from '../serialization/terminal.js'
import type { UiServer } from '../ui/types.js'

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
  readonly onUiListening?: (server: UiServer) => void
}

/** @internal What one run of `main` keeps across the command and the error report. */
export interface RunState {
  /** Passwords of the `--db` URL: removed from every error message. */
  secrets: string[]
  /** The exit code of a command that ran to its end: 1 for a verdict of "different". */
  exitCode: number
}

/** @internal What a command's action gets from the program around it (`commands/*.ts`). */
export interface CommandContext {
  readonly io: CliIo
  readonly state: RunState
  /** The global `--db` as given on the command line; `commands/store.ts` falls back from it. */
  readonly dbOption: string | undefined
}

/** Fewer traces than this export or prune without a progress bar: it would only flash. */
const PROGRESS_THRESHOLD = 50

/** @internal A progress bar on stderr for `total` traces, when it is a terminal and `total` is worth one. */
export function progressFor(io: CliIo, total: number, label: string): ProgressBar | undefined {
  return total > PROGRESS_THRESHOLD && io.stderr.isTTY === true ? progressBar(io.stderr, total, label) : undefined
}

/** @internal Whether to colour stdout. */
export function colorsFor(io: CliIo): boolean {
  return wantsColors(io.isTTY ?? io.stdout.isTTY, io.env)
}

/**
 * @internal JSON as the command prints it, to stdout or an `--out` file alike: C1 controls, line
 * separators and bidirectional overrides escaped, so a trace cannot act on the terminal that shows it
 * and a file is safe to `cat` (docs/reliability.md#files-exports-and-disk-space).
 */
export function toJson(value: unknown, indent?: number): string {
  return terminalSafeJson(JSON.stringify(value, null, indent))
}

/** @internal The terminal width, or 100 when stdout is not a terminal. */
export function columnsOf(io: CliIo): number {
  return typeof io.stdout.columns === 'number' && io.stdout.columns > 0 ? io.stdout.columns : 100
}

/**
 * @internal Writes and waits for `drain` when the stream asks to, so a large export never piles up in
 * memory. A stream closed by its reader (`tracellm export | head`) ends the command quietly.
 */
export async function write(stream: OutputStream, text: string): Promise<void> {
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

/** @internal Whether the stream's reader went away. */
export function isClosed(stream: OutputStream): boolean {
  return stream.destroyed === true
}

/** @internal Asks `question` on stderr and reads the answer from stdin: true for `y` or `yes`. */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
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

/** @internal The version in package.json, or `0.0.0` when it cannot be read. */
export function readVersion(): string {
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
