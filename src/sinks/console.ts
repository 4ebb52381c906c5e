/**
 * The console sink: prints each trace as an indented tree of its steps. `renderTree` is the pure
 * part, shared with the demo and the CLI.
 */
import type { ErrorRecord, StepRecord, TraceDocument } from '../document/document.js'
import type { Sink } from '../export/queue.js'
import { ansi, oneLine, plain, type Paint } from '../serialization/terminal.js'

/**
 * Builds a sink that prints every trace it receives as a tree (see `renderTree`) to `stream`.
 * Printing is fire-and-forget: a slow terminal is never waited for, so a write is never retried
 * (and printed twice). Colours are used when `colors` is true; by default when the stream is a TTY
 * and the `NO_COLOR` environment variable is not set. Throws a `TypeError` when `stream` has no
 * `write` function.
 *
 * @example
 * import { configure, consoleSink } from 'tracellm'
 * const sink = consoleSink({ colors: false })
 * configure({ sinks: [sink] })
 * sink.name   // => 'console'
 *
 * @param options.stream - Where to print. @default process.stdout
 * @param options.colors - Whether to use ANSI colours. @default stream.isTTY === true, unless NO_COLOR is set
 * @category sinks
 * @since 0.1.0
 */
export function consoleSink(options: { readonly stream?: NodeJS.WritableStream; readonly colors?: boolean } = {}): Sink {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `consoleSink` options to be an object.')
  const stream = options.stream ?? process.stdout
  if (typeof stream !== 'object' || stream === null || typeof stream.write !== 'function') {
    throw new TypeError('Expected `stream` to be a writable stream.')
  }
  if (options.colors !== undefined && typeof options.colors !== 'boolean') throw new TypeError('Expected `colors` to be a boolean.')
  const colors = options.colors ?? ((stream as { readonly isTTY?: boolean }).isTTY === true && !noColor())
  return {
    name: 'console',
    write: (batch) => {
      let text = ''
      for (const doc of batch) text += `${renderTree(doc, { colors })}\n`
      if (text !== '') stream.write(text)
    },
  }
}

/**
 * Renders a trace as text: a header line `prompt  status  duration  (short trace id)`, then one line
 * per step, nested under its parent step (`parentStepId`) and ordered by `seq`, with the name, the
 * kind (unless it is `"tool"`), the duration in milliseconds, ✓ or ✗ with the error, and `retries N`
 * when the step was retried. Text from the trace is shown on one line with control characters
 * replaced, so a stored trace cannot send escape sequences to the terminal. Steps whose parent is
 * missing are shown at the top level. ANSI colours only with `colors: true`.
 *
 * @example
 * import { renderTree, type TraceDocument } from 'tracellm'
 * declare const doc: TraceDocument   // prompt 'answer', one successful 'search' step
 * renderTree(doc, { colors: false }).split('\n')[1]   // => '└─ search  3.2 ms  ✓'
 *
 * @category sinks
 * @since 0.1.0
 */
export function renderTree(doc: TraceDocument, options: { readonly colors?: boolean } = {}): string {
  const paint = options.colors === true ? ansi : plain
  const lines: string[] = [header(doc, paint)]
  const ordered = [...doc.steps].sort((a, b) => a.seq - b.seq)
  for (const { step, prefix, last } of layoutSteps(ordered)) {
    lines.push(`${prefix}${last ? '└─ ' : '├─ '}${stepLine(step, paint)}`)
  }
  return lines.join('\n')
}

// --- private ---

const MAX_TEXT = 120
/** Deeper steps are drawn at this depth, so a pathological chain costs linear, not quadratic, output. */
const MAX_INDENT_DEPTH = 32

function header(doc: TraceDocument, paint: Paint): string {
  const status = doc.status === 'error'
    ? paint.red(['✗ error', errorText(doc.error)].filter(Boolean).join(' '))
    : paint.green('✓ success')
  return [paint.bold(clean(doc.prompt)), status, paint.dim(duration(doc.durationMs)), paint.dim(`(${clean(String(doc.traceId).slice(0, 8))})`)].join('  ')
}

function stepLine(step: StepRecord, paint: Paint): string {
  const parts = [clean(step.name)]
  const kind = [step.kind === 'tool' ? '' : clean(step.kind), step.model === undefined ? '' : clean(step.model)].filter(Boolean).join(' ')
  if (kind !== '') parts.push(paint.dim(kind))
  parts.push(paint.dim(duration(step.durationMs)))
  parts.push(step.status === 'error' ? paint.red(['✗', errorText(step.error)].filter(Boolean).join(' ')) : paint.green('✓'))
  if (step.retries > 0) parts.push(paint.yellow(`retries ${step.retries}`))
  if (step.incomplete === true) parts.push(paint.yellow('incomplete'))
  return parts.join('  ')
}

/** @internal A step placed in the drawn tree. */
export interface Placed {
  readonly step: StepRecord
  readonly prefix: string
  readonly last: boolean
  /** The prefix of this step's children (and of any detail lines under it). */
  readonly childPrefix: string
  readonly hasChildren: boolean
}

/**
 * @internal Depth-first order with tree prefixes; iterative, and each step is placed once even if
 * parents form a cycle. Indentation stops growing at `maxIndentDepth`. Shared with the CLI.
 */
export function layoutSteps(ordered: ReadonlyArray<StepRecord>, maxIndentDepth: number = MAX_INDENT_DEPTH): Placed[] {
  const ids = new Set<string>(ordered.map((step) => step.stepId))
  const children = new Map<string, StepRecord[]>()
  const tops: StepRecord[] = []
  for (const step of ordered) {
    const parent = step.parentStepId
    if (parent === null || parent === step.stepId || !ids.has(parent)) {
      tops.push(step)
      continue
    }
    const siblings = children.get(parent)
    if (siblings === undefined) children.set(parent, [step])
    else siblings.push(step)
  }
  // steps caught in a parent cycle are unreachable from the roots: the first of each is shown at the top level
  const reached = new Set<StepRecord>()
  const reach = (top: StepRecord): void => {
    const queue = [top]
    reached.add(top)
    for (let step = queue.pop(); step !== undefined; step = queue.pop()) {
      for (const kid of children.get(step.stepId) ?? []) {
        if (reached.has(kid)) continue
        reached.add(kid)
        queue.push(kid)
      }
    }
  }
  for (const top of tops) reach(top)
  for (const step of ordered) {
    if (reached.has(step)) continue
    tops.push(step)
    reach(step)
  }

  const topSet = new Set<StepRecord>(tops)
  const placed: Placed[] = []
  const seen = new Set<StepRecord>()
  const stack: Array<{ readonly step: StepRecord; readonly prefix: string; readonly last: boolean; readonly depth: number }> = []
  for (let index = tops.length - 1; index >= 0; index--) {
    stack.push({ step: tops[index] as StepRecord, prefix: '', last: index === tops.length - 1, depth: 0 })
  }
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    seen.add(item.step)
    const kids = (children.get(item.step.stepId) ?? []).filter((kid) => !seen.has(kid) && !topSet.has(kid))
    const childPrefix = item.depth >= maxIndentDepth ? item.prefix : `${item.prefix}${item.last ? '   ' : '│  '}`
    placed.push({ step: item.step, prefix: item.prefix, last: item.last, childPrefix, hasChildren: kids.length > 0 })
    for (let index = kids.length - 1; index >= 0; index--) {
      stack.push({ step: kids[index] as StepRecord, prefix: childPrefix, last: index === kids.length - 1, depth: item.depth + 1 })
    }
  }
  return placed
}

function errorText(error: ErrorRecord | null): string {
  if (error === null || typeof error !== 'object') return ''
  const type = clean(String(error.type ?? ''))
  const message = clean(String(error.message ?? ''))
  return message === '' ? type : type === '' ? message : `${type}: ${message}`
}

function duration(ms: number): string {
  return typeof ms === 'number' && Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : '? ms'
}

/** One line, nothing that acts on the terminal (`oneLine`), capped. */
function clean(text: string): string {
  const flat = oneLine(text).trim()
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT - 1)}…` : flat
}

function noColor(): boolean {
  const value = process.env.NO_COLOR
  return value !== undefined && value !== ''
}
