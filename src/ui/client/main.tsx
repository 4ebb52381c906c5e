// The viewer's browser client: the traces list (`/`) and the trace page (`/trace/<id>?step=<id>`).
// Rule: everything that comes from a trace is rendered as text (Preact text nodes), never as HTML.
import { render } from 'preact'
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks'
import { Virtualizer, elementScroll, observeElementOffset, observeElementRect } from '@tanstack/virtual-core'

// ---------------------------------------------------------------- API

async function api<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
  const body = (await response.json().catch(() => ({}))) as { error?: string }
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`)
  return body as T
}

interface Summary {
  traceId: string
  rootSpanId: string | null
  parentStepId: string | null
  replayOf: string | null
  project: string
  environment: string
  prompt: string
  modelName: string | null
  status: string
  startedAt: string
  durationMs: number
  stepCount: number
  inputTokens: number
  outputTokens: number
  costUsd: number | null
  inputPreview: string | null
  outputPreview: string | null
  errorType: string | null
  errorMessage: string | null
}

type Gated = { inline: true; value: unknown } | { inline: false; preview: string; bytes: number; rawUrl: string }

interface Skeleton {
  traceId: string
  count: number
  startedAt: string | null
  columns: {
    stepId: string[]; parentStepId: (string | null)[]; doc: (string | null)[]; name: string[]; kind: string[]; status: string[]
    offsetMs: number[]; durationMs: number[]; attempts: number[]; retries: number[]; model: (string | null)[]
    errorPreview: (string | null)[]
  }
}

// ---------------------------------------------------------------- routing

function navigate(url: string, replace = false): void {
  if (replace) history.replaceState(null, '', url)
  else history.pushState(null, '', url)
  dispatchEvent(new PopStateEvent('popstate'))
}

function useLocation(): URL {
  const [href, setHref] = useState(location.href)
  useEffect(() => {
    const update = (): void => setHref(location.href)
    addEventListener('popstate', update)
    return () => removeEventListener('popstate', update)
  }, [])
  return new URL(href)
}

/** A same-origin link that routes on the client (plain clicks only; modified clicks open normally). */
function Link(props: { href: string; class?: string; children: preact.ComponentChildren }) {
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

// ---------------------------------------------------------------- formatting (all to text)

const short = (id: string): string => id.slice(0, 8)
const time = (iso: string): string => {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString()
}
const duration = (ms: number | null | undefined): string =>
  ms == null ? '' : ms < 1000 ? `${Math.round(ms * 10) / 10} ms` : `${(ms / 1000).toFixed(2)} s`
const cost = (usd: number | null): string => (usd == null ? '' : `$${usd.toFixed(4)}`)
const pretty = (value: unknown): string => {
  if (value === undefined) return ''
  if (typeof value === 'string') return value
  try { return JSON.stringify(value, null, 2) } catch { return String(value) }
}

function Field(props: { label: string; field: Gated | undefined }) {
  const field = props.field
  if (field === undefined) return null
  return (
    <section>
      <h4>{props.label}</h4>
      {field.inline ? (
        <pre class="json">{pretty(field.value)}</pre>
      ) : (
        <div>
          <p class="muted">
            {`Preview of ${field.bytes.toLocaleString()} bytes. `}
            <a href={field.rawUrl} target="_blank" rel="noopener noreferrer">Open the whole value (raw JSON)</a>
          </p>
          <pre class="json">{field.preview}</pre>
        </div>
      )}
    </section>
  )
}

// ---------------------------------------------------------------- traces list

const FILTERS = ['text', 'status', 'project', 'environment', 'prompt', 'model', 'since', 'idPrefix'] as const

function TracesPage(props: { url: URL }) {
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

// ---------------------------------------------------------------- trace page

interface Row { index: number; depth: number; hasChildren: boolean }

function TracePage(props: { traceId: string; url: URL }) {
  const { traceId } = props
  const selected = props.url.searchParams.get('step')
  const [trace, setTrace] = useState<{ documents: Array<Record<string, unknown>> } | null>(null)
  const [skeleton, setSkeleton] = useState<Skeleton | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set())

  useEffect(() => {
    setTrace(null); setSkeleton(null); setError(null)
    Promise.all([api<{ documents: Array<Record<string, unknown>> }>(`/api/traces/${traceId}`), api<Skeleton>(`/api/traces/${traceId}/steps`)])
      .then(([doc, steps]) => { setTrace(doc); setSkeleton(steps) })
      .catch((caught: unknown) => setError(caught instanceof Error ? caught.message : String(caught)))
  }, [traceId])

  const children = useMemo(() => {
    const map = new Map<string | null, number[]>()
    if (skeleton === null || trace === null) return map
    const ids = new Set(skeleton.columns.stepId)
    // a document continued from another service hangs its root steps under the caller's span
    const callerOf = new Map<string, string>()
    for (const document of trace.documents) {
      if (typeof document.rootSpanId === 'string' && typeof document.parentStepId === 'string') callerOf.set(document.rootSpanId, document.parentStepId)
    }
    skeleton.columns.stepId.forEach((_, index) => {
      const doc = skeleton.columns.doc[index] ?? null
      const parent = skeleton.columns.parentStepId[index] ?? (doc !== null ? callerOf.get(doc) ?? null : null)
      const key = parent !== null && ids.has(parent) ? parent : null
      const list = map.get(key) ?? []
      list.push(index)
      map.set(key, list)
    })
    for (const list of map.values()) list.sort((a, b) => (skeleton.columns.offsetMs[a] ?? 0) - (skeleton.columns.offsetMs[b] ?? 0))
    return map
  }, [skeleton, trace])

  const rows = useMemo(() => {
    const out: Row[] = []
    if (skeleton === null) return out
    const stack: Array<{ index: number; depth: number }> = (children.get(null) ?? []).map((index) => ({ index, depth: 0 })).reverse()
    while (stack.length > 0) {
      const { index, depth } = stack.pop()!
      const id = skeleton.columns.stepId[index]!
      const kids = children.get(id) ?? []
      out.push({ index, depth, hasChildren: kids.length > 0 })
      if (!collapsed.has(id)) for (let k = kids.length - 1; k >= 0; k--) stack.push({ index: kids[k]!, depth: depth + 1 })
    }
    return out
  }, [skeleton, children, collapsed])

  const doc = trace?.documents.find((document) => document.parentStepId == null) ?? trace?.documents[0]
  const select = (stepId: string | null): void => {
    const url = new URL(location.href)
    if (stepId === null) url.searchParams.delete('step')
    else url.searchParams.set('step', stepId)
    navigate(url.pathname + url.search, true)
  }
  const toggle = (stepId: string): void => {
    const next = new Set(collapsed)
    if (next.has(stepId)) next.delete(stepId)
    else next.add(stepId)
    setCollapsed(next)
  }

  return (
    <main>
      <p><Link href="/">← all traces</Link></p>
      {error !== null && <p class="err" role="alert">{error}</p>}
      {doc !== undefined && (
        <div class="summary">
          <h2>{String(doc.prompt ?? '')} <span class={`status-${String(doc.status)}`}>{String(doc.status ?? '')}</span></h2>
          <dl class="meta">
            <dt>trace</dt><dd class="mono">{traceId}</dd>
            <dt>project</dt><dd>{`${String(doc.project ?? '')} / ${String(doc.environment ?? '')}`}</dd>
            <dt>started</dt><dd>{time(String(doc.startedAt ?? ''))}</dd>
            <dt>duration</dt><dd>{duration(doc.durationMs as number)}</dd>
            <dt>documents</dt><dd>{String(trace!.documents.length)}</dd>
          </dl>
        </div>
      )}
      {skeleton !== null && (
        <div class="trace-layout">
          <StepTree skeleton={skeleton} rows={rows} selected={selected} collapsed={collapsed} onSelect={select} onToggle={toggle} />
          <div class="pane">
            {selected !== null ? <StepPane traceId={traceId} stepId={selected} /> : <TraceFields doc={doc} />}
          </div>
        </div>
      )}
    </main>
  )
}

function TraceFields(props: { doc: Record<string, unknown> | undefined }) {
  const doc = props.doc
  if (doc === undefined) return null
  return (
    <div>
      <p class="muted">Click a step to see its input, output, errors and metadata.</p>
      <Field label="Trace input" field={doc.input as Gated | undefined} />
      <Field label="Trace output" field={doc.output as Gated | undefined} />
      <Field label="Trace error" field={doc.error as Gated | undefined} />
    </div>
  )
}

const ROW_HEIGHT = 26

function StepTree(props: {
  skeleton: Skeleton; rows: Row[]; selected: string | null; collapsed: ReadonlySet<string>
  onSelect: (stepId: string) => void; onToggle: (stepId: string) => void
}) {
  const { skeleton, rows } = props
  const scrollRef = useRef<HTMLDivElement>(null)
  const [, rerender] = useState(0)
  const virtualizer = useMemo(
    () =>
      new Virtualizer<HTMLDivElement, HTMLDivElement>({
        count: rows.length,
        getScrollElement: () => scrollRef.current,
        estimateSize: () => ROW_HEIGHT,
        overscan: 8,
        scrollToFn: elementScroll,
        observeElementRect,
        observeElementOffset,
        onChange: () => rerender((n) => n + 1),
      }),
    [],
  )
  virtualizer.setOptions({ ...virtualizer.options, count: rows.length })
  useEffect(() => virtualizer._didMount(), [virtualizer])
  useLayoutEffect(() => { virtualizer._willUpdate() })

  // a deep-linked step: scroll it into view once
  const scrolled = useRef(false)
  useEffect(() => {
    if (scrolled.current || props.selected === null) return
    const at = rows.findIndex((row) => skeleton.columns.stepId[row.index] === props.selected)
    if (at >= 0) { scrolled.current = true; virtualizer.scrollToIndex(at, { align: 'center' }) }
  }, [rows, props.selected])

  const total = skeleton.columns.offsetMs.reduce((max, offset, i) => Math.max(max, offset + (skeleton.columns.durationMs[i] ?? 0)), 0) || 1
  const c = skeleton.columns
  return (
    <div class="tree" ref={scrollRef} data-testid="step-tree">
      <div class="tree-inner" style={{ height: `${virtualizer.getTotalSize()}px` }}>
        {virtualizer.getVirtualItems().map((item) => {
          const row = rows[item.index]
          if (row === undefined) return null
          const i = row.index
          const id = c.stepId[i]!
          const offset = c.offsetMs[i] ?? 0
          const length = c.durationMs[i] ?? 0
          const status = c.status[i] ?? ''
          return (
            <div
              key={id}
              class={`step-row${props.selected === id ? ' selected' : ''}`}
              data-step-id={id}
              style={{ transform: `translateY(${item.start}px)` }}
              onClick={() => props.onSelect(id)}
              title={c.errorPreview[i] ?? ''}
            >
              <span class="step-name" style={{ paddingLeft: `${row.depth * 14}px` }}>
                <span
                  class="toggle"
                  onClick={(event) => { if (row.hasChildren) { event.stopPropagation(); props.onToggle(id) } }}
                >
                  {row.hasChildren ? (props.collapsed.has(id) ? '▸' : '▾') : ''}
                </span>
                {c.name[i] ?? ''}
                {(c.retries[i] ?? 0) > 0 ? ` (${c.attempts[i]} attempts)` : ''}
              </span>
              <span class="muted">{c.kind[i] ?? ''}</span>
              <span class={`status-${status}`}>{status}</span>
              <span class="muted">{duration(length)}</span>
              <span class="bar-track">
                <span
                  class={`bar${status === 'error' ? ' error' : ''}`}
                  style={{ left: `${(offset / total) * 100}%`, width: `${Math.max((length / total) * 100, 0.2)}%` }}
                />
              </span>
            </div>
          )
        })}
      </div>
    </div>
  )
}

const TABS = ['Input', 'Output', 'Error & attempts', 'Metadata', 'Raw'] as const
type Tab = (typeof TABS)[number]

interface StepDetail {
  stepId: string; name: string; kind: string; status: string; durationMs: number; attempts: number; retries: number
  fields: { input?: Gated; output?: Gated; error?: Gated; attemptErrors?: Gated; metadata?: Gated }
  [key: string]: unknown
}

function StepPane(props: { traceId: string; stepId: string }) {
  const [tab, setTab] = useState<Tab>('Input')
  const [step, setStep] = useState<StepDetail | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    setStep(null); setError(null)
    api<StepDetail>(`/api/traces/${props.traceId}/steps/${props.stepId}`)
      .then(setStep)
      .catch((caught: unknown) => setError(caught instanceof Error ? caught.message : String(caught)))
  }, [props.traceId, props.stepId])

  if (error !== null) return <p class="err" role="alert">{error}</p>
  if (step === null) return <p class="muted">Loading step…</p>
  const { fields, ...header } = step
  return (
    <div data-testid="step-pane" data-step-id={step.stepId}>
      <h3>{step.name} <span class="muted">{step.kind}</span> <span class={`status-${step.status}`}>{step.status}</span></h3>
      <div class="tabs" role="tablist">
        {TABS.map((name) => (
          <button type="button" role="tab" class={tab === name ? 'active' : ''} aria-selected={tab === name} onClick={() => setTab(name)}>{name}</button>
        ))}
      </div>
      <div role="tabpanel" data-tab={tab}>
        {tab === 'Input' && (fields.input ? <Field label="Input" field={fields.input} /> : <p class="muted">No input captured.</p>)}
        {tab === 'Output' && (fields.output ? <Field label="Output" field={fields.output} /> : <p class="muted">No output captured.</p>)}
        {tab === 'Error & attempts' && (
          <div>
            <p>{`${step.attempts} attempt(s), ${step.retries} retr${step.retries === 1 ? 'y' : 'ies'}`}</p>
            {fields.error && !(fields.error.inline && fields.error.value === null) ? <Field label="Error" field={fields.error} /> : <p class="muted">No error.</p>}
            <Field label="Attempt errors" field={fields.attemptErrors} />
          </div>
        )}
        {tab === 'Metadata' && (
          <div>
            <dl class="meta">
              {Object.entries(header).map(([key, value]) => [<dt>{key}</dt>, <dd class="mono">{pretty(value)}</dd>])}
            </dl>
            <Field label="Metadata" field={fields.metadata} />
          </div>
        )}
        {tab === 'Raw' && <pre class="json">{pretty(step)}</pre>}
      </div>
    </div>
  )
}

// ---------------------------------------------------------------- app

function App() {
  const url = useLocation()
  const match = /^\/trace\/([0-9a-f]{32})\/?$/.exec(url.pathname)
  return (
    <div>
      <header class="top">
        <h1><Link href="/">tracellm</Link></h1>
        <span class="muted">local trace viewer</span>
      </header>
      {match !== null ? <TracePage traceId={match[1]!} url={url} /> : url.pathname === '/' ? <TracesPage url={url} /> : <main><p>No such page.</p></main>}
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
