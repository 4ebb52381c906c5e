/**
 * The schema of the SQLite store: versioned migrations (`PRAGMA user_version` is the number applied),
 * applied in one BEGIN IMMEDIATE transaction, and for an existing file on a worker thread first so a
 * long rebuild never stops the event loop.
 */
import { closeSync, openSync, readSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import type BetterSqlite3 from 'better-sqlite3'
import { PREVIEW_CHARS } from '../../document/rows.js'
import { LIST_FILTERS } from '../sql/columns.js'
import { driverPath, setPragma } from './driver.js'

function previewSql(json: string, path: string): string {
  return "CASE json_type(" + json + ", '" + path + "') WHEN 'text' THEN substr(" + oneLineSql('json_extract(' + json + ", '" + path + "')") + ', 1, ' + PREVIEW_CHARS + ') ' +
    'ELSE substr(' + json + " -> '" + path + "', 1, " + PREVIEW_CHARS + ') END'
}

/** Line breaks and tabs as spaces, as `preview()` does. */
function oneLineSql(text: string): string {
  return 'replace(replace(replace(' + text + ", char(13), ' '), char(10), ' '), char(9), ' ')"
}

/**
 * @internal Versioned migrations: `PRAGMA user_version` is the number applied. Append only; never edit
 * one that has shipped.
 */
export const MIGRATIONS: ReadonlyArray<string> = [
  `CREATE TABLE traces (
     trace_id TEXT PRIMARY KEY,
     project TEXT NOT NULL,
     environment TEXT NOT NULL,
     prompt TEXT NOT NULL,
     model_name TEXT,
     status TEXT NOT NULL,
     started_at TEXT NOT NULL,
     ended_at TEXT NOT NULL,
     duration_ms REAL NOT NULL,
     retry_count INTEGER NOT NULL,
     step_count INTEGER NOT NULL,
     error_count INTEGER NOT NULL,
     input_tokens INTEGER NOT NULL,
     output_tokens INTEGER NOT NULL,
     tags TEXT NOT NULL,
     document TEXT NOT NULL CHECK (json_valid(document))
   );
   CREATE INDEX traces_started ON traces (started_at DESC, trace_id DESC);
   CREATE INDEX traces_project ON traces (project, environment, started_at DESC);
   CREATE INDEX traces_prompt ON traces (prompt, started_at DESC);
   CREATE INDEX traces_status ON traces (status, started_at DESC);
   CREATE INDEX traces_model ON traces (model_name, started_at DESC);
   CREATE INDEX traces_duration ON traces (duration_ms);
   CREATE INDEX traces_retries ON traces (retry_count);
   CREATE TABLE steps (
     trace_id TEXT NOT NULL REFERENCES traces (trace_id) ON DELETE CASCADE,
     step_id TEXT NOT NULL,
     parent_step_id TEXT,
     seq INTEGER NOT NULL,
     name TEXT NOT NULL,
     kind TEXT NOT NULL,
     status TEXT NOT NULL,
     started_at TEXT NOT NULL,
     duration_ms REAL NOT NULL,
     attempts INTEGER NOT NULL,
     retries INTEGER NOT NULL,
     model TEXT,
     input_tokens INTEGER,
     output_tokens INTEGER,
     PRIMARY KEY (trace_id, step_id)
   ) WITHOUT ROWID;
   CREATE INDEX steps_name ON steps (name, status);
   CREATE INDEX steps_kind ON steps (kind, status);`,
  // 2: documents are keyed by (trace_id, root_span_id), so a trace continued across services stores one
  // document per service; the columns `list` shows of a continued trace, a replay and its cost.
  // SQLite cannot change a primary key in place: the tables are rebuilt (children first, then renamed,
  // which rewrites the steps' foreign key to the new traces table).
  `CREATE TABLE traces_v2 (
     trace_id TEXT NOT NULL,
     root_span_id TEXT NOT NULL,
     parent_step_id TEXT,
     replay_of TEXT,
     project TEXT NOT NULL,
     environment TEXT NOT NULL,
     prompt TEXT NOT NULL,
     model_name TEXT,
     status TEXT NOT NULL,
     started_at TEXT NOT NULL,
     ended_at TEXT NOT NULL,
     duration_ms REAL NOT NULL,
     retry_count INTEGER NOT NULL,
     step_count INTEGER NOT NULL,
     error_count INTEGER NOT NULL,
     input_tokens INTEGER NOT NULL,
     output_tokens INTEGER NOT NULL,
     cost_usd REAL,
     tags TEXT NOT NULL,
     document TEXT NOT NULL CHECK (json_valid(document)),
     PRIMARY KEY (trace_id, root_span_id)
   );
   -- documents of version 1 have no root_span_id
   INSERT INTO traces_v2
     SELECT trace_id, '', json_extract(document, '$.parent_step_id'), json_extract(document, '$.replay_of'), project, environment,
            prompt, model_name, status, started_at, ended_at, duration_ms, retry_count, step_count, error_count, input_tokens,
            output_tokens, json_extract(document, '$.cost_usd'), tags, document
     FROM traces;
   CREATE TABLE steps_v2 (
     trace_id TEXT NOT NULL,
     root_span_id TEXT NOT NULL,
     step_id TEXT NOT NULL,
     parent_step_id TEXT,
     seq INTEGER NOT NULL,
     name TEXT NOT NULL,
     kind TEXT NOT NULL,
     status TEXT NOT NULL,
     started_at TEXT NOT NULL,
     duration_ms REAL NOT NULL,
     attempts INTEGER NOT NULL,
     retries INTEGER NOT NULL,
     model TEXT,
     input_tokens INTEGER,
     output_tokens INTEGER,
     PRIMARY KEY (trace_id, root_span_id, step_id),
     FOREIGN KEY (trace_id, root_span_id) REFERENCES traces_v2 (trace_id, root_span_id) ON DELETE CASCADE
   ) WITHOUT ROWID;
   INSERT INTO steps_v2
     SELECT s.trace_id, t.root_span_id, s.step_id, s.parent_step_id, s.seq, s.name, s.kind, s.status, s.started_at, s.duration_ms,
            s.attempts, s.retries, s.model, s.input_tokens, s.output_tokens
     FROM steps s JOIN traces_v2 t ON t.trace_id = s.trace_id;
   DROP TABLE steps;
   DROP TABLE traces;
   ALTER TABLE traces_v2 RENAME TO traces;
   ALTER TABLE steps_v2 RENAME TO steps;
   CREATE INDEX traces_started ON traces (started_at DESC, trace_id DESC, root_span_id DESC);
   CREATE INDEX traces_project ON traces (project, environment, started_at DESC);
   CREATE INDEX traces_prompt ON traces (prompt, started_at DESC);
   CREATE INDEX traces_status ON traces (status, started_at DESC);
   CREATE INDEX traces_model ON traces (model_name, started_at DESC);
   CREATE INDEX traces_duration ON traces (duration_ms);
   CREATE INDEX traces_retries ON traces (retry_count);
   CREATE INDEX steps_name ON steps (name, status);
   CREATE INDEX steps_kind ON steps (kind, status);`,
  // 3: what the viewer lists and draws without reading documents (docs/stores.md#previews): previews
  // and errors of traces and steps, step costs and sizes; documents already stored get them from their
  // JSON here, in SQL that computes what rows.ts computes at write time; one index per list filter
  // with the list's order.
  'ALTER TABLE traces ADD COLUMN input_preview TEXT; ALTER TABLE traces ADD COLUMN output_preview TEXT; ' +
    'ALTER TABLE traces ADD COLUMN error_type TEXT; ALTER TABLE traces ADD COLUMN error_message TEXT; ' +
    'UPDATE traces SET input_preview = ' + previewSql('document', '$.input') + ', output_preview = ' + previewSql('document', '$.output') + ', ' +
    "error_type = substr(json_extract(document, '$.error.type'), 1, " + PREVIEW_CHARS + '), ' +
    "error_message = substr(" + oneLineSql("json_extract(document, '$.error.message')") + ', 1, ' + PREVIEW_CHARS + '); ' +
    'ALTER TABLE steps ADD COLUMN error_type TEXT; ALTER TABLE steps ADD COLUMN error_message TEXT; ALTER TABLE steps ADD COLUMN cost_usd REAL; ' +
    'ALTER TABLE steps ADD COLUMN input_bytes INTEGER NOT NULL DEFAULT 0; ALTER TABLE steps ADD COLUMN output_bytes INTEGER NOT NULL DEFAULT 0; ' +
    'ALTER TABLE steps ADD COLUMN input_preview TEXT; ALTER TABLE steps ADD COLUMN output_preview TEXT; ' +
    'ALTER TABLE steps ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0; ALTER TABLE steps ADD COLUMN incomplete INTEGER NOT NULL DEFAULT 0; ' +
    "UPDATE steps SET error_type = substr(json_extract(d.step, '$.error.type'), 1, " + PREVIEW_CHARS + '), ' +
    "error_message = substr(" + oneLineSql("json_extract(d.step, '$.error.message')") + ', 1, ' + PREVIEW_CHARS + '), ' +
    "cost_usd = json_extract(d.step, '$.cost_usd'), " +
    "input_bytes = coalesce(length(CAST(d.step -> '$.input' AS BLOB)), 0), output_bytes = coalesce(length(CAST(d.step -> '$.output' AS BLOB)), 0), " +
    'input_preview = ' + previewSql('d.step', '$.input') + ', output_preview = ' + previewSql('d.step', '$.output') + ', ' +
    "truncated = coalesce(json_extract(d.step, '$.truncated'), 0) > 0, incomplete = coalesce(json_extract(d.step, '$.incomplete'), 0) = 1 " +
    "FROM (SELECT t.trace_id AS trace_id, t.root_span_id AS root_span_id, e.value AS step FROM traces t, json_each(t.document, '$.steps') e) AS d " +
    "WHERE steps.trace_id = d.trace_id AND steps.root_span_id = d.root_span_id AND steps.step_id = json_extract(d.step, '$.step_id'); " +
    'DROP INDEX traces_prompt; DROP INDEX traces_status; DROP INDEX traces_model; ' +
    LIST_FILTERS.map((column) => 'CREATE INDEX traces_' + column + '_started ON traces (' + column + ', started_at DESC, trace_id DESC, root_span_id DESC);').join(' '),
  // 4: the replays of a trace (`list({ replayOf })`, the viewer's trace header) without reading every
  // row: 300 ms on 100 000 traces, on the event loop, before it. Partial: most traces are no replay.
  'CREATE INDEX traces_replay_of_started ON traces (replay_of, started_at DESC, trace_id DESC, root_span_id DESC) WHERE replay_of IS NOT NULL;',
  // 5: where each step's object lies in its document's bytes (toStoredDocument in document/rows.ts), so
  // that one step, or a header, of a large document is read with substr instead of parsing all of it.
  // NULL for the documents stored before: they are read as before (step-bytes.ts).
  'ALTER TABLE steps ADD COLUMN doc_offset INTEGER; ALTER TABLE steps ADD COLUMN doc_length INTEGER;',
]

/** @internal Applies the migrations `db` lacks, in one BEGIN IMMEDIATE transaction. */
export function migrate(db: BetterSqlite3.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > MIGRATIONS.length) {
    throw new Error(`The trace store has schema version ${current}, newer than this tracellm knows (${MIGRATIONS.length}); upgrade tracellm.`)
  }
  if (current === MIGRATIONS.length) return
  // BEGIN IMMEDIATE: two processes opening a new file at once apply each migration once
  db.transaction(() => {
    const applied = db.pragma('user_version', { simple: true }) as number
    for (let version = applied; version < MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version] as string)
      setPragma(db, 'user_version', version + 1)
    }
  }).immediate()
}

/**
 * @internal Applies the migrations an existing file lacks on a worker thread, so that rebuilding the
 * tables of a large store (migration 2 copies every document: 14–18 s for 1.3 GiB, 100 000 traces, measured with
 * bench/migrate.mjs) never stops the event loop. The cheap check first: the schema version in the
 * file's header (a newer one may still sit in the WAL; the worker then finds nothing to do). Never
 * rejects: when the worker cannot run or fails, opening the file on the main thread migrates it, or
 * reports why it cannot.
 */
export async function migrateOffThread(file: string, busyTimeoutMs: number): Promise<void> {
  // no database there yet (its tables are made in no time), or one already up to date
  const version = headerVersion(file)
  if (version === undefined || version >= MIGRATIONS.length) return
  await new Promise<void>((resolve) => {
    try {
      const worker = new Worker(MIGRATE_WORKER, {
        eval: true,
        workerData: { file, busyTimeoutMs, migrations: MIGRATIONS, driver: driverPath() },
      })
      worker.once('error', () => resolve())
      worker.once('exit', () => resolve())
    } catch {
      resolve()
    }
  })
}

/**
 * `PRAGMA user_version` as the file's header holds it (big-endian at offset 60); undefined when there is
 * no SQLite database there (no file, an empty one, something else: the main thread reports those).
 */
function headerVersion(file: string): number | undefined {
  let fd: number | undefined
  try {
    fd = openSync(file, 'r')
    const header = Buffer.alloc(64)
    return readSync(fd, header, 0, 64, 0) === 64 && header.toString('latin1', 0, 15) === 'SQLite format 3' ? header.readUInt32BE(60) : undefined
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

// `migrate()` on the worker's own connection: the same steps, in the same BEGIN IMMEDIATE transaction
const MIGRATE_WORKER = `
const { workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.file, { fileMustExist: true })
try {
  db.pragma('busy_timeout = ' + Number(workerData.busyTimeoutMs))
  db.pragma('journal_mode = WAL')
  db.pragma('foreign_keys = ON')
  const migrations = workerData.migrations
  if (db.pragma('user_version', { simple: true }) < migrations.length) {
    db.transaction(() => {
      for (let version = db.pragma('user_version', { simple: true }); version < migrations.length; version++) {
        db.exec(migrations[version])
        db.pragma('user_version = ' + (version + 1))
      }
    }).immediate()
  }
} finally {
  db.close()
}
`
