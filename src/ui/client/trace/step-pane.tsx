// The trace page's step pane: tabs Input · Output · Error & attempts · Metadata · Raw.
import { useEffect, useState } from 'preact/hooks'
import { api, type StepDetail } from '../api.js'
import { Field } from '../field.js'
import { pretty } from '../format.js'

const TABS = ['Input', 'Output', 'Error & attempts', 'Metadata', 'Raw'] as const
type Tab = (typeof TABS)[number]

export function StepPane(props: { traceId: string; stepId: string; url: URL }) {
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
