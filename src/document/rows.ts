/**
 * The indexed columns of the stores: what people filter and sort traces and steps by, taken from a
 * document once, so the SQLite and PostgreSQL backends index exactly the same things.
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
  }))
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
