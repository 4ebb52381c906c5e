/**
 * The mutable state of one running trace, and the one choke point where it becomes a finished,
 * redacted, read-only document. Steps are appended when they start, so the array is in `seq` order.
 */
import type { AttemptError, ErrorRecord, JsonValue, StepId, StepRecord, Status, TraceDocument, TraceId, Usage } from '../document/document.js'
import { SCHEMA_VERSION } from '../document/document.js'
import type { Redactor } from '../serialization/redact.js'
import type { Runtime } from './runtime.js'
import type { ParentRef, ReplayHooks } from './context.js'
import { guard } from './guard.js'
import { roundCost, type Pricer } from './prices.js'
import { SDK_NAME, SDK_VERSION } from './version.js'

/** @internal A step while it runs; frozen into a StepRecord when the trace is sealed. */
export interface OpenStep {
  readonly stepId: StepId
  readonly parentStepId: StepId | null
  readonly seq: number
  readonly name: string
  readonly kind: string
  readonly start: number
  end: number | undefined
  status: Status
  input: JsonValue | undefined
  output: JsonValue | undefined
  outputKind: 'undefined' | 'stream' | undefined
  error: ErrorRecord | null
  attempts: number
  attemptErrors: AttemptError[] | undefined
  metadata: { readonly [key: string]: JsonValue } | undefined
  bytes: number
  truncated: number
  model: string | undefined
  usage: Usage | undefined
}

/** @internal The trace-level fields fixed when a root trace starts. */
export interface TraceHeader {
  readonly prompt: string
  readonly modelName: string | undefined
  readonly project: string
  readonly environment: string
  readonly tags: ReadonlyArray<string>
  readonly metadata: { readonly [key: string]: JsonValue }
}

/** @internal */
export interface Recorder {
  readonly traceId: TraceId
  /** The root span's id: what the trace body propagates, and what tells documents of one trace apart. */
  readonly rootSpanId: StepId
  readonly runtime: Runtime
  readonly header: TraceHeader
  readonly start: number
  readonly steps: OpenStep[]
  seq: number
  droppedSteps: number
  sealed: boolean
  /** Set when this trace replays a recorded one. */
  replay: ReplayHooks | undefined
  /** Set when this trace continues a caller's span (`traceparent`, OpenTelemetry). */
  readonly parent: ParentRef | undefined
}

/** @internal */
export function createRecorder(runtime: Runtime, header: TraceHeader, start: number, parent?: ParentRef): Recorder {
  // a continued trace takes the caller's (already validated) trace id; its own root span id is what
  // tells its document apart from the caller's (stores key documents on both)
  const traceId = parent === undefined ? runtime.ids.traceId() : parent.traceId
  const rootSpanId = runtime.ids.stepId()
  return { traceId, rootSpanId, runtime, header, start, steps: [], seq: 0, droppedSteps: 0, sealed: false, replay: undefined, parent }
}

/** @internal The root's own outcome, recorded like a step's. */
export interface RootOutcome {
  readonly end: number
  readonly status: Status
  readonly input: JsonValue | undefined
  readonly output: JsonValue | undefined
  readonly outputKind: 'undefined' | 'stream' | undefined
  readonly error: ErrorRecord | null
  readonly bytes: number
  readonly truncated: number
}

/**
 * @internal Freezes the recorder into a document. Redaction runs here, once, over every field a
 * user value can reach (names, inputs, outputs, metadata, errors with their messages and stacks),
 * so no path around it exists. Returns the document and its approximate size in bytes.
 */
export function seal(recorder: Recorder, root: RootOutcome): { readonly doc: TraceDocument; readonly bytes: number } {
  recorder.sealed = true
  const { runtime, header } = recorder
  const { redactor, clock, pricer } = runtime
  let retryCount = 0
  let costUsd: number | undefined
  let inputTokens = 0
  let outputTokens = 0
  let bytes = 1024 + root.bytes
  let truncated = root.truncated
  const steps: StepRecord[] = new Array(recorder.steps.length)
  for (let index = 0; index < recorder.steps.length; index++) {
    const open = recorder.steps[index] as OpenStep
    const retries = open.attempts > 0 ? open.attempts - 1 : 0
    retryCount += retries
    if (open.usage !== undefined) {
      inputTokens += open.usage.inputTokens
      outputTokens += open.usage.outputTokens
    }
    bytes += 512 + open.bytes
    truncated += open.truncated
    const step = sealStep(open, retries, root.end, redactor, clock.epoch)
    if (pricer !== undefined && open.model !== undefined && open.usage !== undefined) {
      const cost = priceStep(pricer, open)
      if (cost !== undefined) {
        step.costUsd = cost
        costUsd = (costUsd ?? 0) + cost
      }
    }
    steps[index] = step
  }
  const doc: TraceDocument = {
    schemaVersion: SCHEMA_VERSION,
    traceId: recorder.traceId,
    rootSpanId: recorder.rootSpanId,
    prompt: redactText(redactor, header.prompt),
    ...(header.modelName === undefined ? {} : { modelName: header.modelName }),
    project: header.project,
    environment: header.environment,
    tags: header.tags.map((tag) => redactText(redactor, tag)),
    metadata: redactField(redactor, header.metadata, 'metadata') as TraceDocument['metadata'],
    status: root.status,
    startedAt: iso(clock.epoch(recorder.start)),
    endedAt: iso(clock.epoch(root.end)),
    durationMs: round(root.end - recorder.start),
    ...(root.input === undefined ? {} : { input: redactField(redactor, root.input, 'input') }),
    ...(root.output === undefined ? {} : { output: redactField(redactor, root.output, 'output') }),
    ...(root.outputKind === undefined ? {} : { outputKind: root.outputKind }),
    error: root.error === null ? null : (redactField(redactor, root.error as unknown as JsonValue, 'error') as unknown as ErrorRecord),
    retryCount,
    usage: { inputTokens, outputTokens },
    ...(costUsd === undefined ? {} : { costUsd: roundCost(costUsd) }),
    steps,
    ...(truncated > 0 ? { truncated } : {}),
    ...(recorder.droppedSteps > 0 ? { droppedSteps: recorder.droppedSteps } : {}),
    ...(recorder.replay === undefined ? {} : { replayOf: recorder.replay.of }),
    ...(recorder.parent === undefined ? {} : { parentTraceId: recorder.parent.traceId, parentStepId: recorder.parent.spanId }),
    sdk: { name: SDK_NAME, version: SDK_VERSION },
  }
  return { doc, bytes }
}

function sealStep(open: OpenStep, retries: number, traceEnd: number, redactor: Redactor, epoch: (now: number) => number): Mutable<StepRecord> {
  const end = open.end ?? traceEnd
  // one literal and plain assignments: conditional spreads allocate a temporary object per field
  const step: Mutable<StepRecord> = {
    stepId: open.stepId,
    parentStepId: open.parentStepId,
    seq: open.seq,
    name: redactText(redactor, open.name),
    kind: open.kind,
    status: open.status,
    startedAt: iso(epoch(open.start)),
    endedAt: iso(epoch(end)),
    durationMs: round(end - open.start),
    error: open.error === null ? null : (redactField(redactor, open.error as unknown as JsonValue, 'error') as unknown as ErrorRecord),
    attempts: open.attempts,
    retries,
    attemptErrors: open.attemptErrors === undefined
      ? EMPTY
      : open.attemptErrors.map((entry) => ({ attempt: entry.attempt, error: redactField(redactor, entry.error as unknown as JsonValue, 'attemptError') as unknown as ErrorRecord })),
    metadata: open.metadata === undefined ? EMPTY_OBJECT : (redactField(redactor, open.metadata, 'metadata') as StepRecord['metadata']),
  }
  if (open.input !== undefined) step.input = redactField(redactor, open.input, 'input')
  if (open.output !== undefined) step.output = redactField(redactor, open.output, 'output')
  if (open.outputKind !== undefined) step.outputKind = open.outputKind
  if (open.truncated > 0) step.truncated = open.truncated
  if (open.end === undefined) step.incomplete = true
  if (open.model !== undefined) step.model = open.model
  if (open.usage !== undefined) step.usage = open.usage
  return step
}

function priceStep(pricer: Pricer, open: OpenStep): number | undefined {
  // the step's own (unredacted) metadata: `cached_input_tokens` is a count, never a secret
  return guard('cost', () => {
    const cost = pricer(open.model as string, open.usage as Usage, open.metadata)
    return cost !== undefined && Number.isFinite(cost) ? cost : undefined
  }, () => undefined)
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const EMPTY: ReadonlyArray<never> = Object.freeze([])
const EMPTY_OBJECT: { readonly [key: string]: never } = Object.freeze({})

function redactField(redactor: Redactor, value: JsonValue, root: string): JsonValue {
  // The redactor never throws by contract; the guard is for a contract broken by a bug.
  return guard('redact', () => redactor.value(value, root), () => '[REDACTED: redaction failed]')
}

function redactText(redactor: Redactor, text: string): string {
  return guard('redact', () => redactor.text(text), () => '[REDACTED: redaction failed]')
}

// Date#toISOString costs ~0.6 µs and a trace needs two per step: the part up to the second is
// formatted once per second and the milliseconds appended, which gives the same string.
let cachedSecond = Number.NaN
let cachedPrefix = ''

/** @internal */
export function iso(epochMs: number): string {
  const ms = Math.floor(epochMs)
  const second = Math.floor(ms / 1000)
  if (second !== cachedSecond) {
    const formatted = new Date(second * 1000).toISOString()
    // years beyond 9999 or before 0 have a longer prefix: leave those to Date
    if (formatted.length !== 24) return new Date(ms).toISOString()
    cachedSecond = second
    cachedPrefix = formatted.slice(0, 20)
  }
  const milli = ms - second * 1000
  return `${cachedPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
