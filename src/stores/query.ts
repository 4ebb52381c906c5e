/**
 * Validation of store queries, shared by both backends: durations (`7d`), instants, keyset cursors,
 * LIKE patterns. Every mistake becomes a `TypeError` with a message fit for a CLI's one-line error.
 */
import { wellFormed } from '../document/rows.js'
import type { JsonValue, TraceDocument } from '../document/document.js'
import type { FacetField, ListQuery, ListSort, PruneOptions, StepField, TextScope, TraceHeader } from './types.js'

/** @internal A validated `ListQuery`: instants as ISO strings, `text` as an escaped LIKE pattern. */
export interface NormalQuery {
  readonly project: string | undefined
  readonly environment: string | undefined
  readonly prompt: string | undefined
  readonly status: 'success' | 'error' | undefined
  readonly modelName: string | undefined
  readonly since: string | undefined
  readonly until: string | undefined
  /**
   * `%text%` for `LIKE … ESCAPE '\'` over the stored JSON text: the text escaped as JSON escapes it
   * (so `"` or `\` match only data holding them, never every key), then `\`, `%` and `_` escaped.
   */
  readonly textPattern: string | undefined
  /** The search text itself (for the text index), when there is a `textPattern`. */
  readonly text: string | undefined
  /** `prefix%` (hex only, so nothing to escape). */
  readonly idPattern: string | undefined
  readonly limit: number
  readonly after: Cursor | undefined
  /** The part of the document `text` is searched in (docs/stores.md#text-search). */
  readonly scope: TextScope
  /** The order of `list()`: `newest` pages by keyset; the others are one bounded top-N page. */
  readonly sort: ListSort
  /** Only replays of this trace id. */
  readonly replayOf: string | undefined
}

/** @internal Where the previous page ended. */
export interface Cursor {
  readonly startedAt: string
  readonly traceId: string
  /** The document's key within its trace ('' for a document written before documents had one). */
  readonly rootSpanId: string
}

/** @internal */
export const DEFAULT_LIMIT = 50
/** @internal */
export const MAX_LIMIT = 500

const QUERY_KEYS = new Set(['project', 'environment', 'prompt', 'status', 'modelName', 'since', 'until', 'text', 'scope', 'idPrefix', 'replayOf', 'limit', 'cursor', 'sort'])
/** @internal The values of `ListQuery.scope`. */
export const TEXT_SCOPES: ReadonlyArray<TextScope> = ['all', 'input', 'output', 'error', 'metadata']
/** @internal The values of `ListQuery.sort`. */
export const LIST_SORTS: ReadonlyArray<ListSort> = ['newest', 'slowest', 'costliest', 'retries']
const HEX = /^[0-9a-f]{1,32}$/
const ROOT_KEY = /^(?:[0-9a-f]{16})?$/
const TRACE_ID = /^[0-9a-f]{32}$/

/** @internal Checks a `ListQuery`; throws a `TypeError` naming the bad field. */
export function normalizeQuery(query: ListQuery | undefined, now: Date = new Date()): NormalQuery {
  if (query === undefined || query === null) query = {}
  if (typeof query !== 'object') throw new TypeError('Expected the query to be an object.')
  for (const key of Object.keys(query)) {
    if (!QUERY_KEYS.has(key)) throw new TypeError(`Unknown query option \`${key}\`.`)
  }
  const status = query.status
  if (status !== undefined && status !== 'success' && status !== 'error') {
    throw new TypeError(`Expected \`status\` to be "success" or "error", got ${JSON.stringify(status)}.`)
  }
  const limit = query.limit ?? DEFAULT_LIMIT
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new TypeError(`Expected \`limit\` to be an integer from 1 to ${MAX_LIMIT}, got ${String(limit)}.`)
  }
  const text = optionalString(query.text, 'text')
  const idPrefix = optionalString(query.idPrefix, 'idPrefix')
  if (idPrefix !== undefined && !HEX.test(idPrefix)) {
    throw new TypeError('Expected `idPrefix` to be 1 to 32 lowercase hex characters.')
  }
  const scope = query.scope ?? 'all'
  if (!TEXT_SCOPES.includes(scope)) {
    throw new TypeError(`Expected \`scope\` to be one of ${TEXT_SCOPES.map((value) => `"${value}"`).join(', ')}, got ${JSON.stringify(scope)}.`)
  }
  const sort = query.sort ?? 'newest'
  if (!LIST_SORTS.includes(sort)) {
    throw new TypeError(`Expected \`sort\` to be one of ${LIST_SORTS.map((value) => `"${value}"`).join(', ')}, got ${JSON.stringify(sort)}.`)
  }
  if (sort !== 'newest' && query.cursor !== undefined) {
    throw new TypeError(`Expected no \`cursor\` with \`sort: "${sort}"\`: only the newest-first order pages; the others return one page of the top \`limit\` traces.`)
  }
  const replayOf = query.replayOf
  if (replayOf !== undefined && !isTraceId(replayOf)) throw new TypeError('Expected `replayOf` to be a trace id of 32 lowercase hex characters.')
  return {
    project: optionalString(query.project, 'project'),
    environment: optionalString(query.environment, 'environment'),
    prompt: optionalString(query.prompt, 'prompt'),
    status,
    modelName: optionalString(query.modelName, 'modelName'),
    since: query.since === undefined ? undefined : toInstant(query.since, 'since', now),
    until: query.until === undefined ? undefined : toInstant(query.until, 'until', now),
    textPattern: text === undefined || text === '' ? undefined : `%${escapeLike(JSON.stringify(wellFormed(text)).slice(1, -1))}%`,
    text: text === undefined || text === '' ? undefined : wellFormed(text),
    idPattern: idPrefix === undefined ? undefined : `${idPrefix}%`,
    limit,
    after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
    scope,
    sort,
    replayOf,
  }
}

/**
 * @internal The ORDER BY of each sort (the same SQL for both backends): the newest-first keyset order,
 * or a top-N order with the keyset order as its tie-break.
 */
export const ORDER_BY: Readonly<Record<ListSort, string>> = {
  newest: 'started_at DESC, trace_id DESC, root_span_id DESC',
  slowest: 'duration_ms DESC, started_at DESC, trace_id DESC, root_span_id DESC',
  costliest: 'cost_usd DESC NULLS LAST, started_at DESC, trace_id DESC, root_span_id DESC',
  retries: 'retry_count DESC, started_at DESC, trace_id DESC, root_span_id DESC',
}

/**
 * @internal The stored (snake_case) keys each text scope searches, in the trace and in each of its
 * steps (docs/stores.md#text-search). Identifiers from this fixed table only.
 */
export const SCOPE_KEYS: Readonly<Record<Exclude<TextScope, 'all'>, { readonly trace: ReadonlyArray<string>; readonly step: ReadonlyArray<string> }>> = {
  input: { trace: ['input'], step: ['input'] },
  output: { trace: ['output'], step: ['output'] },
  error: { trace: ['error'], step: ['error', 'attempt_errors'] },
  metadata: { trace: ['metadata'], step: ['metadata'] },
}

/** @internal Checks a trace id before it reaches a query. */
export function isTraceId(value: unknown): value is string {
  return typeof value === 'string' && TRACE_ID.test(value)
}

/**
 * @internal An instant as an ISO string: a Date, an ISO date string, or a duration (`90s`, `30m`,
 * `12h`, `7d`, `2w`) meaning that long before `now`.
 */
export function toInstant(value: unknown, field: string, now: Date = new Date()): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new TypeError(`Expected \`${field}\` to be a valid date.`)
    return value.toISOString()
  }
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`Expected \`${field}\` to be a Date, an ISO date or a duration such as "7d".`)
  }
  const ms = parseDuration(value)
  if (ms !== undefined) return new Date(now.getTime() - ms).toISOString()
  if (!ISO_DATE.test(value)) throw new TypeError(`Expected \`${field}\` to be an ISO date or a duration such as "7d", got ${JSON.stringify(value)}.`)
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) throw new TypeError(`Expected \`${field}\` to be a valid date, got ${JSON.stringify(value)}.`)
  return date.toISOString()
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** @internal `"7d"` → milliseconds; `undefined` when `text` is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim())
  if (match === null) return undefined
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number)
}

/** @internal Escapes `\`, `%` and `_` for `LIKE … ESCAPE '\'`. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

/** @internal The cursor after the last item of a page. */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.startedAt, cursor.traceId, cursor.rootSpanId]), 'utf8').toString('base64url')
}

/** @internal Reads a cursor back; throws a `TypeError` for anything `encodeCursor` did not make. */
export function decodeCursor(text: unknown): Cursor {
  if (typeof text !== 'string' || text.length > 200) throw new TypeError('Expected `cursor` to be the `nextCursor` of a previous page.')
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    throw new TypeError('Expected `cursor` to be the `nextCursor` of a previous page.')
  }
  if (
    !Array.isArray(parsed) || parsed.length !== 3 || typeof parsed[0] !== 'string' || !ISO_DATE.test(parsed[0]) || !isTraceId(parsed[1]) ||
    typeof parsed[2] !== 'string' || !ROOT_KEY.test(parsed[2])
  ) {
    throw new TypeError('Expected `cursor` to be the `nextCursor` of a previous page.')
  }
  return { startedAt: parsed[0], traceId: parsed[1], rootSpanId: parsed[2] }
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new TypeError(`Expected \`${field}\` to be a string.`)
  if (value.length > 10_000) throw new TypeError(`Expected \`${field}\` to be at most 10000 characters.`)
  return value
}

/** @internal The column of each facet (identifiers from this fixed table only, never from a caller). */
export const FACET_COLUMNS: Readonly<Record<FacetField, string>> = {
  project: 'project',
  environment: 'environment',
  prompt: 'prompt',
  modelName: 'model_name',
  status: 'status',
  tags: 'tags',
}

/** @internal The query without the facet's own filter. */
export function facetQuery(field: unknown, query: ListQuery | undefined): { readonly column: string; readonly normal: NormalQuery } {
  if (typeof field !== 'string' || !Object.prototype.hasOwnProperty.call(FACET_COLUMNS, field)) {
    throw new TypeError('Expected the facet field to be one of ' + Object.keys(FACET_COLUMNS).join(', ') + ', got ' + JSON.stringify(field) + '.')
  }
  const { limit: _limit, cursor: _cursor, sort: _sort, ...rest } = query ?? {}
  const own = field === 'tags' ? rest : { ...rest, [field]: undefined }
  return { column: FACET_COLUMNS[field as FacetField], normal: normalizeQuery(own) }
}

/** @internal Most values `facets()` returns. */
export const FACET_LIMIT = 100

/** @internal The key of each step field in the stored (snake_case) document. */
export const STEP_FIELD_KEYS: Readonly<Record<StepField, string>> = {
  input: 'input',
  output: 'output',
  error: 'error',
  attemptErrors: 'attempt_errors',
  metadata: 'metadata',
}

/** @internal Checks a step field name; throws a `TypeError`. */
export function stepFieldKey(field: unknown): string {
  if (typeof field !== 'string' || !Object.prototype.hasOwnProperty.call(STEP_FIELD_KEYS, field)) {
    throw new TypeError('Expected the step field to be one of ' + Object.keys(STEP_FIELD_KEYS).join(', ') + ', got ' + JSON.stringify(field) + '.')
  }
  return STEP_FIELD_KEYS[field as StepField]
}

const STEP_ID = /^[0-9a-f]{16}$/

/** @internal Checks a step id before it reaches a query. */
export function isStepId(value: unknown): value is string {
  return typeof value === 'string' && STEP_ID.test(value)
}

/** @internal The error a cancelled read rejects with. */
export function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason
  if (reason instanceof Error && reason.name === 'AbortError') return reason
  return new DOMException('The read was aborted.', 'AbortError')
}

/** @internal Checks the options of `list` and `count`; throws when the signal already fired. */
export function readSignal(options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected the read options to be an object.')
  const signal = (options as { signal?: unknown }).signal
  if (signal === undefined) return undefined
  if (!(signal instanceof AbortSignal)) throw new TypeError('Expected `signal` to be an AbortSignal.')
  if (signal.aborted) throw abortError(signal)
  return signal
}

/** @internal A step field's value, with the defaults the document model gives a missing one. */
export function fieldValue(field: StepField, value: JsonValue | undefined): { readonly found: true; readonly value?: JsonValue } {
  if (value !== undefined) return { found: true, value }
  if (field === 'error') return { found: true, value: null }
  if (field === 'attemptErrors') return { found: true, value: [] }
  if (field === 'metadata') return { found: true, value: {} }
  return { found: true }
}

/** @internal The `since` of `TraceStore.overview(query)` as an ISO instant; throws a `TypeError` for anything else in `query`. */
export function overviewSince(query: unknown, now: Date = new Date()): string | undefined {
  if (query === undefined || query === null) return undefined
  if (typeof query !== 'object') throw new TypeError('Expected the overview query to be an object.')
  for (const key of Object.keys(query)) {
    if (key !== 'since') throw new TypeError(`Unknown overview option \`${key}\`.`)
  }
  const since = (query as { readonly since?: unknown }).since
  return since === undefined ? undefined : toInstant(since, 'since', now)
}

/** @internal The `olderThan` of `TraceStore.prune(options)` as an ISO instant; throws a `TypeError` for bad options. */
export function pruneInstant(options: PruneOptions): string {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `prune` options to be an object with `olderThan`.')
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new TypeError('Expected `onProgress` to be a function.')
  return toInstant(options.olderThan, 'olderThan')
}

/** @internal A document as `TraceStore.headers()` returns it: without its steps, with their count. */
export function headerOf(doc: TraceDocument, stepCount: number): TraceHeader {
  const { steps: _steps, ...header } = doc
  return { ...header, stepCount }
}
