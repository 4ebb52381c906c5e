/**
 * The filters of `list`, `count` and `facets` as one WHERE clause over bound parameters, for both
 * stores: equality filters, the time range, the id prefix, replays, the text search and its scope
 * (docs/stores.md#text-search), and the keyset condition of a cursor.
 */
import { SCOPE_KEYS, type NormalQuery } from '../query.js'
import type { TextScope } from '../types.js'
import { binder, type Bind, type Bound, type Dialect } from './dialect.js'

/**
 * @internal Filters as SQL over bound parameters; with `paged`, also the keyset condition of the
 * cursor. `textIndex` adds a backend's own condition (SQLite's FTS5 prefilter) after the id prefix.
 */
export function whereClause(dialect: Dialect, query: NormalQuery, paged: boolean, textIndex?: (bind: Bind) => string): Bound {
  const conditions: string[] = []
  const params: unknown[] = []
  const bind = binder(dialect, params)
  const equal = (column: string, value: string | undefined): void => {
    if (value !== undefined) conditions.push(column + ' = ' + bind(value))
  }
  equal('project', query.project)
  equal('environment', query.environment)
  equal('prompt', query.prompt)
  equal('status', query.status)
  equal('model_name', query.modelName)
  if (query.since !== undefined) conditions.push('started_at >= ' + bind(query.since, 'instant'))
  if (query.until !== undefined) conditions.push('started_at < ' + bind(query.until, 'instant'))
  if (query.idPattern !== undefined) conditions.push('trace_id LIKE ' + bind(query.idPattern))
  if (textIndex !== undefined) conditions.push(textIndex(bind))
  if (query.replayOf !== undefined) conditions.push('replay_of = ' + bind(query.replayOf))
  const pattern = query.textPattern
  if (pattern !== undefined) {
    // the whole-document test first (cheap, and what PostgreSQL's pg_trgm index serves; with SQLite's
    // text index too, its word prefixes narrow the rows and the pattern keeps the substring semantics),
    // then a scope narrows further, to the matching parts
    conditions.push(dialect.like(dialect.documentText, bind(pattern)))
    if (query.scope !== 'all') conditions.push(scopeCondition(dialect, query.scope, () => bind(pattern)))
  }
  if (paged && query.after !== undefined) {
    conditions.push('(started_at, trace_id, root_span_id) < (' + bind(query.after.startedAt, 'instant') + ', ' + bind(query.after.traceId) + ', ' + bind(query.after.rootSpanId) + ')')
  }
  return { sql: conditions.length === 0 ? '' : ' WHERE ' + conditions.join(' AND '), params }
}

/** A text scope as SQL: the pattern (a placeholder each time `pattern()` is called) in the scope's parts of the trace or of any step. */
function scopeCondition(dialect: Dialect, scope: Exclude<TextScope, 'all'>, pattern: () => string): string {
  const keys = SCOPE_KEYS[scope]
  const like = (json: string) => (key: string): string => dialect.like(dialect.member(json, key), pattern())
  const inTrace = keys.trace.map(like('document'))
  const steps = dialect.stepsOf('document')
  const inSteps = keys.step.map(like(steps.step))
  return '(' + inTrace.join(' OR ') + ' OR EXISTS (SELECT 1 FROM ' + steps.from + ' WHERE ' + inSteps.join(' OR ') + '))'
}
