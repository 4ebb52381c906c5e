/**
 * What `tracellm` prints: the trace table, the step tree with its terminal waterfall, the store
 * statistics and the replay report (the small formats and the progress bar are in `format.ts`). Pure
 * functions of their input, so tests observe exactly what a terminal would show.
 * Text that comes from a trace is attacker-controlled (LLM output, user input): it is always put on
 * one line with control characters replaced, so a stored trace cannot send escape sequences to the
 * terminal, and colours are added only by the functions here and in `format.ts`, only when asked.
 */
import type { JsonValue, StepRecord, StoreStats, TraceDiff, TraceDocument, TraceSummary } from '../index.js'
// from its own module, not the barrel: the viewer's server (ui/api.ts) imports this file too
import { renderDiff } from '../replay/diff.js'
// the tree layout the console sink draws (internal, so not in the barrel)
import { layoutSteps } from '../sinks/console.js'
import { rootSpanIdOf } from '../document/ids.js'
import type { Paint } from '../serialization/terminal.js'
import { abbreviate, clean, displayWidth, errorText, formatCost, formatCount, formatDuration, formatLocalTime, formatTokens, formatTokensInOut, jsonText, pad, painter, shortId, truncate } from './format.js'

// --- tables ---

/** @internal One column of `renderTable`. */
export interface Column {
  readonly header: string
  readonly align?: 'left' | 'right'
  /** Cells are cut to this many columns. */
  readonly max?: number
}

/** @internal One cell: its text, and how to paint it once padded. */
export interface Cell {
  readonly text: string
  readonly paint?: (text: string) => string
}

/** @internal Aligned columns separated by two spaces, a dimmed header, no trailing spaces. */
export function renderTable(columns: ReadonlyArray<Column>, rows: ReadonlyArray<ReadonlyArray<Cell | string>>, paint: Paint): string {
  const cells = rows.map((row) => columns.map((column, index) => {
    const cell = row[index] ?? ''
    const given = typeof cell === 'string' ? { text: cell } : cell
    return { text: truncate(clean(given.text), column.max ?? Number.MAX_SAFE_INTEGER), paint: given.paint }
  }))
  const widths = columns.map((column, index) => Math.max(displayWidth(column.header), ...cells.map((row) => displayWidth(row[index]?.text ?? ''))))
  const line = (parts: ReadonlyArray<{ readonly text: string; readonly paint?: ((text: string) => string) | undefined }>): string => {
    let out = ''
    parts.forEach((part, index) => {
      const column = columns[index] as Column
      const last = index === parts.length - 1
      const padded = last && column.align !== 'right' ? part.text : pad(part.text, widths[index] as number, column.align ?? 'left')
      out += (index === 0 ? '' : '  ') + (part.paint === undefined ? padded : part.paint(padded))
    })
    return out.trimEnd()
  }
  return [line(columns.map((column) => ({ text: column.header, paint: paint.dim }))), ...cells.map(line)].join('\n')
}

/** @internal The `list` table: newest first, as the store returns the page. */
export function renderList(items: ReadonlyArray<TraceSummary>, options: { readonly colors?: boolean } = {}): string {
  const paint = painter(options.colors === true)
  // the cost column only when a trace on the page was priced (`configure({ prices })`)
  const priced = items.some((item) => item.costUsd !== null && item.costUsd !== undefined)
  const columns: Column[] = [
    { header: 'time' },
    { header: 'id' },
    { header: 'prompt', max: 40 },
    { header: 'status' },
    { header: 'duration', align: 'right' },
    { header: 'steps', align: 'right' },
    { header: 'retries', align: 'right' },
    { header: 'tokens', align: 'right' },
    ...(priced ? [{ header: 'cost', align: 'right' } as const] : []),
  ]
  const rows = items.map((item): Cell[] => [
    { text: formatLocalTime(item.startedAt) },
    { text: shortId(item.traceId), paint: paint.cyan },
    // ↳ a document continuing a caller's trace (another service's part of it); ↺ a replay
    { text: `${item.parentStepId ? '↳ ' : ''}${item.replayOf ? '↺ ' : ''}${item.prompt}`, paint: paint.bold },
    item.status === 'error' ? { text: '✗ error', paint: paint.red } : { text: '✓ success', paint: paint.green },
    { text: formatDuration(item.durationMs) },
    { text: formatCount(item.stepCount) },
    item.retryCount > 0 ? { text: formatCount(item.retryCount), paint: paint.yellow } : { text: '0' },
    { text: formatTokens(item.inputTokens, item.outputTokens) },
    ...(priced ? [{ text: item.costUsd === null || item.costUsd === undefined ? '-' : formatCost(item.costUsd) }] : []),
  ])
  return renderTable(columns, rows, paint)
}

/** @internal What `stats` prints. */
export function renderStats(stats: StoreStats, options: { readonly colors?: boolean } = {}): string {
  const paint = painter(options.colors === true)
  const label = (text: string): string => paint.dim(pad(text, 9))
  const lines = [
    `${label('traces')}${formatCount(stats.traces)}`,
    `${label('steps')}${formatCount(stats.steps)}`,
    `${label('errors')}${stats.errors > 0 ? paint.red(formatCount(stats.errors)) : '0'}${stats.traces > 0 ? paint.dim(`  (${percent(stats.errors, stats.traces)} of traces)`) : ''}`,
    `${label('retries')}${formatCount(stats.retries)}`,
    `${label('tokens')}${formatCount(stats.inputTokens)} in / ${formatCount(stats.outputTokens)} out`,
    ...(stats.costUsd > 0 ? [`${label('cost')}${formatCost(stats.costUsd)}`] : []),
    `${label('oldest')}${formatLocalTime(stats.oldest)}`,
    `${label('newest')}${formatLocalTime(stats.newest)}`,
  ]
  if (stats.projects.length > 0) {
    lines.push(paint.dim('projects'))
    const width = Math.min(40, Math.max(...stats.projects.map((entry) => displayWidth(truncate(clean(entry.project), 40)))))
    for (const entry of stats.projects) lines.push(`  ${pad(truncate(clean(entry.project), 40), width)}  ${formatCount(entry.traces)}`)
  }
  return lines.join('\n')
}

function percent(part: number, whole: number): string {
  const value = (100 * part) / whole
  return `${value < 10 && value > 0 ? value.toFixed(1) : Math.round(value)}%`
}

// --- show: the header, the step tree and the waterfall ---

/** @internal Options of `renderShow`. */
export interface ShowOptions {
  readonly colors?: boolean
  /** Terminal width; the waterfall takes what the labels leave. @default 100 */
  readonly columns?: number
  /** Inputs and outputs as indented JSON instead of one abbreviated line each. */
  readonly full?: boolean
}

/** The narrowest waterfall worth drawing; below it the bars are left out. */
const MIN_BAR_WIDTH = 10
const MAX_NAME_WIDTH = 40
const MAX_KIND_WIDTH = 12
const DURATION_WIDTH = 9
/** Deeper steps are drawn at this depth, so a pathological chain costs linear, not quadratic, output. */
const MAX_INDENT_DEPTH = 16
const IO_WIDTH = 80

/**
 * @internal A trace for the terminal: a header (prompt, status, id, project and environment, start,
 * duration, retries, tokens, model, input, output, error), then one line per step, nested under its
 * parent (`parentStepId`) in `seq` order, with kind, ✓/✗, duration and a waterfall bar placed at the
 * step's start and as long as its duration, relative to the whole trace; under each step its input and
 * output (one line each, unless `full`), retries with each failed attempt, and its error.
 */
export function renderShow(docs: TraceDocument | ReadonlyArray<TraceDocument>, options: ShowOptions = {}): string {
  const all: ReadonlyArray<TraceDocument> = Array.isArray(docs) ? docs : [docs as TraceDocument]
  const doc = joinDocuments(all)
  const paint = painter(options.colors === true)
  const columns = Math.max(40, Math.floor(options.columns ?? 100))
  const ioWidth = Math.max(20, Math.min(IO_WIDTH, columns - 12))
  return [renderHeader(doc, all, paint, options.full === true, ioWidth), '', renderSteps(doc, paint, columns, options.full === true)].join('\n')
}

/**
 * @internal The documents of one trace as one document to show. A trace continued across services has
 * a document per service (earliest first, as `getAll` returns them): the first gives the header; each
 * other one becomes a step of kind `service`, named after its prompt and project, under the step that
 * called it (its `parentStepId`) when that step is shown, else at the top; its own steps hang under it.
 * Steps are renumbered in start order; usage, cost and retries are summed.
 */
export function joinDocuments(docs: ReadonlyArray<TraceDocument>): TraceDocument {
  const [entry, ...rest] = docs
  if (entry === undefined) throw new TypeError('Expected at least one trace document.')
  if (rest.length === 0) return entry
  const entryRoot = rootSpanIdOf(entry)
  const shown = new Set<string>(entry.steps.map((step) => step.stepId))
  for (const doc of rest) {
    shown.add(rootSpanIdOf(doc))
    for (const step of doc.steps) shown.add(step.stepId)
  }
  const steps: StepRecord[] = [...entry.steps]
  let retryCount = entry.retryCount
  let inputTokens = entry.usage?.inputTokens ?? 0
  let outputTokens = entry.usage?.outputTokens ?? 0
  let costUsd = entry.costUsd
  for (const doc of rest) {
    const root = rootSpanIdOf(doc) as StepRecord['stepId']
    const caller = doc.parentStepId !== undefined && doc.parentStepId !== entryRoot && shown.has(doc.parentStepId) ? doc.parentStepId : null
    steps.push({
      stepId: root,
      parentStepId: caller,
      seq: 0,
      name: `${doc.prompt} (${doc.project})`,
      kind: 'service',
      status: doc.status,
      startedAt: doc.startedAt,
      endedAt: doc.endedAt,
      durationMs: doc.durationMs,
      ...('input' in doc ? { input: doc.input } : {}),
      ...('output' in doc ? { output: doc.output } : {}),
      ...(doc.outputKind === undefined ? {} : { outputKind: doc.outputKind }),
      error: doc.error,
      attempts: 1,
      retries: 0,
      attemptErrors: [],
      metadata: {},
    })
    for (const step of doc.steps) steps.push(step.parentStepId === null ? { ...step, parentStepId: root } : step)
    retryCount += doc.retryCount
    inputTokens += doc.usage?.inputTokens ?? 0
    outputTokens += doc.usage?.outputTokens ?? 0
    if (doc.costUsd !== undefined) costUsd = (costUsd ?? 0) + doc.costUsd
  }
  const order = steps.map((step, index) => ({ step, index, at: Date.parse(step.startedAt) }))
  order.sort((a, b) => (a.at === b.at || !Number.isFinite(a.at - b.at) ? a.index - b.index : a.at - b.at))
  return {
    ...entry,
    steps: order.map(({ step }, seq) => ({ ...step, seq })),
    retryCount,
    usage: { inputTokens, outputTokens },
    ...(costUsd === undefined ? {} : { costUsd }),
  }
}

function renderHeader(doc: TraceDocument, all: ReadonlyArray<TraceDocument>, paint: Paint, full: boolean, ioWidth: number): string {
  const status = doc.status === 'error' ? paint.red('✗ error') : paint.green('✓ success')
  const lines = [`${paint.bold(truncate(clean(doc.prompt), 100))}  ${status}  ${paint.dim(formatDuration(doc.durationMs))}`]
  const field = (label: string, value: string): void => {
    lines.push(`  ${paint.dim(pad(label, 10))}${value}`)
  }
  field('id', clean(String(doc.traceId)))
  field('project', `${truncate(clean(doc.project), 60)} ${paint.dim('/')} ${truncate(clean(doc.environment), 60)}`)
  field('started', `${formatLocalTime(doc.startedAt)}  ${paint.dim(clean(String(doc.startedAt)))}`)
  field('duration', formatDuration(doc.durationMs))
  field('retries', doc.retryCount > 0 ? paint.yellow(`↻ ${formatCount(doc.retryCount)}`) : '0')
  field('tokens', formatTokensInOut(doc.usage?.inputTokens ?? 0, doc.usage?.outputTokens ?? 0))
  if (doc.modelName !== undefined) field('model', truncate(clean(doc.modelName), 60))
  if (doc.tags !== undefined && doc.tags.length > 0) field('tags', truncate(doc.tags.map(clean).join(', '), ioWidth))
  if (doc.costUsd !== undefined) field('cost', formatCost(doc.costUsd))
  if (doc.replayOf !== undefined) field('replay of', clean(String(doc.replayOf)))
  if (all.length > 1) {
    const services = all.map((part) => `${truncate(clean(part.prompt), 30)} (${truncate(clean(part.project), 30)})`)
    field('services', truncate(`${all.length} documents: ${services.join(', ')}`, ioWidth + 20))
  }
  if (doc.parentStepId !== undefined) field('caller', `span ${clean(String(doc.parentStepId))} ${paint.dim('(another service, not in this store)')}`)
  if (full) {
    for (const line of ioLines('input', doc)) lines.push(`  ${paint.dim(line.label)}${line.text}`)
    for (const line of ioLines('output', doc)) lines.push(`  ${paint.dim(line.label)}${line.text}`)
  } else {
    if ('input' in doc) field('input', abbreviate(doc.input, ioWidth))
    if ('output' in doc || doc.outputKind !== undefined) field('output', outputText(doc, ioWidth))
  }
  if (doc.error !== null && doc.error !== undefined) field('error', paint.red(`✗ ${truncate(errorText(doc.error), 200)}`))
  if (doc.droppedSteps) field('dropped', paint.yellow(`${formatCount(doc.droppedSteps)} steps not recorded (maxStepsPerTrace)`))
  if (doc.truncated) field('truncated', paint.yellow(`${formatCount(doc.truncated)} values cut short`))
  return lines.join('\n')
}

function renderSteps(doc: TraceDocument, paint: Paint, columns: number, full: boolean): string {
  const ordered = [...doc.steps].sort((a, b) => a.seq - b.seq)
  if (ordered.length === 0) return paint.dim('(no steps)')
  const placed = layoutSteps(ordered, MAX_INDENT_DEPTH)
  const labels = placed.map((item) => `${item.prefix}${item.last ? '└─ ' : '├─ '}${truncate(clean(item.step.name), MAX_NAME_WIDTH)}`)
  const kinds = placed.map((item) => truncate(clean(item.step.kind), MAX_KIND_WIDTH))
  const labelWidth = Math.max(5, ...labels.map(displayWidth))
  const kindWidth = Math.max(...kinds.map(displayWidth))
  // label  kind  ✓  duration  bar
  const fixed = labelWidth + 2 + kindWidth + 2 + 1 + 1 + DURATION_WIDTH + 2
  const barWidth = columns - fixed >= MIN_BAR_WIDTH ? columns - fixed : 0
  const timeline = timelineOf(doc)

  const lines: string[] = []
  const scale = barWidth === 0 ? '' : `  ${paint.dim(scaleLine(timeline.total, barWidth))}`
  lines.push(`${paint.dim(pad(`steps (${ordered.length})`, fixed - 2))}${scale}`.trimEnd())
  placed.forEach((item, index) => {
    const step = item.step
    const mark = step.status === 'error' ? paint.red('✗') : paint.green('✓')
    let line = `${paint.bold(pad(labels[index] as string, labelWidth))}  ${paint.dim(pad(kinds[index] as string, kindWidth))}  ${mark} ${pad(formatDuration(step.durationMs), DURATION_WIDTH, 'right')}`
    if (barWidth > 0) {
      const offset = Date.parse(step.startedAt) - timeline.start
      const bar = waterfallBar(offset, step.durationMs, timeline.total, barWidth)
      const colour = step.status === 'error' ? paint.red : step.retries > 0 ? paint.yellow : paint.cyan
      line += `  ${colour(bar).trimEnd()}`
    }
    lines.push(line.trimEnd())
    const detail = `${item.childPrefix}${item.hasChildren ? '│  ' : '   '}`
    const ioWidth = Math.max(20, Math.min(IO_WIDTH, columns - displayWidth(detail) - 5))
    for (const text of stepDetails(step, paint, full, ioWidth)) lines.push(`${paint.dim(detail)}${text}`.trimEnd())
  })
  return lines.join('\n')
}

function stepDetails(step: StepRecord, paint: Paint, full: boolean, ioWidth: number): string[] {
  const lines: string[] = []
  if (full) {
    for (const line of [...ioLines('in', step), ...ioLines('out', step)]) lines.push(`${paint.dim(line.label)}${line.text}`)
  } else {
    if ('input' in step) lines.push(`${paint.dim('in ')}  ${abbreviate(step.input, ioWidth)}`)
    if ('output' in step || step.outputKind !== undefined) lines.push(`${paint.dim('out')}  ${outputText(step, ioWidth)}`)
  }
  const usage = step.usage === undefined ? '' : `tokens ${formatCount(step.usage.inputTokens)} in / ${formatCount(step.usage.outputTokens)} out`
  const model = step.model === undefined ? '' : `model ${truncate(clean(step.model), 40)}`
  const cost = step.costUsd === undefined ? '' : `cost ${formatCost(step.costUsd)}`
  if (model !== '' || usage !== '' || cost !== '') lines.push(paint.dim([model, usage, cost].filter(Boolean).join('  ')))
  if (step.retries > 0) {
    const retries = `↻ ${formatCount(step.retries)} ${step.retries === 1 ? 'retry' : 'retries'}`
    lines.push(paint.yellow(`${retries} (${formatCount(step.attempts)} attempts)`))
    for (const failed of step.attemptErrors ?? []) {
      lines.push(paint.yellow(`  attempt ${formatCount(failed.attempt)}: ${truncate(errorText(failed.error), 120)}`))
    }
  }
  if (step.status === 'error' || step.error !== null) {
    lines.push(paint.red(`✗ ${truncate(errorText(step.error) || 'failed', 160)}`))
  }
  if (step.incomplete === true) lines.push(paint.yellow('⋯ incomplete: the trace ended before this step did'))
  if (step.truncated) lines.push(paint.dim(`${formatCount(step.truncated)} values cut short`))
  return lines
}

/** `in`/`out` (or `input`/`output`) with the whole value as indented JSON, one terminal line per JSON line. */
function ioLines(label: 'in' | 'out' | 'input' | 'output', record: TraceDocument | StepRecord): Array<{ readonly label: string; readonly text: string }> {
  const key = label === 'in' || label === 'input' ? 'input' : 'output'
  if (!(key in record) && !(key === 'output' && record.outputKind !== undefined)) return []
  const name = pad(label, label.length > 3 ? 10 : 5)
  const prefix = record.outputKind === 'stream' && key === 'output' ? '(stream) ' : ''
  const text = key === 'output' && record.outputKind === 'undefined' ? 'undefined' : jsonText(record[key], 2)
  return `${prefix}${text}`.split('\n').map((line, index) => ({ label: index === 0 ? name : ' '.repeat(name.length), text: clean(line) }))
}

function outputText(record: TraceDocument | StepRecord, max: number): string {
  if (record.outputKind === 'undefined') return 'undefined'
  if (record.outputKind === 'stream') return truncate(`(stream) ${abbreviate(record.output, max)}`, max)
  return abbreviate(record.output, max)
}

interface Timeline {
  /** Epoch ms of the trace's start. */
  readonly start: number
  /** Milliseconds the waterfall spans: the trace, or further when a step outlived it. */
  readonly total: number
}

function timelineOf(doc: TraceDocument): Timeline {
  const start = Date.parse(doc.startedAt)
  let total = Number.isFinite(doc.durationMs) ? doc.durationMs : 0
  if (Number.isFinite(start)) {
    for (const step of doc.steps) {
      const end = Date.parse(step.startedAt) - start + (Number.isFinite(step.durationMs) ? step.durationMs : 0)
      if (Number.isFinite(end) && end > total) total = end
    }
  }
  return { start: Number.isFinite(start) ? start : 0, total: total > 0 ? total : 1 }
}

/**
 * @internal One waterfall bar, exactly `width` columns: spaces before the step's start, `█` for its
 * duration (at least one column, so an instant step still shows), spaces after. Offsets before the
 * trace, past its end, and non-finite values are clamped into the bar.
 */
export function waterfallBar(offsetMs: number, durationMs: number, totalMs: number, width: number): string {
  const columns = Math.max(1, Math.floor(width))
  const total = Number.isFinite(totalMs) && totalMs > 0 ? totalMs : 1
  const offset = Number.isFinite(offsetMs) ? Math.min(Math.max(offsetMs, 0), total) : 0
  const duration = Number.isFinite(durationMs) ? Math.max(durationMs, 0) : 0
  let from = Math.floor((offset / total) * columns)
  let to = Math.round(((offset + duration) / total) * columns)
  if (from >= columns) from = columns - 1
  if (to > columns) to = columns
  if (to <= from) to = from + 1
  return ' '.repeat(from) + '█'.repeat(to - from) + ' '.repeat(columns - to)
}

/** `0 ms` at the left of the waterfall, the total at its right. */
function scaleLine(totalMs: number, width: number): string {
  const left = '0'
  const right = formatDuration(totalMs)
  return left + ' '.repeat(Math.max(1, width - left.length - right.length)) + right
}

// --- replay and diff ---

/** @internal What `replay` found, as `renderReplay` and `--json` report it. */
export interface ReplayReport {
  /** The recorded trace. */
  readonly recorded: TraceDocument
  /** The replay's own trace. */
  readonly replayed: TraceDocument
  readonly diff: TraceDiff
  /** The messages of the calls the record could not answer, in order. */
  readonly mismatches: ReadonlyArray<string>
  /** Recorded tool calls the replay never made (position 0-based among that tool's calls). */
  readonly unused: ReadonlyArray<{ readonly name: string; readonly position: number }>
}

/**
 * @internal Why a replay does not match its record, one phrase each: mismatched calls, recorded calls
 * never made, a changed status, the trace's own changes, changed steps. Empty when it matches.
 */
export function replayProblems(report: ReplayReport): string[] {
  const problems: string[] = []
  const count = (n: number, one: string, many: string): string => `${formatCount(n)} ${n === 1 ? one : many}`
  if (report.mismatches.length > 0) problems.push(count(report.mismatches.length, 'mismatched call', 'mismatched calls'))
  if (report.unused.length > 0) problems.push(count(report.unused.length, 'recorded call never made', 'recorded calls never made'))
  if (report.replayed.status !== report.recorded.status) problems.push(`status ${report.recorded.status} → ${report.replayed.status}`)
  const fields = [...new Set(report.diff.trace.changes.filter((change) => change.field !== 'status' && change.field !== 'omitted').map((change) => change.field === 'retryCount' ? 'retries' : change.field))]
  if (fields.length > 0) problems.push(`the trace's ${fields.join(', ')} changed`)
  const { changed, added, removed } = report.diff.summary
  const steps = [changed > 0 ? `${formatCount(changed)} changed` : '', added > 0 ? `${formatCount(added)} added` : '', removed > 0 ? `${formatCount(removed)} removed` : ''].filter(Boolean)
  if (steps.length > 0) problems.push(`steps: ${steps.join(', ')}`)
  return problems
}

/**
 * @internal What `tracellm replay` prints: the replay's trace as `show` draws it, the step diff
 * against the record, the mismatched calls, the recorded calls never made, and a verdict line.
 */
export function renderReplay(report: ReplayReport, options: ShowOptions = {}): string {
  const paint = painter(options.colors === true)
  const columns = Math.max(40, Math.floor(options.columns ?? 100))
  const sections = [
    renderShow(report.replayed, options),
    `${paint.dim('diff (recorded → replay)')}\n${renderDiff(report.diff, { colors: options.colors === true, width: columns })}`,
  ]
  if (report.mismatches.length > 0) {
    sections.push([paint.bold(`mismatches (${formatCount(report.mismatches.length)})`), ...report.mismatches.map((message) => `  ${paint.red('✗')} ${truncate(clean(message), columns - 4)}`)].join('\n'))
  }
  if (report.unused.length > 0) {
    const lines = report.unused.map((call) => `  ${paint.yellow('-')} ${truncate(clean(call.name), MAX_NAME_WIDTH)} call #${formatCount(call.position + 1)}`)
    sections.push([paint.bold(`recorded calls never made (${formatCount(report.unused.length)})`), ...lines].join('\n'))
  }
  const problems = replayProblems(report)
  sections.push(problems.length === 0
    ? paint.green('✓ the replay matches the record')
    : paint.red(`✗ the replay differs from the record: ${problems.join('; ')}`))
  return sections.join('\n\n')
}

/**
 * @internal A `TraceDiff` as `--json` prints it: the traces by id instead of whole documents, and each
 * step by its path, status, changes and duration ratio (a ratio of `Infinity` prints as `null`).
 */
export function diffToJson(diff: TraceDiff): JsonValue {
  const json = {
    equal: diff.equal,
    a: diff.a.traceId,
    b: diff.b.traceId,
    summary: diff.summary,
    trace: diff.trace,
    steps: diff.steps.map((step) => ({
      path: step.path,
      name: step.name,
      status: step.status,
      changes: step.changes,
      ...(step.durationRatio === undefined ? {} : { durationRatio: step.durationRatio }),
    })),
  }
  return JSON.parse(JSON.stringify(json)) as JsonValue
}
