// The compare page, `/compare?a=<id>&b=<id>&durationRatio=&ignore=` (docs/ui.md#compare): the two
// traces' steps aligned by `diffTraces` (by place in the tree, never by id), marked = ~ + -, with
// duration ratios, the changes at JSON paths and word diffs of long strings. The toggles live in the
// URL, so a reload or a shared link keeps them.
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, messageOf } from '../api.js'
import { Changes } from '../compare/changes.js'
import { CompareWith } from '../compare/compare-with.js'
import { formatRatio, type DiffJson, type DiffStep, type Side } from '../compare/types.js'
import { duration, short, time } from '../format.js'
import { useKeys } from '../keys.js'
import { Link, navigate, setParams } from '../router.js'

const MARKS: Readonly<Record<DiffStep['status'], string>> = { same: '=', changed: '~', added: '+', removed: '-' }
const RATIOS = ['1.5', '2', '3', '5', '10']
const IGNORABLE = ['duration', 'input', 'metadata'] as const
const TRACE_ID = /^[0-9a-f]{32}$/

export function ComparePage(props: { url: URL }) {
  const query = props.url.searchParams
  const a = query.get('a') ?? ''
  const b = query.get('b') ?? ''
  const ratio = query.get('durationRatio') ?? ''
  const ignore = (query.get('ignore') ?? '').split(',').filter((field) => field !== '')
  const [diff, setDiff] = useState<DiffJson | null>(null)
  const [error, setError] = useState<string | null>(null)
  const key = `${a}|${b}|${ratio}|${ignore.join(',')}`

  useEffect(() => {
    if (a === '' || b === '') return
    let live = true
    setError(null)
    const params = new URLSearchParams({ a, b })
    if (ratio !== '') params.set('durationRatio', ratio)
    if (ignore.length > 0) params.set('ignore', ignore.join(','))
    api<DiffJson>(`/api/diff?${params.toString()}`)
      .then((result) => { if (live) setDiff(result) })
      .catch((caught: unknown) => { if (live) { setDiff(null); setError(messageOf(caught)) } })
    return () => { live = false }
  }, [key])

  if (a === '' || b === '') return <main><PickIds a={a} b={b} /></main>

  const toggleIgnore = (field: string, on: boolean): void => {
    const next = IGNORABLE.filter((name) => (name === field ? on : ignore.includes(name)))
    setParams({ ignore: next.join(',') })
  }

  return (
    <main class="compare">
      <p><Link href="/">← all traces</Link></p>
      {error !== null && <p class="err" role="alert">{error}</p>}
      <form class="compare-controls" onSubmit={(event) => event.preventDefault()}>
        <label>
          {'changed when the duration changes by '}
          <select name="durationRatio" value={ratio} onChange={(event) => setParams({ durationRatio: (event.currentTarget as HTMLSelectElement).value })}>
            <option value="">never (ratios shown only)</option>
            {RATIOS.map((value) => <option value={value}>{`×${value} or more`}</option>)}
          </select>
        </label>
        <span class="muted">ignore:</span>
        {IGNORABLE.map((field) => (
          <label>
            <input type="checkbox" name={`ignore-${field}`} checked={ignore.includes(field)} onChange={(event) => toggleIgnore(field, (event.currentTarget as HTMLInputElement).checked)} />
            {field}
          </label>
        ))}
        <Link href={`/compare?${swapped(query)}`}>swap sides</Link>
      </form>
      {diff !== null && diff.a === a && diff.b === b && <DiffView diff={diff} />}
    </main>
  )
}

function DiffView(props: { diff: DiffJson }) {
  const { diff } = props
  const { summary } = diff
  const table = useRef<HTMLTableElement>(null)
  // n / N: the next / previous step that differs, scrolled into view and marked
  const step = (by: 1 | -1): void => {
    const rows = [...(table.current?.querySelectorAll<HTMLTableRowElement>('tr.diff-row:not(.diff-same)') ?? [])]
    if (rows.length === 0) return
    const at = rows.findIndex((row) => row.classList.contains('current'))
    rows[at]?.classList.remove('current')
    const next = rows[at === -1 ? (by === 1 ? 0 : rows.length - 1) : (at + by + rows.length) % rows.length]!
    next.classList.add('current')
    next.scrollIntoView({ block: 'nearest' })
  }
  useKeys({ n: () => step(1), N: () => step(-1) })
  const traceRatio = formatRatio(diff.trace.durationRatio)
  return (
    <div>
      <div class="compare-sides">
        <SideHeader label="A" side={diff.traces.a} />
        <SideHeader label="B" side={diff.traces.b} />
      </div>
      <p class="compare-summary" data-testid="compare-summary">
        <span class={diff.equal ? 'muted' : 'diff-changed-text'}>{diff.equal ? '= no differences' : '~ different'}</span>
        {`  ${summary.changed} changed, ${summary.added} added, ${summary.removed} removed, ${summary.same} same`}
        {traceRatio !== '' && <span class="ratio">{`  trace ${traceRatio}`}</span>}
      </p>
      {diff.trace.changes.length > 0 && (
        <section class="trace-changes" data-testid="trace-changes">
          <h4>The trace itself</h4>
          <Changes changes={diff.trace.changes} />
        </section>
      )}
      <table class="diff-table" data-testid="diff-table" ref={table}>
        <colgroup><col style={{ width: '28px' }} /><col /><col style={{ width: '80px' }} /><col style={{ width: '64px' }} /><col /><col style={{ width: '80px' }} /></colgroup>
        <thead>
          <tr><th /><th>{`A ${short(diff.a)}`}</th><th>duration</th><th>ratio</th><th>{`B ${short(diff.b)}`}</th><th>duration</th></tr>
        </thead>
        <tbody>{diff.steps.map((step) => <StepRows step={step} a={diff.a} b={diff.b} />)}</tbody>
      </table>
    </div>
  )
}

function StepRows(props: { step: DiffStep; a: string; b: string }) {
  const { step, a, b } = props
  const ratio = formatRatio(step.durationRatio, step.aStepId !== null && step.bStepId !== null)
  const slower = step.changes.some((change) => change.field === 'duration')
  const indent = { paddingLeft: `${Math.min(step.depth, 32) * 14 + 4}px` }
  const cell = (traceId: string, stepId: string | null) =>
    stepId === null ? <td class="diff-absent" /> : (
      <td class="diff-name" style={indent}>
        <Link href={`/trace/${traceId}?step=${stepId}`}>{step.name}</Link>
      </td>
    )
  return (
    <>
      <tr class={`diff-row diff-${step.status}`} data-status={step.status} data-path={step.path}>
        <td class="diff-mark mono" title={step.status}>{MARKS[step.status]}</td>
        {cell(a, step.aStepId)}
        <td class="num">{step.aDurationMs === null ? '' : duration(step.aDurationMs)}</td>
        <td class={slower ? 'num ratio ratio-changed' : 'num ratio'}>{ratio}</td>
        {cell(b, step.bStepId)}
        <td class="num">{step.bDurationMs === null ? '' : duration(step.bDurationMs)}</td>
      </tr>
      {step.changes.length > 0 && (
        <tr class="diff-changes" data-path={step.path}>
          <td />
          <td colSpan={5} style={indent}><Changes changes={step.changes} /></td>
        </tr>
      )}
    </>
  )
}

function SideHeader(props: { label: string; side: Side }) {
  const { side } = props
  return (
    <div class="compare-side" data-side={props.label.toLowerCase()}>
      <h3>
        <span class="muted">{`${props.label}  `}</span>
        <Link href={`/trace/${side.traceId}`} class="side-link">{side.prompt}</Link>
        {' '}<span class={`status-${side.status}`}>{side.status}</span>
      </h3>
      <dl class="meta">
        <dt>trace</dt><dd class="mono">{side.traceId}</dd>
        <dt>started</dt><dd title={side.startedAt}>{time(side.startedAt)}</dd>
        <dt>duration</dt><dd>{duration(side.durationMs)}</dd>
        <dt>steps</dt><dd>{String(side.stepCount)}</dd>
        {side.replayOf !== null && <><dt>replay of</dt><dd class="mono">{short(side.replayOf)}</dd></>}
      </dl>
      <CompareWith traceId={side.traceId} prompt={side.prompt} replayOf={side.replayOf} />
    </div>
  )
}

/** Without both ids: a form to enter them (a trace page's "Compare with…" fills them instead). */
function PickIds(props: { a: string; b: string }) {
  const [error, setError] = useState<string | null>(null)
  const onSubmit = (event: Event): void => {
    event.preventDefault()
    const form = new FormData(event.currentTarget as HTMLFormElement)
    const a = String(form.get('a') ?? '').trim()
    const b = String(form.get('b') ?? '').trim()
    if (!TRACE_ID.test(a) || !TRACE_ID.test(b)) { setError('Expected two trace ids of 32 lowercase hex characters.'); return }
    navigate(`/compare?a=${a}&b=${b}`)
  }
  return (
    <form class="filters" onSubmit={onSubmit}>
      <input name="a" placeholder="trace A (32 hex)" defaultValue={props.a} aria-label="trace A" />
      <input name="b" placeholder="trace B (32 hex)" defaultValue={props.b} aria-label="trace B" />
      <button type="submit">Compare</button>
      {error !== null && <span class="err" role="alert">{error}</span>}
    </form>
  )
}

function swapped(query: URLSearchParams): string {
  const next = new URLSearchParams(query)
  next.set('a', query.get('b') ?? '')
  next.set('b', query.get('a') ?? '')
  return next.toString()
}
