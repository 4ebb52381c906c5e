/**
 * The small text formats of what `tracellm` prints: colours, numbers, times, sizes, terminal widths,
 * masked secrets, and the progress bar. Pure functions of their input (the progress bar only writes
 * to the stream it is given), so tests observe exactly what a terminal would show. Apart from
 * `render.ts` because they need nothing but `serialization/terminal.ts`: the command's wiring
 * (`program.ts`, `io.ts`, `errors.ts`) uses them before any command runs. Text that comes from a
 * trace is put on one line with control characters replaced (`clean`), and colours are added only by
 * the functions here and in `render.ts`, only when asked.
 */
import type { ErrorRecord, JsonValue } from '../index.js'
// text and colour for the terminal, shared with the console sink and renderDiff
import { ansi, oneLine, plain, type Paint } from '../serialization/terminal.js'

// --- colours ---

/** @internal The painter for `colors`. */
export function painter(colors: boolean): Paint {
  return colors ? ansi : plain
}

/**
 * @internal Colours go to a terminal only: when the stream is a TTY (or `isTTY` says so) and
 * `NO_COLOR` is unset or empty (https://no-color.org).
 */
export function wantsColors(isTTY: boolean | undefined, env: Readonly<Record<string, string | undefined>>): boolean {
  const noColor = env.NO_COLOR
  return isTTY === true && (noColor === undefined || noColor === '')
}

// --- small formats ---

/** @internal The first 8 hex characters of a trace id: what `list` shows and `show` accepts. */
export function shortId(traceId: string): string {
  return clean(String(traceId)).slice(0, 8)
}

/** @internal An ISO instant as local `YYYY-MM-DD HH:MM:SS`; the input itself when it is not a date. */
export function formatLocalTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '-'
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return clean(String(iso))
  const two = (n: number): string => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`
}

/** @internal `0.4 ms`, `12.3 ms`, `1.24 s`, `2m 03s`, `1h 02m`. */
export function formatDuration(ms: number): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '? ms'
  if (ms < 1000) return `${ms.toFixed(1)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`
  const seconds = Math.round(ms / 1000)
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`
  const minutes = Math.round(seconds / 60)
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`
}

/** @internal `1234567` → `1,234,567`. */
export function formatCount(n: number): string {
  return typeof n === 'number' && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '?'
}

/** @internal A size on disk: `812 B`, `4.0 KiB`, `12.3 MiB`, `1.20 GiB`. */
export function formatBytes(bytes: number): string {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return '?'
  if (bytes < 1024) return `${Math.round(bytes)} B`
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`
}

/** @internal `in+out` tokens (a `list` cell), or `-` when the trace made no model call that reported usage. */
export function formatTokens(input: number, output: number): string {
  return noTokens(input, output) ? '-' : `${formatCount(input)}+${formatCount(output)}`
}

/** @internal `in / out` tokens (the `show` header), or `-` when nothing was reported, as `list` says. */
export function formatTokensInOut(input: number, output: number): string {
  return noTokens(input, output) ? '-' : `${formatCount(input)} in / ${formatCount(output)} out`
}

function noTokens(input: number, output: number): boolean {
  return (input || 0) === 0 && (output || 0) === 0
}

/** @internal A cost in US dollars: four decimals, or `<$0.0001` for a smaller non-zero cost. */
export function formatCost(usd: number): string {
  if (typeof usd !== 'number' || !Number.isFinite(usd)) return '?'
  if (usd > 0 && usd < 0.0001) return '<$0.0001'
  return `$${usd.toFixed(4)}`
}

/** @internal `Type: message` of a captured error, on one line. */
export function errorText(error: ErrorRecord | null | undefined): string {
  if (error === null || error === undefined || typeof error !== 'object') return ''
  const type = clean(String(error.type ?? ''))
  const message = clean(String(error.message ?? ''))
  return message === '' ? type : type === '' ? message : `${type}: ${message}`
}

/**
 * @internal One line of at most `max` columns: the value as compact JSON (strings too, quoted, so
 * `"42"` and `42` differ), control characters replaced, cut with `…`.
 */
export function abbreviate(value: JsonValue | undefined, max: number = 80): string {
  return truncate(clean(jsonText(value)), max)
}

/** @internal Text from a trace on one line, nothing that acts on the terminal: `oneLine`. */
export const clean = oneLine

/** @internal Cuts `text` to at most `max` terminal columns, ending in `…` when cut. */
export function truncate(text: string, max: number): string {
  if (displayWidth(text) <= max) return text
  if (max <= 0) return ''
  let out = ''
  let width = 0
  for (const char of text) {
    const w = charWidth(char.codePointAt(0) as number)
    if (width + w > max - 1) break
    out += char
    width += w
  }
  return `${out}…`
}

/** @internal Terminal columns `text` takes (wide East Asian characters and emoji count 2, combining marks 0). */
export function displayWidth(text: string): number {
  let width = 0
  for (const char of text) width += charWidth(char.codePointAt(0) as number)
  return width
}

/** @internal Pads `text` with spaces to `width` columns, on the right (`left`) or on the left (`right`). */
export function pad(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const room = Math.max(0, width - displayWidth(text))
  return align === 'left' ? text + ' '.repeat(room) : ' '.repeat(room) + text
}

/** @internal Masks the password of a URL (`postgres://user:***@host/db`), wherever one appears in `text`. */
export function maskSecrets(text: string): string {
  return String(text).replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi, '$1***@')
}

// --- progress ---

/** @internal Where a progress bar draws: a writable with an optional terminal width. */
export interface ProgressStream {
  write(chunk: string): unknown
  readonly columns?: number
}

/** @internal A progress bar on one terminal line. */
export interface ProgressBar {
  /** Redraws with `done` of the total (only when the drawing changes). */
  update(done: number): void
  /** Draws the final state and ends the line. Idempotent. */
  finish(): void
}

/**
 * @internal Draws `label [██████······]  120/500  24%` on `stream`, redrawn in place with `\r`. The
 * caller decides whether to draw at all (stderr is a TTY): this function always draws.
 */
export function progressBar(stream: ProgressStream, total: number, label: string): ProgressBar {
  const width = 24
  let drawn = ''
  let finished = false
  let current = 0
  const draw = (): void => {
    const fraction = total > 0 ? Math.min(1, Math.max(0, current / total)) : 1
    const filled = Math.round(fraction * width)
    const text = `${label} [${'█'.repeat(filled)}${'·'.repeat(width - filled)}] ${formatCount(Math.min(current, total))}/${formatCount(total)} ${Math.floor(fraction * 100)}%`
    if (text === drawn) return
    drawn = text
    stream.write(`\r${text}\u001b[K`)
  }
  return {
    update: (done) => {
      if (finished) return
      current = done
      draw()
    },
    finish: () => {
      if (finished) return
      draw()
      finished = true
      stream.write('\n')
    },
  }
}

// --- private ---

/** @internal A value as JSON for the terminal: `undefined` and values JSON cannot print spelled out. */
export function jsonText(value: JsonValue | undefined, indent?: number): string {
  if (value === undefined) return 'undefined'
  try {
    return JSON.stringify(value, null, indent) ?? 'undefined'
  } catch {
    return '(unprintable)'
  }
}

function charWidth(code: number): number {
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return 0
  if ((code >= 0x0300 && code <= 0x036f) || (code >= 0x200b && code <= 0x200f) || (code >= 0xfe00 && code <= 0xfe0f) || (code >= 0x1ab0 && code <= 0x1aff) || (code >= 0x20d0 && code <= 0x20ff)) return 0
  if (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf && code !== 0x303f) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f900 && code <= 0x1f9ff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  ) return 2
  return 1
}
