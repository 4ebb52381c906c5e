/**
 * Step-by-step comparison of two traces (`diffTraces`), as data, and its terminal rendering
 * (`renderDiff`). Steps are aligned by position in the tree, not by id or time: two runs of the same
 * pipeline never share ids, and a step that disappears must not shift every step after it.
 */
import type { ErrorRecord, JsonValue, Status, StepRecord, TraceDocument } from '../document/document.js'
import { toTree, type TreeNode } from './tree.js'
// text and colour for the terminal, shared with the console sink and the CLI (internal, so not in the barrel)
import { ansi, oneLine, plain, type Paint } from '../serialization/terminal.js'

/**
 * What happened to one step between trace `a` and trace `b`.
 *
 * @category replay
 */
export type DiffStatus = 'same' | 'changed' | 'added' | 'removed'

/**
 * One difference inside a captured value (`input`, `output` or `metadata`), at a JSONPath.
 *
 * @category replay
 */
export interface JsonChange {
  readonly field: 'input' | 'output' | 'metadata'
  /** `$` for the whole value, then `.key` (or `["odd key"]`) and `[index]`: `$.answer.text`, `$[0].score`. */
  readonly path: string
  /** Absent when `a` has nothing there: a key or an element was added, or the field was not captured. */
  readonly before?: JsonValue
  /** Absent when `b` has nothing there. */
  readonly after?: JsonValue
}

/**
 * Stands for the value differences of one step left out beyond `maxPathsPerStep`.
 *
 * @category replay
 */
export interface OmittedChanges {
  readonly field: 'omitted'
  readonly count: number
}

/**
 * One difference of a step (or, for `prompt` and `retryCount`, of the trace itself).
 * `duration` appears only when the ratio passes the `durationRatio` threshold.
 *
 * @category replay
 */
export type DiffChange =
  | JsonChange
  | OmittedChanges
  | { readonly field: 'status'; readonly before: Status; readonly after: Status }
  | { readonly field: 'error'; readonly before: ErrorRecord | null; readonly after: ErrorRecord | null }
  | { readonly field: 'retries' | 'attempts' | 'retryCount'; readonly before: number; readonly after: number }
  | { readonly field: 'duration'; readonly before: number; readonly after: number; readonly ratio: number }
  | { readonly field: 'kind' | 'prompt'; readonly before: string; readonly after: string }
  | { readonly field: 'model'; readonly before: string | undefined; readonly after: string | undefined }

/**
 * One step of either trace, and how it compares.
 *
 * @category replay
 */
export interface StepDiff {
  /** The step's tree path (see `TreeNode.path`); a matched step has the same path in both traces. */
  readonly path: string
  readonly name: string
  /** How many earlier siblings have the same name: the `i` of the path's last `name[i]`. */
  readonly occurrence: number
  /** 0 for a step called directly from the trace body. */
  readonly depth: number
  readonly status: DiffStatus
  /** The step in trace `a`; absent for an added step. */
  readonly a?: StepRecord
  /** The step in trace `b`; absent for a removed step. */
  readonly b?: StepRecord
  /** Empty unless `status` is `"changed"`. */
  readonly changes: ReadonlyArray<DiffChange>
  /**
   * `b.durationMs / a.durationMs` for a step present in both traces, whether or not it counts as a
   * change (1 when both are 0, `Infinity` when only `a`'s is 0).
   */
  readonly durationRatio?: number
}

/**
 * How the traces compare as a whole: prompt, model, status, error, retry count, duration, and the
 * trace's own input, output and metadata.
 *
 * @category replay
 */
export interface TraceLevelDiff {
  readonly status: 'same' | 'changed'
  readonly changes: ReadonlyArray<DiffChange>
  /** `b.durationMs / a.durationMs`, as for steps. */
  readonly durationRatio: number
}

/** How many steps ended in each status. @category replay */
export interface DiffSummary {
  readonly added: number
  readonly removed: number
  readonly changed: number
  readonly same: number
}

/**
 * The comparison of two traces, as data.
 *
 * @category replay
 */
export interface TraceDiff {
  readonly a: TraceDocument
  readonly b: TraceDocument
  readonly trace: TraceLevelDiff
  /**
   * Every step of either trace once, depth first (a step before its children); siblings in `b`'s
   * order, a removed step right after the sibling that preceded it in `a`.
   */
  readonly steps: ReadonlyArray<StepDiff>
  readonly summary: DiffSummary
  /** No step added, removed or changed, and the trace itself the same. */
  readonly equal: boolean
}

/**
 * Options of `diffTraces`.
 *
 * @category replay
 */
export interface DiffOptions {
  /** Fields not compared, on the trace and on every step. @default [] */
  readonly ignore?: ReadonlyArray<'duration' | 'input' | 'metadata'>
  /**
   * A step (or the trace) whose duration grew or shrank by at least this factor counts as changed:
   * with 2, a ratio of 2 or more, or of 1/2 or less. Unset, durations never count as a change (they
   * are still reported in `durationRatio`). At least 1; 1 means any difference counts.
   * @default undefined
   */
  readonly durationRatio?: number
  /**
   * At most this many value differences (`input`, `output`, `metadata`) are listed per step; the rest
   * are counted in one `{ field: "omitted", count }` change, so a huge output cannot explode the diff.
   * @default 100
   */
  readonly maxPathsPerStep?: number
}

/**
 * Options of `renderDiff`.
 *
 * @category replay
 */
export interface RenderDiffOptions {
  /** ANSI colours: green added, red removed, yellow changed. @default false */
  readonly colors?: boolean
  /** The line width, in characters, that the values of a change are abbreviated to fit (at least 40). @default 100 */
  readonly width?: number
}

/**
 * Compares two traces step by step. Both trees are walked together: under each pair of matched
 * steps (and at the top), steps are matched by name and by occurrence among same-named siblings
 * (`search[0]` with `search[0]`), so a step removed from the middle does not misalign the steps after
 * it. An unmatched step is `"removed"` (only in `a`) or `"added"` (only in `b`), with all its
 * descendants. A matched step is `"changed"` when its kind, model, status, error (type, message, code),
 * retries, attempts, input, output or metadata differ, or its duration passes the `durationRatio`
 * threshold; values are compared structurally, arrays by index, and each difference is reported at
 * its JSONPath. Throws a `MalformedTraceError` when either document is not a tree (see `toTree`), and
 * a `TypeError` for an invalid option.
 *
 * @example
 * import { diffTraces, type TraceDocument } from 'tracellm'
 * declare const before: TraceDocument   // output { answer: { text: 'RAG' } }
 * declare const after: TraceDocument    // the same run, output { answer: { text: 'Retrieval' } }
 * const diff = diffTraces(before, after, { ignore: ['duration'] })
 * diff.equal                   // => false
 * diff.trace.changes[0]        // => { field: 'output', path: '$.answer.text', before: 'RAG', after: 'Retrieval' }
 *
 * @category replay
 * @since 0.1.0
 */
export function diffTraces(a: TraceDocument, b: TraceDocument, options: DiffOptions = {}): TraceDiff {
  const settings = settingsOf(options)
  const treeA = toTree(a)
  const treeB = toTree(b)

  const steps: StepDiff[] = []
  const stack: Item[] = align(treeA.roots, treeB.roots).reverse()
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { x, y } = item
    let kids: Item[]
    if (x !== undefined && y !== undefined) {
      const changes = stepChanges(x.step, y.step, settings)
      steps.push({
        path: y.path, name: y.step.name, occurrence: item.occurrence, depth: y.depth,
        status: changes.length === 0 ? 'same' : 'changed',
        a: x.step, b: y.step, changes, durationRatio: ratioOf(x.step.durationMs, y.step.durationMs),
      })
      kids = align(x.children, y.children)
    } else if (x !== undefined) {
      steps.push({ path: x.path, name: x.step.name, occurrence: item.occurrence, depth: x.depth, status: 'removed', a: x.step, changes: [] })
      kids = numbered(x.children).map(({ node, occurrence }) => ({ x: node, occurrence }))
    } else {
      const node = y as TreeNode
      steps.push({ path: node.path, name: node.step.name, occurrence: item.occurrence, depth: node.depth, status: 'added', b: node.step, changes: [] })
      kids = numbered(node.children).map(({ node: kid, occurrence }) => ({ y: kid, occurrence }))
    }
    for (let index = kids.length - 1; index >= 0; index--) stack.push(kids[index] as Item)
  }

  const summary = { added: 0, removed: 0, changed: 0, same: 0 }
  for (const step of steps) summary[step.status]++
  const traceChanges = documentChanges(a, b, settings)
  const trace: TraceLevelDiff = {
    status: traceChanges.length === 0 ? 'same' : 'changed',
    changes: traceChanges,
    durationRatio: ratioOf(a.durationMs, b.durationMs),
  }
  const equal = summary.added === 0 && summary.removed === 0 && summary.changed === 0 && trace.status === 'same'
  return { a, b, trace, steps, summary, equal }
}

/**
 * Renders a `TraceDiff` for a terminal: a header (`=` when the traces are equal, `~` otherwise) with
 * the prompt, the short trace ids and the counts, the trace's own changes, then every step as a tree,
 * marked `=` same, `~` changed, `+` added, `-` removed, with its duration ratio (`×1.8`) when it is
 * not 1. Under a changed step, each change takes one line, values abbreviated to fit `width`:
 * `output $.answer.text: "old…" → "new…"`, `status: success → error`, `retries: 0 → 2`. Text from the
 * traces is put on one line with control characters replaced, so a trace cannot send escape
 * sequences to the terminal; ANSI colours appear only with `colors: true`.
 *
 * @example
 * import { diffTraces, renderDiff, type TraceDocument } from 'tracellm'
 * declare const doc: TraceDocument   // prompt 'answer', one 'search' step
 * renderDiff(diffTraces(doc, doc)).split('\n')[1]   // => '= search'
 *
 * @category replay
 * @since 0.1.0
 */
export function renderDiff(diff: TraceDiff, options: RenderDiffOptions = {}): string {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `renderDiff` options to be an object.')
  if (options.colors !== undefined && typeof options.colors !== 'boolean') throw new TypeError('Expected `colors` to be a boolean.')
  if (options.width !== undefined && (!Number.isInteger(options.width) || options.width <= 0)) {
    throw new TypeError('Expected `width` to be a positive integer.')
  }
  const paint = options.colors === true ? ansi : plain
  const width = Math.max(MIN_WIDTH, options.width ?? DEFAULT_WIDTH)
  const lines: string[] = [headerLine(diff, paint)]
  for (const change of diff.trace.changes) {
    const line = changeLine(change, CHANGE_INDENT, width, paint)
    if (line !== undefined) lines.push(line)
  }

  const repeated = repeatedNames(diff.steps)
  diff.steps.forEach((step, index) => {
    const indent = '  '.repeat(Math.min(step.depth, MAX_INDENT_DEPTH))
    const color = step.status === 'added' ? paint.green : step.status === 'removed' ? paint.red : step.status === 'changed' ? paint.yellow : paint.dim
    const label = clean(step.name) + (repeated.has(index) ? `[${step.occurrence}]` : '')
    const parts = [`${color(MARKS[step.status])} ${indent}${step.status === 'same' ? label : color(label)}`]
    const ratio = step.durationRatio === undefined ? '' : formatRatio(step.durationRatio)
    if (ratio !== '') parts.push(step.changes.some((change) => change.field === 'duration') ? paint.yellow(ratio) : paint.dim(ratio))
    lines.push(parts.join('  '))
    for (const change of step.changes) {
      const line = changeLine(change, `  ${indent}${CHANGE_INDENT}`, width, paint)
      if (line !== undefined) lines.push(line)
    }
  })
  return lines.join('\n')
}

// --- private: aligning ---

/** One step to report: a matched pair, a removed step (`x` only) or an added one (`y` only). */
interface Item {
  readonly x?: TreeNode
  readonly y?: TreeNode
  readonly occurrence: number
}

/**
 * Pairs two sibling lists by name and occurrence. The result follows `ys`; a run of unmatched `xs`
 * goes right after the partner of the matched `x` before it (or first, when none is).
 */
function align(xs: ReadonlyArray<TreeNode>, ys: ReadonlyArray<TreeNode>): Item[] {
  const numberedX = numbered(xs)
  const numberedY = numbered(ys)
  const keyOf = (name: string, occurrence: number): string => `${occurrence}:${name}`
  const xByKey = new Map(numberedX.map((entry) => [keyOf(entry.node.step.name, entry.occurrence), entry.node]))
  const yByKey = new Map(numberedY.map((entry) => [keyOf(entry.node.step.name, entry.occurrence), entry.node]))

  const removedAfter = new Map<TreeNode | null, Item[]>()
  let anchor: TreeNode | null = null
  for (const { node, occurrence } of numberedX) {
    const partner = yByKey.get(keyOf(node.step.name, occurrence))
    if (partner !== undefined) {
      anchor = partner
      continue
    }
    const run = removedAfter.get(anchor)
    if (run === undefined) removedAfter.set(anchor, [{ x: node, occurrence }])
    else run.push({ x: node, occurrence })
  }

  const items: Item[] = [...(removedAfter.get(null) ?? [])]
  for (const { node, occurrence } of numberedY) {
    const partner = xByKey.get(keyOf(node.step.name, occurrence))
    items.push(partner === undefined ? { y: node, occurrence } : { x: partner, y: node, occurrence })
    // a loop, not push(...run): a run of thousands of removed steps must not exceed the argument limit
    for (const removed of removedAfter.get(node) ?? []) items.push(removed)
  }
  return items
}

function numbered(nodes: ReadonlyArray<TreeNode>): Array<{ readonly node: TreeNode; readonly occurrence: number }> {
  const seen = new Map<string, number>()
  return nodes.map((node) => {
    const occurrence = seen.get(node.step.name) ?? 0
    seen.set(node.step.name, occurrence + 1)
    return { node, occurrence }
  })
}

// --- private: comparing ---

interface Settings {
  readonly input: boolean
  readonly metadata: boolean
  readonly duration: boolean
  readonly durationRatio: number | undefined
  readonly maxPaths: number
}

const IGNORABLE = new Set(['duration', 'input', 'metadata'])
const DEFAULT_MAX_PATHS = 100

function settingsOf(options: DiffOptions): Settings {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `diffTraces` options to be an object.')
  const ignore = options.ignore ?? []
  if (!Array.isArray(ignore) || !ignore.every((field) => IGNORABLE.has(field))) {
    throw new TypeError('Expected `ignore` to be an array of "duration", "input" and "metadata".')
  }
  const ratio = options.durationRatio
  if (ratio !== undefined && (typeof ratio !== 'number' || !(ratio >= 1) || ratio === Infinity)) {
    throw new TypeError('Expected `durationRatio` to be a finite number of at least 1.')
  }
  const maxPaths = options.maxPathsPerStep ?? DEFAULT_MAX_PATHS
  if (!Number.isInteger(maxPaths) || maxPaths < 0) throw new TypeError('Expected `maxPathsPerStep` to be a non-negative integer.')
  return {
    input: !ignore.includes('input'),
    metadata: !ignore.includes('metadata'),
    duration: !ignore.includes('duration'),
    durationRatio: ratio,
    maxPaths,
  }
}

function stepChanges(a: StepRecord, b: StepRecord, settings: Settings): DiffChange[] {
  const changes: DiffChange[] = []
  if (a.kind !== b.kind) changes.push({ field: 'kind', before: a.kind, after: b.kind })
  if (a.model !== b.model) changes.push({ field: 'model', before: a.model, after: b.model })
  if (a.status !== b.status) changes.push({ field: 'status', before: a.status, after: b.status })
  if (!sameError(a.error, b.error)) changes.push({ field: 'error', before: a.error ?? null, after: b.error ?? null })
  if (a.retries !== b.retries) changes.push({ field: 'retries', before: a.retries, after: b.retries })
  if (a.attempts !== b.attempts) changes.push({ field: 'attempts', before: a.attempts, after: b.attempts })
  durationChange(a.durationMs, b.durationMs, settings, changes)
  valueChanges(a, b, settings, changes)
  return changes
}

function documentChanges(a: TraceDocument, b: TraceDocument, settings: Settings): DiffChange[] {
  const changes: DiffChange[] = []
  if (a.prompt !== b.prompt) changes.push({ field: 'prompt', before: a.prompt, after: b.prompt })
  if (a.modelName !== b.modelName) changes.push({ field: 'model', before: a.modelName, after: b.modelName })
  if (a.status !== b.status) changes.push({ field: 'status', before: a.status, after: b.status })
  if (!sameError(a.error, b.error)) changes.push({ field: 'error', before: a.error ?? null, after: b.error ?? null })
  if (a.retryCount !== b.retryCount) changes.push({ field: 'retryCount', before: a.retryCount, after: b.retryCount })
  durationChange(a.durationMs, b.durationMs, settings, changes)
  valueChanges(a, b, settings, changes)
  return changes
}

function durationChange(a: number, b: number, settings: Settings, changes: DiffChange[]): void {
  const threshold = settings.durationRatio
  if (!settings.duration || threshold === undefined || a === b) return
  const ratio = ratioOf(a, b)
  if (ratio >= threshold || ratio <= 1 / threshold) changes.push({ field: 'duration', before: a, after: b, ratio })
}

/** Output, input and metadata differences, sharing one budget of listed paths. */
function valueChanges(
  a: { readonly input?: JsonValue; readonly output?: JsonValue; readonly metadata: JsonValue },
  b: { readonly input?: JsonValue; readonly output?: JsonValue; readonly metadata: JsonValue },
  settings: Settings,
  changes: DiffChange[],
): void {
  const budget = { left: settings.maxPaths, omitted: 0 }
  jsonChanges('output', a.output, b.output, budget, changes)
  if (settings.input) jsonChanges('input', a.input, b.input, budget, changes)
  if (settings.metadata) jsonChanges('metadata', a.metadata, b.metadata, budget, changes)
  if (budget.omitted > 0) changes.push({ field: 'omitted', count: budget.omitted })
}

/** A pending comparison: the value at `parent` + `key` (no key: `parent` itself) in both traces. */
interface Pair {
  readonly parent: string
  readonly key: string | number | undefined
  readonly before: JsonValue | undefined
  readonly after: JsonValue | undefined
}

/** Structural comparison, depth first and iterative (a deeply nested value cannot overflow the stack). */
function jsonChanges(
  field: JsonChange['field'],
  before: JsonValue | undefined,
  after: JsonValue | undefined,
  budget: { left: number; omitted: number },
  changes: DiffChange[],
): void {
  const stack: Pair[] = [{ parent: '$', key: undefined, before, after }]
  for (let pair = stack.pop(); pair !== undefined; pair = stack.pop()) {
    const x = pair.before
    const y = pair.after
    if (x === y || (typeof x === 'number' && typeof y === 'number' && Number.isNaN(x) && Number.isNaN(y))) continue
    const path = pathOf(pair.parent, pair.key)
    const xs = containerOf(x)
    const ys = containerOf(y)
    if (xs === undefined || ys === undefined || xs !== ys) {
      if (budget.left > 0) {
        budget.left--
        changes.push({ field, path, ...(x === undefined ? {} : { before: x }), ...(y === undefined ? {} : { after: y }) })
      } else {
        budget.omitted++
      }
      continue
    }
    const pending: Pair[] = []
    if (xs === 'array') {
      const left = x as ReadonlyArray<JsonValue>
      const right = y as ReadonlyArray<JsonValue>
      for (let index = 0; index < Math.max(left.length, right.length); index++) {
        pending.push({ parent: path, key: index, before: index < left.length ? left[index] : undefined, after: index < right.length ? right[index] : undefined })
      }
    } else {
      const left = x as { readonly [key: string]: JsonValue }
      const right = y as { readonly [key: string]: JsonValue }
      for (const key of Object.keys(left)) {
        pending.push({ parent: path, key, before: left[key], after: Object.hasOwn(right, key) ? right[key] : undefined })
      }
      for (const key of Object.keys(right)) {
        if (!Object.hasOwn(left, key)) pending.push({ parent: path, key, before: undefined, after: right[key] })
      }
    }
    for (let index = pending.length - 1; index >= 0; index--) stack.push(pending[index] as Pair)
  }
}

function containerOf(value: JsonValue | undefined): 'array' | 'object' | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  return Array.isArray(value) ? 'array' : 'object'
}

function pathOf(parent: string, key: string | number | undefined): string {
  if (key === undefined) return parent
  if (typeof key === 'number') return `${parent}[${key}]`
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`
}

/** Errors are the same when their type, message and code are (stacks and causes are not compared). */
function sameError(a: ErrorRecord | null | undefined, b: ErrorRecord | null | undefined): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null)
  return String(a.type) === String(b.type) && String(a.message) === String(b.message) && sameValue(a.code, b.code)
}

function sameValue(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  const budget = { left: 0, omitted: 0 }
  jsonChanges('output', a, b, budget, [])
  return budget.omitted === 0
}

/** `b / a`; 1 when both are 0, `Infinity` when only `a` is (a missing or negative duration counts as 0). */
function ratioOf(a: number, b: number): number {
  const before = typeof a === 'number' && Number.isFinite(a) && a > 0 ? a : 0
  const after = typeof b === 'number' && Number.isFinite(b) && b > 0 ? b : 0
  if (before === 0) return after === 0 ? 1 : Infinity
  return after / before
}

// --- private: rendering ---

const MARKS: Readonly<Record<DiffStatus, string>> = { same: '=', changed: '~', added: '+', removed: '-' }
const CHANGE_INDENT = '    '
const DEFAULT_WIDTH = 100
const MIN_WIDTH = 40
/** Deeper steps are drawn at this depth, so a pathological chain costs linear, not quadratic, output. */
const MAX_INDENT_DEPTH = 32
const MAX_TEXT = 120
const ABSENT = '(absent)'
const NONE = '(none)'

function headerLine(diff: TraceDiff, paint: Paint): string {
  const promptA = clean(diff.a.prompt)
  const promptB = clean(diff.b.prompt)
  const prompt = promptA === promptB ? promptA : `${promptA} → ${promptB}`
  const ids = `(${clean(String(diff.a.traceId)).slice(0, 8)} → ${clean(String(diff.b.traceId)).slice(0, 8)})`
  const { added, removed, changed, same: unchanged } = diff.summary
  const counts = diff.equal ? `no differences, ${unchanged} same` : `${changed} changed, ${added} added, ${removed} removed, ${unchanged} same`
  const parts = [`${diff.equal ? paint.dim('=') : paint.yellow('~')} ${paint.bold(prompt)}`, paint.dim(ids)]
  const ratio = formatRatio(diff.trace.durationRatio)
  if (ratio !== '') parts.push(diff.trace.changes.some((change) => change.field === 'duration') ? paint.yellow(ratio) : paint.dim(ratio))
  parts.push(counts)
  return parts.join('  ')
}

/** One line for a change; undefined for a duration change (the ratio is shown on the step's line). */
function changeLine(change: DiffChange, indent: string, width: number, paint: Paint): string | undefined {
  switch (change.field) {
    case 'duration':
      return undefined
    case 'omitted':
      return `${indent}${paint.dim(`… ${change.count} more`)}`
    case 'input':
    case 'output':
    case 'metadata': {
      const path = truncate(clean(change.path), Math.max(20, Math.floor(width / 3)))
      const label = `${change.field} ${path}: `
      const room = Math.max(12, Math.floor((width - indent.length - label.length - 3) / 2))
      const before = 'before' in change ? preview(change.before, room) : ABSENT
      const after = 'after' in change ? preview(change.after, room) : ABSENT
      return `${indent}${paint.dim(label)}${paint.red(before)} → ${paint.green(after)}`
    }
    case 'error':
      return pair(indent, 'error', errorText(change.before), errorText(change.after), width, paint)
    case 'retries':
    case 'attempts':
    case 'retryCount':
    case 'status':
      return pair(indent, change.field, String(change.before), String(change.after), width, paint)
    case 'kind':
    case 'prompt':
    case 'model':
      return pair(indent, change.field, change.before === undefined ? NONE : clean(change.before), change.after === undefined ? NONE : clean(change.after), width, paint)
  }
}

function pair(indent: string, label: string, before: string, after: string, width: number, paint: Paint): string {
  const room = Math.max(12, Math.floor((width - indent.length - label.length - 5) / 2))
  return `${indent}${paint.dim(`${label}: `)}${paint.red(truncate(before, room))} → ${paint.green(truncate(after, room))}`
}

/** Indexes of the steps shown with their `[occurrence]`: those with a same-named sibling. */
function repeatedNames(steps: ReadonlyArray<StepDiff>): Set<number> {
  // the parent of a step is the last step seen one level up (steps are depth first)
  const lastAtDepth: number[] = []
  const groups = new Map<string, number[]>()
  steps.forEach((step, index) => {
    lastAtDepth[step.depth] = index
    lastAtDepth.length = step.depth + 1
    const parent = step.depth === 0 ? -1 : (lastAtDepth[step.depth - 1] ?? -1)
    const key = `${parent}:${step.name}`
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [index])
    else group.push(index)
  })
  const repeated = new Set<number>()
  for (const group of groups.values()) {
    if (group.length > 1) for (const index of group) repeated.add(index)
  }
  return repeated
}

/** `TypeError: message`, with the code when there is one: `Error [ECONNRESET]: socket hang up`. */
function errorText(error: ErrorRecord | null): string {
  if (error === null || typeof error !== 'object') return NONE
  const code = error.code === undefined || error.code === null ? '' : clean(typeof error.code === 'string' ? error.code : JSON.stringify(error.code))
  const head = [clean(String(error.type ?? '')), code === '' ? '' : `[${code}]`].filter((part) => part !== '').join(' ')
  const message = clean(String(error.message ?? ''))
  return message === '' ? head : head === '' ? message : `${head}: ${message}`
}

/** `×1.8`, `×0.5`, `×12`, `×∞`; '' when it rounds to 1. */
function formatRatio(ratio: number): string {
  if (ratio === Infinity) return '×∞'
  if (!Number.isFinite(ratio)) return ''
  const text = ratio >= 10 ? String(Math.round(ratio)) : ratio >= 0.1 || ratio === 0 ? ratio.toFixed(1) : ratio.toPrecision(1)
  return text === '1.0' ? '' : `×${text}`
}

/**
 * Compact JSON of `value`, cut to `max` characters: written piece by piece and stopped once long
 * enough, so a huge value costs what is shown, not its size.
 */
function preview(value: JsonValue | undefined, max: number): string {
  if (value === undefined) return ABSENT
  type Frame = { readonly items: ReadonlyArray<JsonValue>; readonly keys: ReadonlyArray<string> | undefined; index: number }
  const stack: Frame[] = []
  let out = ''
  const open = (item: JsonValue | undefined): void => {
    if (typeof item === 'string') out += JSON.stringify(item.length > max ? item.slice(0, max + 1) : item)
    else if (typeof item === 'number' || typeof item === 'boolean') out += String(item)
    else if (item === null || typeof item !== 'object') out += 'null'
    else if (Array.isArray(item)) {
      out += '['
      stack.push({ items: item as ReadonlyArray<JsonValue>, keys: undefined, index: 0 })
    } else {
      const record = item as { readonly [key: string]: JsonValue }
      const keys = Object.keys(record)
      out += '{'
      stack.push({ items: keys.map((key) => record[key] as JsonValue), keys, index: 0 })
    }
  }
  open(value)
  while (stack.length > 0 && out.length <= max) {
    const frame = stack[stack.length - 1] as Frame
    if (frame.index >= frame.items.length) {
      out += frame.keys === undefined ? ']' : '}'
      stack.pop()
      continue
    }
    if (frame.index > 0) out += ','
    if (frame.keys !== undefined) out += `${JSON.stringify(frame.keys[frame.index])}:`
    open(frame.items[frame.index])
    frame.index++
  }
  return truncate(clean(out), max)
}

/** Text from a trace on one line, nothing that acts on the terminal (`oneLine`), cut at `MAX_TEXT`. */
function clean(text: string): string {
  return truncate(oneLine(text), MAX_TEXT)
}

/** At most `max` characters (code points), ending in `…` when cut. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text
  const chars = Array.from(text.slice(0, max * 2 + 2))
  if (chars.length <= max) return chars.join('')
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`
}
