// The waterfall's time ruler and its minimap with a draggable window (docs/ui.md#trace-page-in-detail).
// The minimap is drawn on a canvas once per skeleton; the window is a div placed by style properties.
import { useEffect, useRef } from 'preact/hooks'
import type { Skeleton } from '../api.js'
import { duration } from '../format.js'
import type { Axis, TraceTree } from './model.js'

/** The shown part of the trace: `[start, end]` in ms from its start. */
export type Zoom = readonly [number, number]

/** The kinds with their own icon and colour; any other kind is drawn as `other`. */
export const KINDS: Readonly<Record<string, string>> = {
  llm: '#8b5cf6', tool: '#0ea5e9', retriever: '#f59e0b', reranker: '#d97706', embedding: '#14b8a6', chain: '#64748b',
  guardrail: '#ec4899', service: '#6366f1', trace: '#475569', agent: '#22c55e', other: '#94a3b8',
}
export const kindClass = (kind: string | undefined): string => (kind !== undefined && Object.hasOwn(KINDS, kind) ? kind : 'other')

/** `a-b` of the URL as a zoom within `[0, total]`, or the whole trace. */
export function parseZoom(text: string | null, total: number): Zoom {
  const match = text === null ? null : /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(text)
  if (match === null) return [0, total]
  return clampZoom([Number(match[1]), Number(match[2])], total)
}

export const formatZoom = (zoom: Zoom, total: number): string | null =>
  zoom[0] <= 0 && zoom[1] >= total ? null : `${round(zoom[0])}-${round(zoom[1])}`

/** A zoom kept within the trace, at least 1/10 000 of it wide. */
export function clampZoom(zoom: readonly [number, number], total: number): Zoom {
  const least = Math.max(total / 10_000, 0.001)
  let [a, b] = zoom[0] <= zoom[1] ? zoom : [zoom[1], zoom[0]]
  if (b - a < least) { const mid = (a + b) / 2; a = mid - least / 2; b = mid + least / 2 }
  if (b - a >= total) return [0, total]
  if (a < 0) { b -= a; a = 0 }
  if (b > total) { a -= b - total; b = total }
  return [Math.max(0, a), Math.min(total, b)]
}

/** Zooms by `factor` (< 1 zooms in) around the window's middle. */
export function scaleZoom(zoom: Zoom, factor: number, total: number): Zoom {
  const mid = (zoom[0] + zoom[1]) / 2
  const half = ((zoom[1] - zoom[0]) * factor) / 2
  return clampZoom([mid - half, mid + half], total)
}

/** Tick marks at a round step (1, 2 or 5 × 10ⁿ ms) within the zoom, about `count` of them. */
export function ticks(zoom: Zoom, count = 6): number[] {
  const span = zoom[1] - zoom[0]
  if (!(span > 0)) return [zoom[0]]
  const rough = span / count
  const power = 10 ** Math.floor(Math.log10(rough))
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power
  const out: number[] = []
  for (let t = Math.ceil(zoom[0] / step) * step; t <= zoom[1] + step * 1e-9 && out.length < 50; t += step) out.push(round(t))
  return out
}

/** Tick labels closer than this share of the ruler to the previous one are left out (a squeezed gap). */
const TICK_ROOM = 0.16

export function Ruler(props: { zoom: Zoom; axis: Axis }) {
  const [a, b] = props.zoom
  const { map, gaps, keep } = props.axis
  const from = map(a)
  const span = Math.max(map(b) - from, 1e-9)
  let last = Number.NEGATIVE_INFINITY
  const placed = ticks(props.zoom, 4).map((t) => [t, (map(t) - from) / span] as const).filter(([, x]) => {
    // a label needs room on its right too: none in the last stretch of the ruler
    if (x - last < TICK_ROOM || x > 1 - TICK_ROOM) return false
    last = x
    return true
  })
  return (
    <div class="ruler" data-testid="ruler" data-zoom={`${round(a)}-${round(b)}`}>
      {gaps.filter(([start, end]) => end > a && start < b).map(([start, end]) => (
        <span class="idle-gap" title={`${duration(end - start)} idle`} style={{ left: `${((map(start) - from) / span) * 100}%`, width: `${(keep / span) * 100}%` }} />
      ))}
      {placed.map(([t, x]) => <span class="tick" style={{ left: `${x * 100}%` }}>{duration(t)}</span>)}
    </div>
  )
}

/**
 * The whole trace in small, with the zoom window over it: drag the window to pan, its edges to resize,
 * elsewhere to draw a new window; a click recentres it, a double click shows the whole trace.
 * `onZoom(zoom, done)` is called while dragging (`done` false) and once at the end.
 */
export function Minimap(props: { skeleton: Skeleton; tree: TraceTree; zoom: Zoom; onZoom: (zoom: Zoom, done: boolean) => void }) {
  const { skeleton, tree, zoom } = props
  const total = tree.total
  const canvas = useRef<HTMLCanvasElement>(null)
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const element = canvas.current
    const context = element?.getContext('2d')
    if (element == null || context == null) return
    const width = (element.width = Math.max(1, Math.round(element.clientWidth * devicePixelRatio)))
    const height = (element.height = Math.max(1, Math.round(element.clientHeight * devicePixelRatio)))
    const c = skeleton.columns
    const line = Math.max(1, height / Math.max(1, tree.count))
    for (let p = 0; p < tree.count; p++) {
      const i = tree.order[p]!
      context.fillStyle = c.status[i] === 'error' ? '#ef4444' : KINDS[kindClass(c.kind[i])]!
      context.fillRect(((c.offsetMs[i] ?? 0) / total) * width, (p / tree.count) * height, Math.max(1, ((c.durationMs[i] ?? 0) / total) * width), line)
    }
  }, [skeleton, tree])

  const at = (clientX: number): number => {
    const rect = box.current!.getBoundingClientRect()
    return Math.min(1, Math.max(0, (clientX - rect.left) / Math.max(1, rect.width))) * total
  }
  const onPointerDown = (event: PointerEvent): void => {
    if (event.button !== 0) return
    event.preventDefault()
    const target = event.target as HTMLElement
    // the window over the whole trace leaves nothing to pan: a drag draws a new window instead
    const whole = zoom[0] <= 0 && zoom[1] >= total
    const mode = target.dataset.handle ?? (target.classList.contains('minimap-window') && !whole ? 'pan' : 'draw')
    const from = at(event.clientX)
    const start = zoom
    let last: Zoom = zoom
    let moved = false
    const element = box.current!
    element.setPointerCapture(event.pointerId)
    const move = (next: PointerEvent): void => {
      const x = at(next.clientX)
      moved ||= Math.abs(x - from) > total / 500
      if (!moved) return
      last = mode === 'pan' ? clampZoom([start[0] + x - from, start[1] + x - from], total)
        : mode === 'left' ? clampZoom([Math.min(x, start[1]), start[1]], total)
        : mode === 'right' ? clampZoom([start[0], Math.max(x, start[0])], total)
        : clampZoom([from, x], total)
      props.onZoom(last, false)
    }
    const up = (): void => {
      element.removeEventListener('pointermove', move)
      element.removeEventListener('pointerup', up)
      element.removeEventListener('pointercancel', up)
      if (!moved && mode === 'draw') { const half = (start[1] - start[0]) / 2; last = clampZoom([from - half, from + half], total) }
      props.onZoom(last, true)
    }
    element.addEventListener('pointermove', move)
    element.addEventListener('pointerup', up)
    element.addEventListener('pointercancel', up)
  }
  return (
    <div class="minimap" ref={box} data-testid="minimap" onPointerDown={onPointerDown} onDblClick={() => props.onZoom([0, total], true)}
      title="drag to zoom, drag the window to pan, double-click for the whole trace">
      <canvas ref={canvas} class="minimap-canvas" />
      <div class="minimap-window" style={{ left: `${(zoom[0] / total) * 100}%`, width: `${((zoom[1] - zoom[0]) / total) * 100}%` }}>
        <span class="handle left" data-handle="left" />
        <span class="handle right" data-handle="right" />
      </div>
    </div>
  )
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
