// The trace page's step pane (docs/ui.md#content-rendering): tabs Input · Output · Error & attempts ·
// Metadata · Raw, chosen with the keys 1–5 and kept in the URL (`&tab=`), a JSON path in the URL
// (`&path=`) opened and highlighted, the usage and cost box, and the capture's truncation markers.
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, type Gated, type StepDetail } from '../api.js'
import { bytes } from '../content/chat.js'
import { AttemptTimeline, ErrorView } from '../content/error.js'
import { CopyButton } from '../content/json-tree.js'
import { jsonPath, parsePath, type PathKey } from '../content/path.js'
import { MarkedText, VisibleText } from '../content/text.js'
import { Field } from '../field.js'
import { cost, duration, pretty } from '../format.js'
import { useKeys } from '../keys.js'
import { setParams } from '../router.js'

/** The tabs, by their `&tab=` name and label; keys 1–5 pick them in this order. */
export const TABS = [['input', 'Input'], ['output', 'Output'], ['error', 'Error & attempts'], ['metadata', 'Metadata'], ['raw', 'Raw']] as const
export type TabId = (typeof TABS)[number][0]
const tabOf = (name: string | null): TabId => TABS.find(([id]) => id === name)?.[0] ?? 'input'

export function StepPane(props: { traceId: string; stepId: string; url: URL }) {
  const tab = tabOf(props.url.searchParams.get('tab'))
  const pathText = props.url.searchParams.get('path')
  const selected = pathText === null ? null : parsePath(pathText)
  const [step, setStep] = useState<StepDetail | null>(null)
  const [error, setError] = useState<string | null>(null)
  const previous = useRef(props.stepId)
  useEffect(() => {
    setStep(null); setError(null)
    // another step: the path was the last step's
    if (previous.current !== props.stepId && props.url.searchParams.has('path')) setParams({ path: null })
    previous.current = props.stepId
    api<StepDetail>(`/api/traces/${props.traceId}/steps/${props.stepId}`)
      .then(setStep)
      .catch((caught: unknown) => setError(caught instanceof Error ? caught.message : String(caught)))
  }, [props.traceId, props.stepId])

  const choose = (id: TabId): void => setParams({ tab: id === 'input' ? null : id, path: null })
  const onPath = (keys: PathKey[]): void => setParams({ path: jsonPath(keys) })
  useKeys({
    ...Object.fromEntries(TABS.map(([id], index) => [String(index + 1), () => choose(id)])),
    y: () => { void navigator.clipboard.writeText(pathText ?? props.stepId).catch(() => undefined) },
  })

  if (error !== null) return <p class="err" role="alert">{error}</p>
  if (step === null) return <p class="muted">Loading step…</p>
  const { fields, ...header } = step
  const label = TABS.find(([id]) => id === tab)![1]
  return (
    <div data-testid="step-pane" data-step-id={step.stepId}>
      <h3>
        <VisibleText text={step.name} /> <span class="muted"><VisibleText text={step.kind} /></span> <span class={`status-${step.status}`}>{step.status}</span>
        {' '}<CopyButton label="copy id" title="copy step id" text={() => step.stepId} />
      </h3>
      <Markers step={step} />
      <UsageBox step={step} metadata={fields.metadata} />
      <div class="tabs" role="tablist">
        {TABS.map(([id, name], index) => (
          <button type="button" role="tab" class={tab === id ? 'active' : ''} aria-selected={tab === id} title={`key ${index + 1}`} onClick={() => choose(id)}>{name}</button>
        ))}
      </div>
      {pathText !== null && <p class="path-line muted">{'path '}<span class="mono"><VisibleText text={pathText} /></span>{selected === null ? ' (not a path)' : ''}</p>}
      <div role="tabpanel" data-tab={label} key={tab}>
        {tab === 'input' && (fields.input ? <Field label="Input" name="input" kind={step.kind} field={fields.input} selected={selected} onPath={onPath} /> : <p class="muted">No input captured.</p>)}
        {tab === 'output' && (fields.output ? <Field label="Output" name="output" kind={step.kind} field={fields.output} selected={selected} onPath={onPath} /> : <p class="muted">{step.outputKind === 'undefined' ? 'The function returned undefined.' : 'No output captured.'}</p>)}
        {tab === 'error' && <ErrorTab step={step} />}
        {tab === 'metadata' && (
          <div>
            <dl class="meta">
              {Object.entries(header).map(([key, value]) => [<dt>{key}</dt>, <dd class="mono"><MarkedText text={pretty(value)} /></dd>])}
            </dl>
            {fields.metadata ? <Field label="Metadata" name="metadata" field={fields.metadata} selected={selected} onPath={onPath} /> : <p class="muted">No metadata.</p>}
          </div>
        )}
        {tab === 'raw' && <pre class="json raw"><MarkedText text={pretty(step)} /></pre>}
      </div>
    </div>
  )
}

function ErrorTab(props: { step: StepDetail }) {
  const { step } = props
  const { error, attemptErrors } = step.fields
  const hasError = error !== undefined && !(error.inline && error.value === null)
  return (
    <div>
      {attemptErrors !== undefined && !attemptErrors.inline
        ? <Field label="Attempt errors" name="attemptErrors" field={attemptErrors} />
        : <AttemptTimeline attempts={step.attempts} retries={step.retries} status={step.status} durationMs={step.durationMs} attemptErrors={attemptErrors?.value} />}
      <h4>Final error</h4>
      {!hasError ? <p class="muted">No error.</p> : error.inline ? <ErrorView error={error.value} /> : <Field label="Error" name="error" field={error} />}
    </div>
  )
}

/** "Truncated by capture": how many values capture cut short, where to read about the markers. */
function Markers(props: { step: StepDetail }) {
  const truncated = typeof props.step.truncated === 'number' ? props.step.truncated : 0
  const gated = Object.entries(props.step.fields).filter(([, field]) => field !== undefined && !field.inline) as Array<[string, Extract<Gated, { inline: false }>]>
  if (truncated === 0 && props.step.incomplete !== true && gated.length === 0) return null
  return (
    <div class="markers" data-testid="markers">
      {truncated > 0 && (
        <p class="truncated-note">
          <span class="truncated-marker">{`truncated by capture: ${truncated} value${truncated === 1 ? '' : 's'} cut short`}</span>
          <span class="muted">{' — markers such as [Truncated: budget] and …[truncated N chars] are highlighted; budgets and markers: docs/capture-and-redaction.md#budgets-and-markers'}</span>
        </p>
      )}
      {props.step.incomplete === true && <p class="truncated-marker">incomplete: the trace ended before this step did</p>}
      {gated.map(([name, field]) => <p class="muted">{`${name}: ${bytes(field.bytes)}, too large to send whole (a 64 KiB preview is shown)`}</p>)}
    </div>
  )
}

/** Tokens, cost and model of a step: the record's usage, cost and model, the metadata's token details. */
export function UsageBox(props: { step: StepDetail; metadata: Gated | undefined }) {
  const { step } = props
  const usage = step.usage as { inputTokens?: number; outputTokens?: number } | undefined
  const meta = props.metadata?.inline === true && props.metadata.value !== null && typeof props.metadata.value === 'object' ? (props.metadata.value as Record<string, unknown>) : {}
  const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined)
  const rows: Array<[string, string]> = []
  const add = (name: string, value: number | undefined): void => { if (value !== undefined) rows.push([name, value.toLocaleString()]) }
  add('input tokens', usage?.inputTokens)
  add('output tokens', usage?.outputTokens)
  add('cached input tokens', num(meta.cached_input_tokens))
  add('cache creation tokens', num(meta.cache_creation_input_tokens))
  add('reasoning tokens', num(meta.reasoning_tokens))
  if (typeof step.costUsd === 'number') rows.push(['cost', cost(step.costUsd)])
  if (typeof step.model === 'string') rows.push(['model', step.model])
  if (typeof meta.response_model === 'string' && meta.response_model !== step.model) rows.push(['response model', meta.response_model])
  if (rows.length === 0) return <p class="muted step-line">{`${duration(step.durationMs)}`}</p>
  return (
    <div class="usage-box" data-testid="usage">
      <span class="chip">{duration(step.durationMs)}</span>
      {rows.map(([name, value]) => <span class="usage-item"><span class="muted">{`${name} `}</span><span class="mono"><VisibleText text={value} /></span></span>)}
    </div>
  )
}
