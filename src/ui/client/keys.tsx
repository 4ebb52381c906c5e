// The keyboard map (docs/ui.md#keys): `useKeys` binds keys for as long as a component is mounted,
// never while the user types in a field; `?` opens the help overlay listing every key.
import { useEffect, useRef, useState } from 'preact/hooks'

/** A key as `KeyboardEvent.key` names it (`j`, `J`, `ArrowDown`, `/`, `?`, `Escape`, `Enter`), or the sequence `g g`. */
export type KeyHandlers = Readonly<Record<string, (event: KeyboardEvent) => void>>

/** Whether the event comes from a place where keys are text (an input, a textarea, a select, an editable element). */
export function isTyping(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null
  if (target === null || typeof target.tagName !== 'string') return false
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)
}

/** Whether the event comes from a focused control whose own Enter the browser handles (a button, a link, a summary). */
function isControl(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null
  return target !== null && typeof target.tagName === 'string' && ['BUTTON', 'A', 'SUMMARY'].includes(target.tagName)
}

/**
 * Binds `handlers` on the document while the calling component is mounted. Keys with Ctrl, Meta or Alt
 * are left to the browser; keys typed into a field are ignored except `Escape`. `g g` is a sequence of
 * two `g` within 800 ms. The latest handlers are used on every key, so they may close over state.
 */
export function useKeys(handlers: KeyHandlers): void {
  const latest = useRef(handlers)
  latest.current = handlers
  useEffect(() => {
    let lastG = 0
    const onKey = (event: KeyboardEvent): void => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return
      if (isTyping(event) && event.key !== 'Escape') return
      // Enter on a focused button, link or summary is its click: leave it to the browser
      if (event.key === 'Enter' && isControl(event)) return
      let name = event.key
      if (name === 'g') {
        const now = Date.now()
        if (now - lastG < 800 && latest.current['g g'] !== undefined) { name = 'g g'; lastG = 0 } else { lastG = now; return }
      }
      const handler = latest.current[name]
      if (handler === undefined) return
      event.preventDefault()
      handler(event)
    }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  }, [])
}

/** Every key of the viewer, as the help overlay lists it: [keys, action]. */
export const KEY_MAP: ReadonlyArray<readonly [string, string]> = [
  ['j / k or ↓ / ↑', 'next / previous row (list or tree)'],
  ['Enter', 'open the trace / select the step'],
  ['h / l or ← / →', 'collapse / expand, or go to the parent / first child'],
  ['[ / ]', 'collapse / expand all'],
  ['J / K', 'next older / newer trace (from within a trace)'],
  ['g g / G', 'first / last row'],
  ['/', 'search (the list, or within the trace)'],
  ['n / N', 'next / previous match'],
  ['1 – 5', 'Input / Output / Error & attempts / Metadata / Raw tab'],
  ['m t s w', 'Messages / Table / Stats / Waterfall view'],
  ['e', 'jump to the next error step'],
  ['r', 'jump to the next retried step'],
  ['+ / - / 0', 'zoom the timeline in / out / whole trace'],
  ['x', 'select the row (list)'],
  ['c', 'compare the two selected traces'],
  ['y', 'copy the id (or the JSON path in a tree)'],
  ['Esc', 'close the pane / clear the search / close this help'],
  ['?', 'show or hide this help'],
]

/** The filter grammar the help overlay explains: [syntax, meaning]. */
export const FILTER_GRAMMAR: ReadonlyArray<readonly [string, string]> = [
  ['since / until', 'a duration back from now (90s, 15m, 12h, 7d) or an ISO date; presets 15m 1h 24h 7d 30d'],
  ['search … in', 'a case-insensitive substring of everything, or only of the input, output, error or metadata'],
  ['id prefix', '4 to 32 hex characters in the search box jump straight to the trace'],
  ['sort', 'newest first (paged), or the slowest, costliest or most retried page within the filters'],
  ['in-trace find', 'words and "quoted phrases" match name, kind, status, model, error and previews'],
  ['find filters', 'kind:llm status:error model:gpt name:search error:timeout retries:>0 attempts:>=2 tokens:>1000 cost:>0.01 duration:>500ms'],
]

/** The `?` overlay: every key and the filter grammar. `?` toggles it, `Esc` closes it. */
export function HelpOverlay() {
  const [open, setOpen] = useState(false)
  // Esc is taken only while the overlay is open, so that pages get it otherwise
  useKeys(open ? { '?': () => setOpen(false), Escape: () => setOpen(false) } : { '?': () => setOpen(true) })
  if (!open) return null
  return (
    <div class="overlay" role="dialog" aria-label="keyboard shortcuts" data-testid="help" onClick={() => setOpen(false)}>
      <div class="overlay-box" onClick={(event) => event.stopPropagation()}>
        <h3>Keys</h3>
        <table class="keys">
          <tbody>{KEY_MAP.map(([key, action]) => <tr><td class="mono">{key}</td><td>{action}</td></tr>)}</tbody>
        </table>
        <h3>Filters</h3>
        <table class="keys">
          <tbody>{FILTER_GRAMMAR.map(([syntax, meaning]) => <tr><td class="mono">{syntax}</td><td>{meaning}</td></tr>)}</tbody>
        </table>
        <p class="muted">Keys do nothing while you type in a field; Esc leaves it.</p>
      </div>
    </div>
  )
}
