// The changes of one step (or of the trace) at their JSON paths (docs/ui.md#compare): one line each,
// `output $.answer.text: before → after`; two long strings as a word diff. Values are text nodes.
import { duration } from '../format.js'
import type { Change } from './types.js'
import { formatRatio } from './types.js'
import { WordDiff } from './word-diff-view.js'

/** Two strings at least this long (either one) are shown as a word diff. */
const WORD_DIFF_CHARS = 40
const MAX_SHOWN = 300

export function Changes(props: { changes: ReadonlyArray<Change> }) {
  if (props.changes.length === 0) return null
  return (
    <ul class="changes">
      {props.changes.map((change) => <ChangeLine change={change} />)}
    </ul>
  )
}

function ChangeLine(props: { change: Change }) {
  const change = props.change
  const has = (key: 'before' | 'after'): boolean => Object.prototype.hasOwnProperty.call(change, key)
  switch (change.field) {
    case 'omitted':
      return <li class="change muted">{`… ${String(change.count ?? 0)} more`}</li>
    case 'duration':
      return (
        <li class="change" data-field="duration">
          <span class="change-label">duration: </span>
          <del>{duration(change.before as number)}</del>{' → '}<ins>{duration(change.after as number)}</ins>
          <span class="ratio">{` ${formatRatio(change.ratio)}`}</span>
        </li>
      )
    case 'input':
    case 'output':
    case 'metadata': {
      const before = change.before
      const after = change.after
      const words = typeof before === 'string' && typeof after === 'string' && Math.max(before.length, after.length) >= WORD_DIFF_CHARS
      return (
        <li class="change" data-field={change.field} data-path={change.path}>
          <span class="change-label mono">{`${change.field} ${change.path ?? '$'}: `}</span>
          {words ? <WordDiff before={before} after={after} /> : (
            <span>
              <del title={shown(before, has('before'), 4000)}>{shown(before, has('before'), MAX_SHOWN)}</del>
              {' → '}
              <ins title={shown(after, has('after'), 4000)}>{shown(after, has('after'), MAX_SHOWN)}</ins>
            </span>
          )}
        </li>
      )
    }
    case 'error':
      return (
        <li class="change" data-field="error">
          <span class="change-label">error: </span>
          <del>{errorText(change.before)}</del>{' → '}<ins>{errorText(change.after)}</ins>
        </li>
      )
    default:
      return (
        <li class="change" data-field={change.field}>
          <span class="change-label">{`${change.field}: `}</span>
          <del>{plain(change.before)}</del>{' → '}<ins>{plain(change.after)}</ins>
        </li>
      )
  }
}

/** Compact JSON of a value, cut to `max` characters; `(absent)` when that side has nothing there. */
function shown(value: unknown, present: boolean, max: number): string {
  if (!present) return '(absent)'
  let text: string
  try { text = JSON.stringify(value) ?? 'null' } catch { text = String(value) }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

function plain(value: unknown): string {
  return value === undefined || value === null ? '(none)' : String(value)
}

/** As `renderDiff` writes it: `Error [ECONNRESET]: socket hang up` (the code is compared too). */
function errorText(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '(none)'
  const { type, message, code } = error as { type?: unknown; message?: unknown; code?: unknown }
  const c = code === undefined || code === null ? '' : typeof code === 'string' ? code : JSON.stringify(code)
  const t = [type === undefined ? '' : String(type), c === '' ? '' : `[${c}]`].filter((part) => part !== '').join(' ')
  const m = message === undefined ? '' : String(message)
  return m === '' ? t : t === '' ? m : `${t}: ${m}`
}
