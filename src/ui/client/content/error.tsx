// Errors and attempts of a step (docs/ui.md#content-rendering): the final error's type, message, code,
// a collapsible stack, its `cause` chain and aggregate `errors`; the attempt timeline of a retried step,
// each failed attempt with its error and the backoff wait before the next when the record holds times.
import { duration } from '../format.js'
import { JsonTree } from './json-tree.js'
import { MarkedText, VisibleText } from './text.js'

type Obj = Record<string, unknown>
const isObj = (value: unknown): value is Obj => value !== null && typeof value === 'object' && !Array.isArray(value)

/** Whether `value` looks like a captured error (`{type, message}`). */
export const isErrorRecord = (value: unknown): value is Obj => isObj(value) && typeof value.type === 'string' && typeof value.message === 'string'

/** One captured error, its causes (up to `depth` levels, as capture records them) and aggregated errors. */
export function ErrorView(props: { error: unknown; depth?: number }) {
  const { error } = props
  const depth = props.depth ?? 0
  if (!isErrorRecord(error)) {
    return <div class="error-record"><JsonTree value={error} path={[]} selected={null} field="error" /></div>
  }
  const { type, message, code, stack, cause, errors, value, ...rest } = error
  return (
    <div class="error-record" data-depth={depth}>
      <div class="error-head">
        <b class="err"><VisibleText text={String(type)} /></b>
        {code !== undefined && <span class="chip mono">{`code ${typeof code === 'string' ? code : JSON.stringify(code)}`}</span>}
      </div>
      <div class="error-message text-block"><MarkedText text={String(message)} /></div>
      {typeof stack === 'string' && (
        <details class="stack"><summary class="muted">stack</summary><pre class="json"><MarkedText text={stack} /></pre></details>
      )}
      {value !== undefined && <div><span class="muted">thrown value </span><JsonTree value={value} path={['value']} selected={null} field="error" /></div>}
      {Object.keys(rest).length > 0 && <JsonTree value={rest} path={[]} selected={null} field="error" openDepth={1} />}
      {cause !== undefined && cause !== null && (
        <div class="cause"><span class="muted">caused by</span>{depth < 10 ? <ErrorView error={cause} depth={depth + 1} /> : <span class="muted"> …</span>}</div>
      )}
      {Array.isArray(errors) && errors.length > 0 && (
        <div class="aggregate">
          <span class="muted">{`${errors.length} aggregated error${errors.length === 1 ? '' : 's'}`}</span>
          <ol>{errors.slice(0, 100).map((inner) => <li>{depth < 10 ? <ErrorView error={inner} depth={depth + 1} /> : null}</li>)}</ol>
        </div>
      )}
    </div>
  )
}

/** One failed attempt as the step records it: `{attempt, error}` (times when a recorder adds them). */
export interface AttemptEntry { readonly attempt: number; readonly error: unknown; readonly startedAt?: string; readonly endedAt?: string; readonly at?: string }

/** The wait between one attempt's end and the next attempt's start, when both are recorded. */
export function backoffMs(entry: AttemptEntry, next: AttemptEntry | undefined): number | null {
  const end = Date.parse(entry.endedAt ?? entry.at ?? '')
  const start = Date.parse(next?.startedAt ?? '')
  return Number.isNaN(end) || Number.isNaN(start) ? null : Math.max(0, start - end)
}

/**
 * The attempts of a step in order: each failed one with its error, the wait before the next, and the
 * last attempt (the step's own outcome: success, or the final error shown below).
 */
export function AttemptTimeline(props: { attempts: number; retries: number; status: string; attemptErrors: unknown; durationMs: number }) {
  const entries = (Array.isArray(props.attemptErrors) ? props.attemptErrors : []).filter((entry): entry is AttemptEntry => isObj(entry) && typeof entry.attempt === 'number')
  // tracellm records the failures that were followed by another attempt: the last one is the step's own error
  const total = Math.max(props.attempts, 1, ...entries.map((entry) => entry.attempt))
  const byAttempt = new Map(entries.map((entry) => [entry.attempt, entry]))
  const rows = []
  for (let attempt = 1; attempt <= total; attempt++) {
    const entry = byAttempt.get(attempt)
    const last = attempt === total
    const wait = entry === undefined ? null : backoffMs(entry, byAttempt.get(attempt + 1))
    rows.push(
      <li class={`attempt ${last ? (props.status === 'error' ? 'failed' : 'succeeded') : 'failed'}`} data-attempt={attempt}>
        <div class="attempt-head">
          <span class="chip">{`attempt ${attempt}`}</span>
          {last ? (props.status === 'error' ? <span class="err"> ✗ failed (the final error, below)</span> : <span class="status-success"> ✓ succeeded</span>) : <span class="err"> ✗ failed</span>}
        </div>
        {entry !== undefined && <ErrorView error={entry.error} />}
        {!last && <div class="backoff muted">{wait === null ? '↓ backoff wait: not recorded' : `↓ waited ${duration(wait)} before attempt ${attempt + 1}`}</div>}
      </li>,
    )
  }
  return (
    <div class="attempts">
      <p>{`${props.attempts} attempt(s), ${props.retries} retr${props.retries === 1 ? 'y' : 'ies'}`}<span class="muted">{` in ${duration(props.durationMs)}, backoff included`}</span></p>
      {total > 1 && <ol class="attempt-timeline" data-testid="attempt-timeline">{rows}</ol>}
    </div>
  )
}
