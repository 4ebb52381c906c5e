// The trace page's waterfall: one virtualized list of tree rows with bars placed in the zoom window
// (docs/ui.md#trace-page-in-detail). Every row is O(1): the tree, self times and the critical path are
// computed once per skeleton by trace/model.ts.
import { useEffect, useLayoutEffect, useState } from 'preact/hooks'
import type { Skeleton } from '../api.js'
import { duration } from '../format.js'
import { subtreeSummary, type Axis, type CriticalSection, type Row, type TraceTree } from './model.js'
import { kindClass, Minimap, Ruler, type Zoom } from './timeline.js'
import { revealRow, useVirtualRows } from './virtual.js'

const INDENT = 14

export interface WaterfallProps {
  skeleton: Skeleton
  tree: TraceTree
  rows: ReadonlyArray<Row>
  selected: number
  collapsed: ReadonlySet<number>
  zoom: Zoom
  /** Real ms to display ms: linear, or with idle gaps squeezed. */
  axis: Axis
  onZoom: (zoom: Zoom, done: boolean) => void
  /** Steps matching the find box, and the current one (-1 for none). */
  matches: ReadonlySet<number>
  current: number
  /** Critical-path sections by step, when the toggle is on. */
  critical: ReadonlyMap<number, ReadonlyArray<CriticalSection>> | null
  /** Self times, when the toggle is on. */
  self: Float64Array | null
  onSelect: (index: number) => void
  onToggle: (index: number) => void
}

export const tokensOf = (skeleton: Skeleton, i: number): string => {
  const c = skeleton.columns
  const input = c.inputTokens[i]
  const output = c.outputTokens[i]
  return !input && !output ? '' : `${input ?? 0}/${output ?? 0}`
}

export function Waterfall(props: WaterfallProps) {
  const { skeleton, tree, rows, zoom } = props
  const { scrollRef, virtualizer } = useVirtualRows(rows.length)
  const [gutter, setGutter] = useState(0)
  // the header's right padding matches the scrollbar, measured when it may appear or go (never while scrolling)
  useLayoutEffect(() => {
    const element = scrollRef.current
    if (element !== null && element.offsetWidth - element.clientWidth !== gutter) setGutter(element.offsetWidth - element.clientWidth)
  }, [rows.length > 0])
  // keep the selected row in view (deep links, keys, find)
  useEffect(() => {
    if (props.selected < 0) return
    revealRow(virtualizer, rows.findIndex((row) => !row.summary && row.index === props.selected))
  }, [props.selected, rows])

  const c = skeleton.columns
  const map = props.axis.map
  const from = map(zoom[0])
  const span = Math.max(map(zoom[1]) - from, 1e-9)
  const place = (start: number, length: number) => {
    const left = map(start)
    return { left: `${((left - from) / span) * 100}%`, width: `${((map(start + length) - left) / span) * 100}%` }
  }
  return (
    <div class="waterfall">
      <Minimap skeleton={skeleton} tree={tree} zoom={zoom} onZoom={props.onZoom} />
      <div class="tree-head step-grid" style={{ paddingRight: `${gutter + 6}px` }}>
        <span>step</span><span /><span /><span>model</span><span class="num">tokens</span>
        <span class="num">{props.self !== null ? 'self' : 'duration'}</span><Ruler zoom={zoom} axis={props.axis} />
      </div>
      <div class="tree" ref={scrollRef} data-testid="step-tree">
        <div class="tree-inner" style={{ height: `${virtualizer.getTotalSize()}px` }}>
          {virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index]
            if (row === undefined) return null
            const i = row.index
            const id = c.stepId[i]!
            const depth = tree.depth[i]!
            if (row.summary) {
              const { steps, errors } = subtreeSummary(tree, i)
              return (
                <div key={`${id}+`} class="summary-row" data-summary-of={id} style={{ transform: `translateY(${item.start}px)` }} onClick={() => props.onToggle(i)}>
                  <span style={{ paddingLeft: `${(depth + 1) * INDENT + 16}px` }}>{`${steps} step${steps === 1 ? '' : 's'}${errors > 0 ? `, ${errors} ✗` : ''}`}</span>
                </div>
              )
            }
            const offset = c.offsetMs[i] ?? 0
            const length = c.durationMs[i] ?? 0
            const failed = c.status[i] === 'error'
            const retries = c.retries[i] ?? 0
            const hasChildren = tree.children[i]!.length > 0
            const sections = props.critical?.get(i)
            const kind = kindClass(c.kind[i])
            let cls = 'step-row step-grid'
            if (props.selected === i) cls += ' selected'
            if (props.matches.has(i)) cls += props.current === i ? ' match current-match' : ' match'
            if (sections !== undefined) cls += ' critical'
            return (
              <div key={id} class={cls} data-step-id={id} style={{ transform: `translateY(${item.start}px)` }} onClick={() => props.onSelect(i)}
                title={c.errorPreview[i] ?? ''}>
                <span class="step-name" style={{ paddingLeft: `${depth * INDENT}px`, backgroundSize: `${depth * INDENT}px 100%` }}>
                  <span class="toggle" onClick={(event) => { if (hasChildren) { event.stopPropagation(); props.onToggle(i) } }}>
                    {hasChildren ? (props.collapsed.has(i) ? '▸' : '▾') : ''}
                  </span>
                  <span class={`kind-icon kind-${kind}`} title={c.kind[i] ?? ''} />
                  {c.name[i] ?? ''}
                </span>
                <span class="retry-badge" title={retries > 0 ? `${c.attempts[i]} attempts` : ''}>{retries > 0 ? `↻${retries}` : ''}</span>
                <span class={failed ? 'status-error' : 'status-success'} title={c.status[i] ?? ''}>{failed ? '✗' : '✓'}</span>
                <span class="muted cell">{c.model[i] ?? ''}</span>
                <span class="num cell">{tokensOf(skeleton, i)}</span>
                {props.self !== null
                  ? <span class="num cell self-time" title={`self time; total ${duration(length)}`}>{duration(props.self[i])}</span>
                  : <span class="num cell">{duration(length)}</span>}
                <span class="bar-track">
                  <span class={`bar kind-${kind}${failed ? ' error' : ''}`} style={place(offset, length)} />
                  {sections?.map((section) => <span class="crit" style={place(section.start, section.end - section.start)} />)}
                </span>
              </div>
            )
          })}
        </div>
      </div>
    </div>
  )
}
