// The viewer's browser client (docs/ui.md#pages): routes a path to its page.
// Rule: everything that comes from a trace is rendered as text (Preact text nodes), never as HTML.
import { render } from 'preact'
import { ComparePage } from './pages/compare.js'
import { StorePage } from './pages/store.js'
import { TracePage } from './pages/trace.js'
import { TracesPage } from './pages/traces.js'
import { Link, useLocation } from './router.js'
import { HelpOverlay } from './keys.js'

function App() {
  const url = useLocation()
  const match = /^\/trace\/([0-9a-f]{32})\/?$/.exec(url.pathname)
  return (
    <div>
      <header class="top">
        <h1><Link href="/">tracellm</Link></h1>
        <span class="muted">local trace viewer</span>
      </header>
      <nav class="top-nav"><Link href="/">traces</Link><Link href="/store">store</Link><span class="muted">press ? for keys</span></nav>
      {match !== null ? <TracePage key={match[1]!} traceId={match[1]!} url={url} />
        : url.pathname === '/' ? <TracesPage url={url} />
        : url.pathname === '/compare' ? <ComparePage url={url} />
        : url.pathname === '/store' ? <StorePage />
        : <main><p>No such page.</p></main>}
      <HelpOverlay />
    </div>
  )
}

/** `--token`: the launch token travels in the fragment; exchange it once for the session cookie. */
async function session(): Promise<void> {
  const token = /^#t=([0-9A-Za-z_-]+)$/.exec(location.hash)?.[1]
  if (token === undefined) return
  history.replaceState(null, '', location.pathname + location.search)
  await fetch('/api/session', { method: 'POST', headers: { 'x-tracellm-token': token, 'content-type': 'application/json' }, body: '{}', credentials: 'same-origin' })
}

void session().finally(() => render(<App />, document.getElementById('app')!))
