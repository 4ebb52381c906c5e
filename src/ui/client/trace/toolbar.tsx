// The trace page's toolbar (docs/ui.md#trace-page-in-detail): views, in-trace find with its "i of k"
// counter, the critical-path and self-time toggles, collapse / expand, and zoom.
import type { RefObject } from 'preact'

export const VIEWS = ['waterfall', 'messages', 'table', 'stats'] as const
export type View = (typeof VIEWS)[number]
const VIEW_LABELS: Readonly<Record<View, string>> = { waterfall: 'Waterfall (w)', messages: 'Messages (m)', table: 'Table (t)', stats: 'Stats (s)' }

export interface ToolbarProps {
  view: View
  onView: (view: View) => void
  findRef: RefObject<HTMLInputElement>
  find: string
  /** A malformed filter in the find box, explained. */
  error: string | null
  onFind: (text: string) => void
  matches: number
  current: number
  onMatch: (delta: number) => void
  critical: boolean
  onCritical: (on: boolean) => void
  self: boolean
  onSelf: (on: boolean) => void
  /** Whether idle gaps are squeezed; null when they are under half the trace (not offered). */
  idle: boolean | null
  onIdle: (on: boolean) => void
  onCollapse: (how: 'all' | 'less' | 'more' | 'none') => void
  /** Zoom by a factor (< 1 zooms in); 0 shows the whole trace. */
  onZoom: (factor: number) => void
}

export function Toolbar(props: ToolbarProps) {
  const waterfall = props.view === 'waterfall'
  return (
    <div class="trace-toolbar" role="toolbar">
      <span class="views" role="tablist" aria-label="views">
        {VIEWS.map((view) => (
          <button type="button" role="tab" data-view={view} aria-selected={props.view === view} class={props.view === view ? 'active' : ''}
            onClick={() => props.onView(view)}>{VIEW_LABELS[view]}</button>
        ))}
      </span>
      <span class="find">
        <input
          ref={props.findRef} type="search" name="find" placeholder="find (/): words, kind:llm, status:error, duration:>500ms…"
          title="words match name, kind, status, model, error and previews; filters: kind:llm status:error model:x name:x error:x retries:>0 attempts:>=2 tokens:>1000 cost:>0.01 duration:>500ms"
          value={props.find} aria-label="find in this trace"
          onInput={(event) => props.onFind((event.currentTarget as HTMLInputElement).value)}
          onKeyDown={(event) => { if (event.key === 'Enter') { event.preventDefault(); props.onMatch(event.shiftKey ? -1 : 1) } }}
        />
        <span class="find-count muted" data-testid="find-count">
          {props.find.trim() === '' ? '' : props.matches === 0 ? 'no match' : `${props.current < 0 ? 0 : props.current + 1} of ${props.matches}`}
        </span>
        <button type="button" class="small" title="previous match (N)" disabled={props.matches === 0} onClick={() => props.onMatch(-1)}>↑</button>
        <button type="button" class="small" title="next match (n)" disabled={props.matches === 0} onClick={() => props.onMatch(1)}>↓</button>
        {props.error !== null && <span class="err find-error">{props.error}</span>}
      </span>
      {waterfall && (
        <span class="toggles">
          <label title="the chain of steps that bounds the trace's end">
            <input type="checkbox" name="critical" checked={props.critical} onChange={(event) => props.onCritical((event.currentTarget as HTMLInputElement).checked)} />
            critical path
          </label>
          <label title="duration minus the time covered by the step's children">
            <input type="checkbox" name="self" checked={props.self} onChange={(event) => props.onSelf((event.currentTarget as HTMLInputElement).checked)} />
            self time
          </label>
          {props.idle !== null && (
            <label title="idle time is over half of this trace: draw each long gap narrow">
              <input type="checkbox" name="idle" checked={props.idle} onChange={(event) => props.onIdle((event.currentTarget as HTMLInputElement).checked)} />
              compress idle gaps
            </label>
          )}
          <span class="group" aria-label="collapse and expand">
            <button type="button" class="small" data-collapse="all" title="collapse all ([)" onClick={() => props.onCollapse('all')}>⊟ all</button>
            <button type="button" class="small" data-collapse="less" title="collapse one level" onClick={() => props.onCollapse('less')}>− level</button>
            <button type="button" class="small" data-collapse="more" title="expand one level" onClick={() => props.onCollapse('more')}>+ level</button>
            <button type="button" class="small" data-collapse="none" title="expand all (])" onClick={() => props.onCollapse('none')}>⊞ all</button>
          </span>
          <span class="group" aria-label="zoom">
            <button type="button" class="small" title="zoom in (+)" onClick={() => props.onZoom(0.5)}>+</button>
            <button type="button" class="small" title="zoom out (-)" onClick={() => props.onZoom(2)}>−</button>
            <button type="button" class="small" title="whole trace (0)" onClick={() => props.onZoom(0)}>0</button>
          </span>
        </span>
      )}
    </div>
  )
}
