/**
 * The schema of the PostgreSQL store: versioned migrations recorded in `tracellm_migrations`, applied
 * once per process under an advisory lock (many processes may start at once), in one transaction.
 */
import { PREVIEW_CHARS } from '../../document/rows.js'
import { LIST_FILTERS } from '../sql/columns.js'
import type { Connection, Names } from './driver.js'

/** @internal Creating or upgrading the tables of one connection. */
export interface Migrator {
  /** Creates or upgrades the tables once per process; a failure is retried by the next call. */
  migrate(): Promise<void>
  /** The highest migration applied, 0 when the migrations table does not exist. */
  appliedVersion(): Promise<number>
}

/** @internal The migrations of the tables of `schema` (the advisory lock's key) over `db`. */
export function migrator(db: Connection, schema: string | undefined): Migrator {
  let ready: Promise<void> | undefined

  const migrate = (): Promise<void> => {
    ready ??= runMigrations().catch((error: unknown) => {
      ready = undefined
      throw error
    })
    return ready
  }

  const runMigrations = async (): Promise<void> => {
    const latest = MIGRATIONS.length
    // the usual case, which needs no DDL rights: everything is already there
    if ((await appliedVersion()) >= latest) return
    await db.transaction(async (query, names) => {
      // one migrating process at a time per schema; the others wait here, then find the work done
      await query('SELECT pg_advisory_xact_lock(hashtext($1))', ['tracellm:migrations:' + (schema ?? '')])
      if (names.schema !== undefined) await query('CREATE SCHEMA IF NOT EXISTS ' + names.schema)
      await query('CREATE TABLE IF NOT EXISTS ' + names.migrations + ' (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())')
      const rows = await query('SELECT version FROM ' + names.migrations)
      const applied = new Set(rows.map((row) => Number(row.version)))
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue
        for (const statement of migration.statements(names)) await query(statement)
        await query('INSERT INTO ' + names.migrations + ' (version, name) VALUES ($1, $2)', [migration.version, migration.name])
      }
    })
  }

  /** The highest migration applied, 0 when the migrations table does not exist. */
  const appliedVersion = (): Promise<number> =>
    db.withClient(async (query, names) => {
      const [found] = await query('SELECT to_regclass($1) IS NOT NULL AS present', [names.migrations])
      if (found?.present !== 't') return 0
      const [row] = await query('SELECT coalesce(max(version), 0) AS version FROM ' + names.migrations)
      return Number(row?.version ?? 0)
    })

  return { migrate, appliedVersion }
}

/**
 * @internal Versioned migrations, recorded in `tracellm_migrations`. Append only; never edit one that has
 * shipped. Migration 2 changes the documents' key, so writers older than it cannot write after it.
 */
export const MIGRATIONS: ReadonlyArray<{ readonly version: number; readonly name: string; readonly statements: (names: Names) => ReadonlyArray<string> }> = [
  {
    version: 1,
    name: 'traces and steps',
    statements: (t) => [
      'CREATE TABLE IF NOT EXISTS ' + t.traces + ' (' +
        'trace_id text COLLATE "C" PRIMARY KEY CHECK (trace_id ~ \'^[0-9a-f]{32}$\'), ' +
        'project text NOT NULL, ' +
        'environment text NOT NULL, ' +
        'prompt text NOT NULL, ' +
        'model_name text, ' +
        "status text NOT NULL CHECK (status IN ('success', 'error')), " +
        'started_at timestamptz NOT NULL, ' +
        'ended_at timestamptz NOT NULL, ' +
        'duration_ms double precision NOT NULL, ' +
        'retry_count integer NOT NULL, ' +
        'step_count integer NOT NULL, ' +
        'error_count integer NOT NULL, ' +
        'input_tokens bigint NOT NULL, ' +
        'output_tokens bigint NOT NULL, ' +
        'tags jsonb NOT NULL, ' +
        'document jsonb NOT NULL)',
      'CREATE INDEX IF NOT EXISTS traces_started ON ' + t.traces + ' (started_at DESC, trace_id DESC)',
      'CREATE INDEX IF NOT EXISTS traces_project ON ' + t.traces + ' (project, environment, started_at DESC)',
      'CREATE INDEX IF NOT EXISTS traces_prompt ON ' + t.traces + ' (prompt, started_at DESC)',
      'CREATE INDEX IF NOT EXISTS traces_status ON ' + t.traces + ' (status, started_at DESC)',
      'CREATE INDEX IF NOT EXISTS traces_model ON ' + t.traces + ' (model_name, started_at DESC)',
      'CREATE INDEX IF NOT EXISTS traces_duration ON ' + t.traces + ' (duration_ms)',
      'CREATE INDEX IF NOT EXISTS traces_retries ON ' + t.traces + ' (retry_count)',
      'CREATE TABLE IF NOT EXISTS ' + t.steps + ' (' +
        'trace_id text COLLATE "C" NOT NULL REFERENCES ' + t.traces + ' (trace_id) ON DELETE CASCADE, ' +
        'step_id text COLLATE "C" NOT NULL, ' +
        'parent_step_id text COLLATE "C", ' +
        'seq integer NOT NULL, ' +
        'name text NOT NULL, ' +
        'kind text NOT NULL, ' +
        'status text NOT NULL, ' +
        'started_at timestamptz NOT NULL, ' +
        'duration_ms double precision NOT NULL, ' +
        'attempts integer NOT NULL, ' +
        'retries integer NOT NULL, ' +
        'model text, ' +
        'input_tokens bigint, ' +
        'output_tokens bigint, ' +
        'PRIMARY KEY (trace_id, step_id))',
      'CREATE INDEX IF NOT EXISTS steps_name ON ' + t.steps + ' (name, status)',
      'CREATE INDEX IF NOT EXISTS steps_kind ON ' + t.steps + ' (kind, status)',
    ],
  },
  {
    // documents are keyed by (trace_id, root_span_id), so a trace continued across services stores one
    // document per service; plus the columns `list` shows of a continued trace, a replay and its cost
    version: 2,
    name: 'one document per service of a trace',
    statements: (t) => [
      'ALTER TABLE ' + t.traces + ' ADD COLUMN root_span_id text COLLATE "C" NOT NULL DEFAULT \'\' CHECK (root_span_id ~ \'^([0-9a-f]{16})?$\'), ' +
        'ADD COLUMN parent_step_id text COLLATE "C", ADD COLUMN replay_of text COLLATE "C", ADD COLUMN cost_usd double precision',
      'UPDATE ' + t.traces + " SET parent_step_id = document->>'parent_step_id', replay_of = document->>'replay_of', " +
        "cost_usd = (document->>'cost_usd')::float8 WHERE document ?| array['parent_step_id', 'replay_of', 'cost_usd']",
      'ALTER TABLE ' + t.steps + ' ADD COLUMN root_span_id text COLLATE "C" NOT NULL DEFAULT \'\'',
      'ALTER TABLE ' + t.steps + ' DROP CONSTRAINT steps_trace_id_fkey, DROP CONSTRAINT steps_pkey',
      'ALTER TABLE ' + t.traces + ' DROP CONSTRAINT traces_pkey, ADD PRIMARY KEY (trace_id, root_span_id)',
      'ALTER TABLE ' + t.steps + ' ADD PRIMARY KEY (trace_id, root_span_id, step_id), ' +
        'ADD FOREIGN KEY (trace_id, root_span_id) REFERENCES ' + t.traces + ' (trace_id, root_span_id) ON DELETE CASCADE',
      'DROP INDEX IF EXISTS ' + (t.schema === undefined ? '' : t.schema + '.') + 'traces_started',
      'CREATE INDEX IF NOT EXISTS traces_started ON ' + t.traces + ' (started_at DESC, trace_id DESC, root_span_id DESC)',
    ],
  },
  {
    // what the viewer lists and draws without reading documents (docs/stores.md#previews); documents
    // already stored get the columns from their JSON here, in SQL computing what rows.ts computes
    version: 3,
    name: 'previews, errors and step sizes for the viewer',
    statements: (t) => [
      'ALTER TABLE ' + t.traces + ' ADD COLUMN input_preview text, ADD COLUMN output_preview text, ADD COLUMN error_type text, ADD COLUMN error_message text',
      'UPDATE ' + t.traces + ' SET input_preview = ' + previewSql('document', 'input') + ', output_preview = ' + previewSql('document', 'output') + ', ' +
        "error_type = left(document->'error'->>'type', " + PREVIEW_CHARS + '), ' +
        "error_message = left(" + oneLineSql("document->'error'->>'message'") + ', ' + PREVIEW_CHARS + ") WHERE document ?| array['input', 'output', 'error']",
      'ALTER TABLE ' + t.steps + ' ADD COLUMN error_type text, ADD COLUMN error_message text, ADD COLUMN cost_usd double precision, ' +
        'ADD COLUMN input_bytes bigint NOT NULL DEFAULT 0, ADD COLUMN output_bytes bigint NOT NULL DEFAULT 0, ADD COLUMN input_preview text, ' +
        'ADD COLUMN output_preview text, ADD COLUMN truncated boolean NOT NULL DEFAULT false, ADD COLUMN incomplete boolean NOT NULL DEFAULT false',
      'UPDATE ' + t.steps + " s SET error_type = left(e.step->'error'->>'type', " + PREVIEW_CHARS + '), ' +
        "error_message = left(" + oneLineSql("e.step->'error'->>'message'") + ', ' + PREVIEW_CHARS + '), ' +
        "cost_usd = (e.step->>'cost_usd')::float8, " +
        "input_bytes = coalesce(octet_length((e.step->'input')::text), 0), output_bytes = coalesce(octet_length((e.step->'output')::text), 0), " +
        'input_preview = ' + previewSql('e.step', 'input') + ', output_preview = ' + previewSql('e.step', 'output') + ', ' +
        "truncated = coalesce((e.step->>'truncated')::float8, 0) > 0, incomplete = coalesce((e.step->>'incomplete')::boolean, false) " +
        'FROM ' + t.traces + " tr, jsonb_array_elements(tr.document->'steps') AS e(step) " +
        "WHERE s.trace_id = tr.trace_id AND s.root_span_id = tr.root_span_id AND s.step_id = e.step->>'step_id'",
      ...['traces_prompt', 'traces_status', 'traces_model'].map((index) => 'DROP INDEX IF EXISTS ' + (t.schema === undefined ? '' : t.schema + '.') + index),
      ...LIST_FILTERS.map((column) => 'CREATE INDEX IF NOT EXISTS traces_' + column + '_started ON ' + t.traces + ' (' + column + ', started_at DESC, trace_id DESC, root_span_id DESC)'),
    ],
  },
  {
    // the replays of a trace (`list({ replayOf })`, the viewer's trace header) without reading every row
    version: 4,
    name: 'an index of replays',
    statements: (t) => [
      'CREATE INDEX IF NOT EXISTS traces_replay_of_started ON ' + t.traces + ' (replay_of, started_at DESC, trace_id DESC, root_span_id DESC) WHERE replay_of IS NOT NULL',
    ],
  },
]

/** SQL of `preview()` (document/rows.ts) of the key `key` of the jsonb `json`. */
function previewSql(json: string, key: string): string {
  return 'CASE jsonb_typeof(' + json + "->'" + key + "') WHEN 'string' THEN left(" + oneLineSql(json + "->>'" + key + "'") + ', ' + PREVIEW_CHARS + ') ' +
    'ELSE left((' + json + "->'" + key + "')::text, " + PREVIEW_CHARS + ') END'
}

/** Line breaks and tabs as spaces, as `preview()` does. */
function oneLineSql(text: string): string {
  return 'translate(' + text + ", chr(13) || chr(10) || chr(9), '   ')"
}
