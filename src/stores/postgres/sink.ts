/**
 * The PostgreSQL sink: many processes, on many machines, writing to one database. Each batch is one
 * transaction of multi-row INSERTs (`ON CONFLICT DO NOTHING`: a retried batch never duplicates); a
 * document the database refuses is isolated by splitting the batch and stored as a placeholder.
 */
import type { TraceDocument } from '../../document/document.js'
import { toStepRows, toStoredJson, toTraceRow, wellFormed, type TraceRow } from '../../document/rows.js'
import type { Sink, WriteResult } from '../../export/queue.js'
import { isTraceId } from '../query.js'
import { STEP_COLUMNS as ROW_STEP_COLUMNS, stepValues, TRACE_COLUMNS as ROW_TRACE_COLUMNS, traceValues } from '../sql/columns.js'
import { codeOf, connection, isDataError, type Connection } from './driver.js'
import { migrator, type Migrator } from './migrations.js'
import { checkOptions, SINK_OPTION_KEYS, type PostgresSinkOptions, type Settings } from './options.js'

export type { PostgresSinkOptions } from './options.js'

/** The sink `postgresSink()` builds: a `Sink` whose connections `close()` ends. @category sinks */
export interface PostgresSink extends Sink {
  /** Ends the connection pool once the writes in flight are done. Idempotent. */
  close(): Promise<void>
  /** `postgresSink(<url without its password>)`. */
  toString(): string
}

/**
 * Builds a sink that writes each batch into PostgreSQL in one transaction: one row per trace in
 * `traces` (the indexed columns plus the whole snake_case document as `jsonb`), one row per step in
 * `steps`. Inserts are idempotent (`ON CONFLICT DO NOTHING`), so a retried batch never duplicates a
 * trace. Nothing connects until the first write; the tables are then created or upgraded under an
 * advisory lock, so many processes may start at once. A lost connection, a timeout or a server
 * shutting down fails the write and the export queue retries it on a fresh connection; a document
 * the database rejects (SQLSTATE classes 22 and 23) is isolated by splitting the batch, the others
 * commit, and it is stored as a placeholder carrying `error: { type: "Unstorable", message:
 * "[Unstorable: <sqlstate>]" }` (or dropped with a warning when even that fails). There is no
 * `writeSync`: after `process.exit()` queued traces are lost, so `await shutdown()` before exiting.
 * Throws a `TypeError` for an invalid or unknown option.
 *
 * @example
 * import { configure, postgresSink } from 'tracellm'
 * const sink = postgresSink({ connectionString: 'postgres://tracer:s3cret@db.internal:5432/traces', schema: 'tracing' })
 * configure({ sinks: [sink] })
 * String(sink)   // => 'postgresSink(postgres://tracer:***@db.internal:5432/traces)'
 *
 * @category sinks
 * @since 0.1.0
 */
export function postgresSink(options: PostgresSinkOptions): PostgresSink {
  const settings = checkOptions(options, 'postgresSink', SINK_OPTION_KEYS, { migrate: true, poolSize: 2 })
  const db = connection(settings)
  const insert = writer(db, settings, migrator(db, settings.schema))
  const label = 'postgresSink(' + db.shownUrl + ')'

  return {
    name: 'postgres',
    write: async (batch) => {
      if (batch.length === 0) return undefined
      return insert(batch)
    },
    close: () => db.close(),
    toString: () => label,
    [Symbol.for('nodejs.util.inspect.custom')]: () => label,
  }
}

/** One document ready for the INSERTs: its `traces` values and its `steps` values. */
interface Prepared {
  readonly doc: TraceDocument
  readonly traceId: string
  /** The document's key: its trace id and root span id. */
  readonly key: string
  readonly trace: ReadonlyArray<unknown>
  readonly steps: ReadonlyArray<ReadonlyArray<unknown>>
  /** True for the stand-in of a document the database rejected. */
  readonly placeholder: boolean
}

type Refused = Array<{ readonly doc: TraceDocument; readonly reason: string }>

/** Inserts a batch; resolves the documents it had to give up on (counted as dropped by the export queue). */
function writer(db: Connection, settings: Settings, schema: Migrator): (batch: ReadonlyArray<TraceDocument>) => Promise<WriteResult | undefined> {
  const { label, safeError, warn } = db
  const insertPrepared = (items: ReadonlyArray<Prepared>): Promise<void> =>
    db.transaction(async (query, names) => {
      const inserted = new Set<string>()
      for (const chunk of chunks(items.map((item) => item.trace), TRACE_ROWS_PER_INSERT)) {
        const rows = await query(insertSql(names.traces, TRACE_COLUMNS, chunk.length, '(trace_id, root_span_id)', ' RETURNING trace_id, root_span_id'), chunk.flat())
        for (const row of rows) inserted.add(keyOf(String(row.trace_id), String(row.root_span_id)))
      }
      // a retried batch: the documents already stored keep the steps they have
      const steps = items.filter((item) => inserted.has(item.key)).flatMap((item) => item.steps)
      for (const chunk of chunks(steps, STEP_ROWS_PER_INSERT)) {
        await query(insertSql(names.steps, STEP_COLUMNS, chunk.length, '(trace_id, root_span_id, step_id)', ''), chunk.flat())
      }
    })

  const drop = (doc: TraceDocument, code: string, refused: Refused): void => {
    refused.push({ doc, reason: 'PostgreSQL could not store it (' + code + ')' })
    warn('unstorable', 'tracellm: ' + label + ' dropped a trace it could not store (' + code + '); later ones are dropped without a warning.')
  }

  const warnPlaceholder = (traceId: string, reason: string): void => {
    warn('placeholder', 'tracellm: ' + label + ' could not store trace ' + traceId + ' (' + reason + '); stored a placeholder with the error instead. Later ones are stored the same way without a warning.')
  }

  /** Inserts `items`; on a data error, splits them until the bad document is alone, then stores its placeholder. */
  const store = async (items: ReadonlyArray<Prepared>, refused: Refused): Promise<void> => {
    if (items.length === 0) return
    try {
      await insertPrepared(items)
    } catch (error) {
      if (!isDataError(error)) throw safeError(error, 'writing to')
      if (items.length > 1) {
        const middle = Math.ceil(items.length / 2)
        await store(items.slice(0, middle), refused)
        await store(items.slice(middle), refused)
        return
      }
      const [item] = items as [Prepared]
      const code = codeOf(error) ?? 'unknown'
      const stand = item.placeholder ? undefined : placeholderOf(item.doc, code)
      if (stand === undefined) {
        drop(item.doc, code, refused)
        return
      }
      warnPlaceholder(item.traceId, 'SQLSTATE ' + code)
      await store([stand], refused)
    }
  }

  return async (batch) => {
    if (db.closed) throw new Error('tracellm: ' + label + ' is closed.')
    if (settings.migrate) {
      try {
        await schema.migrate()
      } catch (error) {
        throw safeError(error, 'migrating')
      }
    }
    const seen = new Set<string>()
    const items: Prepared[] = []
    const refused: Refused = []
    for (const doc of batch) {
      const item = prepare(doc)
      if (item === undefined) {
        drop(doc, 'invalid trace id', refused)
        continue
      }
      if (item.placeholder) warnPlaceholder(item.traceId, 'unserializable')
      // the same document twice in one batch: the first one wins, as across batches
      if (seen.has(item.key)) continue
      seen.add(item.key)
      items.push(item)
    }
    try {
      await store(items, refused)
    } catch (error) {
      throw safeError(error, 'writing to')
    }
    return refused.length === 0 ? undefined : { dropped: refused }
  }
}

/** The casts of the shared columns (`sql/columns.ts`; the others are text). */
const CASTS: Readonly<Record<string, string>> = {
  started_at: '::timestamptz', ended_at: '::timestamptz', duration_ms: '::float8', retry_count: '::int4', step_count: '::int4', error_count: '::int4',
  input_tokens: '::int8', output_tokens: '::int8', cost_usd: '::float8', tags: '::jsonb', document: '::jsonb', seq: '::int4', attempts: '::int4',
  retries: '::int4', input_bytes: '::int8', output_bytes: '::int8', truncated: '::bool', incomplete: '::bool',
}
const TRACE_COLUMNS: ReadonlyArray<readonly [string, string]> = ROW_TRACE_COLUMNS.map((name) => [name, CASTS[name] ?? ''] as const)
const STEP_COLUMNS: ReadonlyArray<readonly [string, string]> = ROW_STEP_COLUMNS.map((name) => [name, CASTS[name] ?? ''] as const)

/** PostgreSQL takes at most 65535 bound parameters per statement. */
const MAX_PARAMETERS = 65_535
const TRACE_ROWS_PER_INSERT = Math.floor(MAX_PARAMETERS / TRACE_COLUMNS.length)
const STEP_ROWS_PER_INSERT = Math.floor(MAX_PARAMETERS / STEP_COLUMNS.length)

/** `INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT … DO NOTHING`: placeholders only, never values. */
function insertSql(table: string, columns: ReadonlyArray<readonly [string, string]>, rows: number, conflict: string, returning: string): string {
  const tuples: string[] = []
  let n = 0
  for (let row = 0; row < rows; row++) {
    tuples.push('(' + columns.map(([, cast]) => '$' + String(++n) + cast).join(', ') + ')')
  }
  return 'INSERT INTO ' + table + ' (' + columns.map(([name]) => name).join(', ') + ') VALUES ' + tuples.join(', ') + ' ON CONFLICT ' + conflict + ' DO NOTHING' + returning
}

const ROOT_SPAN_ID = /^[0-9a-f]{16}$/

function keyOf(traceId: string, rootSpanId: string): string {
  return traceId + ':' + rootSpanId
}

function chunks<T>(items: ReadonlyArray<T>, size: number): T[][] {
  const out: T[][] = []
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size))
  return out
}

/** The rows of a document, or undefined when its id cannot be a key; a document that cannot even be serialized gets its placeholder. */
function prepare(doc: TraceDocument): Prepared | undefined {
  if (typeof doc !== 'object' || doc === null || !isTraceId(doc.traceId)) return undefined
  try {
    const row = toTraceRow(doc)
    const document = toStoredJson(doc)
    const steps = toStepRows(doc).map(stepValues)
    return {
      doc,
      traceId: row.traceId,
      key: keyOf(row.traceId, row.rootSpanId),
      trace: traceValues(row, document),
      steps,
      placeholder: false,
    }
  } catch {
    return placeholderOf(doc, 'unserializable')
  }
}

/**
 * What is stored for a document the database rejected: its names, status and times (made valid),
 * no steps, no captured data, and `error: { type: "Unstorable", message: "[Unstorable: <code>]" }`.
 */
function placeholderOf(doc: TraceDocument, code: string): Prepared | undefined {
  const source = doc as unknown as Record<string, unknown>
  const traceId = source.traceId
  if (!isTraceId(traceId)) return undefined
  // the stand-in keeps the document's key, so it never takes the place of another service's document
  const rootSpanId = typeof source.rootSpanId === 'string' && ROOT_SPAN_ID.test(source.rootSpanId) ? source.rootSpanId : ''
  const parentStepId = typeof source.parentStepId === 'string' && ROOT_SPAN_ID.test(source.parentStepId) ? source.parentStepId : null
  const text = (value: unknown, fallback: string): string => (typeof value === 'string' ? wellFormed(value) : fallback)
  const startedAt = instantOf(source.startedAt) ?? instantOf(source.endedAt) ?? new Date().toISOString()
  const endedAt = instantOf(source.endedAt) ?? startedAt
  const status = source.status === 'success' ? 'success' : 'error'
  const modelName = typeof source.modelName === 'string' ? wellFormed(source.modelName) : undefined
  const tags = Array.isArray(source.tags) ? source.tags.filter((tag): tag is string => typeof tag === 'string').map(wellFormed) : []
  const durationMs = typeof source.durationMs === 'number' && Number.isFinite(source.durationMs) ? source.durationMs : 0
  const sdk = source.sdk as { name?: unknown; version?: unknown } | null | undefined
  const wire = {
    schema_version: 1,
    trace_id: traceId,
    ...(rootSpanId === '' ? {} : { root_span_id: rootSpanId }),
    prompt: text(source.prompt, 'trace'),
    ...(modelName === undefined ? {} : { model_name: modelName }),
    project: text(source.project, 'default'),
    environment: text(source.environment, 'development'),
    tags,
    metadata: {},
    status,
    started_at: startedAt,
    ended_at: endedAt,
    duration_ms: durationMs,
    error: { type: 'Unstorable', message: '[Unstorable: ' + code + ']' },
    retry_count: 0,
    usage: { input_tokens: 0, output_tokens: 0 },
    steps: [],
    ...(parentStepId === null || !isTraceId(source.parentTraceId) ? {} : { parent_trace_id: source.parentTraceId, parent_step_id: parentStepId }),
    sdk: { name: text(sdk?.name, 'tracellm'), version: text(sdk?.version, 'unknown') },
  }
  const row: TraceRow = {
    traceId, rootSpanId, parentStepId: wire.parent_step_id ?? null, replayOf: null, project: wire.project, environment: wire.environment, prompt: wire.prompt,
    modelName: modelName ?? null, status, startedAt, endedAt, durationMs, retryCount: 0, stepCount: 0, errorCount: 0, inputTokens: 0, outputTokens: 0,
    costUsd: null, tags, inputPreview: null, outputPreview: null, errorType: wire.error.type, errorMessage: wire.error.message,
  }
  return { doc, traceId, key: keyOf(traceId, rootSpanId), trace: traceValues(row, wellFormed(JSON.stringify(wire))), steps: [], placeholder: true }
}

/** An ISO instant PostgreSQL accepts, or undefined. */
function instantOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  // Date.parse rolls 2026-02-30 over into March where PostgreSQL rightly refuses it
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(value)
  if (day !== null) {
    const [year, month, date] = [Number(day[1]), Number(day[2]), Number(day[3])]
    if (month < 1 || month > 12 || date < 1 || date > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined
  }
  const time = Date.parse(value)
  if (!Number.isFinite(time)) return undefined
  const date = new Date(time)
  const year = date.getUTCFullYear()
  return year >= 1 && year <= 9999 ? date.toISOString() : undefined
}
