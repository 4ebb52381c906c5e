// The traces list, `/` (docs/ui.md#traces-list-in-detail): filters in the URL, keyset infinite scroll,
// a lazy total, the live bar, selection with compare and export, and the list's keys.
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, messageOf, type Summary } from '../api.js'
import { useKeys } from '../keys.js'
import { navigate } from '../router.js'
import { ColumnsMenu, COLUMNS, Row, TableHead, useHiddenColumns } from '../list/columns.js'
import { ActiveChips, ChipBar, FilterForm } from '../list/filters.js'
import { downloadJsonl, LiveBar, useNewTraces } from '../list/live.js'
import { filterParams, listKey, PAGE_SIZE, SORTS, sortOf } from '../list/query.js'

interface Page { items: Summary[]; nextCursor: string | null }

export function TracesPage(props: { url: URL }) {
  const query = props.url.searchParams
  const key = listKey(query)
  const filters = filterParams(query).toString()
  const sort = sortOf(query)
  const [items, setItems] = useState<Summary[]>([])
  const [cursor, setCursor] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [loading, setLoading] = useState(true)
  const [total, setTotal] = useState<number | null>(null)
  const [focus, setFocus] = useState(-1)
  // trace id → its start, so that compare knows which is older
  const [selected, setSelected] = useState<ReadonlyMap<string, string>>(new Map())
  const [paused, setPaused] = useState(false)
  const [hidden, toggleColumn] = useHiddenColumns()
  const searchRef = useRef<HTMLInputElement>(null)
  const sentinel = useRef<HTMLDivElement>(null)
  const tbody = useRef<HTMLTableSectionElement>(null)
  const request = useRef<AbortController | null>(null)
  const counting = useRef<AbortController | null>(null)

  const listUrl = (after: string | null): string => {
    const params = filterParams(query)
    if (sort !== 'newest') params.set('sort', sort)
    params.set('limit', String(PAGE_SIZE))
    if (after !== null) params.set('cursor', after)
    return `/api/traces?${params.toString()}`
  }

  /** The total, after the first page and only when there is more than one: `count({text})` scans. */
  const countAll = (page: Page): void => {
    counting.current?.abort()
    if (page.nextCursor === null && sort === 'newest') return setTotal(page.items.length)
    const controller = new AbortController()
    counting.current = controller
    fetch(`/api/traces/count${filters === '' ? '' : `?${filters}`}`, { signal: controller.signal, credentials: 'same-origin' })
      .then(async (response) => { if (response.ok) setTotal(((await response.json()) as { count: number }).count) })
      .catch(() => undefined)
  }

  const load = async (after: string | null): Promise<void> => {
    if (after === null) request.current?.abort()
    else if (request.current !== null) return
    const controller = new AbortController()
    request.current = controller
    setLoading(true)
    try {
      const response = await fetch(listUrl(after), { signal: controller.signal, credentials: 'same-origin', headers: { accept: 'application/json' } })
      const body = (await response.json().catch(() => ({}))) as Page & { error?: string }
      // the filters changed meanwhile: this page belongs to the old list
      if (controller.signal.aborted) return
      if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`)
      setItems((previous) => (after === null ? body.items : [...previous, ...body.items]))
      setCursor(body.nextCursor ?? null)
      setError(null)
      if (after === null) countAll(body)
    } catch (caught) {
      if (controller.signal.aborted) return
      setError(messageOf(caught))
    } finally {
      if (request.current === controller) {
        request.current = null
        setLoading(false)
      }
    }
  }

  const reload = (): void => {
    setFocus(-1)
    setTotal(null)
    void load(null)
    scrollTo({ top: 0 })
  }

  useEffect(() => {
    setItems([])
    setCursor(null)
    reload()
    return () => { counting.current?.abort() }
  }, [key])

  // keyset infinite scroll: the next page when the sentinel below the table comes into view
  useEffect(() => {
    const target = sentinel.current
    if (target === null || cursor === null || loading || typeof IntersectionObserver === 'undefined') return
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void load(cursor)
    }, { rootMargin: '0px 0px 200px 0px' })
    observer.observe(target)
    return () => observer.disconnect()
  }, [cursor, loading, key])

  const fresh = useNewTraces(sort === 'newest' && !paused && error === null, filters, items)

  // the focused row stays in view
  useEffect(() => {
    if (focus < 0) return
    const row = tbody.current?.children[focus] as HTMLElement | undefined
    row?.scrollIntoView({ block: 'nearest' })
  }, [focus])

  const toggle = (item: Summary): void => {
    setSelected((previous) => {
      const next = new Map(previous)
      if (next.has(item.traceId)) next.delete(item.traceId)
      else next.set(item.traceId, item.startedAt)
      return next
    })
  }
  const compare = (): void => {
    if (selected.size !== 2) return
    const [a, b] = [...selected].sort((x, y) => x[1].localeCompare(y[1]) || x[0].localeCompare(y[0]))
    navigate(`/compare?a=${a![0]}&b=${b![0]}`)
  }
  const exportSelection = (): void => {
    downloadJsonl([...selected.keys()]).catch((caught: unknown) => setError(messageOf(caught)))
  }
  const move = (to: number): void => { if (items.length > 0) setFocus(Math.max(0, Math.min(items.length - 1, to))) }
  const focused = items[focus]
  const focusedRef = useRef(focused)
  focusedRef.current = focused
  // Enter opens the focused row, but only from the page itself: on a button, link or field it keeps its meaning
  useEffect(() => {
    const onEnter = (event: KeyboardEvent): void => {
      if (event.key !== 'Enter' || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) return
      const target = event.target as HTMLElement | null
      const row = focusedRef.current
      if (row === undefined || (target !== null && target !== document.body && !target.classList.contains('trace-row'))) return
      event.preventDefault()
      navigate(`/trace/${row.traceId}`)
    }
    document.addEventListener('keydown', onEnter)
    return () => document.removeEventListener('keydown', onEnter)
  }, [])
  useKeys({
    j: () => move(focus + 1),
    ArrowDown: () => move(focus + 1),
    k: () => move(focus - 1),
    ArrowUp: () => move(focus - 1),
    'g g': () => move(0),
    G: () => move(items.length - 1),
    x: () => { if (focused !== undefined) toggle(focused) },
    c: compare,
    '/': () => searchRef.current?.focus(),
  })

  const columns = COLUMNS.filter((column) => !hidden.includes(column.id))
  const shownIds = new Set(items.map((item) => item.traceId))
  const allSelected = shownIds.size > 0 && [...shownIds].every((id) => selected.has(id))
  const toggleAll = (): void => setSelected(allSelected ? new Map() : new Map(items.map((item) => [item.traceId, item.startedAt])))
  const filtered = filters !== ''
  const sortLabel = SORTS.find(([value]) => value === sort)?.[1] ?? sort

  return (
    <main class="list-page">
      <FilterForm query={query} searchRef={searchRef} onJump={(traceId) => navigate(`/trace/${traceId}`)} onError={setError} />
      <ChipBar query={query}>
        <ColumnsMenu hidden={hidden} toggle={toggleColumn} />
        {sort === 'newest' && (
          <button type="button" class={`chip live-toggle${paused ? ' paused' : ''}`} aria-pressed={paused} onClick={() => setPaused(!paused)}>
            {paused ? '▶ resume live' : '❚❚ pause live'}
          </button>
        )}
      </ChipBar>
      <ActiveChips query={query} />
      <div class="list-head">
        <span class="list-count" data-testid="list-count">
          {sort !== 'newest' ? `top ${items.length} by ${sortLabel}` : `showing ${items.length.toLocaleString()}`}
          {total !== null ? ` of ${total.toLocaleString()}` : ''}
        </span>
        {selected.size > 0 && (
          <span class="selection">
            {`${selected.size} selected `}
            <button type="button" disabled={selected.size !== 2} title="compare the two selected traces (c)" onClick={compare}>Compare</button>
            <button type="button" onClick={exportSelection}>Download JSONL</button>
            <button type="button" onClick={() => setSelected(new Map())}>clear</button>
          </span>
        )}
      </div>
      <LiveBar count={fresh} onShow={reload} />
      {error !== null && <p class="err" role="alert">{error}</p>}
      <table class="traces">
        <TableHead columns={columns} allSelected={allSelected} toggleAll={toggleAll} />
        <tbody ref={tbody}>
          {items.map((item, index) => (
            <Row
              key={`${item.traceId}:${item.rootSpanId ?? ''}`}
              item={item}
              columns={columns}
              selected={selected.has(item.traceId)}
              focused={index === focus}
              onSelect={() => toggle(item)}
              onFocus={() => setFocus(index)}
            />
          ))}
        </tbody>
      </table>
      {!loading && items.length === 0 && error === null && (filtered ? (
        <p class="muted">No traces match.</p>
      ) : (
        <div class="empty" data-testid="empty-store">
          <p>No traces yet.</p>
          <p>Run <code>npx tracellm demo</code> to write a few example traces into this store, or trace your own code (<code>trace()</code>, <code>traceTool()</code>) and run it.</p>
        </div>
      ))}
      <div ref={sentinel} class="sentinel" />
      {cursor !== null && <p><button type="button" disabled={loading} onClick={() => void load(cursor)}>Load more</button></p>}
      {loading && items.length > 0 && <p class="muted">loading…</p>}
    </main>
  )
}
