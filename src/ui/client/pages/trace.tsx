// The trace page, `/trace/<id>?step=<stepId>&view=table&zoom=a-b` (docs/ui.md#trace-page-in-detail):
// the header, a toolbar (views, find, toggles), the Waterfall / Messages / Table / Stats views and the
// step pane. The tree, self times, the critical path and the stats are computed once per skeleton.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { api, messageOf, type Gated, type Skeleton } from '../api.js'
import { CompareWith } from '../compare/compare-with.js'
import { Field } from '../field.js'
import { useKeys } from '../keys.js'
import { Link, navigate, setParams } from '../router.js'
import { findSteps, parseQuery } from '../trace/find.js'
import { entryOf, TraceHeader } from '../trace/header.js'
import { MessagesView } from '../trace/messages.js'
import {
  allParents, buildTree, collapseOneLevel, compressedAxis, criticalPath, expandOneLevel, expandTo, idleGaps, idleShare, LINEAR,
  selfTimes, statsOf, visibleRows, type CriticalSection,
} from '../trace/model.js'
import { newerTrace, olderTrace } from '../trace/neighbours.js'
import { usePreviews } from '../trace/use-previews.js'
import { DeleteButton } from '../trace/delete-button.js'
import { StepPane } from '../trace/step-pane.js'
import { sortSteps, StatsView, TableView, type TableSort } from '../trace/table.js'
import { formatZoom, parseZoom, scaleZoom, type Zoom } from '../trace/timeline.js'
import { Toolbar, VIEWS, type View } from '../trace/toolbar.js'
import { Waterfall } from '../trace/tree.js'

type Doc = Record<string, unknown>

const stored = (key: string): boolean => { try { return localStorage.getItem(key) === '1' } catch { return false } }
const store = (key: string, on: boolean): void => { try { localStorage.setItem(key, on ? '1' : '0') } catch { /* private mode */ } }

export function TracePage(props: { traceId: string; url: URL }) {
  const { traceId, url } = props
  const [documents, setDocuments] = useState<Doc[] | null>(null)
  const [skeleton, setSkeleton] = useState<Skeleton | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [collapsed, setCollapsed] = useState<ReadonlySet<number>>(new Set())
  const [dragZoom, setDragZoom] = useState<Zoom | null>(null)
  const [showCritical, setShowCritical] = useState(() => stored('tracellm.critical'))
  const [showSelf, setShowSelf] = useState(() => stored('tracellm.selfTime'))
  const [compress, setCompress] = useState(false)
  const [find, setFind] = useState('')
  const [current, setCurrent] = useState(-1)
  const [tableSort, setTableSort] = useState<TableSort>({ key: 'start', descending: false })
  const findRef = useRef<HTMLInputElement>(null)

  useEffect(() => {
    setDocuments(null); setSkeleton(null); setError(null); setNotice(null); setCollapsed(new Set()); setFind(''); setCurrent(-1)
    Promise.all([api<{ documents: Doc[] }>(`/api/traces/${traceId}`), api<Skeleton>(`/api/traces/${traceId}/steps`)])
      .then(([header, steps]) => { setDocuments(header.documents); setSkeleton(steps) })
      .catch((caught: unknown) => setError(messageOf(caught)))
  }, [traceId])

  const tree = useMemo(() => {
    if (skeleton === null || documents === null) return null
    // a document continued from another service hangs its root steps under the caller's span
    const callerOf = new Map<string, string>()
    for (const d of documents) if (typeof d.rootSpanId === 'string' && typeof d.parentStepId === 'string') callerOf.set(d.rootSpanId, d.parentStepId)
    return buildTree(skeleton, callerOf)
  }, [skeleton, documents])
  const indexOf = useMemo(() => new Map(skeleton?.columns.stepId.map((id, i) => [id, i]) ?? []), [skeleton])
  const self = useMemo(() => (skeleton !== null && tree !== null ? selfTimes(skeleton, tree) : new Float64Array(0)), [skeleton, tree])
  const critical = useMemo(() => {
    if (!showCritical || skeleton === null || tree === null) return null
    const byStep = new Map<number, CriticalSection[]>()
    for (const section of criticalPath(skeleton, tree)) byStep.set(section.index, [...(byStep.get(section.index) ?? []), section])
    return byStep
  }, [showCritical, skeleton, tree])
  const rows = useMemo(() => (tree === null ? [] : visibleRows(tree, collapsed)), [tree, collapsed])
  const gaps = useMemo(() => (skeleton !== null && tree !== null ? idleGaps(skeleton, tree) : []), [skeleton, tree])
  const idleOffered = tree !== null && idleShare(gaps, tree.total) > 0.5
  const axis = useMemo(() => (compress && idleOffered && tree !== null ? compressedAxis(gaps, tree.total) : LINEAR), [compress, idleOffered, gaps, tree])

  const view: View = (VIEWS as ReadonlyArray<string>).includes(url.searchParams.get('view') ?? '') ? (url.searchParams.get('view') as View) : 'waterfall'
  const stats = useMemo(() => (view === 'stats' && skeleton !== null ? statsOf(skeleton, self) : []), [view, skeleton, self])
  const tableOrder = useMemo(() => (view === 'table' && skeleton !== null ? sortSteps(skeleton, self, tableSort) : []), [view, skeleton, self, tableSort])
  const total = tree?.total ?? 1
  const zoom = dragZoom ?? parseZoom(url.searchParams.get('zoom'), total)
  const stepParam = url.searchParams.get('step')
  const selected = stepParam === null ? -1 : indexOf.get(stepParam) ?? -1

  const query = useMemo(() => parseQuery(find), [find])
  // asked for only when a word is searched: loading them while the page starts would re-render it
  const previews = usePreviews(traceId, tree !== null && query.terms.some((term) => term.type === 'text'))
  const matches = useMemo(() => (skeleton === null || tree === null ? [] : findSteps(skeleton, tree.order, query, previews)), [skeleton, tree, query, previews])
  const matchSet = useMemo(() => new Set(matches), [matches])
  // matching rows are shown: their collapsed ancestors open
  useEffect(() => { if (tree !== null && matches.length > 0) setCollapsed((was) => expandTo(tree, was, matches)) }, [matches])

  const select = (index: number | null): void => {
    const id = index === null || index < 0 ? null : skeleton?.columns.stepId[index] ?? null
    if (index !== null && index >= 0 && tree !== null) setCollapsed((was) => expandTo(tree, was, [index]))
    setParams({ step: id })
  }
  const toggle = (index: number): void => {
    const next = new Set(collapsed)
    if (next.has(index)) next.delete(index)
    else next.add(index)
    setCollapsed(next)
  }
  const setView = (next: View): void => setParams({ view: next === 'waterfall' ? null : next })
  const setZoom = (next: Zoom, done = true): void => {
    if (!done) { setDragZoom(next); return }
    setDragZoom(null)
    setParams({ zoom: formatZoom(next, total) })
  }
  const goMatch = (delta: number): void => {
    if (matches.length === 0) return
    const next = current < 0 ? (delta > 0 ? 0 : matches.length - 1) : (current + delta + matches.length) % matches.length
    setCurrent(next)
    select(matches[next]!)
  }
  /** The next step after the selection, in the tree's order, that `test` accepts (wrapping around). */
  const jumpTo = (test: (index: number) => boolean, what: string): void => {
    if (tree === null) return
    const from = selected < 0 ? -1 : tree.position[selected]!
    for (let k = 1; k <= tree.count; k++) {
      const i = tree.order[(from + k) % tree.count]!
      if (test(i)) { select(i); return }
    }
    setNotice(`No ${what} step in this trace.`)
  }
  const neighbour = (older: boolean): void => {
    const startedAt = entryOf(documents ?? [])?.startedAt
    if (typeof startedAt !== 'string') return
    setNotice(older ? 'Looking for the next older trace…' : 'Looking for the next newer trace…')
    ;(older ? olderTrace(traceId, startedAt) : newerTrace(traceId, startedAt)).then(
      (id) => { if (id === null) setNotice(older ? 'This is the oldest trace.' : 'This is the newest trace.'); else navigate(`/trace/${id}`) },
      (caught: unknown) => setNotice(messageOf(caught)),
    )
  }
  /** Row order of the current view, for j / k / g g / G. */
  const treeOrder = useMemo(() => rows.filter((row) => !row.summary).map((row) => row.index), [rows])
  const order: ReadonlyArray<number> = view === 'table' ? tableOrder : treeOrder
  const move = (delta: number | 'first' | 'last'): void => {
    if (order.length === 0) return
    const at = selected < 0 ? -1 : order.indexOf(selected)
    const next = delta === 'first' ? 0 : delta === 'last' ? order.length - 1 : at < 0 ? (delta > 0 ? 0 : order.length - 1) : Math.min(order.length - 1, Math.max(0, at + delta))
    select(order[next]!)
  }
  const left = (): void => {
    if (tree === null || selected < 0) return
    if (tree.children[selected]!.length > 0 && !collapsed.has(selected)) toggle(selected)
    else if (tree.parent[selected]! >= 0) select(tree.parent[selected]!)
  }
  const right = (): void => {
    if (tree === null) return
    if (selected < 0) { move(1); return }
    if (tree.children[selected]!.length === 0) return
    if (collapsed.has(selected)) toggle(selected)
    else select(tree.children[selected]![0]!)
  }
  const c = skeleton?.columns
  useKeys({
    j: () => move(1), ArrowDown: () => move(1), k: () => move(-1), ArrowUp: () => move(-1),
    h: left, ArrowLeft: left, l: right, ArrowRight: right,
    Enter: () => { if (selected < 0) move(1) },
    'g g': () => move('first'), G: () => move('last'),
    '[': () => { if (tree !== null) setCollapsed(allParents(tree)) }, ']': () => setCollapsed(new Set()),
    J: () => neighbour(true), K: () => neighbour(false),
    e: () => jumpTo((i) => c?.status[i] === 'error', 'failed'),
    r: () => jumpTo((i) => (c?.retries[i] ?? 0) > 0, 'retried'),
    n: () => goMatch(1), N: () => goMatch(-1),
    '/': () => { findRef.current?.focus(); findRef.current?.select() },
    w: () => setView('waterfall'), m: () => setView('messages'), t: () => setView('table'), s: () => setView('stats'),
    '+': () => setZoom(scaleZoom(zoom, 0.5, total)), '=': () => setZoom(scaleZoom(zoom, 0.5, total)),
    '-': () => setZoom(scaleZoom(zoom, 2, total)), '0': () => setZoom([0, total]),
  })
  // Esc clears the find box, else closes the step pane. It is caught on the window before any document
  // listener, since the help overlay's own Esc marks every Esc as handled; while the overlay is open,
  // Esc is left to it.
  const escape = useRef<() => void>(() => undefined)
  escape.current = () => {
    if (find !== '' || document.activeElement === findRef.current) { setFind(''); setCurrent(-1); findRef.current?.blur() }
    else if (selected >= 0) select(null)
  }
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.key !== 'Escape' || event.ctrlKey || event.metaKey || event.altKey || document.querySelector('.overlay') !== null) return
      escape.current()
    }
    addEventListener('keydown', onKey, true)
    return () => removeEventListener('keydown', onKey, true)
  }, [])

  const doc = documents === null ? undefined : entryOf(documents)
  return (
    <main class="trace-page">
      <p class="trace-nav"><Link href="/">← all traces</Link><span class="muted">J / K: next older / newer trace</span>
        {notice !== null && <span class="muted" role="status" data-testid="notice">{notice}</span>}</p>
      {error !== null && <p class="err" role="alert">{error}</p>}
      {documents !== null && (
        <TraceHeader traceId={traceId} documents={documents} skeleton={skeleton}>
          <CompareWith traceId={traceId} prompt={String(doc?.prompt ?? '')} replayOf={typeof doc?.replayOf === 'string' ? doc.replayOf : null} />
          <DeleteButton traceId={traceId} onDeleted={() => navigate('/')} />
        </TraceHeader>
      )}
      {skeleton !== null && tree !== null && (
        <>
          <Toolbar
            view={view} onView={setView} findRef={findRef} find={find} error={query.error}
            onFind={(text) => { setFind(text); setCurrent(-1) }}
            matches={matches.length} current={current} onMatch={goMatch}
            critical={showCritical} onCritical={(on) => { setShowCritical(on); store('tracellm.critical', on) }}
            self={showSelf} onSelf={(on) => { setShowSelf(on); store('tracellm.selfTime', on) }}
            idle={idleOffered ? compress : null} onIdle={setCompress}
            onCollapse={(how) => setCollapsed(how === 'all' ? allParents(tree) : how === 'none' ? new Set() : how === 'less' ? collapseOneLevel(tree, collapsed) : expandOneLevel(tree, collapsed))}
            onZoom={(factor) => setZoom(factor === 0 ? [0, total] : scaleZoom(zoom, factor, total))}
          />
          <div class="trace-layout">
            <div class="trace-main">
              {view === 'waterfall' && (
                <Waterfall
                  skeleton={skeleton} tree={tree} rows={rows} selected={selected} collapsed={collapsed} zoom={zoom} axis={axis} onZoom={setZoom}
                  matches={matchSet} current={current < 0 ? -1 : matches[current] ?? -1} critical={critical} self={showSelf ? self : null}
                  onSelect={select} onToggle={toggle}
                />
              )}
              {view === 'messages' && <MessagesView traceId={traceId} skeleton={skeleton} onSelect={(id) => select(indexOf.get(id) ?? -1)} />}
              {view === 'table' && <TableView skeleton={skeleton} self={self} order={tableOrder} sort={tableSort} onSort={setTableSort} selected={selected} onSelect={select} />}
              {view === 'stats' && <StatsView lines={stats} onFind={(text) => { setFind(text); setCurrent(-1); setView('waterfall') }} />}
            </div>
            <div class="pane">
              {stepParam !== null ? <StepPane traceId={traceId} stepId={stepParam} url={url} /> : <TraceFields doc={doc} />}
            </div>
          </div>
        </>
      )}
    </main>
  )
}

function TraceFields(props: { doc: Doc | undefined }) {
  const doc = props.doc
  if (doc === undefined) return null
  return (
    <div>
      <p class="muted">Click a step (or press j) to see its input, output, errors and metadata.</p>
      <Field label="Trace input" field={doc.input as Gated | undefined} />
      <Field label="Trace output" field={doc.output as Gated | undefined} />
      {doc.error != null && !((doc.error as Gated).inline && (doc.error as { value?: unknown }).value === null) && <Field label="Trace error" field={doc.error as Gated} />}
    </div>
  )
}
