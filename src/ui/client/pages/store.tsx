// The store overview, `/store?since=24h` (docs/ui.md#store-overview): the totals of `/api/stats` and
// the top-10 tables of `/api/overview` (failing, slowest p50/p95, most retried step names; tokens and
// cost by model and by prompt), both cached 5 s by the server. The time preset lives in the URL.
import { useEffect, useState } from 'preact/hooks'
import { api, messageOf } from '../api.js'
import { cost, duration, time } from '../format.js'
import { setParams } from '../router.js'
import { TopTable, type Column } from '../store/tables.js'

interface Stats {
  traces: number; steps: number; errors: number; oldest: string | null; newest: string | null; retries: number
  inputTokens: number; outputTokens: number; costUsd: number; projects: Array<{ project: string; traces: number }>
}
interface Usage { name: string; count: number; inputTokens: number; outputTokens: number; costUsd: number | null }
interface Overview {
  failingSteps: Array<{ name: string; steps: number; errors: number }>
  slowestSteps: Array<{ name: string; steps: number; p50Ms: number; p95Ms: number }>
  mostRetried: Array<{ name: string; steps: number; retriedSteps: number; retries: number }>
  byModel: Usage[]
  byPrompt: Usage[]
}

const PRESETS: ReadonlyArray<readonly [string, string]> = [['', 'all time'], ['15m', '15 min'], ['1h', '1 hour'], ['24h', '24 hours'], ['7d', '7 days'], ['30d', '30 days']]
const count = (n: number): string => n.toLocaleString('en-US')
const percent = (part: number, whole: number): string => (whole === 0 ? '' : `${(Math.round((part / whole) * 1000) / 10).toFixed(1)}%`)

export function StorePage(props: { url?: URL } = {}) {
  const since = (props.url ?? new URL(location.href)).searchParams.get('since') ?? ''
  const [stats, setStats] = useState<Stats | null>(null)
  const [overview, setOverview] = useState<Overview | null>(null)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    api<Stats>('/api/stats').then(setStats).catch((caught: unknown) => setError(messageOf(caught)))
  }, [])
  useEffect(() => {
    let live = true
    setOverview(null)
    api<Overview>(since === '' ? '/api/overview' : `/api/overview?${new URLSearchParams({ since }).toString()}`)
      .then((result) => { if (live) { setOverview(result); setError(null) } })
      .catch((caught: unknown) => { if (live) setError(messageOf(caught)) })
    return () => { live = false }
  }, [since])

  // a model or prompt links to its traces over the same time range
  const listOf = (filter: string, value: string): string => `/?${new URLSearchParams({ [filter]: value, ...(since === '' ? {} : { since }) }).toString()}`
  const usage = (label: 'model' | 'prompt', counted: string): ReadonlyArray<Column<Usage>> => [
    { title: label, value: (row) => row.name, href: (row) => listOf(label, row.name) },
    { title: counted, numeric: true, value: (row) => count(row.count) },
    { title: 'tokens in', numeric: true, value: (row) => count(row.inputTokens) },
    { title: 'tokens out', numeric: true, value: (row) => count(row.outputTokens) },
    { title: 'cost', numeric: true, value: (row) => cost(row.costUsd) },
  ]

  return (
    <main class="store">
      <h2>Store</h2>
      {error !== null && <p class="err" role="alert">{error}</p>}
      {stats !== null && (
        <section class="totals" data-testid="totals">
          <Total label="traces" value={count(stats.traces)} />
          <Total label="steps" value={count(stats.steps)} />
          <Total label="failed traces" value={count(stats.errors)} />
          <Total label="retries" value={count(stats.retries)} />
          <Total label="tokens in / out" value={`${count(stats.inputTokens)} / ${count(stats.outputTokens)}`} />
          <Total label="cost" value={cost(stats.costUsd)} />
          <Total label="oldest" value={stats.oldest === null ? '—' : time(stats.oldest)} />
          <Total label="newest" value={stats.newest === null ? '—' : time(stats.newest)} />
        </section>
      )}
      {stats !== null && stats.traces === 0 && <p class="muted">The store is empty: run <span class="mono">npx tracellm demo</span> to fill it with example traces.</p>}
      <div class="presets" role="group" aria-label="time range">
        <span class="muted">tables for</span>
        {PRESETS.map(([value, label]) => (
          <button type="button" class={value === since ? 'active' : undefined} aria-pressed={value === since ? 'true' : 'false'} data-since={value} onClick={() => setParams({ since: value })}>{label}</button>
        ))}
      </div>
      {overview === null && error === null && <p class="muted">loading the overview…</p>}
      {overview !== null && (
        <div class="top-tables">
          <TopTable id="failing" title="Failing steps" hint="step names by failed steps" rows={overview.failingSteps} empty="No step failed."
            columns={[
              { title: 'step', value: (row) => row.name },
              { title: 'steps', numeric: true, value: (row) => count(row.steps) },
              { title: 'errors', numeric: true, value: (row) => count(row.errors) },
              { title: 'error rate', numeric: true, value: (row) => percent(row.errors, row.steps) },
            ]} />
          <TopTable id="slowest" title="Slowest steps" hint="step names by p95 duration" rows={overview.slowestSteps} empty="No steps."
            columns={[
              { title: 'step', value: (row) => row.name },
              { title: 'steps', numeric: true, value: (row) => count(row.steps) },
              { title: 'p50', numeric: true, value: (row) => duration(row.p50Ms) },
              { title: 'p95', numeric: true, value: (row) => duration(row.p95Ms) },
            ]} />
          <TopTable id="retried" title="Most retried" hint="step names by retries" rows={overview.mostRetried} empty="No step was retried."
            columns={[
              { title: 'step', value: (row) => row.name },
              { title: 'steps', numeric: true, value: (row) => count(row.steps) },
              { title: 'retried', numeric: true, value: (row) => count(row.retriedSteps) },
              { title: 'retries', numeric: true, value: (row) => count(row.retries) },
            ]} />
          <TopTable id="models" title="By model" hint="steps with a model, by cost then tokens" rows={overview.byModel} empty="No step named a model." columns={usage('model', 'steps')} />
          <TopTable id="prompts" title="By prompt" hint="traces, by cost then tokens" rows={overview.byPrompt} empty="No traces." columns={usage('prompt', 'traces')} />
          {stats !== null && stats.projects.length > 0 && (
            <TopTable id="projects" title="Projects" hint="traces per project, all time" rows={stats.projects.slice(0, 10)} empty=""
              columns={[{ title: 'project', value: (row) => row.project, href: (row) => `/?${new URLSearchParams({ project: row.project }).toString()}` }, { title: 'traces', numeric: true, value: (row) => count(row.traces) }]} />
          )}
        </div>
      )}
    </main>
  )
}

function Total(props: { label: string; value: string }) {
  return (
    <div class="total" data-total={props.label}>
      <div class="total-value">{props.value}</div>
      <div class="muted">{props.label}</div>
    </div>
  )
}
