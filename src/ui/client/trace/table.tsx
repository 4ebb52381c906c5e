// The trace page's Table and Stats views (docs/ui.md#trace-page-in-detail): every step flat, sortable
// and virtualized; and per name and kind, the totals of Jaeger's trace statistics.
import { useEffect, useMemo, useState } from 'preact/hooks'
import type { Skeleton } from '../api.js'
import { cost, duration } from '../format.js'
import type { StatsLine } from './model.js'
import { tokensOf } from './tree.js'
import { revealRow, useVirtualRows } from './virtual.js'

type Column<K extends string> = readonly [key: K, label: string]
type Sort<K extends string> = { key: K; descending: boolean }

function SortHeader<K extends string>(props: { columns: ReadonlyArray<Column<K>>; sort: Sort<K>; onSort: (sort: Sort<K>) => void; numeric: (key: K) => boolean }) {
  return (
    <>
      {props.columns.map(([key, label]) => {
        const active = props.sort.key === key
        return (
          <span class={props.numeric(key) ? 'num' : ''} role="columnheader" aria-sort={active ? (props.sort.descending ? 'descending' : 'ascending') : 'none'}>
            <button type="button" class="sort" data-sort={key}
              onClick={() => props.onSort({ key, descending: active ? !props.sort.descending : props.numeric(key) })}>
              {`${label}${active ? (props.sort.descending ? ' ▾' : ' ▴') : ''}`}
            </button>
          </span>
        )
      })}
    </>
  )
}

type TableKey = 'name' | 'kind' | 'start' | 'duration' | 'self' | 'tokens' | 'cost' | 'retries'
const TABLE_COLUMNS: ReadonlyArray<Column<TableKey>> = [
  ['name', 'name'], ['kind', 'kind'], ['start', 'start'], ['duration', 'duration'], ['self', 'self'], ['tokens', 'tokens'], ['cost', 'cost'], ['retries', 'retries'],
]
const textual = (key: string): boolean => key === 'name' || key === 'kind'

export type TableSort = Sort<TableKey>

/** Every step's index, sorted for the Table view (ties by start). */
export function sortSteps(skeleton: Skeleton, self: Float64Array, sort: TableSort): number[] {
  const c = skeleton.columns
  const value = (i: number): number | string => {
    switch (sort.key) {
      case 'name': return c.name[i] ?? ''
      case 'kind': return c.kind[i] ?? ''
      case 'start': return c.offsetMs[i] ?? 0
      case 'duration': return c.durationMs[i] ?? 0
      case 'self': return self[i] ?? 0
      case 'tokens': return (c.inputTokens[i] ?? 0) + (c.outputTokens[i] ?? 0)
      case 'cost': return c.costUsd[i] ?? 0
      case 'retries': return c.retries[i] ?? 0
    }
  }
  const keys = c.stepId.map((_, i) => value(i))
  const order = c.stepId.map((_, i) => i)
  const sign = sort.descending ? -1 : 1
  order.sort((a, b) => {
    const x = keys[a]!, y = keys[b]!
    const by = typeof x === 'string' ? x.localeCompare(y as string) : x - (y as number)
    return by * sign || (c.offsetMs[a] ?? 0) - (c.offsetMs[b] ?? 0)
  })
  return order
}

export function TableView(props: {
  skeleton: Skeleton; self: Float64Array; order: ReadonlyArray<number>; sort: TableSort; onSort: (sort: TableSort) => void
  selected: number; onSelect: (index: number) => void
}) {
  const { skeleton, self, order: sorted, sort } = props
  const c = skeleton.columns
  const { scrollRef, virtualizer } = useVirtualRows(sorted.length)
  useEffect(() => { if (props.selected >= 0) revealRow(virtualizer, sorted.indexOf(props.selected)) }, [props.selected, sorted])
  return (
    <div class="table-view" data-testid="step-table">
      <div class="table-head table-grid">
        <SortHeader columns={TABLE_COLUMNS} sort={sort} onSort={props.onSort} numeric={(key) => !textual(key)} />
      </div>
      <div class="tree" ref={scrollRef}>
        <div class="tree-inner" style={{ height: `${virtualizer.getTotalSize()}px` }}>
          {virtualizer.getVirtualItems().map((item) => {
            const i = sorted[item.index]
            if (i === undefined) return null
            return (
              <div key={c.stepId[i]} class={`table-row table-grid${props.selected === i ? ' selected' : ''}`} data-step-id={c.stepId[i]}
                style={{ transform: `translateY(${item.start}px)` }} onClick={() => props.onSelect(i)}>
                <span class={`cell${c.status[i] === 'error' ? ' status-error' : ''}`}>{c.name[i] ?? ''}</span>
                <span class="cell muted">{c.kind[i] ?? ''}</span>
                <span class="num">{duration(c.offsetMs[i])}</span>
                <span class="num">{duration(c.durationMs[i])}</span>
                <span class="num">{duration(self[i])}</span>
                <span class="num">{tokensOf(skeleton, i)}</span>
                <span class="num">{cost(c.costUsd[i] ?? null)}</span>
                <span class="num">{(c.retries[i] ?? 0) > 0 ? String(c.retries[i]) : ''}</span>
              </div>
            )
          })}
        </div>
      </div>
    </div>
  )
}

type StatsKey = 'name' | 'kind' | 'count' | 'total' | 'self' | 'errors' | 'retries' | 'tokens' | 'cost'
const STATS_COLUMNS: ReadonlyArray<Column<StatsKey>> = [
  ['name', 'name'], ['kind', 'kind'], ['count', 'count'], ['total', 'total'], ['self', 'self time'], ['errors', 'errors'],
  ['retries', 'retries'], ['tokens', 'tokens'], ['cost', 'cost'],
]
/** The Stats view lists this many groups at most (a trace of unique names has one per step). */
const STATS_LIMIT = 500

export function StatsView(props: { lines: ReadonlyArray<StatsLine>; onFind: (query: string) => void }) {
  const [sort, setSort] = useState<Sort<StatsKey>>({ key: 'total', descending: true })
  const lines = useMemo(() => {
    const sign = sort.descending ? -1 : 1
    return [...props.lines].sort((a, b) => {
      const x = a[sort.key], y = b[sort.key]
      return sign * (typeof x === 'string' ? x.localeCompare(y as string) : x - (y as number))
    })
  }, [props.lines, sort])
  return (
    <div class="stats-view" data-testid="step-stats">
      <div class="stats-grid stats-head">
        <SortHeader columns={STATS_COLUMNS} sort={sort} onSort={setSort} numeric={(key) => !textual(key)} />
      </div>
      {lines.slice(0, STATS_LIMIT).map((line) => (
        <div class="stats-grid stats-row" data-name={line.name} data-kind={line.kind} title="find these steps"
          onClick={() => props.onFind(`name:${line.name.split(/\s/)[0]} kind:${line.kind.split(/\s/)[0]}`)}>
          <span class="cell">{line.name}</span>
          <span class="cell muted">{line.kind}</span>
          <span class="num" data-col="count">{String(line.count)}</span>
          <span class="num" data-col="total">{duration(line.total)}</span>
          <span class="num" data-col="self">{duration(line.self)}</span>
          <span class="num" data-col="errors">{line.errors > 0 ? String(line.errors) : ''}</span>
          <span class="num" data-col="retries">{line.retries > 0 ? String(line.retries) : ''}</span>
          <span class="num" data-col="tokens">{line.tokens > 0 ? String(line.tokens) : ''}</span>
          <span class="num" data-col="cost">{line.cost > 0 ? cost(line.cost) : ''}</span>
        </div>
      ))}
      {lines.length > STATS_LIMIT && <p class="muted">{`${lines.length - STATS_LIMIT} more groups not shown.`}</p>}
    </div>
  )
}
