// The list's filters (docs/ui.md#traces-list-in-detail): the search form (text, scope, status, custom
// time range, sort), facet dropdown chips with counts, time presets, and the active filters as removable
// chips. Every change goes into the URL (list/query.ts); the page reloads from there.
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, messageOf } from '../api.js'
import { Link } from '../router.js'
import { FACETS, filterParams, FILTERS, ID_PREFIX, PRESETS, SCOPES, setFilters, SORTS, sortOf, type FacetName } from './query.js'

/** What a search box entry does: jump to the one trace its hex prefix names, filter by id prefix, or search text. */
async function searchOrJump(text: string): Promise<Record<string, string | null>> {
  if (ID_PREFIX.test(text)) {
    const prefix = text.toLowerCase()
    const page = await api<{ items: Array<{ traceId: string }> }>(`/api/traces?idPrefix=${prefix}&limit=3`)
    const ids = [...new Set(page.items.map((item) => item.traceId))]
    if (ids.length === 1) return { jump: ids[0]! }
    if (ids.length > 1) return { idPrefix: prefix, text: null, scope: null }
  }
  return { text }
}

/** The search form: text with its scope, status, custom since/until and the sort. Enter or Apply submits. */
export function FilterForm(props: { query: URLSearchParams; searchRef: { current: HTMLInputElement | null }; onJump: (traceId: string) => void; onError: (message: string) => void }) {
  const query = props.query
  const onSubmit = async (event: Event): Promise<void> => {
    event.preventDefault()
    const form = new FormData(event.currentTarget as HTMLFormElement)
    const field = (name: string): string | null => {
      const value = form.get(name)
      return typeof value === 'string' && value.trim() !== '' ? value.trim() : null
    }
    const changes: Record<string, string | null> = { text: null, scope: field('scope'), status: field('status'), since: field('since'), until: field('until'), sort: field('sort') }
    const text = field('text')
    if (text !== null) {
      try {
        const outcome = await searchOrJump(text)
        if (outcome.jump !== undefined && outcome.jump !== null) return props.onJump(outcome.jump)
        Object.assign(changes, outcome)
      } catch (caught) {
        return props.onError(messageOf(caught))
      }
    }
    setFilters(changes)
  }
  const sort = sortOf(query)
  return (
    <form class="filters" onSubmit={(event) => void onSubmit(event)} key={`${filterParams(query).toString()}|${sort}`}>
      <input
        class="search" type="search" name="text" ref={props.searchRef} aria-label="text search, or a trace id prefix to jump to"
        placeholder="Search, or an id prefix to jump (/)" defaultValue={query.get('text') ?? ''}
      />
      <select name="scope" aria-label="search in" onChange={(event) => { if (query.get('text')) setFilters({ scope: (event.currentTarget as HTMLSelectElement).value }) }}>
        {SCOPES.map((scope) => <option key={scope} value={scope} selected={scope === (query.get('scope') ?? 'all')}>{scope === 'all' ? 'in everything' : `in ${scope}`}</option>)}
      </select>
      <select name="status" aria-label="status" onChange={(event) => setFilters({ status: (event.currentTarget as HTMLSelectElement).value })}>
        <option value="" selected={!query.get('status')}>any status</option>
        <option value="success" selected={query.get('status') === 'success'}>✓ success</option>
        <option value="error" selected={query.get('status') === 'error'}>✗ error</option>
      </select>
      <input name="since" class="time" placeholder="since: 12h, 7d, ISO date" aria-label="since" defaultValue={query.get('since') ?? ''} />
      <input name="until" class="time" placeholder="until: 2d, ISO date" aria-label="until" defaultValue={query.get('until') ?? ''} />
      <select name="sort" aria-label="sort" onChange={(event) => setFilters({ sort: (event.currentTarget as HTMLSelectElement).value })}>
        {SORTS.map(([value, label]) => <option key={value} value={value} selected={value === sort}>{label}</option>)}
      </select>
      <button type="submit">Apply</button>
    </form>
  )
}

/** A facet as a dropdown chip: opening it fetches the value counts among the traces the other filters match. */
export function FacetChip(props: { field: FacetName; query: URLSearchParams }) {
  const [open, setOpen] = useState(false)
  const [values, setValues] = useState<Array<{ value: string; count: number }> | null>(null)
  const [error, setError] = useState<string | null>(null)
  const box = useRef<HTMLSpanElement>(null)
  const current = props.query.get(props.field)
  const others = filterParams(props.query, [props.field]).toString()
  useEffect(() => {
    if (!open) return
    const controller = new AbortController()
    setValues(null)
    setError(null)
    fetch(`/api/facets?field=${props.field}${others === '' ? '' : `&${others}`}`, { signal: controller.signal, credentials: 'same-origin' })
      .then(async (response) => {
        const body = (await response.json()) as { values?: Array<{ value: string; count: number }>; error?: string }
        if (!response.ok) throw new Error(body.error ?? String(response.status))
        setValues(body.values ?? [])
      })
      .catch((caught: unknown) => { if (!controller.signal.aborted) setError(messageOf(caught)) })
    // a click anywhere else closes it
    const close = (event: MouseEvent): void => { if (box.current !== null && !box.current.contains(event.target as Node)) setOpen(false) }
    document.addEventListener('mousedown', close)
    return () => { controller.abort(); document.removeEventListener('mousedown', close) }
  }, [open, others])
  const pick = (value: string | null): void => {
    setOpen(false)
    setFilters({ [props.field]: value })
  }
  return (
    <span class="facet" ref={box} data-facet={props.field}>
      <button type="button" class={`chip${current !== null ? ' active' : ''}`} aria-expanded={open} onClick={() => setOpen(!open)}>
        {current !== null ? `${props.field}: ${current} ▾` : `${props.field} ▾`}
      </button>
      {open && (
        <div class="facet-menu" role="listbox" aria-label={`${props.field} values`}>
          {error !== null && <p class="err">{error}</p>}
          {values === null && error === null && <p class="muted">counting…</p>}
          {values !== null && values.length === 0 && <p class="muted">no values</p>}
          {values?.map((entry) => (
            <button type="button" role="option" key={entry.value} class="facet-value" aria-selected={entry.value === current} data-value={entry.value} onClick={() => pick(entry.value)}>
              <span class="facet-name">{entry.value === '' ? '(empty)' : entry.value}</span>
              <span class="count">{entry.count.toLocaleString()}</span>
            </button>
          ))}
          {current !== null && <button type="button" class="facet-clear" onClick={() => pick(null)}>any {props.field}</button>}
        </div>
      )}
    </span>
  )
}

/** The facet chips and the time presets. */
export function ChipBar(props: { query: URLSearchParams; children?: preact.ComponentChildren }) {
  const since = props.query.get('since')
  const until = props.query.get('until')
  return (
    <div class="chip-bar">
      {FACETS.map((field) => <FacetChip key={field} field={field} query={props.query} />)}
      <span class="presets" role="group" aria-label="time range">
        {PRESETS.map((preset) => (
          <button type="button" key={preset} class={`chip preset${since === preset && until === null ? ' active' : ''}`} data-preset={preset} onClick={() => setFilters({ since: preset, until: null })}>
            {preset}
          </button>
        ))}
        <button type="button" class={`chip preset${since === null && until === null ? ' active' : ''}`} onClick={() => setFilters({ since: null, until: null })}>all time</button>
      </span>
      {props.children}
    </div>
  )
}

const LABELS: Readonly<Record<string, string>> = { idPrefix: 'id', replayOf: 'replays of', text: 'text', scope: 'in' }

/** Every active filter as a chip; × removes it. */
export function ActiveChips(props: { query: URLSearchParams }) {
  const active = FILTERS.filter((name) => {
    const value = props.query.get(name)
    return value !== null && value !== '' && !(name === 'scope' && value === 'all')
  })
  if (active.length === 0) return null
  return (
    <div class="active-chips" aria-label="active filters">
      {active.map((name) => (
        <span class="chip active" key={name} data-filter={name}>
          {`${LABELS[name] ?? name}: ${props.query.get(name) ?? ''}`}
          <button type="button" class="remove" aria-label={`remove the ${name} filter`} onClick={() => setFilters(name === 'text' ? { text: null, scope: null } : { [name]: null })}>×</button>
        </span>
      ))}
      <Link href="/">clear all</Link>
    </div>
  )
}
