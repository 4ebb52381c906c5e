/**
 * The indexed values of the stores: what people filter and sort traces and steps by, taken from a
 * document once, so the SQLite and PostgreSQL backends index exactly the same things. The SQL column
 * names and the order of their values are `stores/sql/columns.ts`.
 */
import type { Status, TraceDocument } from './document.js'
import { toWire } from './wire.js'

/** @internal One `traces` row: the columns besides the whole document. */
export interface TraceRow {
  readonly traceId: string
  /** The document's key within its trace: its root span id, '' for a document written before that field. */
  readonly rootSpanId: string
  readonly parentStepId: string | null
  readonly replayOf: string | null
  readonly project: string
  readonly environment: string
  readonly prompt: string
  readonly modelName: string | null
  readonly status: Status
  readonly startedAt: string
  readonly endedAt: string
  readonly durationMs: number
  readonly retryCount: number
  readonly stepCount: number
  readonly errorCount: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly costUsd: number | null
  readonly tags: ReadonlyArray<string>
  /** `preview(doc.input)`: docs/stores.md#previews. */
  readonly inputPreview: string | null
  readonly outputPreview: string | null
  readonly errorType: string | null
  /** The error's message, cut like a preview. */
  readonly errorMessage: string | null
}

/** @internal One `steps` row. */
export interface StepRow {
  readonly traceId: string
  readonly rootSpanId: string
  readonly stepId: string
  readonly parentStepId: string | null
  readonly seq: number
  readonly name: string
  readonly kind: string
  readonly status: Status
  readonly startedAt: string
  readonly durationMs: number
  readonly attempts: number
  readonly retries: number
  readonly model: string | null
  readonly inputTokens: number | null
  readonly outputTokens: number | null
  readonly costUsd: number | null
  readonly errorType: string | null
  readonly errorMessage: string | null
  /** UTF-8 bytes of the value's stored JSON; 0 when it was not captured. */
  readonly inputBytes: number
  readonly outputBytes: number
  readonly inputPreview: string | null
  readonly outputPreview: string | null
  readonly truncated: boolean
  readonly incomplete: boolean
}

/** @internal The trace row of a document (no user data beyond names, tags and token counts). */
export function toTraceRow(doc: TraceDocument): TraceRow {
  let errorCount = 0
  for (const step of doc.steps) if (step.status === 'error') errorCount++
  return {
    traceId: doc.traceId,
    rootSpanId: documentKey(doc),
    parentStepId: doc.parentStepId ?? null,
    replayOf: doc.replayOf ?? null,
    project: wellFormed(doc.project),
    environment: wellFormed(doc.environment),
    prompt: wellFormed(doc.prompt),
    modelName: doc.modelName === undefined ? null : wellFormed(doc.modelName),
    status: doc.status,
    startedAt: doc.startedAt,
    endedAt: doc.endedAt,
    durationMs: finite(doc.durationMs),
    retryCount: integer(doc.retryCount),
    stepCount: doc.steps.length,
    errorCount,
    inputTokens: integer(doc.usage?.inputTokens),
    outputTokens: integer(doc.usage?.outputTokens),
    costUsd: typeof doc.costUsd === 'number' && Number.isFinite(doc.costUsd) ? doc.costUsd : null,
    tags: doc.tags.map(wellFormed),
    inputPreview: preview(doc.input),
    outputPreview: preview(doc.output),
    errorType: errorTypeOf(doc.error),
    errorMessage: errorMessageOf(doc.error),
  }
}

/** @internal The step rows of a document, in `seq` order. */
export function toStepRows(doc: TraceDocument): StepRow[] {
  const rootSpanId = documentKey(doc)
  return doc.steps.map((step) => ({
    traceId: doc.traceId,
    rootSpanId,
    stepId: step.stepId,
    parentStepId: step.parentStepId,
    seq: step.seq,
    name: wellFormed(step.name),
    kind: wellFormed(step.kind),
    status: step.status,
    startedAt: step.startedAt,
    durationMs: finite(step.durationMs),
    attempts: integer(step.attempts),
    retries: integer(step.retries),
    model: step.model === undefined ? null : wellFormed(step.model),
    inputTokens: step.usage === undefined ? null : integer(step.usage.inputTokens),
    outputTokens: step.usage === undefined ? null : integer(step.usage.outputTokens),
    costUsd: typeof step.costUsd === 'number' && Number.isFinite(step.costUsd) ? step.costUsd : null,
    errorType: errorTypeOf(step.error),
    errorMessage: errorMessageOf(step.error),
    inputBytes: jsonBytes(step.input),
    outputBytes: jsonBytes(step.output),
    inputPreview: preview(step.input),
    outputPreview: preview(step.output),
    truncated: typeof step.truncated === 'number' && step.truncated > 0,
    incomplete: step.incomplete === true,
  }))
}

/** @internal The longest preview, in characters (code points: a surrogate pair is never split). */
export const PREVIEW_CHARS = 200

/**
 * @internal A compact one-line text of a value (docs/stores.md#previews): a string as itself with line
 * breaks and tabs turned into spaces, anything else as its JSON; cut to `PREVIEW_CHARS` code points,
 * which is what SQLite's `substr` and PostgreSQL's `left` count, so the migration fills the same text
 * in SQL. `null` when the value is absent (not captured).
 */
export function preview(value: unknown): string | null {
  if (value === undefined) return null
  let text: string
  try {
    text = typeof value === 'string' ? value : JSON.stringify(value) ?? 'null'
  } catch {
    return null
  }
  return cut(wellFormed(text).replace(LINE_BREAKS, ' '))
}

/** @internal Cuts text to `PREVIEW_CHARS` code points. */
export function cut(text: string): string {
  // a code point is at most two UTF-16 units: shorter text never needs cutting
  if (text.length <= PREVIEW_CHARS) return text
  let units = 0
  let points = 0
  while (units < text.length && points < PREVIEW_CHARS) {
    const code = text.charCodeAt(units)
    units += code >= 0xd800 && code <= 0xdbff && units + 1 < text.length ? 2 : 1
    points++
  }
  return text.slice(0, units)
}

const LINE_BREAKS = /[\r\n\t]/g

function errorTypeOf(error: unknown): string | null {
  const type = typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined
  return typeof type === 'string' ? cut(wellFormed(type)) : null
}

function errorMessageOf(error: unknown): string | null {
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined
  return typeof message === 'string' ? cut(wellFormed(message).replace(LINE_BREAKS, ' ')) : null
}

/** UTF-8 bytes of a value's JSON as stored; 0 when it is absent. */
function jsonBytes(value: unknown): number {
  if (value === undefined) return 0
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? 'null', 'utf8')
  } catch {
    return 0
  }
}

/**
 * @internal What tells the documents of one trace apart in a store (a trace continued across services
 * has one per service): the root span id, or '' for a document written before documents had one.
 */
export function documentKey(doc: TraceDocument): string {
  return doc.rootSpanId ?? ''
}

/** @internal The stored JSON text of a document: snake_case, NUL and lone surrogates replaced. */
export function toStoredJson(doc: TraceDocument): string {
  return wellFormed(JSON.stringify(toWire(doc)))
}

/** @internal The stored JSON text of a document (as `toStoredJson`) and where each step's object lies in its UTF-8 bytes. */
export interface StoredDocument {
  readonly text: string
  /** Per step, in `seq` order: `[offset, length]` of its JSON object in the bytes of `text`. */
  readonly steps: ReadonlyArray<readonly [offset: number, length: number]>
}

// Stands for the steps in the document's JSON while it is written: a string JSON.stringify escapes
// (`\u0000`), at the top level, where the last occurrence is the document's own (the keys written after
// `steps` hold ids and counts, never user text).
const STEPS_MARK = '\u0000tracellm:steps\u0000'
const STEPS_MARK_JSON = JSON.stringify(STEPS_MARK)

/**
 * @internal The stored JSON text of a document, the same text as `toStoredJson`, written around its
 * steps so that each step's byte range is known: the SQLite store keeps them in `steps` and reads one
 * step of a 17 MB document with `substr` in ~12 ms instead of parsing it (docs/stores.md#reading-traces-openstore).
 */
export function toStoredDocument(doc: TraceDocument): StoredDocument {
  const wire = toWire(doc)
  const steps = wire.steps.map((step) => wellFormed(JSON.stringify(step)))
  const marked = JSON.stringify({ ...wire, steps: STEPS_MARK })
  const at = marked.lastIndexOf(STEPS_MARK_JSON)
  const head = wellFormed(marked.slice(0, at)) + '['
  const text = head + steps.join(',') + ']' + wellFormed(marked.slice(at + STEPS_MARK_JSON.length))
  let offset = Buffer.byteLength(head, 'utf8')
  const ranges = steps.map((step): readonly [number, number] => {
    const length = Buffer.byteLength(step, 'utf8')
    const range = [offset, length] as const
    offset += length + 1
    return range
  })
  return { text, steps: ranges }
}

/**
 * @internal Replaces what no database accepts in text: lone surrogates (PostgreSQL `jsonb` rejects
 * `\ud800`, 22P02) and NUL (22P05 in `jsonb`, 22021 in `text`), raw or as JSON escapes.
 */
export function wellFormed(text: string): string {
  let out = (text as string & { isWellFormed(): boolean }).isWellFormed() ? text : (text as string & { toWellFormed(): string }).toWellFormed()
  if (out.indexOf('\0') !== -1) out = out.replaceAll('\0', '\uFFFD')
  // an escape is real when an even number of backslashes precedes its own (`\\u0000` is text)
  if (out.indexOf('\\u') !== -1) out = out.replace(ESCAPED_BAD, (escape: string, backslashes: string) => (backslashes.length % 2 === 1 ? escape : `${backslashes}\\ufffd`))
  return out
}

// An escaped NUL or lone surrogate in JSON text (\u0000, \ud800 not followed by a low half, a low
// half not preceded by a high one), with the backslashes before it so an escaped backslash is kept.
const ESCAPED_BAD = /(\\*)\\u(?:0000|d[89ab][0-9a-f]{2}(?!\\ud[c-f][0-9a-f]{2})|(?<!\\ud[89ab][0-9a-f]{2}\\u)d[c-f][0-9a-f]{2})/gi

function finite(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) ? n : 0
}

function integer(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) ? Math.trunc(n) : 0
}
