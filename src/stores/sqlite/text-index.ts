/**
 * SQLite's opt-in text index (`tracellm index --text`, docs/stores.md#text-search): a contentless FTS5
 * table kept by triggers, built on a worker thread, and the FTS5 query of a search text. The reads
 * use it as a prefilter (`reads.ts`); the substring pattern keeps the search's semantics.
 */
import { runOffThread } from './workers.js'

/**
 * @internal The statements of the opt-in text index (`tracellm index --text`): a contentless FTS5 table
 * (`unicode61`) over a text projection of each document (its keys and the text of its values, JSON
 * escapes undone), kept up to date by triggers. Idempotent.
 */
export const TEXT_INDEX_SQL: ReadonlyArray<string> = [
  "CREATE VIRTUAL TABLE IF NOT EXISTS traces_fts USING fts5(body, content = '', contentless_delete = 1, tokenize = 'unicode61')",
  'CREATE TRIGGER IF NOT EXISTS traces_fts_insert AFTER INSERT ON traces BEGIN ' +
    'INSERT INTO traces_fts (rowid, body) VALUES (new.rowid, ' + projection('new.document') + '); END',
  'CREATE TRIGGER IF NOT EXISTS traces_fts_delete AFTER DELETE ON traces BEGIN DELETE FROM traces_fts WHERE rowid = old.rowid; END',
  // the documents already stored, once (the table is new when it is empty)
  'INSERT INTO traces_fts (rowid, body) SELECT rowid, ' + projection('document') + ' FROM traces WHERE NOT EXISTS (SELECT 1 FROM traces_fts LIMIT 1)',
]

/** The searchable text of a stored document: every key and every scalar value, space separated. */
function projection(document: string): string {
  return "(SELECT group_concat(coalesce(key, '') || ' ' || coalesce(atom, ''), ' ') FROM json_tree(" + document + '))'
}

/**
 * @internal Builds the text index on a worker thread with its own connection, in one transaction:
 * indexing the documents already stored takes seconds on a large store (docs/stores.md#text-search),
 * which the event loop never waits through.
 */
export async function buildTextIndexOffThread(file: string): Promise<void> {
  await runOffThread<undefined>(file, { task: 'exec', statements: TEXT_INDEX_SQL }, {
    failure: 'Cannot build the text index',
    stopped: 'Cannot build the text index: the worker stopped.',
    untilExit: true,
  })
}

/**
 * @internal The FTS5 query of a text search (docs/stores.md#text-search): each run of letters and
 * digits as a quoted term, all required; `undefined` when the text has none (the search then scans).
 * A run the text ends is a prefix (`"dolor"*` finds `dolore`); a run followed by a space or an ASCII
 * punctuation mark is a whole word (`item 42?` is `"item" "42"`), since `unicode61` ends a token there:
 * a prefix term makes FTS5 merge the postings of every word it starts, hundreds of milliseconds for a
 * word every trace holds. Quoting leaves nothing of the text to FTS5's query syntax.
 */
export function ftsQuery(text: string | undefined): string | undefined {
  if (text === undefined) return undefined
  const terms: string[] = []
  for (const match of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    if (terms.length === 16) break
    const after = text[match.index + match[0].length]
    terms.push('"' + match[0] + '"' + (after !== undefined && /[\s!-/:-@[-`{-~]/.test(after) ? '' : '*'))
  }
  return terms.length === 0 ? undefined : terms.join(' ')
}
