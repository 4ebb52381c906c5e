// The trace page, `/trace/<id>?step=<stepId>` (docs/ui.md#pages).
import { useEffect, useMemo, useState } from 'preact/hooks'
import { api, type Gated, type Skeleton, type TraceHeader } from '../api.js'
import { Field } from '../field.js'
import { duration, time } from '../format.js'
import { Link, navigate } from '../router.js'
import { StepPane } from '../trace/step-pane.js'
import { StepTree, type Row } from '../trace/tree.js'


export function TracePage(props: { traceId: string; url: URL }) {
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
            {selected !== null ? <StepPane traceId={traceId} stepId={selected} url={props.url} /> : <TraceFields doc={doc} />}
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
