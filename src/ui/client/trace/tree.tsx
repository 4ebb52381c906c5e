// The trace page's step tree: one virtualized list of rows with waterfall bars.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks'
import { Virtualizer, elementScroll, observeElementOffset, observeElementRect } from '@tanstack/virtual-core'
import type { Skeleton } from '../api.js'
import { duration } from '../format.js'

/** A visible row of the tree: the step's index in the skeleton's columns, its depth, whether it has children. */
export interface Row { index: number; depth: number; hasChildren: boolean }

const ROW_HEIGHT = 26

export function StepTree(props: {
  skeleton: Skeleton; rows: Row[]; selected: string | null; collapsed: ReadonlySet<string>
  onSelect: (stepId: string) => void; onToggle: (stepId: string) => void
}) {
  const { skeleton, rows } = props
  const scrollRef = useRef<HTMLDivElement>(null)
  const [, rerender] = useState(0)
  const virtualizer = useMemo(
    () =>
      new Virtualizer<HTMLDivElement, HTMLDivElement>({
        count: rows.length,
        getScrollElement: () => scrollRef.current,
        estimateSize: () => ROW_HEIGHT,
        overscan: 8,
        scrollToFn: elementScroll,
        observeElementRect,
        observeElementOffset,
        onChange: () => rerender((n) => n + 1),
      }),
    [],
  )
  virtualizer.setOptions({ ...virtualizer.options, count: rows.length })
  useEffect(() => virtualizer._didMount(), [virtualizer])
  useLayoutEffect(() => { virtualizer._willUpdate() })

  // a deep-linked step: scroll it into view once
  const scrolled = useRef(false)
  useEffect(() => {
    if (scrolled.current || props.selected === null) return
    const at = rows.findIndex((row) => skeleton.columns.stepId[row.index] === props.selected)
    if (at >= 0) { scrolled.current = true; virtualizer.scrollToIndex(at, { align: 'center' }) }
  }, [rows, props.selected])

  const total = skeleton.columns.offsetMs.reduce((max, offset, i) => Math.max(max, offset + (skeleton.columns.durationMs[i] ?? 0)), 0) || 1
  const c = skeleton.columns
  return (
    <div class="tree" ref={scrollRef} data-testid="step-tree">
      <div class="tree-inner" style={{ height: `${virtualizer.getTotalSize()}px` }}>
        {virtualizer.getVirtualItems().map((item) => {
          const row = rows[item.index]
          if (row === undefined) return null
          const i = row.index
          const id = c.stepId[i]!
          const offset = c.offsetMs[i] ?? 0
          const length = c.durationMs[i] ?? 0
          const status = c.status[i] ?? ''
          return (
            <div
              key={id}
              class={`step-row${props.selected === id ? ' selected' : ''}`}
              data-step-id={id}
              style={{ transform: `translateY(${item.start}px)` }}
              onClick={() => props.onSelect(id)}
              title={c.errorPreview[i] ?? ''}
            >
              <span class="step-name" style={{ paddingLeft: `${row.depth * 14}px` }}>
                <span
                  class="toggle"
                  onClick={(event) => { if (row.hasChildren) { event.stopPropagation(); props.onToggle(id) } }}
                >
                  {row.hasChildren ? (props.collapsed.has(id) ? '▸' : '▾') : ''}
                </span>
                {c.name[i] ?? ''}
                {(c.retries[i] ?? 0) > 0 ? ` (${c.attempts[i]} attempts)` : ''}
              </span>
              <span class="muted">{c.kind[i] ?? ''}</span>
              <span class={`status-${status}`}>{status}</span>
              <span class="muted">{duration(length)}</span>
              <span class="bar-track">
                <span
                  class={`bar${status === 'error' ? ' error' : ''}`}
                  style={{ left: `${(offset / total) * 100}%`, width: `${Math.max((length / total) * 100, 0.2)}%` }}
                />
              </span>
            </div>
          )
        })}
      </div>
    </div>
  )
}
