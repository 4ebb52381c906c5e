// The list's state in the URL (docs/ui.md#traces-list-in-detail): every filter, the text scope and the
// sort are query parameters of `/`, so a view can be bookmarked, reloaded or shared.
import { navigate } from '../router.js'

/** The filters of the list, as the API names them. */
export const FILTERS = ['text', 'scope', 'status', 'project', 'environment', 'prompt', 'model', 'since', 'until', 'idPrefix', 'replayOf'] as const
export type FilterName = (typeof FILTERS)[number]

/** The facets shown as dropdown chips, with the traces each value has. */
export const FACETS = ['project', 'environment', 'prompt', 'model'] as const
export type FacetName = (typeof FACETS)[number]

export const SORTS = [
  ['newest', 'newest first'],
  ['slowest', 'slowest'],
  ['costliest', 'most expensive'],
  ['retries', 'most retries'],
] as const

export const SCOPES = ['all', 'input', 'output', 'error', 'metadata'] as const

/** The time presets: `since` as a duration back from now (the store's `90s/12h/7d` grammar). */
export const PRESETS = ['15m', '1h', '24h', '7d', '30d'] as const

export const PAGE_SIZE = 50

/** The filters of `query` that are set (`scope` only with a text, `all` left out), without `omit`. */
export function filterParams(query: URLSearchParams, omit: ReadonlyArray<string> = []): URLSearchParams {
  const params = new URLSearchParams()
  for (const name of FILTERS) {
    const value = query.get(name)
    if (value === null || value === '' || omit.includes(name)) continue
    if (name === 'scope' && (value === 'all' || !query.get('text'))) continue
    params.set(name, value)
  }
  return params
}

/** The sort of the URL; `newest` when absent. */
export function sortOf(query: URLSearchParams): string {
  return query.get('sort') || 'newest'
}

/** A key that changes whenever the list must be fetched again. */
export function listKey(query: URLSearchParams): string {
  return `${filterParams(query).toString()}|${sortOf(query)}`
}

/** Sets (or, for null and '', removes) parameters of `/`, as a new history entry. */
export function setFilters(changes: Readonly<Record<string, string | null>>): void {
  const url = new URL(location.href)
  for (const [name, value] of Object.entries(changes)) {
    if (value === null || value === '') url.searchParams.delete(name)
    else url.searchParams.set(name, value)
  }
  if (url.searchParams.get('sort') === 'newest') url.searchParams.delete('sort')
  if (url.searchParams.get('scope') === 'all') url.searchParams.delete('scope')
  const search = url.searchParams.toString()
  navigate(search === '' ? '/' : `/?${search}`)
}

/** 4 to 32 hex characters: what the search box treats as an id to jump to. */
export const ID_PREFIX = /^[0-9a-f]{4,32}$/i
