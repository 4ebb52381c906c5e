// The trace page's header (docs/ui.md#trace-page-in-detail): what the trace was, what it cost, its
// services, its replays, and badges for what the store holds only in part.
import { useEffect, useState } from 'preact/hooks'
import { api, type Skeleton, type Summary } from '../api.js'
import { cost, duration, short, time } from '../format.js'
import { Link } from '../router.js'

type Doc = Record<string, unknown>
const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0)
const text = (value: unknown): string => (typeof value === 'string' ? value : '')

/** The document that starts the trace: the one not continuing a caller's span, else the earliest. */
export function entryOf(documents: ReadonlyArray<Doc>): Doc | undefined {
  return documents.find((document) => document.parentStepId == null) ?? documents[0]
}

function Badge(props: { label: string; why: string }) {
  return <span class="badge warn" title={props.why} data-badge={props.label.split(' ')[0]}>{props.label}</span>
}

export function TraceHeader(props: { traceId: string; documents: ReadonlyArray<Doc>; skeleton: Skeleton | null; children?: preact.ComponentChildren }) {
  const { traceId, documents } = props
  const doc = entryOf(documents)
  const [replays, setReplays] = useState<Summary[] | 'loading' | 'unsupported' | null>(null)
  const [copied, setCopied] = useState(false)
  // the replays of this trace, newest first (the list's `replayOf` filter, docs/ui.md#trace-page-in-detail)
  useEffect(() => {
    let live = true
    setReplays('loading')
    api<{ items: Summary[] }>(`/api/traces?replayOf=${traceId}&limit=20`)
      .then((page) => { if (live) setReplays(page.items) }, () => { if (live) setReplays('unsupported') })
    return () => { live = false }
  }, [traceId])
  if (doc === undefined) return null
  const usage = (d: Doc): { inputTokens?: unknown; outputTokens?: unknown } => (d.usage ?? {}) as { inputTokens?: unknown; outputTokens?: unknown }
  const tokensIn = documents.reduce((sum, d) => sum + num(usage(d).inputTokens), 0)
  const tokensOut = documents.reduce((sum, d) => sum + num(usage(d).outputTokens), 0)
  const priced = documents.filter((d) => typeof d.costUsd === 'number')
  const metadata = (doc.metadata ?? {}) as Record<string, unknown>
  const cached = num(metadata.cached_input_tokens)
  const reasoning = num(metadata.reasoning_tokens)
  const tags = Array.isArray(doc.tags) ? (doc.tags as unknown[]).map(String) : []
  const truncated = documents.reduce((sum, d) => sum + num(d.truncated), 0)
  const dropped = documents.reduce((sum, d) => sum + num(d.droppedSteps), 0)
  const incomplete = props.skeleton?.columns.incomplete.filter(Boolean).length ?? 0
  const replayOf = /^[0-9a-f]{32}$/.test(text(doc.replayOf)) ? text(doc.replayOf) : ''
  const status = text(doc.status)
  const copy = (): void => {
    void navigator.clipboard?.writeText(traceId).then(() => { setCopied(true); setTimeout(() => setCopied(false), 1200) }, () => undefined)
  }
  return (
    <div class="summary trace-header" data-testid="trace-header">
      <h2>
        {text(doc.prompt)} <span class={`status-${status}`}>{status === 'error' ? '✗ error' : status === 'success' ? '✓ success' : status}</span>
        {' '}<span class="muted">{duration(num(doc.durationMs))}</span>
        {truncated > 0 && <Badge label={`truncated ${truncated}`} why={`capture cut ${truncated} value(s) short (string, array, depth or budget limits); see docs/capture.md`} />}
        {dropped > 0 && <Badge label={`dropped ${dropped} steps`} why={`${dropped} step(s) ran but were not recorded: the trace reached maxStepsPerTrace`} />}
        {incomplete > 0 && <Badge label={`incomplete ${incomplete}`} why={`${incomplete} step(s) had not ended when the trace did (a stream nobody finished reading)`} />}
      </h2>
      <dl class="meta header-grid">
        <dt>id</dt>
        <dd class="mono">{traceId} <button type="button" class="small" onClick={copy} title="copy the trace id">{copied ? 'copied' : 'copy'}</button></dd>
        <dt>started</dt><dd title={text(doc.startedAt)}>{time(text(doc.startedAt))}</dd>
        <dt>project</dt><dd>{`${text(doc.project)} / ${text(doc.environment)}`}</dd>
        <dt>tokens</dt>
        <dd data-testid="header-tokens">
          {/* '-' when no model call reported usage, as the list and `tracellm show` say it (docs/cli.md) */}
          {tokensIn === 0 && tokensOut === 0 ? '-' : `${tokensIn.toLocaleString()} in / ${tokensOut.toLocaleString()} out`}
          {cached > 0 ? ` · ${cached.toLocaleString()} cached` : ''}{reasoning > 0 ? ` · ${reasoning.toLocaleString()} reasoning` : ''}
        </dd>
        {priced.length > 0 && <><dt>cost</dt><dd>{cost(priced.reduce((sum, d) => sum + num(d.costUsd), 0))}</dd></>}
        {text(doc.modelName) !== '' && <><dt>model</dt><dd>{text(doc.modelName)}</dd></>}
        {tags.length > 0 && <><dt>tags</dt><dd>{tags.map((tag) => <span class="tag">{tag}</span>)}</dd></>}
        {documents.length > 1 && (
          <>
            <dt>services</dt>
            <dd data-testid="services">
              {`${documents.length} documents: `}
              {documents.map((d, n) => <span class="service">{`${n > 0 ? ', ' : ''}${text(d.prompt)} (${text(d.project)})`}</span>)}
            </dd>
          </>
        )}
        {replayOf !== '' && (
          <><dt>replay of</dt><dd><Link href={`/trace/${replayOf}`}>{`⟶ ${short(replayOf)}`}</Link></dd></>
        )}
        <dt>replays</dt>
        <dd data-testid="replays">
          {replays === null || replays === 'loading' ? <span class="muted">looking…</span>
            : replays === 'unsupported' ? <span class="muted">this server cannot list replays (no replayOf filter)</span>
            : replays.length === 0 ? <span class="muted">none</span>
            : replays.map((replay) => <Link href={`/trace/${replay.traceId}`} class="replay">{`↺ ${short(replay.traceId)} ${time(replay.startedAt)}`}</Link>)}
        </dd>
      </dl>
      <div class="header-actions">
        <a class="button" href={`/api/traces/${traceId}/export`} download={`${traceId}.jsonl`}>Download</a>
        {/* "Compare with…", "compare with original" on a replay, and Delete with --write */}
        {props.children}
      </div>
    </div>
  )
}
