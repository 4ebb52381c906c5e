/**
 * What the viewer's API answers, without HTTP: each function takes the store and the request's
 * parameters and returns the JSON to send, or throws an `ApiError` with its status
 * (docs/ui.md#api). Bad input is checked by the store's own query validation, so the API accepts
 * exactly what `store.list()` accepts.
 */
import type { JsonValue, StepRecord, TraceDocument } from '../document/document.js'
import { diffTraces, type DiffOptions, type StepDiff, type TraceDiff } from '../replay/diff.js'
import { diffToJson } from '../cli/render.js'
import { headerOf } from '../stores/query.js'
import type { ListQuery, TraceHeader } from '../stores/types.js'
import type { FacetField, StepField, StepSkeleton, ViewerStore, ViewerTraceSummary } from './types.js'

/** @internal A refusal with its HTTP status and a one-line message (never a stack). */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  constructor(readonly status: 400 | 403 | 404 | 503, message: string) {
    super(message)
  }
}

/** @internal Fields at most this large (as JSON, in bytes) are sent inline; larger ones as a preview and a raw link. */
export const INLINE_LIMIT = 256 * 1024
/** @internal The preview of a field too large to send inline. */
export const PREVIEW_BYTES = 64 * 1024
/** @internal List previews are cut to this many characters. */
export const LIST_PREVIEW_CHARS = 200

/** @internal The step fields, in the order the step endpoint sends them. */
export const STEP_FIELDS: ReadonlyArray<StepField> = ['input', 'output', 'error', 'attemptErrors', 'metadata']

const TRACE_ID = /^[0-9a-f]{32}$/
const STEP_ID = /^[0-9a-f]{16}$/

/** URL parameter → `ListQuery` key; `model` is the API's name for `modelName`. */
const LIST_PARAMS: Readonly<Record<string, string>> = {
  project: 'project', environment: 'environment', prompt: 'prompt', status: 'status', model: 'modelName',
  since: 'since', until: 'until', text: 'text', scope: 'scope', idPrefix: 'idPrefix', replayOf: 'replayOf', limit: 'limit', cursor: 'cursor', sort: 'sort',
}
/** The filters of count and facets: every list parameter but paging and order. */
const FILTER_PARAMS: ReadonlyArray<string> = ['project', 'environment', 'prompt', 'status', 'model', 'since', 'until', 'text', 'scope', 'idPrefix', 'replayOf']
const FACET_FIELDS: Readonly<Record<string, FacetField>> = {
  project: 'project', environment: 'environment', prompt: 'prompt', model: 'modelName', status: 'status', tags: 'tags',
}

/**
 * @internal The `ListQuery` of a request's parameters. `scope=all` and `sort=newest` are the defaults
 * and are left out; any other value is handed to the store, whose validation refuses what it does not
 * support. An unknown or repeated parameter is a 400.
 */
export function toListQuery(params: URLSearchParams, allowed: ReadonlyArray<string> = Object.keys(LIST_PARAMS)): ListQuery {
  const query: Record<string, unknown> = {}
  const seen = new Set<string>()
  for (const [name, value] of params) {
    if (seen.has(name)) throw new ApiError(400, `Expected \`${name}\` at most once.`)
    seen.add(name)
    const key = LIST_PARAMS[name]
    if (key === undefined || !allowed.includes(name)) throw new ApiError(400, `Unknown query parameter \`${name}\`.`)
    if (value === '' && name !== 'text') continue
    if ((name === 'scope' && value === 'all') || (name === 'sort' && value === 'newest')) continue
    query[key] = name === 'limit' && /^\d{1,6}$/.test(value) ? Number(value) : value
  }
  return query as ListQuery
}

/** @internal Runs a store call; the store's own validation errors (`TypeError`) become 400, any other failure 503. */
export async function fromStore<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    if (error instanceof ApiError) throw error
    if (error instanceof TypeError) throw new ApiError(400, messageOf(error))
    throw new ApiError(503, `the store failed: ${messageOf(error)}`)
  }
}

/** @internal `GET /api/traces`; `signal` cancels the store's read (the client went away). */
export async function listTraces(store: ViewerStore, params: URLSearchParams, signal?: AbortSignal): Promise<JsonValue> {
  const query = toListQuery(params)
  const page = await fromStore(() => store.list(query, signal === undefined ? undefined : { signal }))
  return { items: page.items.map(clipSummary), nextCursor: page.nextCursor } as unknown as JsonValue
}

/** @internal `GET /api/traces/count`; `signal` cancels the store's count (the client went away). */
export async function countTraces(store: ViewerStore, params: URLSearchParams, signal?: AbortSignal): Promise<JsonValue> {
  const query = toListQuery(params, FILTER_PARAMS)
  return { count: await fromStore(() => store.count(query, signal === undefined ? undefined : { signal })) }
}

/** @internal `GET /api/facets?field=…&<filters>` */
export async function facets(store: ViewerStore, params: URLSearchParams): Promise<JsonValue> {
  const rest = new URLSearchParams(params)
  const name = rest.get('field')
  rest.delete('field')
  const field = name === null ? undefined : FACET_FIELDS[name]
  if (field === undefined) throw new ApiError(400, `Expected \`field\` to be one of ${Object.keys(FACET_FIELDS).join(', ')}.`)
  const query = toListQuery(rest, FILTER_PARAMS)
  const facetsOf = store.facets
  if (facetsOf === undefined) throw unsupported('facets')
  const values = await fromStore(() => facetsOf.call(store, field, query))
  return { field: name, values: values.slice(0, 100).map((entry) => ({ value: entry.value, count: entry.count })) }
}

/** @internal `GET /api/traces/:id`: the header of each document (one per service), without step I/O. */
export async function traceHeader(store: ViewerStore, traceId: string): Promise<JsonValue> {
  const docs = await headersOf(store, traceId)
  return {
    traceId,
    documents: docs.map((doc) => {
      const { input, output, error, ...header } = doc
      return {
        ...header,
        input: gate(input, `/api/traces/${traceId}/raw/input`),
        output: gate(output, `/api/traces/${traceId}/raw/output`),
        error: gate(error, `/api/traces/${traceId}/raw/error`),
      }
    }),
  } as unknown as JsonValue
}

/**
 * @internal `GET /api/traces/:id/steps`: the skeleton as columns (one array per field), never the
 * documents, without the I/O previews: they would make a 5 000-step skeleton 2.7 MB instead of 0.7
 * (docs/ui.md#figures). `GET /api/traces/:id/previews` (`stepPreviews`) sends them apart.
 */
export async function stepSkeleton(store: ViewerStore, traceId: string): Promise<JsonValue> {
  const rows = await skeletonRows(store, traceId, false)
  const origin = rows.reduce((min, row) => Math.min(min, Date.parse(row.startedAt)), Number.POSITIVE_INFINITY)
  const column = <T>(pick: (row: StepSkeleton) => T): T[] => rows.map(pick)
  return {
    traceId,
    count: rows.length,
    startedAt: rows.length === 0 ? null : new Date(origin).toISOString(),
    columns: {
      stepId: column((row) => row.stepId),
      parentStepId: column((row) => row.parentStepId),
      doc: column((row) => row.rootSpanId),
      seq: column((row) => row.seq),
      name: column((row) => row.name),
      kind: column((row) => row.kind),
      status: column((row) => row.status),
      offsetMs: column((row) => round(Date.parse(row.startedAt) - origin)),
      durationMs: column((row) => row.durationMs),
      attempts: column((row) => row.attempts),
      retries: column((row) => row.retries),
      model: column((row) => row.model),
      inputTokens: column((row) => row.inputTokens),
      outputTokens: column((row) => row.outputTokens),
      costUsd: column((row) => row.costUsd),
      errorType: column((row) => row.errorType),
      errorPreview: column((row) => clip(row.errorMessage)),
      inputBytes: column((row) => row.inputBytes),
      outputBytes: column((row) => row.outputBytes),
      truncated: column((row) => row.truncated),
      incomplete: column((row) => row.incomplete),
    },
  } as unknown as JsonValue
}

/** @internal `GET /api/traces/:id/previews`: each step's input and output previews (≤ 200 characters), in the skeleton's order. */
export async function stepPreviews(store: ViewerStore, traceId: string): Promise<JsonValue> {
  const rows = await skeletonRows(store, traceId, true)
  return {
    traceId,
    count: rows.length,
    columns: { stepId: rows.map((row) => row.stepId), inputPreview: rows.map((row) => clip(row.inputPreview)), outputPreview: rows.map((row) => clip(row.outputPreview)) },
  } as unknown as JsonValue
}

async function skeletonRows(store: ViewerStore, traceId: string, previews: boolean): Promise<ReadonlyArray<StepSkeleton>> {
  checkTraceId(traceId)
  const stepsOf = store.steps
  if (stepsOf === undefined) throw unsupported('the step skeleton')
  const rows = await fromStore(() => stepsOf.call(store, traceId, { previews }))
  if (rows.length === 0 && (await fromStore(() => store.count({ idPrefix: traceId }))) === 0) throw noTrace(traceId)
  return rows
}

/** @internal `GET /api/traces/:id/steps/:stepId`: each field inline up to 256 KiB, else a preview, its size and a raw link. */
export async function stepDetail(store: ViewerStore, traceId: string, stepId: string): Promise<JsonValue> {
  checkTraceId(traceId)
  checkStepId(stepId)
  const stepOf = store.step
  if (stepOf === undefined) throw unsupported('step lookup')
  // a step with a large input or output: read without parsing them (their preview and size come apart)
  const largeOf = store.largeStep
  const large = largeOf === undefined ? undefined : await fromStore(() => largeOf.call(store, traceId, stepId, INLINE_LIMIT, PREVIEW_BYTES))
  const step: StepRecord | undefined = large?.record ?? (await fromStore(() => stepOf.call(store, traceId, stepId)))
  if (step === undefined) throw new ApiError(404, `no step ${stepId} in trace ${traceId}`)
  const { input, output, error, attemptErrors, metadata, ...rest } = step
  const values: Record<StepField, unknown> = { input, output, error, attemptErrors, metadata }
  const fields: Record<string, unknown> = {}
  for (const field of STEP_FIELDS) {
    const rawUrl = `/api/traces/${traceId}/steps/${stepId}/raw/${field}`
    const apart = field === 'input' || field === 'output' ? large?.large[field] : undefined
    if (apart !== undefined) fields[field] = { inline: false, preview: apart.preview, bytes: apart.bytes, rawUrl }
    else if (values[field] !== undefined) fields[field] = gate(values[field], rawUrl)
  }
  return { ...rest, fields } as unknown as JsonValue
}

/** @internal The value of `GET /api/traces/:id/steps/:stepId/raw/:field`, as JSON text. */
export async function rawField(store: ViewerStore, traceId: string, stepId: string, field: string): Promise<string> {
  checkTraceId(traceId)
  checkStepId(stepId)
  if (!(STEP_FIELDS as ReadonlyArray<string>).includes(field)) throw new ApiError(400, `Expected the field to be one of ${STEP_FIELDS.join(', ')}.`)
  const fieldOf = store.stepField
  if (fieldOf === undefined) throw unsupported('step fields')
  const result = await fromStore(() => fieldOf.call(store, traceId, stepId, field as StepField))
  if (!result.found || result.value === undefined) throw new ApiError(404, `no ${field} for step ${stepId} in trace ${traceId}`)
  return JSON.stringify(result.value)
}

/** @internal The value of the trace-level `GET /api/traces/:id/raw/:field` (input, output, error of the first document). */
export async function rawTraceField(store: ViewerStore, traceId: string, field: string): Promise<string> {
  if (field !== 'input' && field !== 'output' && field !== 'error') throw new ApiError(400, 'Expected the field to be one of input, output, error.')
  const [doc] = await documentsOf(store, traceId)
  const value = (doc as TraceDocument)[field]
  if (value === undefined) throw new ApiError(404, `no ${field} for trace ${traceId}`)
  return JSON.stringify(value)
}

/** @internal `GET /api/diff?a=&b=&durationRatio=&ignore=`: as `tracellm diff --json` prints it. */
export async function diff(store: ViewerStore, params: URLSearchParams): Promise<JsonValue> {
  for (const name of params.keys()) {
    if (!['a', 'b', 'durationRatio', 'ignore'].includes(name)) throw new ApiError(400, `Unknown query parameter \`${name}\`.`)
  }
  const a = params.get('a') ?? ''
  const b = params.get('b') ?? ''
  checkTraceId(a)
  checkTraceId(b)
  const options: { durationRatio?: number; ignore?: DiffOptions['ignore'] } = {}
  const ratio = params.get('durationRatio')
  if (ratio !== null && ratio !== '') {
    if (!/^\d+(\.\d+)?$/.test(ratio)) throw new ApiError(400, 'Expected `durationRatio` to be a number of at least 1.')
    options.durationRatio = Number(ratio)
  }
  const ignore = params.get('ignore')
  if (ignore !== null && ignore !== '') options.ignore = ignore.split(',') as unknown as DiffOptions['ignore']
  const [before] = await documentsOf(store, a)
  const [after] = await documentsOf(store, b)
  let compared: TraceDiff
  try {
    compared = diffTraces(before as TraceDocument, after as TraceDocument, options)
  } catch (error) {
    throw new ApiError(400, `cannot compare ${a} with ${b}: ${messageOf(error)}`)
  }
  // what `tracellm diff --json` prints, plus what the compare page links and draws with
  // (docs/ui.md#compare): each side's header, and per step its depth, ids and durations
  const json = diffToJson(compared) as { steps: Array<Record<string, JsonValue>> } & Record<string, JsonValue>
  const side = (doc: TraceDocument): JsonValue => ({
    traceId: doc.traceId, prompt: doc.prompt, status: doc.status, startedAt: doc.startedAt, durationMs: doc.durationMs,
    replayOf: doc.replayOf ?? null, stepCount: doc.steps.length,
  })
  return {
    ...json,
    traces: { a: side(compared.a), b: side(compared.b) },
    steps: json.steps.map((step, index) => {
      const full = compared.steps[index] as StepDiff
      return {
        ...step,
        depth: full.depth,
        aStepId: full.a?.stepId ?? null,
        bStepId: full.b?.stepId ?? null,
        aDurationMs: full.a?.durationMs ?? null,
        bDurationMs: full.b?.durationMs ?? null,
      }
    }),
  }
}

/**
 * @internal `GET /api/overview?since=`: the store's `overview()` (docs/ui.md#store-overview); 503 when
 * the store has no such method, 400 for a bad `since` or any other parameter.
 */
export async function overview(store: ViewerStore, params: URLSearchParams): Promise<JsonValue> {
  for (const name of params.keys()) {
    if (name !== 'since') throw new ApiError(400, `Unknown query parameter \`${name}\`.`)
  }
  if (params.getAll('since').length > 1) throw new ApiError(400, 'Expected `since` at most once.')
  const overviewOf = (store as Partial<Pick<ViewerStore, 'overview'>>).overview
  if (overviewOf === undefined) throw unsupported('the store overview')
  const since = params.get('since')
  const result = await fromStore(() => overviewOf.call(store, since === null || since === '' ? {} : { since }))
  return result as unknown as JsonValue
}

/** @internal Every document of a trace, earliest first; 404 when there is none. */
export async function documentsOf(store: ViewerStore, traceId: string): Promise<ReadonlyArray<TraceDocument>> {
  checkTraceId(traceId)
  const docs = await fromStore(() => store.getAll(traceId))
  if (docs.length === 0) throw noTrace(traceId)
  return docs
}

/**
 * The documents of a trace without their steps: from `store.headers()`, which drops them in the
 * database (a trace of thousands of steps is never parsed whole, docs/ui.md#figures), else from
 * `getAll`. 404 when there is none.
 */
async function headersOf(store: ViewerStore, traceId: string): Promise<ReadonlyArray<TraceHeader>> {
  checkTraceId(traceId)
  const read = store.headers
  if (read === undefined) return (await documentsOf(store, traceId)).map((doc) => headerOf(doc, doc.steps.length))
  const docs = await fromStore(() => read.call(store, traceId))
  if (docs.length === 0) throw noTrace(traceId)
  return docs
}

/**
 * @internal A field as the step endpoint sends it: `{inline: true, value}` up to 256 KiB of JSON,
 * else `{inline: false, preview, bytes, rawUrl}` with the first 64 KiB of its JSON text.
 */
export function gate(value: unknown, rawUrl: string): JsonValue {
  if (value === undefined) return null
  const text = JSON.stringify(value)
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes <= INLINE_LIMIT) return { inline: true, value: value as JsonValue }
  return { inline: false, preview: utf8Prefix(text, PREVIEW_BYTES), bytes, rawUrl }
}

/** @internal The longest prefix of `text` whose UTF-8 encoding fits `limit` bytes, never splitting a character. */
export function utf8Prefix(text: string, limit: number): string {
  let head = text.slice(0, limit)
  // a cut surrogate pair would become U+FFFD: drop its first half
  const last = head.charCodeAt(head.length - 1)
  if (head.length < text.length && last >= 0xd800 && last <= 0xdbff) head = head.slice(0, -1)
  const buffer = Buffer.from(head, 'utf8')
  if (buffer.length <= limit) return head
  let end = limit
  // step back over continuation bytes (10xxxxxx) to the start of the cut character
  while (end > 0 && ((buffer[end] as number) & 0xc0) === 0x80) end--
  return buffer.subarray(0, end).toString('utf8')
}

function clipSummary(item: ViewerTraceSummary): ViewerTraceSummary {
  const out: Record<string, unknown> = { ...item }
  for (const key of ['inputPreview', 'outputPreview', 'errorMessage'] as const) {
    if (typeof item[key] === 'string') out[key] = clip(item[key])
  }
  return out as unknown as ViewerTraceSummary
}

function clip(text: string | null | undefined): string | null {
  if (typeof text !== 'string') return null
  // never more code points than UTF-16 units: most previews need no counting (a skeleton has 2 per step)
  if (text.length <= LIST_PREVIEW_CHARS) return text
  const chars = Array.from(text)
  return chars.length <= LIST_PREVIEW_CHARS ? text : `${chars.slice(0, LIST_PREVIEW_CHARS - 1).join('')}…`
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

/** @internal */
export function checkTraceId(id: string): void {
  if (!TRACE_ID.test(id)) throw new ApiError(400, 'Expected a trace id of 32 lowercase hex characters.')
}

function checkStepId(id: string): void {
  if (!STEP_ID.test(id)) throw new ApiError(400, 'Expected a step id of 16 lowercase hex characters.')
}

function noTrace(traceId: string): ApiError {
  return new ApiError(404, `no trace with id ${traceId}`)
}

function unsupported(what: string): ApiError {
  return new ApiError(503, `this store does not support ${what} yet; upgrade tracellm`)
}

/** @internal A one-line message of an error, never its stack. */
export function messageOf(error: unknown): string {
  try {
    const text = error instanceof Error ? error.message || error.name : String(error)
    return text.replace(/\s*\n\s*/g, ' ').slice(0, 500)
  } catch {
    return 'unknown error'
  }
}
