// A virtualized list of fixed-height rows (@tanstack/virtual-core) for the trace page's waterfall and
// table: only the rows in view, plus a few, are in the DOM (docs/ui.md#trace-page-in-detail).
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks'
import { Virtualizer, elementScroll, observeElementOffset, observeElementRect } from '@tanstack/virtual-core'

export const ROW_HEIGHT = 26

/** A virtualizer over `count` rows of the element `scrollRef` points at. */
export function useVirtualRows(count: number) {
  const scrollRef = useRef<HTMLDivElement>(null)
  const [, rerender] = useState(0)
  const virtualizer = useMemo(
    () =>
      new Virtualizer<HTMLDivElement, HTMLDivElement>({
        count,
        getScrollElement: () => scrollRef.current,
        estimateSize: () => ROW_HEIGHT,
        overscan: 4,
        scrollToFn: elementScroll,
        observeElementRect,
        observeElementOffset,
        onChange: () => rerender((n) => n + 1),
      }),
    [],
  )
  virtualizer.setOptions({ ...virtualizer.options, count })
  useEffect(() => virtualizer._didMount(), [virtualizer])
  useLayoutEffect(() => { virtualizer._willUpdate() })
  return { scrollRef, virtualizer }
}

/** Scrolls row `at` into view unless it already is (keyboard moves keep the list still when they can). */
export function revealRow(virtualizer: Virtualizer<HTMLDivElement, HTMLDivElement>, at: number): void {
  const element = virtualizer.scrollElement
  if (element === null || at < 0) return
  const top = at * ROW_HEIGHT
  if (top < element.scrollTop || top + ROW_HEIGHT > element.scrollTop + element.clientHeight) virtualizer.scrollToIndex(at, { align: 'auto' })
}
