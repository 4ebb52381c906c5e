/**
 * What differs between the SQL of the two stores, and only that: the SQL they share is written once
 * (`where.ts`, `summary.ts`, `overview.ts`, `stats.ts`) over a `Dialect`. SQLite binds `?` in the
 * order of the text, keeps instants as ISO text and documents as JSON text, and sorts text by its
 * bytes; PostgreSQL numbers its parameters (`$1`), casts instants to `timestamptz`, stores `jsonb`,
 * searches with `ILIKE`, and needs `COLLATE "C"` for SQLite's order. What is different in substance
 * (the text indexes, the migrations, reading one step out of a document, how the writes are batched)
 * stays in `sqlite/` and `postgres/`. Identifiers here are fixed; every value is a placeholder.
 */
import { SUMMARY_COLUMNS } from './columns.js'

/** @internal The SQL that differs between the backends. */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres'
  /** The placeholder of the bound parameter at `position` (from 1); an `instant` is an ISO string compared with a time column. */
  placeholder(position: number, type?: 'instant'): string
  /** `text` holds the LIKE pattern `pattern` (a placeholder), in any case, with `\` as the escape character. */
  like(text: string, pattern: string): string
  /** The stored document as text. */
  readonly documentText: string
  /** The JSON text of the member `key` (a fixed identifier) of the JSON value `json`. */
  member(json: string, key: string): string
  /** Each element of the `steps` array of a stored document: the FROM item, and the expression of one step. */
  stepsOf(document: string): { readonly from: string; readonly step: string }
  /** Each tag of a `traces` row: the FROM item, and the expression of one tag. */
  readonly tags: { readonly from: string; readonly value: string }
  /** `expr` sorted by the bytes of its text, as SQLite sorts it. */
  byteOrder(expr: string): string
  /** A time column as the text `toISOString()` writes. */
  iso(column: string): string
  /** How many rows of the group `condition` holds for. */
  countWhere(condition: string): string
  /** The join of the traces in a time range to their steps, in an order that keeps the planner on the traces' start-time index. */
  readonly rangeJoin: string
  /** The overview's slowest step names (`n`, `p50`, `p95` as `percentile_cont` computes them) of the FROM item `steps`, `limit` (a placeholder) rows. */
  slowestSteps(steps: string, limit: string): string
  /** The summary columns as selected, and the names under which a row holds its instants and its keyset position. */
  readonly summary: { readonly columns: string; readonly startedAt: string; readonly endedAt: string; readonly cursor: string }
}

/** @internal SQL text and the values of its placeholders, in order. */
export interface Bound {
  readonly sql: string
  readonly params: unknown[]
}

/** @internal Appends a value to the parameters and returns its placeholder. */
export type Bind = (value: unknown, type?: 'instant') => string

/** @internal A `Bind` appending to `params`. */
export function binder(dialect: Dialect, params: unknown[]): Bind {
  return (value, type) => {
    params.push(value)
    return dialect.placeholder(params.length, type)
  }
}

/** @internal SQLite (better-sqlite3). */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  placeholder: () => '?',
  like: (text, pattern) => text + ' LIKE ' + pattern + " ESCAPE '\\'",
  documentText: 'document',
  member: (json, key) => '(' + json + " -> '$." + key + "')",
  stepsOf: (document) => ({ from: 'json_each(' + document + ", '$.steps') e", step: 'e.value' }),
  tags: { from: 'json_each(traces.tags) j', value: 'j.value' },
  byteOrder: (expr) => expr,
  iso: (column) => column,
  countWhere: (condition) => 'sum(' + condition + ')',
  // CROSS JOIN fixes the order: SQLite's planner preferred scanning every step through its name index
  rangeJoin: 'CROSS JOIN',
  // SQLite has no percentile function: each step of a name gets its 0-based rank `i` in duration order
  // and the name's count `n`; the percentile `p` sits at `pos = p × (n − 1)`, between the steps ranked
  // `floor(pos)` and `floor(pos) + 1`, and is their linear interpolation, as `percentile_cont` computes it
  slowestSteps: (steps, limit) => {
    const at = (p: string): string => {
      const pos = '((n - 1) * ' + p + ')'
      const low = 'CAST(' + pos + ' AS INTEGER)'
      return 'sum(CASE WHEN i = ' + low + ' THEN d * (1 - (' + pos + ' - ' + low + ')) WHEN i = ' + low + ' + 1 THEN d * (' + pos + ' - ' + low + ') ELSE 0 END)'
    }
    return 'SELECT name, max(n) AS n, ' + at('0.5') + ' AS p50, ' + at('0.95') + ' AS p95 FROM (' +
      'SELECT s.name AS name, s.duration_ms AS d, row_number() OVER (PARTITION BY s.name ORDER BY s.duration_ms) - 1 AS i, count(*) OVER (PARTITION BY s.name) AS n FROM ' +
      steps + ') GROUP BY name ORDER BY p95 DESC, name LIMIT ' + limit
  },
  summary: { columns: SUMMARY_COLUMNS.join(', '), startedAt: 'started_at', endedAt: 'ended_at', cursor: 'started_at' },
}

/** `to_char` of a timestamptz as `toISOString()` writes it (`MS`), or with microseconds (`US`). */
function isoText(column: string, fraction: 'MS' | 'US'): string {
  return 'to_char(' + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS." + fraction + "\"Z\"')"
}

/** The summary columns as PostgreSQL selects them. */
function postgresSummaryColumn(column: string): string {
  // aliased apart from the columns: ORDER BY started_at must sort by the timestamptz, not by this text;
  // the cursor keeps microseconds, the exact keyset position whatever precision was stored
  if (column === 'started_at') return isoText('started_at', 'MS') + ' AS started_iso, ' + isoText('started_at', 'US') + ' AS cursor_at'
  if (column === 'ended_at') return isoText('ended_at', 'MS') + ' AS ended_iso'
  if (column === 'tags') return 'tags::text AS tags'
  return column
}

/** @internal PostgreSQL (pg), every value read as the server's text. */
export const postgresDialect: Dialect = {
  name: 'postgres',
  placeholder: (position, type) => '$' + String(position) + (type === 'instant' ? '::timestamptz' : ''),
  like: (text, pattern) => text + ' ILIKE ' + pattern + " ESCAPE E'\\\\'",
  documentText: 'document::text',
  member: (json, key) => '(' + json + "->'" + key + "')::text",
  stepsOf: (document) => ({
    from: 'jsonb_array_elements(CASE WHEN jsonb_typeof(' + document + "->'steps') = 'array' THEN " + document + "->'steps' ELSE '[]'::jsonb END) AS e(step)",
    step: 'e.step',
  }),
  tags: { from: 'jsonb_array_elements_text(tags) AS tag', value: 'tag' },
  byteOrder: (expr) => expr + ' COLLATE "C"',
  iso: (column) => isoText(column, 'MS'),
  countWhere: (condition) => 'count(*) FILTER (WHERE ' + condition + ')',
  rangeJoin: 'JOIN',
  slowestSteps: (steps, limit) =>
    'SELECT s.name AS name, count(*) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY s.duration_ms) AS p50, ' +
    'percentile_cont(0.95) WITHIN GROUP (ORDER BY s.duration_ms) AS p95 FROM ' + steps +
    ' GROUP BY s.name ORDER BY percentile_cont(0.95) WITHIN GROUP (ORDER BY s.duration_ms) DESC, s.name COLLATE "C" LIMIT ' + limit,
  summary: { columns: SUMMARY_COLUMNS.map(postgresSummaryColumn).join(', '), startedAt: 'started_iso', endedAt: 'ended_iso', cursor: 'cursor_at' },
}
