// The traces list, `/` (docs/ui.md#pages).
import { useEffect, useState } from 'preact/hooks'
import { api, type Summary } from '../api.js'
import { cost, duration, short, time } from '../format.js'
import { Link, navigate } from '../router.js'

const FILTERS = ['text', 'status', 'project', 'environment', 'prompt', 'model', 'since', 'idPrefix'] as const

export function TracesPage(props: { url: URL }) {
  const query = props.url.searchParams
  const filterKey = FILTERS.map((name) => `${name}=${query.get(name) ?? ''}`).join('&')
  const [items, setItems] = useState<Summary[]>([])
  const [cursor, setCursor] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [loading, setLoading] = useState(false)

  const listUrl = (after: string | null): string => {
    const params = new URLSearchParams()
    for (const name of FILTERS) {
      const value = query.get(name)
      if (value) params.set(name, value)
    }
    params.set('limit', '50')
    if (after !== null) params.set('cursor', after)
    return `/api/traces?${params.toString()}`
  }

  const load = async (after: string | null): Promise<void> => {
    setLoading(true)
    try {
      const page = await api<{ items: Summary[]; nextCursor: string | null }>(listUrl(after))
      setItems((previous) => (after === null ? page.items : [...previous, ...page.items]))
      setCursor(page.nextCursor ?? null)
      setError(null)
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught))
    } finally {
      setLoading(false)
    }
  }

  useEffect(() => { setItems([]); void load(null) }, [filterKey])

  const onSubmit = (event: Event): void => {
    event.preventDefault()
    const form = new FormData(event.currentTarget as HTMLFormElement)
    const params = new URLSearchParams()
    for (const name of FILTERS) {
      const value = form.get(name)
      if (typeof value === 'string' && value.trim() !== '') params.set(name, value.trim())
    }
    const search = params.toString()
    navigate(search === '' ? '/' : `/?${search}`)
  }

  return (
    <main>
      <form class="filters" onSubmit={onSubmit} key={filterKey}>
        <input class="search" type="search" name="text" placeholder="Search input, output, errors…" value={query.get('text') ?? ''} aria-label="text search" />
        <select name="status" value={query.get('status') ?? ''} aria-label="status">
          <option value="">any status</option>
          <option value="success">success</option>
          <option value="error">error</option>
        </select>
        <input name="project" placeholder="project" value={query.get('project') ?? ''} />
        <input name="environment" placeholder="environment" value={query.get('environment') ?? ''} />
        <input name="prompt" placeholder="prompt" value={query.get('prompt') ?? ''} />
        <input name="model" placeholder="model" value={query.get('model') ?? ''} />
        <input name="since" placeholder="since (ISO date)" value={query.get('since') ?? ''} />
        <input name="idPrefix" placeholder="id prefix" value={query.get('idPrefix') ?? ''} />
        <button type="submit">Apply</button>
        <Link href="/">clear</Link>
      </form>
      {error !== null && <p class="err" role="alert">{error}</p>}
      <table class="traces">
        <colgroup>
          <col style={{ width: '150px' }} /><col style={{ width: '90px' }} /><col style={{ width: '140px' }} /><col style={{ width: '60px' }} />
          <col style={{ width: '70px' }} /><col style={{ width: '45px' }} /><col style={{ width: '80px' }} /><col style={{ width: '70px' }} />
          <col /><col /><col />
        </colgroup>
        <thead>
          <tr><th>time</th><th>id</th><th>prompt</th><th>status</th><th>duration</th><th>steps</th><th>tokens</th><th>cost</th><th>input</th><th>output</th><th>error</th></tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={`${item.traceId}:${item.rootSpanId ?? ''}`} class="trace-row" data-trace-id={item.traceId} data-continued={item.parentStepId !== null ? '' : undefined}>
              <td title={item.startedAt}>{time(item.startedAt)}</td>
              <td class="mono">
                {item.parentStepId !== null && <span title="continues a caller's trace">↳ </span>}
                {item.replayOf !== null && <span title={`replay of ${item.replayOf}`}>↺ </span>}
                <Link href={`/trace/${item.traceId}`}>{short(item.traceId)}</Link>
              </td>
              <td title={item.prompt}>{item.prompt}</td>
              <td class={`status-${item.status}`}>{item.status}</td>
              <td class="num">{duration(item.durationMs)}</td>
              <td class="num">{item.stepCount}</td>
              <td class="num">{item.inputTokens + item.outputTokens}</td>
              <td class="num">{cost(item.costUsd)}</td>
              <td title={item.inputPreview ?? ''}>{item.inputPreview ?? ''}</td>
              <td title={item.outputPreview ?? ''}>{item.outputPreview ?? ''}</td>
              <td class="err" title={item.errorMessage ?? ''}>{item.errorType !== null ? `${item.errorType}: ${item.errorMessage ?? ''}` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!loading && items.length === 0 && error === null && <p class="muted">No traces match.</p>}
      {cursor !== null && <p><button type="button" disabled={loading} onClick={() => void load(cursor)}>Load more</button></p>}
    </main>
  )
}
