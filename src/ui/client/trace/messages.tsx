// The trace page's Messages view (docs/ui.md#content-rendering): a chronological transcript of the
// trace's llm steps, with the tool steps run between them as one-line entries. Each llm step's detail
// is fetched only once its entry scrolls into view, three requests at a time, so a trace of thousands
// of steps never sends thousands of requests; entries are shown 200 at a time.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { api, type Previews, type Skeleton, type StepDetail } from '../api.js'
import { Bubble } from '../content/chat.js'
import { chatInput, chatOutput, type Message } from '../content/shapes.js'
import { MarkedText, VisibleText } from '../content/text.js'
import { Field } from '../field.js'
import { cost, duration } from '../format.js'
import { previewOf } from './previews.js'
import { usePreviews } from './use-previews.js'

const PAGE = 200
const PARALLEL = 3
/** Steps that structure a trace rather than act in it: left out of the transcript. */
const STRUCTURE = new Set(['trace', 'chain', 'service', 'agent'])

type Loaded = { readonly step: StepDetail } | { readonly failed: string }

export function MessagesView(props: { traceId: string; skeleton: Skeleton; onSelect: (stepId: string) => void }) {
  const c = props.skeleton.columns
  const entries = useMemo(() => {
    const indexes = c.stepId.map((_, index) => index).filter((index) => c.kind[index] === 'llm' || !STRUCTURE.has(c.kind[index] ?? ''))
    return indexes.sort((a, b) => (c.offsetMs[a] ?? 0) - (c.offsetMs[b] ?? 0) || (c.seq[a] ?? 0) - (c.seq[b] ?? 0))
  }, [props.skeleton])
  const firstLlm = entries.find((index) => c.kind[index] === 'llm')
  const previews = usePreviews(props.traceId)
  const [shown, setShown] = useState(PAGE)
  const [details, setDetails] = useState<ReadonlyMap<string, Loaded>>(new Map())
  const queue = useRef<{ wanted: string[]; busy: number; asked: Set<string> }>({ wanted: [], busy: 0, asked: new Set() })

  useEffect(() => { queue.current = { wanted: [], busy: 0, asked: new Set() }; setDetails(new Map()) }, [props.traceId])

  const pump = (): void => {
    const state = queue.current
    while (state.busy < PARALLEL && state.wanted.length > 0) {
      const stepId = state.wanted.shift()!
      state.busy++
      api<StepDetail>(`/api/traces/${props.traceId}/steps/${stepId}`)
        .then((step): Loaded => ({ step }), (caught: unknown): Loaded => ({ failed: caught instanceof Error ? caught.message : String(caught) }))
        .then((loaded) => {
          if (queue.current !== state) return
          state.busy--
          setDetails((was) => new Map(was).set(stepId, loaded))
          pump()
        })
    }
  }
  const want = (stepId: string): void => {
    const state = queue.current
    if (state.asked.has(stepId)) return
    state.asked.add(stepId)
    state.wanted.push(stepId)
    pump()
  }

  if (entries.length === 0) return <p class="muted">This trace has no llm or tool steps.</p>
  return (
    <div class="messages-view" data-testid="messages">
      {entries.slice(0, shown).map((index) => {
        const stepId = c.stepId[index]!
        return c.kind[index] === 'llm'
          ? <LlmEntry key={stepId} skeleton={props.skeleton} index={index} first={index === firstLlm} detail={details.get(stepId)} onVisible={() => want(stepId)} onSelect={props.onSelect} />
          : <ToolEntry key={stepId} skeleton={props.skeleton} previews={previews} index={index} onSelect={props.onSelect} />
      })}
      {entries.length > shown && <button type="button" class="more" onClick={() => setShown(shown + PAGE)}>{`show ${Math.min(PAGE, entries.length - shown)} more (${shown} of ${entries.length})`}</button>}
    </div>
  )
}

function EntryHead(props: { skeleton: Skeleton; index: number; onSelect: (stepId: string) => void }) {
  const c = props.skeleton.columns
  const i = props.index
  const tokens = c.inputTokens[i] != null || c.outputTokens[i] != null ? `${c.inputTokens[i] ?? 0} → ${c.outputTokens[i] ?? 0} tokens` : ''
  return (
    <button type="button" class="entry-head" onClick={() => props.onSelect(c.stepId[i]!)} title="select this step">
      <span class="chip">{c.kind[i] ?? ''}</span> <VisibleText text={c.name[i] ?? ''} />
      {' '}<span class={`status-${c.status[i] ?? ''}`}>{c.status[i] === 'error' ? '✗' : '✓'}</span>
      {(c.retries[i] ?? 0) > 0 && <span class="chip">{`↻${c.retries[i]}`}</span>}
      <span class="muted">{[c.model[i] ?? '', duration(c.durationMs[i]), tokens, cost(c.costUsd[i] ?? null)].filter(Boolean).join(' · ')}</span>
    </button>
  )
}

function ToolEntry(props: { skeleton: Skeleton; previews: Previews | null; index: number; onSelect: (stepId: string) => void }) {
  const c = props.skeleton.columns
  const i = props.index
  const io = previewOf(props.previews, props.skeleton, i)
  return (
    <div class="transcript-entry tool-entry" data-step-id={c.stepId[i]} data-kind={c.kind[i]}>
      <EntryHead {...props} />
      <div class="tool-io mono">
        {io?.input != null && <div><span class="muted">in </span><MarkedText text={io.input} /></div>}
        {c.status[i] === 'error' ? <div class="err"><MarkedText text={`${c.errorType[i] ?? 'Error'}: ${c.errorPreview[i] ?? ''}`} /></div>
          : io?.output != null && <div><span class="muted">out </span><MarkedText text={io.output} /></div>}
      </div>
    </div>
  )
}

function LlmEntry(props: { skeleton: Skeleton; index: number; first: boolean; detail: Loaded | undefined; onVisible: () => void; onSelect: (stepId: string) => void }) {
  const ref = useRef<HTMLDivElement>(null)
  const stepId = props.skeleton.columns.stepId[props.index]!
  useEffect(() => {
    const element = ref.current
    if (element === null || props.detail !== undefined) return
    const observer = new IntersectionObserver((seen) => { if (seen.some((entry) => entry.isIntersecting)) { observer.disconnect(); props.onVisible() } }, { rootMargin: '200px' })
    observer.observe(element)
    return () => observer.disconnect()
  }, [props.detail === undefined])
  const { detail } = props
  return (
    <div class="transcript-entry llm-entry" data-step-id={stepId} data-loaded={detail !== undefined} ref={ref}>
      <EntryHead {...props} />
      {detail === undefined ? <p class="muted">…</p> : 'failed' in detail ? <p class="err">{detail.failed}</p> : <Turn detail={detail.step} first={props.first} />}
    </div>
  )
}

/**
 * One llm call as turns: the first call's whole conversation, later calls only what came after the
 * last assistant message of their input (the new user and tool turns), then the answer.
 */
function Turn(props: { detail: StepDetail; first: boolean }) {
  const { input, output, error } = props.detail.fields
  const asked = input?.inline === true ? chatInput(input.value) ?? (Array.isArray(input.value) && input.value.length === 1 ? chatInput(input.value[0], [0]) : null) : null
  const answered = output?.inline === true ? chatOutput(output.value) : null
  let messages: Message[] = asked?.kind === 'chat' ? asked.messages : []
  if (!props.first) {
    const lastAssistant = messages.map((message) => message.role).lastIndexOf('assistant')
    messages = messages.slice(lastAssistant + 1)
  }
  return (
    <div class="chat">
      {asked === null ? <Field label="input" name="input" field={input} /> : messages.map((message) => <Bubble message={message} field="input" selected={null} />)}
      {answered?.kind === 'chat' ? answered.messages.map((message) => <Bubble message={message} field="output" selected={null} />) : <Field label="output" name="output" field={output} />}
      {answered?.kind === 'chat' && answered.finish !== undefined && <p class="finish muted">{`finish: ${answered.finish}`}</p>}
      {error?.inline === true && error.value != null ? <p class="err"><MarkedText text={`${String((error.value as { type?: unknown }).type ?? 'Error')}: ${String((error.value as { message?: unknown }).message ?? '')}`} /></p> : null}
    </div>
  )
}
