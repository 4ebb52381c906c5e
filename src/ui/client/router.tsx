// Client-side routing: the path is the page, the query string its state (docs/ui.md#pages).
import { useEffect, useState } from 'preact/hooks'

/** Goes to `url` on the client (`replace` keeps the history entry). */
export function navigate(url: string, replace = false): void {
  if (replace) history.replaceState(null, '', url)
  else history.pushState(null, '', url)
  dispatchEvent(new PopStateEvent('popstate'))
}

export function useLocation(): URL {
  const [href, setHref] = useState(location.href)
  useEffect(() => {
    const update = (): void => setHref(location.href)
    addEventListener('popstate', update)
    return () => removeEventListener('popstate', update)
  }, [])
  return new URL(href)
}

/** A same-origin link that routes on the client (plain clicks only; modified clicks open normally). */
export function Link(props: { href: string; class?: string; children: preact.ComponentChildren }) {
  return (
    <a
      href={props.href}
      class={props.class}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
        event.preventDefault()
        navigate(props.href)
      }}
    >
      {props.children}
    </a>
  )
}

/** Sets (or, for null, deletes) query parameters of the current URL, replacing the history entry. */
export function setParams(changes: Record<string, string | null>, replace = true): void {
  const url = new URL(location.href)
  for (const [name, value] of Object.entries(changes)) {
    if (value === null || value === '') url.searchParams.delete(name)
    else url.searchParams.set(name, value)
  }
  navigate(url.pathname + url.search, replace)
}
