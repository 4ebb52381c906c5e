// The list's columns and one row of it (docs/ui.md#traces-list-in-detail). Everything from a trace is a
// text node; the only link of a row is its short id. Hidden columns are kept in localStorage.
import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import type { Summary } from '../api.js'
import { cost, duration, short } from '../format.js'
import { Link } from '../router.js'

export interface Column {
  readonly id: string
  readonly label: string
  /** A fixed width; none for the previews, which share what is left. */
  readonly width?: string
  readonly numeric?: boolean
  readonly cell: (item: Summary) => ComponentChildren
  /** The cell's tooltip. */
  readonly title?: (item: Summary) => string
}

const STAMP = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })

/** A start as a short local time ("Nov 24, 14:00:03"); the ISO instant is the cell's tooltip. */
function stamp(iso: string): string {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : STAMP.format(date)
}

const tokens = (item: Summary): string => (item.inputTokens === 0 && item.outputTokens === 0 ? '' : `${item.inputTokens} / ${item.outputTokens}`)

/** The columns that can be hidden, in order; time and id always show (they hold the checkbox and the link). */
export const COLUMNS: ReadonlyArray<Column> = [
  { id: 'prompt', label: 'prompt', width: '120px', cell: (item) => item.prompt, title: (item) => item.prompt },
  { id: 'status', label: 'st.', width: '30px', cell: (item) => (item.status === 'error' ? '✗' : '✓'), title: (item) => item.status },
  { id: 'project', label: 'project / env', width: '110px', cell: (item) => `${item.project} / ${item.environment}`, title: (item) => `${item.project} / ${item.environment}` },
  { id: 'model', label: 'model', width: '90px', cell: (item) => item.modelName ?? '', title: (item) => item.modelName ?? '' },
  { id: 'duration', label: 'duration', width: '68px', numeric: true, cell: (item) => duration(item.durationMs) },
  { id: 'steps', label: 'steps', width: '52px', numeric: true, cell: (item) => item.stepCount },
  { id: 'retries', label: 'retries', width: '60px', numeric: true, cell: (item) => (item.retryCount > 0 ? `↻${item.retryCount}` : '') },
  { id: 'tokens', label: 'tokens in/out', width: '108px', numeric: true, cell: tokens },
  { id: 'cost', label: 'cost', width: '68px', numeric: true, cell: (item) => cost(item.costUsd) },
  { id: 'input', label: 'input', cell: (item) => item.inputPreview ?? '', title: (item) => item.inputPreview ?? '' },
  {
    id: 'output', label: 'output or error',
    cell: (item) => (item.errorType !== null ? <span class="err">{`${item.errorType}: ${item.errorMessage ?? ''}`}</span> : item.outputPreview ?? ''),
    title: (item) => (item.errorType !== null ? `${item.errorType}: ${item.errorMessage ?? ''}` : item.outputPreview ?? ''),
  },
  { id: 'tags', label: 'tags', width: '90px', cell: (item) => item.tags.join(', '), title: (item) => item.tags.join(', ') },
]

const STORAGE_KEY = 'tracellm.list.hiddenColumns'

function readHidden(): string[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]')
    return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : []
  } catch {
    return []
  }
}

/** The hidden column ids, persisted, and a toggle. */
export function useHiddenColumns(): [ReadonlyArray<string>, (id: string) => void] {
  const [hidden, setHidden] = useState<string[]>(readHidden)
  const toggle = (id: string): void => {
    const next = hidden.includes(id) ? hidden.filter((other) => other !== id) : [...hidden, id]
    setHidden(next)
    try { localStorage.setItem(STORAGE_KEY, JSON.stringify(next)) } catch { /* storage refused: the choice lasts the page */ }
  }
  return [hidden, toggle]
}

/** The "columns" menu: a checkbox per hideable column. */
export function ColumnsMenu(props: { hidden: ReadonlyArray<string>; toggle: (id: string) => void }) {
  return (
    <details class="columns-menu">
      <summary>columns</summary>
      <div class="menu">
        {COLUMNS.map((column) => (
          <label key={column.id}>
            <input type="checkbox" name={`column-${column.id}`} checked={!props.hidden.includes(column.id)} onChange={() => props.toggle(column.id)} />
            {` ${column.label}`}
          </label>
        ))}
      </div>
    </details>
  )
}

export function TableHead(props: { columns: ReadonlyArray<Column>; allSelected: boolean; toggleAll: () => void }) {
  return (
    <>
      <colgroup>
        <col style={{ width: '150px' }} /><col style={{ width: '96px' }} />
        {props.columns.map((column) => <col key={column.id} style={column.width === undefined ? undefined : { width: column.width }} />)}
      </colgroup>
      <thead>
        <tr>
          <th><input type="checkbox" aria-label="select all shown" checked={props.allSelected} onChange={props.toggleAll} />{' time'}</th>
          <th>id</th>
          {props.columns.map((column) => <th key={column.id} class={column.numeric ? 'num' : undefined}>{column.label}</th>)}
        </tr>
      </thead>
    </>
  )
}

export interface RowProps {
  readonly item: Summary
  readonly columns: ReadonlyArray<Column>
  readonly selected: boolean
  readonly focused: boolean
  readonly onSelect: () => void
  readonly onFocus: () => void
}

export function Row(props: RowProps) {
  const { item } = props
  return (
    <tr
      class={`trace-row${props.focused ? ' focused' : ''}${props.selected ? ' selected' : ''}${item.status === 'error' ? ' failed' : ''}`}
      data-trace-id={item.traceId}
      data-continued={item.parentStepId !== null ? '' : undefined}
      aria-selected={props.focused}
      onClick={props.onFocus}
    >
      <td title={item.startedAt}>
        <input type="checkbox" class="select" aria-label={`select ${short(item.traceId)}`} checked={props.selected} onClick={(event) => event.stopPropagation()} onChange={props.onSelect} />
        {` ${stamp(item.startedAt)}`}
      </td>
      <td class="mono">
        {item.parentStepId !== null && <span class="marker" title="continues a caller's trace in another service">↳ </span>}
        {item.replayOf !== null && <span class="marker" title={`replay of ${item.replayOf}`}>↺ </span>}
        <Link href={`/trace/${item.traceId}`}>{short(item.traceId)}</Link>
      </td>
      {props.columns.map((column) => (
        <td key={column.id} class={`col-${column.id}${column.numeric ? ' num' : ''}${column.id === 'status' ? ` status-${item.status}` : ''}`} title={column.title?.(item)}>
          {column.cell(item)}
        </td>
      ))}
    </tr>
  )
}
