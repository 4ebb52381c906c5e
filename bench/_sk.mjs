import Database from 'better-sqlite3'
import { ids } from './ui-seed.mjs'
const file = '/tmp/tracellm-bench-ui-v3-100000.db'
const { big } = ids(100000)
const db = new Database(file, { readonly: true })
const t = (l, sql, ...p) => { const times = []; let n; for (let i = 0; i < 6; i++) { const s = performance.now(); n = db.prepare(sql).raw().all(...p).length; times.push(Math.round(performance.now() - s)) } console.log(l, times.join(' '), n) }
const cols = 's.step_id, s.parent_step_id, s.root_span_id, s.seq, s.name, s.kind, s.status, s.started_at, s.duration_ms, s.attempts, s.retries, s.model, s.input_tokens, s.output_tokens, s.cost_usd, s.error_type, s.error_message, s.input_bytes, s.output_bytes'
t('join all cols', 'SELECT s.*  FROM steps s JOIN traces t ON t.trace_id = s.trace_id AND t.root_span_id = s.root_span_id WHERE s.trace_id = ? ORDER BY t.started_at, t.root_span_id, s.seq', big)
t('join no previews', `SELECT ${cols}, s.truncated, s.incomplete FROM steps s JOIN traces t ON t.trace_id = s.trace_id AND t.root_span_id = s.root_span_id WHERE s.trace_id = ? ORDER BY t.started_at, t.root_span_id, s.seq`, big)
t('steps only no previews', `SELECT ${cols}, s.truncated, s.incomplete FROM steps s WHERE s.trace_id = ?`, big)
t('previews only', `SELECT s.step_id, s.input_preview, s.output_preview FROM steps s WHERE s.trace_id = ?`, big)
